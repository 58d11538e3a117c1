package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/massive"
)

func control(t *testing.T, s *Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestControlEndpoint(t *testing.T) {
	cfg := testCfg()
	cfg.Keys = []string{"secret-key-123"}
	s := startServer(t, cfg)
	c := dial(t, s)
	c.expectStatus("connected", "")
	c.send("auth", "secret-key-123")
	c.send("subscribe", "T.AAPL")
	c.statuses(2)
	id := strconv.FormatInt(s.Conns()[0].ID, 10)

	code, body := control(t, s, "GET", "/control/conns")
	if code != 200 || strings.Contains(body, "secret-key-123") {
		t.Fatalf("conns: %d %s", code, body)
	}
	var conns []controlConn
	if err := json.Unmarshal([]byte(body), &conns); err != nil || len(conns) != 1 ||
		conns[0].Subscriptions[0] != "T.AAPL" || !conns[0].Authenticated {
		t.Fatalf("conns = %+v (%v)", conns, err)
	}
	if conns[0].Key != massive.MaskKey("secret-key-123") {
		t.Errorf("key shown as %q, want massive's mask %q", conns[0].Key, massive.MaskKey("secret-key-123"))
	}

	tests := []struct {
		name, method, path string
		code               int
		errWord            string
	}{
		{"conns wrong method", "POST", "/control/conns", 405, "method_not_allowed"},
		{"drop wrong method", "GET", "/control/drop?conn=" + id, 405, "method_not_allowed"},
		{"unknown action", "POST", "/control/explode", 404, "not_found"},
		{"conn not a number", "POST", "/control/drop?conn=abc", 400, "bad_request"},
		{"conn missing", "POST", "/control/malformed", 400, "bad_request"},
		{"unknown conn", "POST", "/control/drop?conn=999", 404, "not_found"},
		{"bad close code", "POST", "/control/close?conn=" + id + "&code=1006", 400, "bad_request"},
		{"status missing", "POST", "/control/status?conn=" + id, 400, "bad_request"},
		{"bad close flag", "POST", "/control/status?conn=" + id + "&status=x&close=maybe", 400, "bad_request"},
		{"stall without seconds", "POST", "/control/stall?conn=" + id, 400, "bad_request"},
		{"refuse negative", "POST", "/control/refuse?seconds=-1", 400, "bad_request"},
		{"status ok", "POST", "/control/status?conn=" + id + "&status=info&message=hello", 200, ""},
		{"malformed ok", "POST", "/control/malformed?conn=" + id, 200, ""},
		{"stall ok", "POST", "/control/stall?conn=" + id + "&seconds=0.01", 200, ""},
		{"refuse ok", "POST", "/control/refuse?seconds=0.01", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := control(t, s, tc.method, tc.path)
			if code != tc.code {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, code, body, tc.code)
			}
			if tc.errWord != "" {
				var e map[string]string
				if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] != tc.errWord || e["detail"] == "" {
					t.Fatalf("error body = %s", body)
				}
			}
		})
	}
	c.expectStatus("info", "hello")

	// A fault through the endpoint has the same effect as through the Go API.
	if code, body := control(t, s, "POST", "/control/status?conn="+id+"&status=force_disconnect"); code != 200 {
		t.Fatalf("force_disconnect: %d %s", code, body)
	}
	c.expectStatus("force_disconnect", "Forced disconnect.")
	if err := c.expectClosed(); closeCode(err) != 1000 {
		t.Fatalf("close err = %v", err)
	}
}

func TestControlDropAndClose(t *testing.T) {
	s := startServer(t, testCfg())
	a := handshake(t, s)
	b := handshake(t, s)
	conns := s.Conns()
	if code, body := control(t, s, "POST", "/control/drop?conn="+strconv.FormatInt(conns[0].ID, 10)); code != 200 {
		t.Fatalf("drop: %d %s", code, body)
	}
	if err := a.expectClosed(); closeCode(err) != 1006 {
		t.Fatalf("drop err = %v", err)
	}
	if code, body := control(t, s, "POST", "/control/close?conn="+strconv.FormatInt(conns[1].ID, 10)+"&code=4002&message=later"); code != 200 {
		t.Fatalf("close: %d %s", code, body)
	}
	if err := b.expectClosed(); closeCode(err) != 4002 {
		t.Fatalf("close err = %v", err)
	}
}

func TestControlRefusesNonLoopback(t *testing.T) {
	s := startServer(t, testCfg()) // for its port; the handler alone is under test
	for _, remote := range []string{"10.1.2.3:5555", "[2001:db8::1]:80", "garbage"} {
		req := httptest.NewRequest("GET", "/control/conns", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		s.controlHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("remote %s: code %d", remote, rec.Code)
		}
	}
	req := httptest.NewRequest("GET", "/control/conns", nil)
	req.RemoteAddr = "[::1]:4000"
	req.Host = s.Addr()
	rec := httptest.NewRecorder()
	s.controlHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("loopback v6: code %d", rec.Code)
	}
}
