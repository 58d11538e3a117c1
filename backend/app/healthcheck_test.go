package app

import (
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		addr, want string
		wantErr    bool
	}{
		{":8080", "http://127.0.0.1:8080/healthz", false},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz", false},
		{"[::]:8080", "http://[::1]:8080/healthz", false},
		{"127.0.0.2:9000", "http://127.0.0.2:9000/healthz", false},
		{"10.1.2.3:80", "http://10.1.2.3:80/healthz", false},
		{"[fd00::5]:8080", "http://[fd00::5]:8080/healthz", false},
		{"localhost:8080", "http://localhost:8080/healthz", false},
		{"8080", "", true},
	}
	for _, tt := range tests {
		got, err := healthURL(tt.addr)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q (error %v)", tt.addr, got, err, tt.want, tt.wantErr)
		}
	}
}

// serve answers /healthz with status on a real listener at addr.
func serve(t *testing.T, addr string, status int) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// TestHealthcheckDialsTheConfiguredHost: a server bound to 127.0.0.2 only
// (not 127.0.0.1) is found; so is one bound to every address.
func TestHealthcheckDialsTheConfiguredHost(t *testing.T) {
	only := serve(t, "127.0.0.2:0", http.StatusOK)
	_, port, _ := net.SplitHostPort(only)
	all := serve(t, ":0", http.StatusOK)
	_, anyPort, _ := net.SplitHostPort(all)
	failing := serve(t, "127.0.0.1:0", http.StatusServiceUnavailable)

	tests := []struct {
		addr     string
		want     int
		stderrIs string
	}{
		{"127.0.0.2:" + port, 0, ""},
		{":" + anyPort, 0, ""},
		{"0.0.0.0:" + anyPort, 0, ""},
		{failing, 1, "status 503"},
		{"nonsense", 1, "HTTP_ADDR"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if got := healthcheck([]string{"HTTP_ADDR=" + tt.addr}, &stderr); got != tt.want || !strings.Contains(stderr.String(), tt.stderrIs) {
			t.Errorf("healthcheck(HTTP_ADDR=%s) = %d (%q), want %d (%q)", tt.addr, got, stderr.String(), tt.want, tt.stderrIs)
		}
	}
}
