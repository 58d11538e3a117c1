package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Config tunes the detectors. Zero values take the defaults in brackets.
type Config struct {
	Calendar            *Calendar     // required
	CheckInterval       time.Duration // how often the detectors run [1s]
	Silence             time.Duration // connection silent after [15s]
	TickerSilenceMin    time.Duration // a ticker is silent after at least [2m]
	TickerSilenceFactor float64       // ... and this many of its median gaps [20]
	TickerNeverTicked   time.Duration // a subscribed ticker that never ticked is silent after [15m]
	TickerSilenceGroup  int           // more silent tickers of one connection: one incident [5]
	Drift               time.Duration // subscriptions may differ this long [10s]
	StormReconnects     int           // more reconnects than this [5]
	StormWindow         time.Duration // ... within this window [10m]
	DropWindow          time.Duration // drops count over this window [1m]
	KeepResolved        time.Duration // resolved incidents stay listed [1h]
	History             History       // optional: the store's alert history
	Now                 func() time.Time
	Logger              zerolog.Logger
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.CheckInterval, time.Second)
	set(&c.Silence, 15*time.Second)
	set(&c.TickerSilenceMin, 2*time.Minute)
	set(&c.TickerNeverTicked, 15*time.Minute)
	set(&c.Drift, 10*time.Second)
	set(&c.StormWindow, 10*time.Minute)
	set(&c.DropWindow, time.Minute)
	set(&c.KeepResolved, time.Hour)
	if c.TickerSilenceFactor <= 0 {
		c.TickerSilenceFactor = 20
	}
	if c.StormReconnects <= 0 {
		c.StormReconnects = 5
	}
	if c.TickerSilenceGroup <= 0 {
		c.TickerSilenceGroup = 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// History keeps incidents and acknowledgements beyond the process (the
// store). Calls come from the engine's goroutine or an Ack, never from the
// ingest path.
type History interface {
	// LastAlertID is the highest id ever saved, so ids stay unique across
	// restarts.
	LastAlertID(ctx context.Context) (int64, error)
	// SaveAlert inserts or updates the incident with a.ID.
	SaveAlert(ctx context.Context, a Alert) error
	// RecentAlerts returns, oldest id first, the incidents still firing
	// (a previous run ended while they were) and those resolved at or
	// after resolvedSince.
	RecentAlerts(ctx context.Context, resolvedSince time.Time) ([]Alert, error)
}

// ErrNotFound is returned by Ack for an id that is neither firing nor
// recently resolved.
var ErrNotFound = errors.New("no such alert")

// Engine runs the detectors and keeps the incidents. Construct it with New.
type Engine struct {
	cfg Config
	src Source
	log zerolog.Logger

	listeners []func(Event) // fixed before Run

	mu       sync.Mutex
	det      *detectors
	active   map[string]*Alert // by dedup key
	resolved []*Alert          // oldest first, pruned after KeepResolved
	nextID   int64
	// startup are the resolved events of incidents a previous run left
	// firing, held from New until Run (or the first Check) emits them:
	// listeners are added after New, and one resolved event per incident
	// is the promise to the webhooks.
	startup []Event
}

// New builds an engine over src. With a History it continues the ids,
// lists again the incidents resolved within KeepResolved, and resolves
// the ones a previous run left firing: their history rows are updated
// here, their resolved events go to the listeners when Run starts.
func New(ctx context.Context, cfg Config, src Source) (*Engine, error) {
	if cfg.Calendar == nil {
		return nil, errors.New("alert: no market calendar")
	}
	cfg.defaults()
	e := &Engine{cfg: cfg, src: src, log: cfg.Logger, active: map[string]*Alert{}}
	e.det = newDetectors(&e.cfg)
	if h := cfg.History; h != nil {
		id, err := h.LastAlertID(ctx)
		if err != nil {
			return nil, fmt.Errorf("alert history: %w", err)
		}
		e.nextID = id
		if err := e.loadHistory(ctx, h); err != nil {
			return nil, fmt.Errorf("alert history: %w", err)
		}
	}
	return e, nil
}

// StartupMessage is the message of an incident resolved at start-up
// because the previous run ended while it was firing; the incident's last
// message follows.
const StartupMessage = "at start-up: the previous run ended while it was firing"

// loadHistory reads the recent incidents back. Nobody watches the ones
// left firing any more and the detectors start from nothing, so each is
// resolved now (a fresh incident fires if the condition still holds).
func (e *Engine) loadHistory(ctx context.Context, h History) error {
	now := e.cfg.Now()
	recent, err := h.RecentAlerts(ctx, now.Add(-e.cfg.KeepResolved))
	if err != nil {
		return err
	}
	var open []*Alert
	for i := range recent {
		a := &recent[i]
		if a.ResolvedAt == nil {
			at := now
			a.State, a.ResolvedAt = Resolved, &at
			a.Message = StartupMessage + "; was: " + a.Message
			open = append(open, a)
			continue
		}
		a.State = Resolved
		e.resolved = append(e.resolved, a)
	}
	// pruneLocked wants resolved oldest first; the ones resolved now are
	// the newest.
	slices.SortStableFunc(e.resolved, func(a, b *Alert) int { return a.ResolvedAt.Compare(*b.ResolvedAt) })
	for _, a := range open {
		e.save(ctx, *a)
		e.resolved = append(e.resolved, a)
		e.startup = append(e.startup, Event{Type: EventResolved, Alert: *a})
	}
	if len(open) > 0 {
		e.log.Info().Int("alerts", len(open)).Msg("alerts left firing by the previous run resolved; resolved events follow")
	}
	return nil
}

// flushStartup emits the start-up resolutions once, to the listeners added
// since New.
func (e *Engine) flushStartup() {
	e.mu.Lock()
	evs := e.startup
	e.startup = nil
	e.mu.Unlock()
	for _, ev := range evs {
		e.logEvent(ev)
		e.emit(ev)
	}
}

// Listen adds fn, called with every event in order from the engine's
// goroutine (or an Ack's). fn must not block: the hub broadcasts, webhooks
// queue. Call it before Run.
func (e *Engine) Listen(fn func(Event)) { e.listeners = append(e.listeners, fn) }

// Run checks every CheckInterval until ctx is done.
func (e *Engine) Run(ctx context.Context) {
	e.flushStartup()
	t := time.NewTicker(e.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.Check(ctx)
		}
	}
}

// Check runs every detector once at the configured clock's now and emits
// the transitions. Run calls it; tests with a fake clock call it directly.
func (e *Engine) Check(ctx context.Context) {
	e.flushStartup()
	snap := e.src.Snapshot()
	now := e.cfg.Now()
	e.mu.Lock()
	found := e.det.run(now, snap)
	var events []Event
	seen := make(map[string]bool, len(found))
	var folded map[string]string // per-ticker key -> the group that took it over
	for _, f := range found {
		seen[f.key] = true
		for _, m := range f.members {
			if e.active[m] != nil {
				if folded == nil {
					folded = map[string]string{}
				}
				folded[m] = f.key
			}
		}
		if a := e.active[f.key]; a != nil {
			changed := a.Value != f.value || a.Message != f.message
			a.Value, a.Threshold, a.Message = f.value, f.threshold, f.message
			if f.live && changed {
				events = append(events, Event{Type: EventUpdated, Alert: *a})
			}
			continue
		}
		e.nextID++
		a := &Alert{ID: e.nextID, Key: f.key, Kind: f.kind, ConnectionID: f.conn, Ticker: f.ticker, Source: f.source,
			State: Firing, Since: f.since, FiredAt: now, Value: f.value, Threshold: f.threshold, Unit: f.unit, Message: f.message}
		e.active[f.key] = a
		events = append(events, Event{Type: EventFiring, Alert: *a})
	}
	for k, a := range e.active {
		if seen[k] {
			continue
		}
		at := now
		a.State, a.ResolvedAt = Resolved, &at
		if g := e.active[folded[k]]; g != nil {
			// Still silent, but now part of its connection's group: this
			// incident ends here so nothing is left firing beside the group.
			a.Message = fmt.Sprintf("folded into incident %d (%s), still silent: %s", g.ID, g.Key, a.Message)
		} else {
			a.Message = fmt.Sprintf("cleared after %s; was: %s", fmtDur(now.Sub(a.FiredAt)), a.Message)
		}
		delete(e.active, k)
		e.resolved = append(e.resolved, a)
		events = append(events, Event{Type: EventResolved, Alert: *a})
	}
	e.pruneLocked(now)
	e.mu.Unlock()
	// Firing, then updated, then resolved, each in id order, so a webhook
	// reader sees a stable sequence (a group firing before the per-ticker
	// incidents it folds resolve).
	slices.SortStableFunc(events, func(a, b Event) int {
		if a.Type != b.Type {
			return eventRank(a.Type) - eventRank(b.Type)
		}
		return int(a.Alert.ID - b.Alert.ID)
	})
	for _, ev := range events {
		e.logEvent(ev)
		e.save(ctx, ev.Alert)
		e.emit(ev)
	}
}

// eventRank orders one check's events: firing, updated, resolved.
func eventRank(typ string) int {
	switch typ {
	case EventFiring:
		return 0
	case EventUpdated:
		return 1
	}
	return 2
}

func (e *Engine) pruneLocked(now time.Time) {
	cut := 0
	for cut < len(e.resolved) && now.Sub(*e.resolved[cut].ResolvedAt) > e.cfg.KeepResolved {
		cut++
	}
	if cut > 0 {
		e.resolved = slices.Delete(e.resolved, 0, cut)
	}
}

// logEvent writes "alert <type>: <message>". The state is said once, by
// the type: resolved messages say how it ended ("cleared after ...",
// "folded into ...", "at start-up: ..."), never "resolved" again.
func (e *Engine) logEvent(ev Event) {
	a := ev.Alert
	l := e.log.Warn()
	if ev.Type != EventFiring {
		l = e.log.Info()
	}
	l.Int64("alert_id", a.ID).Str("kind", string(a.Kind)).Str("connection_id", a.ConnectionID).
		Str("symbol", a.Ticker).Str("source", a.Source).Float64("value", a.Value).Float64("threshold", a.Threshold).
		Msg("alert " + ev.Type + ": " + a.Message)
}

// save writes a to the history; a failure is logged, not fatal: the
// incident still goes to the browsers and the webhooks.
func (e *Engine) save(ctx context.Context, a Alert) {
	if e.cfg.History == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := e.cfg.History.SaveAlert(ctx, a); err != nil {
		e.log.Warn().Err(err).Int64("alert_id", a.ID).Msg("alert history: save failed")
	}
}

func (e *Engine) emit(ev Event) {
	for _, fn := range e.listeners {
		fn(ev)
	}
}

// List returns the firing incidents and those resolved within
// KeepResolved, newest first.
func (e *Engine) List() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Alert, 0, len(e.active)+len(e.resolved))
	for _, a := range e.active {
		out = append(out, *a)
	}
	for _, a := range e.resolved {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Alert) int { return int(b.ID - a.ID) })
	return out
}

// Ack records that user has seen incident id. Acknowledging twice keeps
// the first acknowledgement.
func (e *Engine) Ack(ctx context.Context, id int64, user string) (Alert, error) {
	e.mu.Lock()
	var a *Alert
	for _, x := range e.active {
		if x.ID == id {
			a = x
		}
	}
	for _, x := range e.resolved {
		if x.ID == id {
			a = x
		}
	}
	if a == nil {
		e.mu.Unlock()
		return Alert{}, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	if a.AckedAt != nil {
		cp := *a
		e.mu.Unlock()
		return cp, nil
	}
	at := e.cfg.Now()
	a.AckedBy, a.AckedAt = user, &at
	cp := *a
	e.mu.Unlock()
	e.save(ctx, cp)
	e.emit(Event{Type: EventAcknowledged, Alert: cp})
	return cp, nil
}

// FiringByKind counts the firing incidents of every kind (zeros included).
func (e *Engine) FiringByKind() map[Kind]int {
	out := make(map[Kind]int, len(Kinds()))
	for _, k := range Kinds() {
		out[k] = 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.active {
		out[a.Kind]++
	}
	return out
}

// SilentTickers is how many tickers of each connection were silent at the
// last check: tickers, not incidents (a group is one incident for many).
func (e *Engine) SilentTickers() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.det.silent))
	for k, v := range e.det.silent {
		out[k] = v
	}
	return out
}
