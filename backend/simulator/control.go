package simulator

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// The control endpoint shares the feed's listener so a developer (or an e2e
// script) can inject faults into a running `tickwatch simulate`. It can cut
// anyone's feed, so it answers only requests that come from this machine
// AND are not a browser page's doing: a page from anywhere can make the
// browser send a text/plain POST to a loopback port (it carries the page's
// Origin), or rebind its own DNS name to 127.0.0.1 (its requests then carry
// that name in Host). See controlRefusal.

type controlConn struct {
	ID            int64     `json:"id"`
	Key           string    `json:"key"` // masked: the endpoint never returns an API key
	Authenticated bool      `json:"authenticated"`
	Subscriptions []string  `json:"subscriptions"`
	Sent          uint64    `json:"sent"`
	Opened        time.Time `json:"opened"`
}

type controlError struct {
	code   int
	msg    string
	detail string
}

func (e *controlError) Error() string { return e.msg + ": " + e.detail }

func badRequest(detail string) error {
	return &controlError{code: http.StatusBadRequest, msg: "bad_request", detail: detail}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var ce *controlError
	if !errors.As(err, &ce) {
		ce = &controlError{code: http.StatusInternalServerError, msg: "internal", detail: err.Error()}
		if errors.Is(err, ErrUnknownConn) {
			ce = &controlError{code: http.StatusNotFound, msg: "not_found", detail: err.Error()}
		}
	}
	writeJSON(w, ce.code, map[string]string{"error": ce.msg, "detail": ce.detail})
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackHostPort reports whether hostport is a loopback name with port:
// a name that no DNS answer can make point elsewhere.
func isLoopbackHostPort(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || p != port {
		return false
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// controlRefusal says why a control request is refused, or "" to serve it:
// the peer must be loopback, Host a loopback name with the simulator's port
// (DNS rebinding), and Origin, if sent, the simulator's own (a cross-site
// page; scripts and curl send none).
func (s *Server) controlRefusal(r *http.Request) string {
	if !isLoopback(r.RemoteAddr) {
		return "the control endpoint answers loopback clients only"
	}
	_, port, err := net.SplitHostPort(s.Addr())
	if err != nil || !isLoopbackHostPort(r.Host, port) {
		return "Host must be localhost, 127.0.0.1 or [::1] with the simulator's port"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		host, ok := strings.CutPrefix(origin, "http://")
		if !ok || !isLoopbackHostPort(host, port) {
			return "cross-origin requests are refused (Origin must be this simulator, or absent)"
		}
	}
	return ""
}

func (s *Server) controlHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := s.controlRefusal(r); why != "" {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "detail": why})
			return
		}
		action := strings.TrimPrefix(r.URL.Path, "/control/")
		want := http.MethodPost
		if action == "conns" {
			want = http.MethodGet
		}
		if _, known := controlActions[action]; !known && action != "conns" {
			writeError(w, &controlError{code: http.StatusNotFound, msg: "not_found", detail: "unknown control action " + strconv.Quote(action)})
			return
		}
		if r.Method != want {
			w.Header().Set("Allow", want)
			writeError(w, &controlError{code: http.StatusMethodNotAllowed, msg: "method_not_allowed", detail: "use " + want})
			return
		}
		if action == "conns" {
			s.controlConns(w)
			return
		}
		if err := controlActions[action](s, r); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

func (s *Server) controlConns(w http.ResponseWriter) {
	conns := s.Conns()
	out := make([]controlConn, 0, len(conns))
	for _, c := range conns {
		key := "" // not authenticated yet: say so rather than mask nothing
		if c.Key != "" {
			key = massive.MaskKey(c.Key)
		}
		out = append(out, controlConn{
			ID: c.ID, Key: key, Authenticated: c.Authenticated,
			Subscriptions: c.Subscriptions, Sent: c.Sent, Opened: c.Opened,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

var controlActions = map[string]func(*Server, *http.Request) error{
	"drop": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		return s.Drop(id)
	},
	"close": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		code := 1000
		if v := r.URL.Query().Get("code"); v != "" {
			if code, err = strconv.Atoi(v); err != nil || !validCloseCode(code) {
				return badRequest("code must be a WebSocket close code (1000-1003, 1007-1014, 3000-4999)")
			}
		}
		msg := r.URL.Query().Get("message")
		if len(msg) > 123 {
			return badRequest("message must be at most 123 bytes")
		}
		return s.CloseWith(id, code, msg)
	},
	"status": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		status := q.Get("status")
		if status == "" {
			return badRequest("status is required (e.g. force_disconnect, slow_consumer, auth_failed)")
		}
		msg, known := massive.ClosingStatusText(status)
		if v := q.Get("message"); v != "" {
			msg = v
		}
		closeAfter := known
		if v := q.Get("close"); v != "" {
			if closeAfter, err = strconv.ParseBool(v); err != nil {
				return badRequest("close must be true or false")
			}
		}
		return s.SendStatus(id, status, msg, closeAfter)
	},
	"stall": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		d, err := secondsParam(r)
		if err != nil {
			return err
		}
		return s.Stall(id, d)
	},
	"malformed": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		return s.SendMalformed(id)
	},
	"oversize": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		return s.SendOversize(id)
	},
	"mute": func(s *Server, r *http.Request) error {
		sym, on, err := symbolParams(r, "on", true)
		if err != nil {
			return err
		}
		return s.Mute(sym, on)
	},
	"slow": func(s *Server, r *http.Request) error {
		sym, _, err := symbolParams(r, "", false)
		if err != nil {
			return err
		}
		var d time.Duration
		if v := r.URL.Query().Get("seconds"); v != "0" {
			if d, err = secondsParam(r); err != nil {
				return badRequest("seconds must be 0 (end the fault) or a number in (0, 86400]")
			}
		}
		return s.Slow(sym, d)
	},
	"forget": func(s *Server, r *http.Request) error {
		id, err := connParam(r)
		if err != nil {
			return err
		}
		sym, tell, err := symbolParams(r, "tell", false)
		if err != nil {
			return err
		}
		if err := s.Forget(id, sym, tell); err != nil && !errors.Is(err, ErrUnknownConn) {
			return badRequest(err.Error())
		}
		return err
	},
	"refuse": func(s *Server, r *http.Request) error {
		d, err := secondsParam(r)
		if err != nil {
			return err
		}
		s.RefuseNew(d)
		return nil
	},
}

// symbolParams reads symbol= (a ticker) and, when flag is not "", the
// boolean flag= (def when absent: "mute?symbol=AAPL" mutes).
func symbolParams(r *http.Request, flag string, def bool) (string, bool, error) {
	q := r.URL.Query()
	sym := strings.ToUpper(strings.TrimSpace(q.Get("symbol")))
	if !massive.ValidTicker(sym) {
		return "", false, badRequest("symbol must be a ticker such as AAPL")
	}
	on := def
	if flag != "" && q.Get(flag) != "" {
		v, err := strconv.ParseBool(q.Get(flag))
		if err != nil {
			return "", false, badRequest(flag + " must be true or false")
		}
		on = v
	}
	return sym, on, nil
}

func connParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("conn")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("conn must be a connection id from GET /control/conns")
	}
	return id, nil
}

func secondsParam(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("seconds")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 86400 || math.IsNaN(f) {
		return 0, badRequest("seconds must be a number in (0, 86400]")
	}
	return time.Duration(f * float64(time.Second)), nil
}
