package apptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SimConn is one upstream connection as the simulator's control API lists
// it (GET /control/conns).
type SimConn struct {
	ID            int64    `json:"id"`
	Authenticated bool     `json:"authenticated"`
	Subscriptions []string `json:"subscriptions"` // "A.AAPL", ...
	Sent          uint64   `json:"sent"`          // market events written to the socket
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
	s.simControl(fmt.Sprintf("drop?conn=%d", id))
}

// SimStall makes the simulator send nothing on connection id for d, so
// that what it sent and what arrived can be compared exactly.
func (s *Stack) SimStall(id int64, d time.Duration) {
	s.t.Helper()
	s.simControl(fmt.Sprintf("stall?conn=%d&seconds=%g", id, d.Seconds()))
}

func (s *Stack) simControl(action string) {
	s.t.Helper()
	resp, err := s.client.Post("http://"+s.SimAddr+"/control/"+action, "", nil)
	if err != nil {
		s.t.Fatalf("simulator control: %s: %v", action, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("simulator control: %s: %s", action, resp.Status)
	}
}

// SimFault posts a simulator fault such as "mute?symbol=AAPL" or
// "forget?conn=3&symbol=MSFT" (see simulator/control.go) and wants 200.
func (s *Stack) SimFault(action string) {
	s.t.Helper()
	s.simControl(action)
}
