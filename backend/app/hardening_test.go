package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// TestLoginAttackerSlowsOnlyThemselves: wrong passwords for admin, from one
// address or spread over many, never lock the real admin out of another
// address (issue 10, item 3). The attacking address itself is hard-limited.
func TestLoginAttackerSlowsOnlyThemselves(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	login := func(hc *http.Client, pw string) apptest.Response {
		return e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: apptest.LoginBody("admin", pw), Client: hc})
	}
	right := apptest.Password("admin")

	attacker := e.ClientFrom("127.0.0.2")
	var last apptest.Response
	for i := range 20 {
		last = login(attacker, "wrong")
		if last.Status != 401 && last.Status != 429 {
			t.Fatalf("bad attempt %d: %d %s", i+1, last.Status, last.Body)
		}
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("20th bad attempt from one address: %d (Retry-After %q), want 429 with Retry-After",
			last.Status, last.Header.Get("Retry-After"))
	}

	admin := e.ClientFrom("127.0.0.3")
	if resp := login(admin, right); resp.Status != 200 {
		t.Fatalf("the real admin from 127.0.0.3 after 20 bad attempts from 127.0.0.2: %d %s", resp.Status, resp.Body)
	}
	// The hard limit is on the attacker's own address (and the pair): even
	// the right password does not get through from there.
	if resp := login(attacker, right); resp.Status != 429 {
		t.Fatalf("the limited address with the right password: %d, want 429", resp.Status)
	}

	// Spread over 20 addresses, one guess each at the same time, nobody is
	// limited: the username only earns a short delay, never a lockout. (Some
	// may find the bcrypt pool full: 503, the flood answer, not a limit.)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		hc := e.ClientFrom(fmt.Sprintf("127.0.0.%d", 10+i))
		wg.Go(func() { statuses[i] = login(hc, "wrong").Status })
	}
	wg.Wait()
	checked := 0
	for i, st := range statuses {
		switch st {
		case 401:
			checked++
		case 503:
		default:
			t.Errorf("distributed bad attempt from 127.0.0.%d: %d, want 401 (or 503)", 10+i, st)
		}
	}
	if checked == 0 {
		t.Error("no distributed attempt reached the password check")
	}
	if resp := login(admin, right); resp.Status != 200 {
		t.Fatalf("the real admin after 20 distributed bad attempts: %d %s", resp.Status, resp.Body)
	}
}

// rawExchange writes raw to a fresh connection and reads the first
// response; it then reads on until the server closes the connection or
// 2 s pass, and returns whatever followed the first response.
func rawExchange(t *testing.T, host, raw string) (*http.Response, string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the first response: %v", err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	rest, err := io.ReadAll(br) // nil error at EOF: the server closed
	return resp, string(rest), err
}

// TestAmbiguousLengthRefused: a request with both Content-Length and
// Transfer-Encoding: chunked gets 400 and the connection is closed, so a
// request smuggled behind it is never answered (RFC 9112 6.1; issue 10,
// item 6). A plain chunked request is still served on a kept-alive
// connection.
func TestAmbiguousLengthRefused(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	host := strings.TrimPrefix(e.Base, "http://")
	// logout answers 204 to an empty body, so a 400 here is the framing check.
	head := "POST /api/auth/logout HTTP/1.1\r\nHost: " + host + "\r\nOrigin: " + e.Base + "\r\nContent-Type: application/json\r\n"
	smuggled := "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n"

	for _, tc := range []struct{ name, lengths string }{
		{"Content-Length then Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"},
		{"Transfer-Encoding then Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"},
		{"lower case, no space", "transfer-encoding: chunked\r\ncontent-length:5\r\n"},
		{"Content-Length 0", "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"},
		{"identity coding", "Transfer-Encoding: identity\r\nContent-Length: 5\r\n"},
		{"on a GET", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := head
			if tc.name == "on a GET" {
				h = strings.Replace(strings.Replace(h, "POST", "GET", 1), "/api/auth/logout", "/healthz", 1)
			}
			resp, rest, err := rawExchange(t, host, h+tc.lengths+"\r\n0\r\n\r\n"+smuggled)
			if resp.StatusCode != 400 || !resp.Close {
				t.Errorf("first response: %d, Connection: close %v; want 400 and close", resp.StatusCode, resp.Close)
			}
			if err != nil {
				t.Errorf("connection kept open after the ambiguous request (%v)", err)
			}
			if rest != "" {
				t.Errorf("the smuggled request was answered: %.80q", rest)
			}
		})
	}

	t.Run("chunked alone is served", func(t *testing.T) {
		body := `{"username":"ghost","password":"x"}`
		head := strings.Replace(head, "/logout", "/login", 1)
		chunked := fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, head+chunked+smuggled); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(conn)
		for _, want := range []int{401, 200} {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("want a %d: %v", want, err)
			}
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d", resp.StatusCode, want)
			}
		}
	})
}

// TestLogLinesClipClientStrings: a client-controlled string reaches the log
// clipped, not whole: a 60 KB username on a failed login, a 3 KB path on a
// request (issue 10, item 8).
func TestLogLinesClipClientStrings(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	user := strings.Repeat("u", 60<<10)
	if resp := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: apptest.LoginBody(user, "x")}); resp.Status != 401 {
		t.Fatalf("login with a 60 KB username: %d %.200s", resp.Status, resp.Body)
	}
	path := "/" + strings.Repeat("p", 3000)
	if resp := e.Do(apptest.Request{Method: "GET", Path: path}); resp.Status == 0 {
		t.Fatal("no answer to a long path")
	}
	var failed, requested bool
	for _, line := range strings.Split(e.Logs.String(), "\n") {
		if len(line) > 1024 {
			t.Errorf("a %d-byte log line: %.120s...", len(line), line)
		}
		failed = failed || strings.Contains(line, `"login failed"`) && strings.Contains(line, `"user":"uuuu`) && strings.Contains(line, "(61440 bytes)")
		requested = requested || strings.Contains(line, `"path":"/pppp`) && strings.Contains(line, "(3001 bytes)")
	}
	if !failed || !requested {
		t.Fatalf("clipped lines not found (login failed: %v, request: %v)", failed, requested)
	}
}
