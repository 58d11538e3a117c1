package apptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// SimConn is one upstream connection as the simulator's control API lists
// it (GET /control/conns).
type SimConn struct {
	ID            int64    `json:"id"`
	Authenticated bool     `json:"authenticated"`
	Subscriptions []string `json:"subscriptions"` // "A.AAPL", ...
}

// SimConns lists the simulator's live connections, oldest first. The test
// drives the simulator the way an operator would, through its loopback
// control API, because app keeps the simulator to itself.
func (s *Stack) SimConns() []SimConn {
	s.t.Helper()
	resp, err := s.client.Get("http://" + s.SimAddr + "/control/conns")
	if err != nil {
		s.t.Fatalf("simulator control: %v", err)
	}
	defer resp.Body.Close()
	var out []SimConn
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("simulator control: GET /control/conns: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatalf("simulator control: /control/conns: %v", err)
	}
	return out
}

// SimConnBySymbol is the oldest simulator connection subscribed to sym on
// any channel.
func (s *Stack) SimConnBySymbol(sym string) (SimConn, bool) {
	s.t.Helper()
	for _, c := range s.SimConns() {
		for _, sub := range c.Subscriptions {
			if strings.HasSuffix(sub, "."+sym) {
				return c, true
			}
		}
	}
	return SimConn{}, false
}

// SimDrop makes the simulator cut connection id without a close frame.
func (s *Stack) SimDrop(id int64) {
	s.t.Helper()
	resp, err := s.client.Post(fmt.Sprintf("http://%s/control/drop?conn=%d", s.SimAddr, id), "", nil)
	if err != nil {
		s.t.Fatalf("simulator control: drop %d: %v", id, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("simulator control: drop %d: %s", id, resp.Status)
	}
}
