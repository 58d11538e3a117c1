package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/alert"
	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// alertEnv: trades (a gap per flush, not per second), always-open market,
// short thresholds.
func alertEnv(extra ...string) []string {
	return append([]string{"MASSIVE_CHANNELS=T", "MARKET_HOURS=always", "ALERT_CHECK_INTERVAL=100ms",
		"ALERT_SILENCE=2s", "ALERT_TICKER_SILENCE_MIN=1s", "ALERT_TICKER_NEVER_TICKED=1s", "ALERT_TICKER_SILENCE_FACTOR=5"}, extra...)
}

type alertList struct {
	Alerts []alert.Alert `json:"alerts"`
	Firing int           `json:"firing"`
}

// waitAlert waits up to 15 s for GET /api/admin/alerts to list the
// incident with key in state st, with done true of it and the list.
func waitAlert(t *testing.T, e *apptest.Stack, what, key string, st alert.State, done func(alert.Alert, alertList) bool) alert.Alert {
	t.Helper()
	var got alert.Alert
	testkit.WaitFor(t, 15*time.Second, what, func() bool {
		var l alertList
		e.GetJSON("/api/admin/alerts", "viewer", &l)
		a, ok := findAlert(l, key, st)
		got = a
		return ok && done(a, l)
	})
	return got
}

// alertEvents reads ws until it closes and passes on the data of its
// "alert" events; the channel closes with the socket.
func alertEvents(ws *websocket.Conn) <-chan map[string]any {
	out := make(chan map[string]any, 64)
	go func() {
		defer close(out)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var frame []struct {
				Event string         `json:"event"`
				Data  map[string]any `json:"data"`
			}
			if json.Unmarshal(data, &frame) != nil {
				continue
			}
			for _, ev := range frame {
				if ev.Event == "alert" {
					out <- ev.Data
				}
			}
		}
	}()
	return out
}

func findAlert(l alertList, key string, st alert.State) (alert.Alert, bool) {
	for _, a := range l.Alerts {
		if a.Key == key && a.State == st {
			return a, true
		}
	}
	return alert.Alert{}, false
}

// TestMutedSymbolAlertEndToEnd: a muted symbol in the real app becomes a
// firing alert in the API, on /admin-ws, in /metrics and at a webhook;
// it is acknowledged (audited) and resolves once the symbol trades again.
func TestMutedSymbolAlertEndToEnd(t *testing.T) {
	hooks := newHookRecorder(t)
	e := apptest.Start(t, apptest.Options{Environ: alertEnv("ALERT_WEBHOOK_URLS=" + hooks.url())})
	wsEvents := alertEvents(e.DialAdminWS("viewer"))

	testkit.WaitFor(t, 10*time.Second, "AAPL ticking", func() bool {
		c, ok := e.SimConnBySymbol("AAPL")
		return ok && c.Sent > 50
	})
	time.Sleep(500 * time.Millisecond) // gap history for every symbol
	e.SimFault("mute?symbol=AAPL")
	key := "ticker_silent:connection_1:AAPL"
	fired := waitAlert(t, e, "AAPL alert firing in the API", key, alert.Firing, func(_ alert.Alert, l alertList) bool { return l.Firing >= 1 })
	if fired.ConnectionID != "connection_1" || fired.Ticker != "AAPL" || fired.Threshold < 1 || fired.Value <= fired.Threshold || fired.Since.IsZero() {
		t.Errorf("firing alert %+v", fired)
	}
	select {
	case ev := <-wsEvents:
		if ev["type"] != "firing" || ev["key"] != key || ev["ticker"] != "AAPL" {
			t.Errorf("first /admin-ws alert event %v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert event on /admin-ws")
	}
	metrics := e.Do(apptest.Request{Method: "GET", Path: "/metrics"}).Body
	for _, want := range []string{`tickwatch_alerts_firing{kind="ticker_silent"} 1`, `tickwatch_tickers_silent{connection="connection_1"} 1`,
		`tickwatch_tickers_silent{connection="connection_2"} 0`, `tickwatch_connection_last_message_timestamp_seconds{connection="connection_1"} 1.`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	path := "/api/admin/alerts/" + jsonInt(fired.ID) + "/ack"
	if r := e.Do(apptest.Request{Method: "POST", Path: path, Role: "viewer"}); r.Status != 403 {
		t.Errorf("viewer ack: %d", r.Status)
	}
	r := e.Do(apptest.Request{Method: "POST", Path: path, Role: "admin"})
	var acked alert.Alert
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &acked) != nil || acked.AckedBy != "admin" || acked.AckedAt == nil {
		t.Fatalf("ack: %d %s", r.Status, r.Body)
	}
	var audit struct {
		Entries []struct{ User, Action, Target, Result string } `json:"entries"`
	}
	e.GetJSON("/api/admin/audit?action=alert_ack", "admin", &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Target != "alert "+jsonInt(fired.ID) || audit.Entries[0].User != "admin" || audit.Entries[0].Result != "ok" {
		t.Errorf("audit of the ack: %+v", audit.Entries)
	}

	e.SimFault("mute?symbol=AAPL&on=false")
	testkit.WaitFor(t, 15*time.Second, "AAPL alert resolved", func() bool {
		var l alertList
		e.GetJSON("/api/admin/alerts", "viewer", &l)
		a, ok := findAlert(l, key, alert.Resolved)
		return ok && a.AckedBy == "admin" && a.ResolvedAt != nil
	})
	testkit.WaitFor(t, 10*time.Second, "webhook got firing and resolved", func() bool { return len(hooks.bodies()) >= 2 })
	time.Sleep(300 * time.Millisecond)
	if f, r := len(hooks.of(key, alert.Firing)), len(hooks.of(key, alert.Resolved)); f != 1 || r != 1 {
		t.Errorf("webhook messages for %s: %d firing, %d resolved, want one each", key, f, r)
	}
}

// hookRecorder is a real webhook receiver keeping every body posted to it.
type hookRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []alert.WebhookBody
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b alert.WebhookBody
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &b); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, b)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) url() string { return h.srv.URL + "/hook" }

func (h *hookRecorder) bodies() []alert.WebhookBody {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]alert.WebhookBody(nil), h.got...)
}

// of returns the bodies posted for the incident with key in state st.
func (h *hookRecorder) of(key string, st alert.State) []alert.WebhookBody {
	var out []alert.WebhookBody
	for _, b := range h.bodies() {
		if b.Alert.Key == key && b.Status == st {
			out = append(out, b)
		}
	}
	return out
}

// TestAlertsAcrossRestart: an incident firing when the app stops is
// resolved visibly by the next run (a [RESOLVED] webhook naming the
// reason, the history row updated, listed by the API), and an incident
// resolved shortly before the restart is listed again; a third run finds
// both as they were and posts nothing more.
func TestAlertsAcrossRestart(t *testing.T) {
	hooks := newHookRecorder(t)
	dir := filepath.Join(t.TempDir(), "data")
	env := alertEnv("ALERT_WEBHOOK_URLS=" + hooks.url())
	e := apptest.Start(t, apptest.Options{DataDir: dir, Environ: env})
	testkit.WaitFor(t, 10*time.Second, "AAPL ticking", func() bool {
		c, ok := e.SimConnBySymbol("AAPL")
		return ok && c.Sent > 50
	})
	time.Sleep(500 * time.Millisecond) // gap history for every symbol
	done := func(alert.Alert, alertList) bool { return true }
	kAAPL, kMSFT := "ticker_silent:connection_1:AAPL", "ticker_silent:connection_1:MSFT"
	e.SimFault("mute?symbol=AAPL")
	waitAlert(t, e, "AAPL firing", kAAPL, alert.Firing, done)
	e.SimFault("mute?symbol=AAPL&on=false")
	aapl := waitAlert(t, e, "AAPL resolved", kAAPL, alert.Resolved, done)
	e.SimFault("mute?symbol=MSFT")
	msft := waitAlert(t, e, "MSFT firing", kMSFT, alert.Firing, done)
	testkit.WaitFor(t, 10*time.Second, "the MSFT [FIRING] webhook", func() bool { return len(hooks.of(kMSFT, alert.Firing)) == 1 })
	e.Stop()
	if n := len(hooks.of(kMSFT, alert.Resolved)); n != 0 {
		t.Fatalf("%d [RESOLVED] webhooks for MSFT before the restart", n)
	}

	e = apptest.Start(t, apptest.Options{DataDir: dir, Environ: env})
	testkit.WaitFor(t, 10*time.Second, "the MSFT [RESOLVED] webhook after the restart", func() bool { return len(hooks.of(kMSFT, alert.Resolved)) == 1 })
	hook := hooks.of(kMSFT, alert.Resolved)[0]
	wantMsg := alert.StartupMessage + "; was: " + msft.Message
	if hook.Alert.ID != msft.ID || hook.Alert.Message != wantMsg || hook.Alert.ResolvedAt == nil ||
		hook.Text != "[RESOLVED] ticker_silent connection_1 MSFT: "+wantMsg {
		t.Errorf("[RESOLVED] webhook %+v; want incident %d with message %q", hook, msft.ID, wantMsg)
	}
	var l alertList
	e.GetJSON("/api/admin/alerts", "viewer", &l)
	gotMSFT, ok := findAlert(l, kMSFT, alert.Resolved)
	if !ok || gotMSFT.ID != msft.ID || gotMSFT.Message != wantMsg || gotMSFT.ResolvedAt == nil {
		t.Fatalf("after the restart the API lists MSFT as %+v (found %v); want incident %d resolved at start-up", gotMSFT, ok, msft.ID)
	}
	gotAAPL, ok := findAlert(l, kAAPL, alert.Resolved)
	if !ok || gotAAPL.ID != aapl.ID || gotAAPL.Message != aapl.Message || gotAAPL.ResolvedAt == nil || !gotAAPL.ResolvedAt.Equal(*aapl.ResolvedAt) {
		t.Errorf("after the restart the API lists AAPL as %+v (found %v); want %+v", gotAAPL, ok, aapl)
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "alert resolved: "+alert.StartupMessage) || strings.Contains(logs, "resolved: resolved") {
		t.Errorf("the log should say each start-up resolution once, in a line without a doubled word:\n%s", logs)
	}
	e.Stop()

	// The history row was updated: a third run finds the incident resolved
	// at the second start, not firing, and posts nothing for it.
	e = apptest.Start(t, apptest.Options{DataDir: dir, Environ: env})
	l = alertList{}
	e.GetJSON("/api/admin/alerts", "viewer", &l)
	again, ok := findAlert(l, kMSFT, alert.Resolved)
	if !ok || again.Message != wantMsg || again.ResolvedAt == nil || !again.ResolvedAt.Equal(*gotMSFT.ResolvedAt) {
		t.Errorf("third run lists MSFT as %+v (found %v); want it as the second run resolved it", again, ok)
	}
	if _, ok := findAlert(l, kAAPL, alert.Resolved); !ok {
		t.Errorf("third run does not list the AAPL incident resolved before the first restart")
	}
	time.Sleep(time.Second) // a start-up event would be posted at once
	if n := len(hooks.of(kMSFT, alert.Resolved)); n != 1 {
		t.Errorf("%d [RESOLVED] webhooks for MSFT after a third start, want still 1", n)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

// TestReadyWhen: READY_WHEN=all takes the instance out while an enabled
// connection is down; the default keeps today's meaning.
func TestReadyWhen(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: alertEnv("READY_WHEN=all", "MASSIVE_WEBSOCKET_MAX_RETRIES=0")})
	ready := func() (int, string) {
		r := e.Do(apptest.Request{Method: "GET", Path: "/readyz"})
		return r.Status, r.Body
	}
	testkit.WaitFor(t, 10*time.Second, "ready with both connections up", func() bool { c, _ := ready(); return c == 200 })
	c, ok := e.SimConnBySymbol("AMZN")
	if !ok {
		t.Fatal("no simulator connection for AMZN")
	}
	e.SimFault("status?conn=" + jsonInt(c.ID) + "&status=auth_failed")
	testkit.WaitFor(t, 10*time.Second, "not ready with connection_2 in auth_failed", func() bool {
		code, body := ready()
		return code == 503 && strings.Contains(body, "connection_2")
	})
	// The same incident is an alert at once.
	testkit.WaitFor(t, 10*time.Second, "auth_failed alert", func() bool {
		var l alertList
		e.GetJSON("/api/admin/alerts", "viewer", &l)
		_, ok := findAlert(l, "auth_failed:connection_2", alert.Firing)
		return ok
	})
	if r := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/connections/2/reconnect", Role: "admin"}); r.Status != 200 {
		t.Fatalf("reconnect: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "ready again", func() bool { c, _ := ready(); return c == 200 })
}

// TestGroupedSilenceAlertEndToEnd: with ALERT_TICKER_SILENCE_GROUP=1, two
// tickers of connection_1 quietly dropped by the upstream (the third keeps
// ticking) are one incident for the connection in the API and on
// /admin-ws, while /metrics still counts the two tickers; a reconnect
// resolves it.
func TestGroupedSilenceAlertEndToEnd(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: alertEnv("ALERT_TICKER_SILENCE_GROUP=1")})
	wsEvents := alertEvents(e.DialAdminWS("viewer"))
	testkit.WaitFor(t, 10*time.Second, "AAPL ticking", func() bool {
		c, ok := e.SimConnBySymbol("AAPL")
		return ok && c.Sent > 50
	})
	time.Sleep(500 * time.Millisecond) // gap history for every symbol
	c, _ := e.SimConnBySymbol("AAPL")
	e.SimFault("forget?conn=" + jsonInt(c.ID) + "&symbol=AAPL")
	e.SimFault("forget?conn=" + jsonInt(c.ID) + "&symbol=MSFT")
	key := "ticker_silent:connection_1:*"
	fired := waitAlert(t, e, "the group counting both tickers", key, alert.Firing, func(a alert.Alert, _ alertList) bool { return a.Value == 2 })
	if fired.Ticker != "" || fired.Kind != alert.KindTickerSilent || fired.Unit != "tickers" ||
		!strings.HasPrefix(fired.Message, "2 tickers silent while connection_1 keeps ticking: ") {
		t.Errorf("group %+v", fired)
	}
	metrics := e.Do(apptest.Request{Method: "GET", Path: "/metrics"}).Body
	for _, want := range []string{`tickwatch_alerts_firing{kind="ticker_silent"} 1`, `tickwatch_tickers_silent{connection="connection_1"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case ev, ok := <-wsEvents:
			if !ok {
				t.Fatal("/admin-ws closed")
			}
			if ev["key"] == key && ev["type"] == "firing" {
				got = true
				if _, has := ev["ticker"]; has || ev["connection"] != "connection_1" {
					t.Errorf("/admin-ws group event %v: want a connection and no ticker", ev)
				}
			}
		case <-deadline:
			t.Fatal("no group alert event on /admin-ws")
		}
	}
	if r := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/connections/1/reconnect", Role: "admin"}); r.Status != 200 {
		t.Fatalf("reconnect: %d %s", r.Status, r.Body)
	}
	waitAlert(t, e, "the group resolved", key, alert.Resolved, func(alert.Alert, alertList) bool { return true })
}

// TestNeverTickedAlertEndToEnd: the review's repro. A ticker the upstream
// acknowledges but never delivers (muted in the simulator before it is
// subscribed through the API) is a ticker_silent alert in the API and in
// /metrics once ALERT_TICKER_SILENCE_MIN has passed.
func TestNeverTickedAlertEndToEnd(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: alertEnv()})
	waitConnected(t, e, 2)
	e.SimFault("mute?symbol=QQQX")
	mustDo(t, e, "POST", "/api/admin/subscriptions", `{"tickers":["QQQX"],"connection_id":1}`)
	a := waitAlert(t, e, "QQQX never ticked", "ticker_silent:connection_1:QQQX", alert.Firing, func(alert.Alert, alertList) bool { return true })
	if !strings.HasPrefix(a.Message, "no event since it was subscribed ") || a.Threshold != 1 || a.Value < a.Threshold {
		t.Errorf("alert %+v", a)
	}
	metrics := e.Do(apptest.Request{Method: "GET", Path: "/metrics"}).Body
	if want := `tickwatch_tickers_silent{connection="connection_1"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	e.SimFault("mute?symbol=QQQX&on=false")
	waitAlert(t, e, "QQQX resolved once it ticks", "ticker_silent:connection_1:QQQX", alert.Resolved, func(alert.Alert, alertList) bool { return true })
}
