package simulator

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestControlRefusesCrossSite: a browser page on the same machine can reach
// a loopback port, either through a DNS name rebound to 127.0.0.1 (its
// requests carry that name in Host) or with a "simple" text/plain POST
// (which carries the page's Origin). Neither may inject a fault: the
// endpoint wants a loopback Host with its own port and no foreign Origin
// (issue 10, item 7). Requests go to the real listener.
func TestControlRefusesCrossSite(t *testing.T) {
	s := startServer(t, testCfg())
	_, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host, origin string
		want               int
	}{
		{"curl-style, no Origin", "127.0.0.1:" + port, "", 200},
		{"Host localhost", "localhost:" + port, "", 200},
		{"Host [::1]", "[::1]:" + port, "", 200},
		{"Host in capitals", "LOCALHOST:" + port, "", 200},
		{"own Origin", "127.0.0.1:" + port, "http://127.0.0.1:" + port, 200},
		{"own Origin by another loopback name", "127.0.0.1:" + port, "http://localhost:" + port, 200},
		{"DNS rebinding", "rebind.attacker.example:" + port, "", 403},
		{"DNS rebinding with its own Origin", "rebind.attacker.example:" + port, "http://rebind.attacker.example:" + port, 403},
		{"loopback Host, another port", "127.0.0.1:1", "", 403},
		{"loopback Host without port", "localhost", "", 403},
		{"foreign Origin, text/plain", "127.0.0.1:" + port, "https://attacker.example", 403},
		{"another local app's Origin", "127.0.0.1:" + port, "http://localhost:5173", 403},
		{"opaque Origin", "127.0.0.1:" + port, "null", 403},
		{"https Origin", "127.0.0.1:" + port, "https://127.0.0.1:" + port, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// refuse would stop new feed connections for a minute: the
			// fault an attacker would want; refused requests must not set it.
			req, err := http.NewRequest("POST", "http://"+s.Addr()+"/control/refuse?seconds=0.001", strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			req.Header.Set("Content-Type", "text/plain")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("Host %q Origin %q: %d %s, want %d", tc.host, tc.origin, resp.StatusCode, b, tc.want)
			}
			if tc.want == 403 && !strings.Contains(string(b), `"error":"forbidden"`) {
				t.Fatalf("refusal body: %s", b)
			}
		})
	}
}
