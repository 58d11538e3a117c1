// Package admin is the one place where an admin action that changes the
// connections happens: it applies the change to the manager, saves it as an
// override with its audit entry in the store (one transaction), and, when
// saving fails, puts the manager back as it was, so an action is either
// done and saved or not done at all. It also applies the saved overrides at
// start-up and keeps a copy of them for the status document.
//
// web calls it through a small interface of its own; app builds it.
package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/store"
)

// The store's errors an action can fail with, re-exported so the web layer
// can choose the HTTP status without importing the store.
var (
	ErrFull     = store.ErrFull     // disk full: nothing was saved
	ErrBusy     = store.ErrBusy     // another program holds the database
	ErrReadOnly = store.ErrReadOnly // the file became unwritable
	ErrCorrupt  = store.ErrCorrupt  // the file is damaged
	ErrInvalid  = store.ErrInvalid  // a value the store refuses
)

// Audit types, aliased so callers need not import the store.
type (
	AuditEntry  = store.AuditEntry
	AuditFilter = store.AuditFilter
	AuditPage   = store.AuditPage
	// ConnOverride is one connection's saved runtime changes.
	ConnOverride = store.ConnOverride
)

// Audit paging bounds (the store's).
const (
	DefaultAuditPage = store.DefaultAuditPage
	MaxAuditPage     = store.MaxAuditPage
)

// Actor is who performs an action, as the audit log records it.
type Actor struct {
	User     string
	Role     string
	ClientIP string
	Via      string // how the request was authenticated when not by a session, e.g. "via API token twt_ab12 (grafana)"
}

// Action names in the audit log.
const (
	ActionSubscribe   = "subscribe"
	ActionUnsubscribe = "unsubscribe"
	ActionEnable      = "enable"
	ActionDisable     = "disable"
	ActionReconnect   = "reconnect"
	ActionReset       = "reset"
)

// Service performs admin actions. Safe for concurrent use.
type Service struct {
	mgr     *manager.Manager
	st      *store.Store
	log     zerolog.Logger
	changed func() // after a saved change: the overrides shown changed

	// mu serialises actions from the manager change through the commit
	// (and the undo when the commit fails). It is held across the store's
	// fsync on purpose: if two actions interleaved, undoing one could undo
	// part of the other, and the saved overrides could drift from what
	// the manager runs. Admin actions are rare; a queue costs nothing.
	mu sync.Mutex

	// overrides is the last saved state, read by the status document on
	// every snapshot without touching the disk.
	overrides atomic.Pointer[map[string]ConnOverride]
}

// New returns a Service over the manager and the open store. changed (may
// be nil) is called after every saved action: the manager tells its
// observers about ticker changes while the action runs, before the
// overrides are saved, and a reset that only drops saved marks changes
// nothing in the manager at all, so browsers need this second nudge to
// show the new marks.
func New(mgr *manager.Manager, st *store.Store, log zerolog.Logger, changed func()) *Service {
	s := &Service{mgr: mgr, st: st, log: log, changed: changed}
	empty := map[string]ConnOverride{}
	s.overrides.Store(&empty)
	return s
}

// Overrides returns connection id's saved runtime changes (the zero value
// when it has none).
func (s *Service) Overrides(connID string) ConnOverride {
	return (*s.overrides.Load())[connID]
}

// refresh re-reads the saved overrides after a commit. A failed read keeps
// the previous copy: the change itself is saved, only the dashboard's marks
// lag until the next action.
func (s *Service) refresh(ctx context.Context) error {
	list, err := s.st.Overrides(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]ConnOverride, len(list))
	for _, o := range list {
		m[o.ConnectionID] = o
	}
	s.overrides.Store(&m)
	return nil
}

// Audit returns one page of the audit log.
func (s *Service) Audit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	return s.st.ListAudit(ctx, f)
}

// Subscribe adds tickers to connID (or, with connID "", where the manager
// places them) and saves them as runtime additions.
func (s *Service) Subscribe(ctx context.Context, who Actor, tickers []string, connID string) ([]manager.Assignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.mgr.ConnStates()
	added, err := s.mgr.Subscribe(tickers, connID)
	e := entry(who, ActionSubscribe, connID, "tickers: "+strings.Join(tickers, ","))
	if err != nil {
		return nil, s.failed(ctx, e, err)
	}
	byConn := map[string][]string{}
	for _, a := range added {
		byConn[a.ConnectionID] = append(byConn[a.ConnectionID], a.Symbol)
	}
	// One entry per connection touched, each with its own target and
	// whole ticker list, so "what went to connection_2" is one filtered
	// query and nothing is lost to a field bound.
	var entries []AuditEntry
	for _, conn := range sortedKeys(byConn) {
		ce := e
		ce.Target = conn
		ce.Detail = joinDetail(who.Via, subscribeDetail(byConn[conn], len(added), len(byConn)))
		entries = append(entries, splitDetail(ce)...)
	}
	if len(entries) == 0 {
		// Not expected (the manager refuses an empty request); keep the
		// request's own entry rather than none.
		entries = splitDetail(e)
	}
	if err := s.commit(ctx, store.Change{Add: byConn}, before, entries...); err != nil {
		return nil, err
	}
	return added, nil
}

// subscribeDetail lists one connection's share of a subscribe; when the
// request spread over several connections it says so, so an entry read
// alone does not look like the whole request.
func subscribeDetail(syms []string, total, conns int) string {
	if conns <= 1 {
		return "tickers: " + strings.Join(syms, ",")
	}
	return fmt.Sprintf("tickers (%d of %d placed over %d connections): %s", len(syms), total, conns, strings.Join(syms, ","))
}

// Unsubscribe removes symbol from its connection and saves the removal.
func (s *Service) Unsubscribe(ctx context.Context, who Actor, symbol string) (manager.Assignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.mgr.ConnStates()
	removed, err := s.mgr.Unsubscribe([]string{symbol})
	e := entry(who, ActionUnsubscribe, "", "tickers: "+symbol)
	if err != nil {
		return manager.Assignment{}, s.failed(ctx, e, err)
	}
	r := removed[0]
	e.Target, e.Detail = r.ConnectionID, joinDetail(who.Via, "tickers: "+r.Symbol)
	if err := s.commit(ctx, store.Change{Remove: map[string][]string{r.ConnectionID: {r.Symbol}}}, before, e); err != nil {
		return manager.Assignment{}, err
	}
	return r, nil
}

// SetEnabled starts or stops connID and saves that.
func (s *Service) SetEnabled(ctx context.Context, who Actor, connID string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	action := ActionDisable
	if enabled {
		action = ActionEnable
	}
	e := entry(who, action, connID, "")
	before := s.mgr.ConnStates()
	if err := s.mgr.SetEnabled(connID, enabled); err != nil {
		return s.failed(ctx, e, err)
	}
	id := canonical(connID)
	e.Target = id
	return s.commit(ctx, store.Change{Enabled: map[string]bool{id: enabled}}, before, e)
}

// Reset returns connID to its configured tickers and enabled state and
// drops its saved overrides. Configured tickers another connection holds
// now stay there; they are saved as removed from connID, so a restart
// rebuilds the same assignment.
//
// A connection the configuration no longer has (its slot is above
// WEBSOCKET_CONNECTIONS_MAX) but whose saved overrides are still in the
// store can be reset too: that drops the overrides, the entry listing them
// in full, which is what the start-up warning about them tells the
// operator to do. Without saved overrides such an id is
// manager.ErrUnknownConnection, as for any id the manager does not have.
func (s *Service) Reset(ctx context.Context, who Actor, connID string) (manager.ConnChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := entry(who, ActionReset, connID, "")
	before := s.mgr.ConnStates()
	if id := canonical(connID); !slices.ContainsFunc(before, func(st manager.ConnState) bool { return st.ConnectionID == id }) {
		return manager.ConnChange{}, s.dropUnconfigured(ctx, e, id, len(before))
	}
	ch, err := s.mgr.ResetConnection(connID)
	if err != nil {
		// A failed reset may have changed the tickers before the
		// enable step failed: put them back.
		s.undo(before, []string{canonical(connID)})
		return ch, s.failed(ctx, e, err)
	}
	id := canonical(connID)
	e.Target = id
	e.Detail = joinDetail(e.Detail, describeChange(ch))
	c := store.Change{Reset: []string{id}}
	if len(ch.Skipped) > 0 {
		c.Remove = map[string][]string{id: ch.Skipped}
	}
	if err := s.commit(ctx, c, before, splitDetail(e)...); err != nil {
		return manager.ConnChange{}, err
	}
	return ch, nil
}

// dropUnconfigured drops the saved overrides of id, a connection beyond
// the configured slots (there are configured of them). Callers hold mu.
func (s *Service) dropUnconfigured(ctx context.Context, e AuditEntry, id string, configured int) error {
	list, err := s.st.Overrides(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(o store.ConnOverride) bool { return o.ConnectionID == id })
	if i < 0 {
		return fmt.Errorf("reset: %s: %w", id, manager.ErrUnknownConnection)
	}
	e.Target = id
	e.Detail = joinDetail(e.Detail, fmt.Sprintf("connection not configured (WEBSOCKET_CONNECTIONS_MAX=%d); dropped its saved changes: %s",
		configured, describeOverride(list[i])))
	return s.commit(ctx, store.Change{Reset: []string{id}}, nil, splitDetail(e)...)
}

// describeOverride lists one connection's saved changes for the audit log.
func describeOverride(o store.ConnOverride) string {
	var parts []string
	if o.Enabled != nil {
		state := "disabled"
		if o.Enabled.Enabled {
			state = "enabled"
		}
		parts = append(parts, fmt.Sprintf("%s by %s", state, o.Enabled.By))
	}
	for _, op := range []struct {
		label string
		op    store.TickerOp
	}{{"added", store.TickerAdded}, {"removed", store.TickerRemoved}} {
		if syms := tickersWith(o, op.op); len(syms) > 0 {
			parts = append(parts, op.label+": "+strings.Join(syms, ","))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// Reconnect drops and re-establishes connID; only the audit entry is saved.
func (s *Service) Reconnect(ctx context.Context, who Actor, connID string) error {
	e := entry(who, ActionReconnect, connID, "")
	if err := s.mgr.Reconnect(connID); err != nil {
		return s.failed(ctx, e, err)
	}
	e.Target = canonical(connID)
	if _, err := s.st.Commit(ctx, store.Change{}, e); err != nil {
		// The reconnect happened and cannot be taken back; the log keeps
		// the record the audit table could not.
		s.logAction(e, err)
		return nil
	}
	s.logAction(e, nil)
	return nil
}

// commit saves c with its audit entries (at least one); on failure it
// undoes the manager change (restoring the connections c touched to
// before) and returns the store's error. Callers hold mu.
func (s *Service) commit(ctx context.Context, c store.Change, before []manager.ConnState, entries ...AuditEntry) error {
	if _, err := s.st.Commit(ctx, c, entries[0], entries[1:]...); err != nil {
		s.undo(before, touched(c))
		for _, e := range entries {
			e.Result, e.Detail = "error", joinDetail(e.Detail, err.Error())
			s.logAction(e, nil)
		}
		return fmt.Errorf("%s not saved, so not applied: %w", entries[0].Action, err)
	}
	if err := s.refresh(ctx); err != nil {
		s.log.Warn().Err(err).Msg("saved, but re-reading the overrides failed; the dashboard's marks lag until the next action")
	}
	if s.changed != nil {
		s.changed()
	}
	for _, e := range entries {
		s.logAction(e, nil)
	}
	return nil
}

// undo restores the given connections to their state in before.
func (s *Service) undo(before []manager.ConnState, conns []string) {
	for _, st := range before {
		if !slices.Contains(conns, st.ConnectionID) {
			continue
		}
		if _, err := s.mgr.RestoreConn(st.ConnectionID, st); err != nil {
			// Not expected (mu keeps other actions out); if it happens, the
			// running state differs from the saved one until a restart.
			s.log.Error().Err(err).Str("connection_id", st.ConnectionID).
				Msg("could not undo an unsaved admin action; a restart applies the saved state")
		}
	}
}

// failed records an action the manager refused (the store keeps refusals
// too: "who tried what" is the point of an audit log) and returns err.
func (s *Service) failed(ctx context.Context, e AuditEntry, err error) error {
	e.Result, e.Detail = "error", joinDetail(e.Detail, err.Error())
	entries := splitDetail(e)
	_, serr := s.st.Commit(ctx, store.Change{}, entries[0], entries[1:]...)
	for _, e := range entries {
		s.logAction(e, serr)
	}
	return err
}

// logAction writes the action to the process log (as auth.Audit did), so
// an operator without the dashboard still sees it; saveErr says the audit
// table could not keep it.
func (s *Service) logAction(e AuditEntry, saveErr error) {
	ev := s.log.Info()
	if e.Result != "ok" || saveErr != nil {
		ev = s.log.Warn()
	}
	ev = ev.Str("action", e.Action).Str("user", e.User).Str("target", e.Target).Str("result", e.Result)
	if e.Detail != "" {
		ev = ev.Str("detail", e.Detail)
	}
	if saveErr != nil {
		ev = ev.AnErr("audit_save_error", saveErr)
	}
	ev.Msg("admin action")
}

func entry(who Actor, action, target, detail string) AuditEntry {
	if who.Via != "" {
		detail = joinDetail(who.Via, detail)
	}
	return AuditEntry{User: who.User, Role: who.Role, ClientIP: who.ClientIP, Action: action, Target: target, Result: "ok", Detail: detail}
}

// Record audits an action that changes no connection (an API token created
// or revoked, a session ended): err is its outcome. A failure to save the
// entry is logged, not returned: the action itself already happened.
func (s *Service) Record(ctx context.Context, who Actor, action, target string, err error) {
	e := entry(who, action, target, "")
	if err != nil {
		e.Result, e.Detail = "error", joinDetail(e.Detail, err.Error())
	}
	_, serr := s.st.Commit(ctx, store.Change{}, e)
	s.logAction(e, serr)
}

// splitDetail returns e as it is when its detail fits the store's bound,
// else as several entries of the same action and target whose details
// continue one another ("(part 2 of 3)"), cut after a comma or "; " so no
// ticker is split. The store would otherwise cut the list: an audit log
// that silently loses which tickers moved is no record.
func splitDetail(e AuditEntry) []AuditEntry {
	const room = store.MaxAuditDetail - 32 // the part label
	if len(e.Detail) <= store.MaxAuditDetail {
		return []AuditEntry{e}
	}
	var parts []string
	for rest := e.Detail; rest != ""; {
		if len(rest) <= room {
			parts = append(parts, rest)
			break
		}
		cut := strings.LastIndexAny(rest[:room], ",;") + 1
		if cut <= 0 {
			// No separator in a whole part: cut on a rune boundary.
			cut = room
			for cut > 0 && !utf8.RuneStart(rest[cut]) {
				cut--
			}
		}
		parts = append(parts, rest[:cut])
		rest = strings.TrimLeft(rest[cut:], " ")
	}
	out := make([]AuditEntry, len(parts))
	for i, p := range parts {
		out[i] = e
		out[i].Detail = fmt.Sprintf("(part %d of %d) %s", i+1, len(parts), p)
	}
	return out
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// canonical is "connection_2" for "2" or "connection_2" (an id that does
// not parse is returned as given: the manager refused it anyway).
func canonical(id string) string {
	n, err := massive.ParseConnID(id)
	if err != nil {
		return id
	}
	return n.String()
}

func touched(c store.Change) []string {
	var out []string
	out = append(out, c.Reset...)
	for _, m := range []map[string][]string{c.Add, c.Remove} {
		out = append(out, sortedKeys(m)...)
	}
	for id := range c.Enabled {
		out = append(out, id)
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func describeChange(ch manager.ConnChange) string {
	var parts []string
	for _, p := range []struct {
		label string
		syms  []string
	}{{"added", ch.Added}, {"removed", ch.Removed}, {"kept on another connection", ch.Skipped}} {
		if len(p.syms) > 0 {
			parts = append(parts, p.label+": "+strings.Join(p.syms, ","))
		}
	}
	if len(parts) == 0 {
		return "tickers unchanged"
	}
	return strings.Join(parts, "; ")
}

// IsStoreError reports whether err is one of the store's bad states (as
// opposed to a refusal by the manager).
func IsStoreError(err error) bool {
	for _, k := range []error{ErrFull, ErrBusy, ErrReadOnly, ErrCorrupt} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
