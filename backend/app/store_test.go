package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app"
	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/status"
	"github.com/tickwatch/tickwatch/backend/store"
)

// configured is apptest's default configuration, per connection.
var configured = map[string][]string{
	"connection_1": {"AAPL", "MSFT", "NVDA"},
	"connection_2": {"AMZN", "BRK.B", "GOOGL"},
	"connection_3": {},
}

type auditDoc struct {
	Entries []struct {
		ID                                 int64
		Time                               float64
		User, Role, Action, Target, Result string
		Detail                             string
		ClientIP                           string `json:"client_ip"`
	}
	NextBefore *int64 `json:"next_before"`
}

func (a auditDoc) actions() []string {
	out := make([]string, len(a.Entries))
	for i, e := range a.Entries {
		out[i] = e.Action + " " + e.Target + " " + e.Result
	}
	return out
}

func connDoc(t *testing.T, doc status.Doc, id string) status.ConnectionDoc {
	t.Helper()
	for _, c := range doc.Connections {
		if c.ConnectionID == id {
			return c
		}
	}
	t.Fatalf("no %s in the status document", id)
	return status.ConnectionDoc{}
}

// waitSimTable waits until the simulator holds one authenticated
// connection subscribed to exactly tickers (channel A).
func waitSimTable(t *testing.T, e *apptest.Stack, tickers ...string) {
	t.Helper()
	want := make([]string, len(tickers))
	for i, s := range tickers {
		want[i] = "A." + s
	}
	slices.Sort(want)
	testkit.WaitFor(t, 10*time.Second, "simulator subscribed to exactly "+strings.Join(want, ","), func() bool {
		for _, c := range e.SimConns() {
			got := slices.Clone(c.Subscriptions)
			slices.Sort(got)
			if c.Authenticated && slices.Equal(got, want) {
				return true
			}
		}
		return false
	})
}

// noSimConnWith fails when any simulator connection is subscribed to sym.
func noSimConnWith(t *testing.T, e *apptest.Stack, sym string) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, "no upstream subscription to "+sym, func() bool {
		_, ok := e.SimConnBySymbol(sym)
		return !ok
	})
}

func mustDo(t *testing.T, e *apptest.Stack, method, path, body string) apptest.Response {
	t.Helper()
	resp := e.Do(apptest.Request{Method: method, Path: path, Role: "admin", Body: body})
	if resp.Status != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
	}
	return resp
}

func waitConnected(t *testing.T, e *apptest.Stack, n int) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, fmt.Sprintf("%d connections up", n), func() bool { return e.Status().Summary.Connected == n })
}

// TestRestartSurvival: a ticker added, a configured one removed and a
// connection disabled survive a restart on the same DATA_DIR: the status
// document, the simulator's subscription table and the audit log agree.
func TestRestartSurvival(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e := apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	mustDo(t, e, "POST", "/api/admin/subscriptions", `{"tickers":["TSLA","META"],"connection_id":2}`)
	mustDo(t, e, "DELETE", "/api/admin/subscriptions/GOOGL", "")
	mustDo(t, e, "POST", "/api/admin/connections/1/disable", "")
	waitSimTable(t, e, "AMZN", "BRK.B", "META", "TSLA")
	e.Stop()

	e = apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 1)
	waitSimTable(t, e, "AMZN", "BRK.B", "META", "TSLA")
	noSimConnWith(t, e, "AAPL")
	if n := len(e.SimConns()); n != 1 {
		t.Errorf("simulator has %d connections, want 1 (connection_1 stays disabled)", n)
	}
	doc := e.Status()
	c1, c2 := connDoc(t, doc, "connection_1"), connDoc(t, doc, "connection_2")
	if c1.Enabled || c1.Overrides.Enabled == nil || c1.Overrides.Enabled.Enabled || c1.Overrides.Enabled.By != "admin" || c1.Overrides.Enabled.At == 0 {
		t.Errorf("connection_1: enabled %v, override %+v", c1.Enabled, c1.Overrides.Enabled)
	}
	if got := strings.Join(c2.Config.Tickers, ","); got != "AMZN,BRK.B,META,TSLA" {
		t.Errorf("connection_2 tickers after restart: %s", got)
	}
	var added []string
	for _, a := range c2.Overrides.Added {
		added = append(added, a.Symbol+" by "+a.By)
	}
	if strings.Join(added, ",") != "META by admin,TSLA by admin" || len(c2.Overrides.Removed) != 1 || c2.Overrides.Removed[0].Symbol != "GOOGL" {
		t.Errorf("connection_2 overrides: %+v", c2.Overrides)
	}

	var audit auditDoc
	e.GetJSON("/api/admin/audit", "admin", &audit)
	want := []string{"disable connection_1 ok", "unsubscribe connection_2 ok", "subscribe connection_2 ok"}
	if got := audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit after restart: %v, want %v", got, want)
	}
	for _, en := range audit.Entries {
		if en.User != "admin" || en.Role != "admin" || en.ClientIP == "" || en.Time < float64(time.Now().Add(-time.Hour).Unix()) {
			t.Errorf("audit entry %+v", en)
		}
	}
}

// TestResetToConfigured: reset undoes a connection's runtime changes (the
// simulator follows), drops its overrides, is audited, and a restart keeps
// the configured state.
func TestResetToConfigured(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e := apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	mustDo(t, e, "POST", "/api/admin/subscriptions", `{"tickers":["TSLA"],"connection_id":"connection_2"}`)
	mustDo(t, e, "DELETE", "/api/admin/subscriptions/AMZN", "")
	waitSimTable(t, e, "BRK.B", "GOOGL", "TSLA")
	mustDo(t, e, "POST", "/api/admin/connections/2/disable", "")
	noSimConnWith(t, e, "TSLA")

	resp := mustDo(t, e, "POST", "/api/admin/connections/2/reset", "")
	var body struct {
		OK             bool
		Added, Removed []string
		Skipped        []string
		ConnectionID   string `json:"connection_id"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	if !body.OK || body.ConnectionID != "connection_2" || !slices.Equal(body.Added, []string{"AMZN"}) ||
		!slices.Equal(body.Removed, []string{"TSLA"}) || len(body.Skipped) != 0 {
		t.Errorf("reset answer: %s", resp.Body)
	}
	checkConfigured := func(e *apptest.Stack) {
		t.Helper()
		waitSimTable(t, e, configured["connection_2"]...)
		noSimConnWith(t, e, "TSLA")
		c2 := connDoc(t, e.Status(), "connection_2")
		if !c2.Enabled || !slices.Equal(c2.Config.Tickers, configured["connection_2"]) ||
			len(c2.Overrides.Added)+len(c2.Overrides.Removed) != 0 || c2.Overrides.Enabled != nil {
			t.Errorf("connection_2 after reset: enabled %v tickers %v overrides %+v", c2.Enabled, c2.Config.Tickers, c2.Overrides)
		}
	}
	checkConfigured(e)
	var audit auditDoc
	e.GetJSON("/api/admin/audit?action=reset", "admin", &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Target != "connection_2" || !strings.Contains(audit.Entries[0].Detail, "added: AMZN; removed: TSLA") {
		t.Errorf("reset audit: %+v", audit.Entries)
	}
	e.Stop()

	e = apptest.Start(t, apptest.Options{DataDir: dir})
	checkConfigured(e)
}

// TestAuditPagingAndFilters: pages of the given size, newest first,
// next_before walks to the end; filters narrow; bad parameters get 400
// naming the parameter and the accepted form.
func TestAuditPagingAndFilters(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	waitConnected(t, e, 2)
	for _, sym := range []string{"TSLA", "META", "ORCL"} {
		mustDo(t, e, "POST", "/api/admin/subscriptions", fmt.Sprintf(`{"tickers":[%q],"connection_id":1}`, sym))
	}
	mustDo(t, e, "POST", "/api/admin/connections/connection_3/enable", "")
	// A refused action is audited too.
	if resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Role: "admin", Body: `{"tickers":["AAPL"],"connection_id":2}`}); resp.Status != 409 {
		t.Fatalf("duplicate subscribe: %d %s", resp.Status, resp.Body)
	}

	var all []string
	path := "/api/admin/audit?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page auditDoc
		e.GetJSON(path, "admin", &page)
		if len(page.Entries) > 2 {
			t.Fatalf("page of %d entries with limit=2", len(page.Entries))
		}
		all = append(all, page.actions()...)
		if page.NextBefore == nil {
			break
		}
		path = fmt.Sprintf("/api/admin/audit?limit=2&before=%d", *page.NextBefore)
	}
	want := []string{"subscribe connection_2 error", "enable connection_3 ok", "subscribe connection_1 ok", "subscribe connection_1 ok", "subscribe connection_1 ok"}
	if !slices.Equal(all, want) {
		t.Errorf("paged audit %v, want %v", all, want)
	}

	for q, n := range map[string]int{
		"connection=3": 1, "connection=9": 0, "target=connection_1": 3, "action=subscribe&user=admin": 4, "user=viewer": 0,
		"since=" + fmt.Sprint(time.Now().Add(-time.Hour).Unix()): 5, "until=2000-01-01T00:00:00Z": 0,
	} {
		var page auditDoc
		e.GetJSON("/api/admin/audit?"+q, "admin", &page)
		if len(page.Entries) != n {
			t.Errorf("%s: %d entries, want %d", q, len(page.Entries), n)
		}
	}
	for q, msg := range map[string]string{
		"limit=0":           "limit=",
		"limit=5000":        "from 1 to 1000",
		"before=x":          "next_before",
		"connection=x9":     "this server runs 1..3",
		"since=yesterday":   "unix seconds",
		"since=20&until=10": "later than since",
	} {
		resp := e.Do(apptest.Request{Method: "GET", Path: "/api/admin/audit?" + q, Role: "admin"})
		var body struct{ Error, Detail string }
		_ = json.Unmarshal([]byte(resp.Body), &body)
		if resp.Status != 400 || !strings.Contains(body.Error+" "+body.Detail, msg) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", q, resp.Status, resp.Body, msg)
		}
	}
}

// TestDiskFullOnAdminAction: with the database unable to grow, an admin
// action answers 507 with a JSON error, the manager is left as it was
// (nothing half-done), and ingest goes on.
func TestDiskFullOnAdminAction(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e := apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	e.Stop()

	// Fill the file's free room so any real growth needs a new page.
	pages := pageCount(t, store.DBPath(dir))
	st, err := store.Open(dir, store.Options{MaxPageCount: pages})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, detail := range []string{strings.Repeat("x", 1000), ""} {
		for i := 0; i < 5000; i++ {
			if _, err = st.AppendAudit(ctx, store.AuditEntry{User: "filler", Action: "fill", Detail: detail}); err != nil {
				break
			}
		}
		if !errors.Is(err, store.ErrFull) {
			t.Fatalf("filling the store: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	e = apptest.Start(t, apptest.Options{DataDir: dir, StoreMaxPages: pages})
	waitConnected(t, e, 2)
	var many []string
	for a := 'A'; a <= 'Z' && len(many) < 300; a++ {
		for b := 'A'; b <= 'Z' && len(many) < 300; b++ {
			many = append(many, fmt.Sprintf("Q%c%c", a, b))
		}
	}
	body, _ := json.Marshal(map[string]any{"tickers": many, "connection_id": 2})
	resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Role: "admin", Body: string(body)})
	var apiErr struct{ Error, Detail string }
	if err := json.Unmarshal([]byte(resp.Body), &apiErr); err != nil || resp.Status != 507 ||
		apiErr.Error != "not saved: disk full" || !strings.Contains(apiErr.Detail, "free disk space") {
		t.Fatalf("subscribe on a full disk: %d %s", resp.Status, resp.Body)
	}
	if strings.Contains(resp.Body, "SQLITE") {
		t.Errorf("driver text in the answer: %s", resp.Body)
	}
	c2 := connDoc(t, e.Status(), "connection_2")
	if !slices.Equal(c2.Config.Tickers, configured["connection_2"]) || len(c2.Overrides.Added) != 0 {
		t.Errorf("manager changed by an unsaved action: %v %+v", c2.Config.Tickers, c2.Overrides)
	}
	if resp := e.Do(apptest.Request{Method: "GET", Path: "/api/admin/tickers/QAA", Role: "viewer"}); resp.Status != 404 {
		t.Errorf("QAA assigned after a failed subscribe: %d %s", resp.Status, resp.Body)
	}
	noSimConnWith(t, e, "QAA")
	waitSimTable(t, e, configured["connection_2"]...)
	// A connection action is undone the same way: connection_1 stays up.
	if resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/connections/1/disable", Role: "admin"}); resp.Status != 507 {
		t.Errorf("disable on a full disk: %d %s", resp.Status, resp.Body)
	}
	if c1 := connDoc(t, e.Status(), "connection_1"); !c1.Enabled || c1.Overrides.Enabled != nil {
		t.Errorf("connection_1 after an unsaved disable: enabled %v, override %+v", c1.Enabled, c1.Overrides.Enabled)
	}
	waitSimTable(t, e, configured["connection_1"]...)

	// Ingest continues: messages keep arriving on both connections.
	before := e.Status().Summary.TicksTotal
	testkit.WaitFor(t, 10*time.Second, "ticks keep flowing", func() bool { return e.Status().Summary.TicksTotal > before+10 })
}

// pageCount reads a closed database's size in pages.
func pageCount(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestParallelAdminActions: 50 subscribes and unsubscribes at once all
// succeed, and afterwards the saved overrides are exactly the manager's
// runtime state: a restart on the same DATA_DIR rebuilds the same tickers.
func TestParallelAdminActions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e := apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	var pre []string
	for i := range 25 {
		pre = append(pre, fmt.Sprintf("X%c", 'A'+i))
	}
	b, _ := json.Marshal(map[string]any{"tickers": pre, "connection_id": 1})
	mustDo(t, e, "POST", "/api/admin/subscriptions", string(b))

	var wg sync.WaitGroup
	statuses := make(chan string, 50)
	for i := range 25 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Role: "admin",
				Body: fmt.Sprintf(`{"tickers":["Y%c"],"connection_id":%d}`, 'A'+i, i%2+1)})
			statuses <- fmt.Sprintf("subscribe Y%c: %d %s", 'A'+i, resp.Status, resp.Body)
		}()
		go func() {
			defer wg.Done()
			resp := e.Do(apptest.Request{Method: "DELETE", Path: "/api/admin/subscriptions/" + pre[i], Role: "admin"})
			statuses <- fmt.Sprintf("unsubscribe %s: %d %s", pre[i], resp.Status, resp.Body)
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if !strings.Contains(s, ": 200 ") {
			t.Error(s)
		}
	}

	runtime := func(e *apptest.Stack) map[string][]string {
		out := map[string][]string{}
		for _, c := range e.Status().Connections {
			out[c.ConnectionID] = c.Config.Tickers
		}
		return out
	}
	doc := e.Status()
	got := runtime(e)
	for _, c := range doc.Connections {
		// Saved overrides applied to the configuration = runtime state.
		want := slices.Clone(configured[c.ConnectionID])
		for _, r := range c.Overrides.Removed {
			want = slices.DeleteFunc(want, func(s string) bool { return s == r.Symbol })
		}
		for _, a := range c.Overrides.Added {
			want = append(want, a.Symbol)
		}
		slices.Sort(want)
		if !slices.Equal(want, c.Config.Tickers) {
			t.Errorf("%s: configuration+overrides %v != runtime %v", c.ConnectionID, want, c.Config.Tickers)
		}
	}
	if n := len(connDoc(t, doc, "connection_1").Overrides.Added) + len(connDoc(t, doc, "connection_2").Overrides.Added); n != 25 {
		t.Errorf("%d runtime additions saved, want 25 (the X tickers cancel out)", n)
	}
	e.Stop()

	e = apptest.Start(t, apptest.Options{DataDir: dir})
	if after := runtime(e); !mapsEqual(got, after) {
		t.Errorf("after restart %v, before %v", after, got)
	}
	var audit auditDoc
	e.GetJSON("/api/admin/audit?limit=1000", "admin", &audit)
	if len(audit.Entries) != 51 {
		t.Errorf("%d audit entries, want 51", len(audit.Entries))
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestStartupBadStates: the real program (app.Main) refuses a bad DATA_DIR
// with exit code 1 and one line saying what is wrong, never a stack trace.
func TestStartupBadStates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns DATA_DIR
		want  string
	}{
		{"data dir is a file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "file")
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "is a file, not a directory; set DATA_DIR to a directory"},
		{"newer schema", func(t *testing.T, dir string) string {
			d := filepath.Join(dir, "data")
			st, err := store.Open(d, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite", "file:"+store.DBPath(d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
				t.Fatal(err)
			}
			return d
		}, fmt.Sprintf("has schema version 99; this tickwatch understands up to %d: upgrade tickwatch", store.SchemaVersion())},
		{"corrupt file", func(t *testing.T, dir string) string {
			d := filepath.Join(dir, "data")
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(store.DBPath(d), bytes.Repeat([]byte("not a database "), 500), 0o600); err != nil {
				t.Fatal(err)
			}
			return d
		}, "is damaged or is not a database"},
		{"in use", func(t *testing.T, dir string) string {
			d := filepath.Join(dir, "data")
			st, err := store.Open(d, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return d
		}, "is in use by another tickwatch process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := tc.setup(t, t.TempDir())
			var stdout, stderr bytes.Buffer
			code := app.Main(nil, []string{"DATA_DIR=" + dataDir, "HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json"},
				strings.NewReader(""), &stdout, &stderr, apptest.Static(), "test")
			out := stdout.String() + stderr.String()
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 1 || len(lines) != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, %d lines:\n%s\nwant exit 1 and one line containing %q", code, len(lines), out, tc.want)
			}
			for _, bad := range []string{"goroutine", "panic", "SQLITE_"} {
				if strings.Contains(out, bad) {
					t.Errorf("output holds %q: %s", bad, out)
				}
			}
		})
	}
}

// TestBackupCommand: `tickwatch backup PATH` copies a running server's
// database, says where and how big; it refuses to overwrite and explains
// a missing database.
func TestBackupCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e := apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	mustDo(t, e, "POST", "/api/admin/subscriptions", `{"tickers":["TSLA"],"connection_id":1}`)

	dest := filepath.Join(t.TempDir(), "tw.db")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := app.Main(append([]string{"backup"}, args...), []string{"DATA_DIR=" + dir}, strings.NewReader(""), &stdout, &stderr, nil, "test")
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := run(dest)
	fi, err := os.Stat(dest)
	if code != 0 || err != nil || !strings.Contains(out, "written to "+dest) || !strings.Contains(out, fmt.Sprintf("(%d bytes)", fi.Size())) {
		t.Fatalf("backup: exit %d, %q %q, stat %v", code, out, errOut, err)
	}
	// The copy is a tickwatch store holding the server's state.
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dest, store.DBPath(restored)); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(restored, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := st.Overrides(context.Background())
	_ = st.Close()
	if err != nil || len(ov) != 1 || ov[0].ConnectionID != "connection_1" || ov[0].Tickers[0].Symbol != "TSLA" {
		t.Errorf("restored overrides %+v, %v", ov, err)
	}

	exists := filepath.Join(t.TempDir(), "exists.db")
	_ = os.WriteFile(exists, []byte("x"), 0o600)
	for _, tc := range []struct {
		args []string
		env  string
		code int
		want string
	}{
		{[]string{exists}, dir, 1, "already exists; backups never overwrite"},
		{nil, dir, 2, "usage: tickwatch backup PATH"},
		{[]string{filepath.Join(t.TempDir(), "x.db")}, t.TempDir(), 1, "no tickwatch database at"},
	} {
		var stdout, stderr bytes.Buffer
		code := app.Main(append([]string{"backup"}, tc.args...), []string{"DATA_DIR=" + tc.env}, strings.NewReader(""), &stdout, &stderr, nil, "test")
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("backup %v: exit %d %q, want %d and one line with %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
