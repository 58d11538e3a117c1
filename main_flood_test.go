//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestConnectionFloodUnderLowFileLimit: a server with `ulimit -n 256` is
// flooded with 400 idle connections. Before the fix, accept(2) failed with
// EMFILE, fasthttp's Serve returned and the process exited 1. Now the total
// and per-address caps refuse the excess, and where they are set above the
// descriptor limit the accept loop pauses instead of ending. Either way the
// process stays up, answers /healthz to other addresses during the flood, and
// serves a logged-in websocket-status with its upstream connections alive
// once the flood is gone.
func TestConnectionFloodUnderLowFileLimit(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("flood-test-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    []string
		spread int // flood source addresses (127.0.1.x)
	}{
		// The default caps: 128 per address, total = limit - reserve.
		{"default caps, one address", nil, 1},
		{"default caps, forty addresses", nil, 40},
		// Caps above what the descriptors allow: accept hits EMFILE.
		{"no caps, forty addresses", []string{"HTTP_MAX_CONNS=100000", "HTTP_MAX_CONNS_PER_IP=0"}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info",
				"ADMIN_PASSWORD_HASH=" + string(hash)}, tc.env...)
			p := program(t, env...)
			cmd := exec.Command("/bin/sh", "-c", `ulimit -n 256 && exec "$0"`, p.Path)
			cmd.Env = p.Env
			r := start(t, cmd)
			r.waitReady(t)

			flood := floodConns(t, r.base, 400, tc.spread)
			t.Logf("flood: %d of 400 connections opened", len(flood))
			// Let the server take in what it can and hit its limits.
			time.Sleep(500 * time.Millisecond)
			alive(t, r)
			if tc.spread == 1 {
				// Only the flooding address is capped: others are served during the flood.
				if code := get(t, client("127.0.0.2"), r.base+"/healthz"); code != http.StatusOK {
					t.Fatalf("/healthz from another address during the flood: %d", code)
				}
			}
			for _, c := range flood {
				_ = c.Close()
			}
			alive(t, r)

			// Afterwards: /healthz and a logged-in websocket-status, with the
			// upstream feed still connected.
			hc := client("127.0.0.3")
			var code int
			deadline := time.Now().Add(30 * time.Second)
			for code = get(t, hc, r.base+"/healthz"); code != http.StatusOK && time.Now().Before(deadline); code = get(t, hc, r.base+"/healthz") {
				time.Sleep(100 * time.Millisecond)
			}
			if code != http.StatusOK {
				t.Fatalf("/healthz after the flood: %d", code)
			}
			connected := loggedInStatus(t, hc, r.base)
			if connected == 0 {
				t.Fatal("no upstream connection is connected after the flood")
			}
			alive(t, r)
		})
	}
}

// floodConns opens n idle TCP connections from `spread` loopback addresses
// and keeps those that connected; the server may refuse or close some.
func floodConns(t *testing.T, base string, n, spread int) []net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := net.Dialer{Timeout: 2 * time.Second}
			if spread > 1 {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.1.%d", 1+i%spread))}
			}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return conns
}

// client is an HTTP client whose connections come from the loopback address src.
func client(src string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// loggedInStatus logs in as admin and returns how many upstream connections
// websocket-status reports connected.
func loggedInStatus(t *testing.T, c *http.Client, base string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", strings.NewReader(`{"username":"admin","password":"flood-test-pw"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/api/admin/websocket-status", nil)
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatalf("websocket-status: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("websocket-status: %d", resp.StatusCode)
	}
	var doc struct {
		Connections []struct{ Connected bool } `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range doc.Connections {
		if c.Connected {
			n++
		}
	}
	return n
}

// alive fails the test if the program has exited.
func alive(t *testing.T, r *running) {
	t.Helper()
	select {
	case <-r.output:
		err := r.cmd.Wait()
		t.Fatalf("the program exited during the flood: %v", err)
	default:
	}
}
