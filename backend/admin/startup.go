package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/store"
)

// ApplySaved reads the saved overrides and applies them on top of the
// configuration the manager was built from. Call it once, before the
// manager connects, so the first subscription upstream is already right.
//
// An override that no longer applies (its connection is gone, its ticker
// is configured elsewhere now, single-connection mode refuses the slot) is
// skipped with one warning per connection: the configuration changed since
// the admin acted, and the configuration wins. Only an unreadable store is
// an error.
//
// Order matters because the overrides were made one by one at runtime and
// only their net effect is saved: removals first (freeing tickers), then
// enables (a slot enabled at runtime resolves its configured tickers, as it
// did then), removals again (those that hit the tickers just resolved), then
// additions, then disables last (a disabled slot keeps its tickers, and the
// manager refuses additions to it, so it is enabled for the additions and
// disabled after, before anything connects).
func (s *Service) ApplySaved(ctx context.Context) error {
	list, err := s.st.Overrides(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	known := map[string]bool{}
	for _, st := range s.mgr.ConnStates() {
		known[st.ConnectionID] = st.Enabled
	}
	skipped := map[string][]string{}
	skip := func(conn, format string, args ...any) {
		skipped[conn] = append(skipped[conn], fmt.Sprintf(format, args...))
	}
	var live []store.ConnOverride
	for _, o := range list {
		if _, ok := known[o.ConnectionID]; !ok {
			skip(o.ConnectionID, "the connection is not configured (WEBSOCKET_CONNECTIONS_MAX)")
			continue
		}
		live = append(live, o)
	}

	pending := s.applyRemovals(live, nil)
	tempEnabled := map[string]bool{}
	for _, o := range live {
		wantOn := o.Enabled != nil && o.Enabled.Enabled
		needOn := wantOn || (len(tickersWith(o, store.TickerAdded)) > 0 && !known[o.ConnectionID])
		if !needOn || known[o.ConnectionID] {
			continue
		}
		if err := s.mgr.SetEnabled(o.ConnectionID, true); err != nil {
			skip(o.ConnectionID, "enable: %v", err)
			continue
		}
		if !wantOn {
			tempEnabled[o.ConnectionID] = true
		}
	}
	for conn, syms := range s.applyRemovals(live, pending) {
		skip(conn, "remove %v: not on this connection any more", syms)
	}
	for _, o := range live {
		var free []string
		for _, sym := range tickersWith(o, store.TickerAdded) {
			owner, ok := s.mgr.TickerAssignment(sym)
			switch {
			case ok && owner == o.ConnectionID:
				skip(o.ConnectionID, "add %s: configured on this connection now", sym)
			case ok:
				skip(o.ConnectionID, "add %s: on %s now", sym, owner)
			default:
				free = append(free, sym)
			}
		}
		if len(free) == 0 {
			continue
		}
		if _, err := s.mgr.Subscribe(free, o.ConnectionID); err != nil {
			skip(o.ConnectionID, "add %v: %v", free, err)
		}
	}
	for _, o := range live {
		off := (o.Enabled != nil && !o.Enabled.Enabled) || tempEnabled[o.ConnectionID]
		if !off {
			continue
		}
		if err := s.mgr.SetEnabled(o.ConnectionID, false); err != nil {
			skip(o.ConnectionID, "disable: %v", err)
		}
	}

	for _, conn := range sortedKeys(skipped) {
		ev := s.log.Warn().Str("connection_id", conn).Strs("skipped", skipped[conn])
		if _, ok := known[conn]; !ok {
			// Kept, not dropped: a slot count lowered for a while must
			// not cost the admin's changes. The hint says both ways out.
			n, _ := massive.ParseConnID(conn)
			ev.Msg(fmt.Sprintf("saved runtime changes of %s were skipped: WEBSOCKET_CONNECTIONS_MAX=%d; they stay saved and apply again "+
				"once WEBSOCKET_CONNECTIONS_MAX is %d or more; to drop them (audited), POST /api/admin/connections/%d/reset", conn, len(known), int(n), int(n)))
			continue
		}
		ev.Msg(fmt.Sprintf("saved runtime changes of %s that no longer fit the configuration were skipped; "+
			"to drop them (audited), POST /api/admin/connections/%s/reset", conn, strings.TrimPrefix(conn, "connection_")))
	}
	applied := 0
	for _, o := range live {
		if o.Enabled != nil {
			applied++
		}
		applied += len(o.Tickers)
	}
	if applied > 0 {
		s.log.Info().Int("overrides", applied).Msg("applied saved runtime changes on top of the configuration")
	}
	m := make(map[string]ConnOverride, len(list))
	for _, o := range list {
		m[o.ConnectionID] = o
	}
	s.overrides.Store(&m)
	return nil
}

// applyRemovals unsubscribes the saved removals whose ticker is on its
// connection. With only == nil it tries every removal, otherwise only
// those in only. It returns the removals it could not apply.
func (s *Service) applyRemovals(list []store.ConnOverride, only map[string][]string) map[string][]string {
	left := map[string][]string{}
	for _, o := range list {
		want := tickersWith(o, store.TickerRemoved)
		if only != nil {
			want = only[o.ConnectionID]
		}
		var here []string
		for _, sym := range want {
			if owner, ok := s.mgr.TickerAssignment(sym); ok && owner == o.ConnectionID {
				here = append(here, sym)
			} else {
				left[o.ConnectionID] = append(left[o.ConnectionID], sym)
			}
		}
		if len(here) > 0 {
			// Every one is assigned (checked above), so this cannot fail.
			_, _ = s.mgr.Unsubscribe(here)
		}
	}
	return left
}

func tickersWith(o store.ConnOverride, op store.TickerOp) []string {
	var out []string
	for _, t := range o.Tickers {
		if t.Op == op {
			out = append(out, t.Symbol)
		}
	}
	return out
}
