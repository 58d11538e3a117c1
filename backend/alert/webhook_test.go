package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/alert"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// receiver is an httptest webhook endpoint that fails its first failFirst
// requests with 503 and records the bodies it accepted.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	requests  int
	got       []alert.WebhookBody
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.requests <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body alert.WebhookBody
	if err := json.Unmarshal(b, &body); err != nil || req.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, body)
}

func (r *receiver) bodies() []alert.WebhookBody {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alert.WebhookBody(nil), r.got...)
}

func TestWebhooksOneFiringOneResolved(t *testing.T) {
	t.Parallel()
	ok := &receiver{failFirst: 2} // two failures: delivered on the third attempt
	okSrv := httptest.NewServer(ok)
	defer okSrv.Close()
	// A receiver that never answers (until the test ends) must delay nobody.
	hang := make(chan struct{})
	hangSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hangSrv.Close()
	defer close(hang)

	logs := &testkit.SyncBuffer{}
	hooks, err := alert.NewWebhooks(alert.WebhookConfig{
		URLs:    []string{hangSrv.URL + "/hooks/T000/B000/secretpath", okSrv.URL + "/hook"},
		Backoff: 20 * time.Millisecond, Logger: zerolog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOpts{})
	r.eng.Listen(hooks.Notify)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hooks.Run(ctx) }()
	defer func() { cancel(); <-done }()

	time.Sleep(300 * time.Millisecond)
	if err := r.sim.Mute("AAPL", true); err != nil {
		t.Fatal(err)
	}
	k := "ticker_silent:connection_1:AAPL"
	a := r.wait(t, "firing", k)
	if _, err := r.eng.Ack(context.Background(), a.ID, "admin"); err != nil { // acks are not webhook messages
		t.Fatal(err)
	}
	if err := r.sim.Mute("AAPL", false); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	testkit.WaitFor(t, 10*time.Second, "firing and resolved delivered", func() bool { return len(ok.bodies()) >= 2 })
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	var firing, resolved int
	for _, b := range ok.bodies() {
		if b.Alert.Key != k {
			t.Errorf("unexpected webhook message %q", b.Text)
			continue
		}
		switch b.Status {
		case alert.Firing:
			firing++
		case alert.Resolved:
			resolved++
		}
		if b.Text == "" || b.Text != b.Alert.Text() {
			t.Errorf("text %q", b.Text)
		}
	}
	if firing != 1 || resolved != 1 {
		t.Errorf("receiver got %d firing and %d resolved, want exactly one each", firing, resolved)
	}
	if got := ok.bodies()[0].Text; !strings.HasPrefix(got, "[FIRING] ") {
		t.Errorf("first message %q", got)
	}
	if s := logs.String(); strings.Contains(s, "secretpath") {
		t.Errorf("a webhook URL reached the log: %s", s)
	}
}
