package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// finding is one condition a detector sees as true right now.
type finding struct {
	key                  string
	kind                 Kind
	conn, ticker, source string
	since                time.Time
	value, threshold     float64
	unit, message        string
	// members are the keys of the per-ticker incidents a grouped
	// ticker_silent finding stands for: one of them still firing is folded
	// into the group, not left dangling.
	members []string
	// live: a change of value or message is news (an "updated" event).
	// Not for findings whose value is a growing duration, which changes
	// at every check.
	live bool
}

// sample is a counter reading at a time, for windowed counts.
type sample struct {
	at    time.Time
	total uint64
}

// window keeps the readings of one counter over a sliding window.
type window struct{ s []sample }

// observe records total at now and returns how much it grew within w. The
// newest reading older than the window is kept as the base, so growth is
// measured across the whole window, not from its first reading inside.
func (wd *window) observe(now time.Time, total uint64, w time.Duration) uint64 {
	wd.s = append(wd.s, sample{now, total})
	cut := 0
	for cut+1 < len(wd.s) && !wd.s[cut+1].at.After(now.Add(-w)) {
		cut++
	}
	wd.s = wd.s[cut:]
	base := wd.s[0].total
	if total < base { // a counter that went back (should not happen): start over
		wd.s = wd.s[len(wd.s)-1:]
		return 0
	}
	return total - base
}

// detectors holds what the detectors remember between checks. Only the
// engine's check (under its lock) touches it.
type detectors struct {
	cfg          *Config
	enabledSince map[string]time.Time // connection -> when it was first seen enabled
	driftSince   map[string]time.Time
	reconnects   map[string]*window
	drops        map[string]*window
	silent       map[string]int  // connection -> silent tickers at the last check
	grouped      map[string]bool // connection -> its silent tickers are one incident
	// subscribedAt: connection -> ticker -> the first check that saw the
	// ticker subscribed and acknowledged on the current link (Conn.Subscribed),
	// the clock of a ticker that never ticks. Forgotten when the link goes
	// down or the ticker leaves the list.
	subscribedAt map[string]map[string]time.Time
}

func newDetectors(cfg *Config) *detectors {
	return &detectors{cfg: cfg, enabledSince: map[string]time.Time{}, driftSince: map[string]time.Time{},
		reconnects: map[string]*window{}, drops: map[string]*window{}, silent: map[string]int{},
		grouped: map[string]bool{}, subscribedAt: map[string]map[string]time.Time{}}
}

// run evaluates every detector on snap at now.
func (d *detectors) run(now time.Time, snap Snapshot) []finding {
	var out []finding
	open := d.cfg.Calendar.Open(now)
	clear(d.silent)
	for i := range snap.Conns {
		c := &snap.Conns[i]
		d.trackSubscribed(now, c)
		if !c.Enabled {
			delete(d.enabledSince, c.ID)
			delete(d.driftSince, c.ID)
			continue
		}
		if _, ok := d.enabledSince[c.ID]; !ok {
			d.enabledSince[c.ID] = now
		}
		out = d.connSilent(out, now, open, c)
		out = d.fatal(out, now, c)
		out = d.drift(out, now, c)
		out = d.storm(out, now, c)
		out = d.countDrops(out, now, "reader", c.ID, c.Dropped)
	}
	if open {
		out = d.tickerSilent(out, now, snap)
	}
	// A group ends when none of its connection's tickers is silent any
	// more (or silence stopped counting: market closed, link down).
	for conn := range d.grouped {
		if d.silent[conn] == 0 {
			delete(d.grouped, conn)
		}
	}
	for _, dr := range snap.Drops {
		out = d.countDrops(out, now, dr.Source, "", dr.Total)
	}
	return out
}

// trackSubscribed keeps subscribedAt for c: it runs whether the market is
// open or not, so a ticker subscribed at night keeps its subscription time
// (the market's opening bounds its silence, see neverTicked).
func (d *detectors) trackSubscribed(now time.Time, c *Conn) {
	if !c.Enabled || c.State != massive.StateConnected.String() || len(c.Subscribed) == 0 {
		delete(d.subscribedAt, c.ID)
		return
	}
	prev := d.subscribedAt[c.ID]
	next := make(map[string]time.Time, len(c.Subscribed))
	for _, t := range c.Subscribed {
		at, ok := prev[t]
		if !ok {
			at = now
		}
		next[t] = at
	}
	d.subscribedAt[c.ID] = next
}

// silentFor is how long connection c has been without a message, counted
// from when it was seen enabled at the earliest (start-up, enabling it).
func (d *detectors) silentFor(now time.Time, c *Conn) (time.Duration, time.Time) {
	base := d.enabledSince[c.ID]
	if c.LastMessage.After(base) {
		base = c.LastMessage
	}
	return now.Sub(base), base
}

func (d *detectors) connSilent(out []finding, now time.Time, open bool, c *Conn) []finding {
	silent, since := d.silentFor(now, c)
	if !open || silent <= d.cfg.Silence {
		return out
	}
	return append(out, finding{
		key: key(KindConnectionSilent, c.ID), kind: KindConnectionSilent, conn: c.ID, since: since,
		value: secs(silent), threshold: secs(d.cfg.Silence), unit: "seconds",
		message: fmt.Sprintf("no message for %s (threshold %s), link %s", fmtDur(silent), fmtDur(d.cfg.Silence), c.State),
	})
}

// fatal: auth_failed and max_connections fire at once, while the link is
// in the error state they put it in.
func (d *detectors) fatal(out []finding, now time.Time, c *Conn) []finding {
	if c.State != massive.StateError.String() {
		return out
	}
	for _, k := range []Kind{KindAuthFailed, KindMaxConnections} {
		if strings.HasPrefix(c.Reason, string(k)) {
			out = append(out, finding{key: key(k, c.ID), kind: k, conn: c.ID, since: now,
				value: 1, threshold: 0, unit: "events", message: c.Reason})
		}
	}
	return out
}

func (d *detectors) drift(out []finding, now time.Time, c *Conn) []finding {
	n := len(c.Missing) + len(c.Extra)
	if c.State != massive.StateConnected.String() || n == 0 {
		delete(d.driftSince, c.ID)
		return out
	}
	since, ok := d.driftSince[c.ID]
	if !ok {
		d.driftSince[c.ID] = now
		since = now
	}
	if now.Sub(since) <= d.cfg.Drift {
		return out
	}
	var parts []string
	if len(c.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("not acknowledged: %s", clipList(c.Missing)))
	}
	if len(c.Extra) > 0 {
		parts = append(parts, fmt.Sprintf("acknowledged but not wanted: %s", clipList(c.Extra)))
	}
	return append(out, finding{key: key(KindSubscriptionDrift, c.ID), kind: KindSubscriptionDrift, conn: c.ID,
		since: since, value: float64(n), threshold: 0, unit: "subscriptions",
		message: fmt.Sprintf("%d subscriptions differ from the desired set for %s; %s", n, fmtDur(now.Sub(since)), strings.Join(parts, "; "))})
}

func clipList(l []string) string { return clipN(l, 5) }

// clipN joins the first show items of l and says how many more there are.
func clipN(l []string, show int) string {
	if len(l) <= show {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:show], ", ") + fmt.Sprintf(" and %d more", len(l)-show)
}

func (d *detectors) storm(out []finding, now time.Time, c *Conn) []finding {
	w := d.reconnects[c.ID]
	if w == nil {
		w = &window{}
		d.reconnects[c.ID] = w
	}
	n := w.observe(now, c.Reconnects, d.cfg.StormWindow)
	if n <= uint64(d.cfg.StormReconnects) {
		return out
	}
	return append(out, finding{key: key(KindReconnectStorm, c.ID), kind: KindReconnectStorm, conn: c.ID,
		since: w.s[0].at, value: float64(n), threshold: float64(d.cfg.StormReconnects), unit: "reconnects",
		message: fmt.Sprintf("%d reconnects in %s (threshold %d)", n, fmtDur(d.cfg.StormWindow), d.cfg.StormReconnects)})
}

func (d *detectors) countDrops(out []finding, now time.Time, source, conn string, total uint64) []finding {
	k := key(KindDrops, conn, source)
	w := d.drops[k]
	if w == nil {
		w = &window{}
		d.drops[k] = w
	}
	n := w.observe(now, total, d.cfg.DropWindow)
	if n == 0 {
		return out
	}
	unit, what := dropWording(source)
	if conn != "" {
		what += " of " + conn
	}
	return append(out, finding{key: k, kind: KindDrops, conn: conn, source: source, since: w.s[0].at,
		value: float64(n), threshold: 0, unit: unit,
		message: fmt.Sprintf("%d %s in the last %s", n, what, fmtDur(d.cfg.DropWindow))})
}

// dropWording names what a drop source's counter counts, so the value and
// the message are in the same unit as the number: the reader's queue drops
// frames (massive Stats.Dropped), a browser overflow discards one
// session's whole queue (live Stats.Resyncs), a sink drops ticks (status
// Sink.Dropped: ticks that never reached it) and the relay cuts a slow
// consumer off (relay Stats.SlowDisconnects).
func dropWording(source string) (unit, what string) {
	switch {
	case source == "reader":
		return "frames", "frames dropped by the reader"
	case source == "browser":
		return "overflows", "browser queue overflows (a session's queued frames dropped for a snapshot)"
	case strings.HasPrefix(source, "sink:"):
		return "ticks", "ticks dropped by the " + source
	case source == "relay":
		return "disconnects", "relay consumers cut off as too slow (slow_consumer)"
	}
	return "drops", "drops counted by the " + source
}

// minGaps is how many gaps a ticker needs before its own interval is
// trusted: an illiquid name seen once must not be called silent.
const minGaps = 3

// tickerSilent: a ticker far quieter than its own recent interval, or
// one that has not ticked since it was subscribed (neverTicked), while its
// connection keeps delivering other tickers. A connection that is silent
// as a whole is the connection detector's business.
//
// More than TickerSilenceGroup silent tickers of one connection at once
// are one incident for the connection (key ticker_silent:<conn>:*): the
// headline failure, a link that silently stopped resubscribing, takes
// hundreds of tickers at once, and one incident per ticker would bury the
// one fact that matters under hundreds of alerts and webhook posts. Once
// formed, the group stays until none of the connection's tickers is
// silent, however few remain: a count hovering around the threshold would
// otherwise swap the group for per-ticker incidents and back at every
// crossing, each swap costing up to TickerSilenceGroup+1 webhook posts.
func (d *detectors) tickerSilent(out []finding, now time.Time, snap Snapshot) []finding {
	live := map[string]bool{}
	for i := range snap.Conns {
		c := &snap.Conns[i]
		if !c.Enabled || c.State != massive.StateConnected.String() {
			continue
		}
		silent, _ := d.silentFor(now, c)
		live[c.ID] = silent <= d.cfg.Silence
	}
	byConn := map[string][]silentTicker{}
	add := func(s silentTicker) {
		d.silent[s.t.ConnectionID]++
		byConn[s.t.ConnectionID] = append(byConn[s.t.ConnectionID], s)
	}
	ticked := make(map[string]bool, len(snap.Tickers))
	for _, t := range snap.Tickers {
		ticked[t.Symbol] = true
		if !live[t.ConnectionID] || t.Gaps < minGaps || t.LastSeen.IsZero() {
			continue
		}
		thr := max(time.Duration(d.cfg.TickerSilenceFactor*float64(t.MedianGap)), d.cfg.TickerSilenceMin)
		gap := now.Sub(t.LastSeen)
		if gap <= thr {
			continue
		}
		add(silentTicker{t: t, since: t.LastSeen, gap: gap, thr: thr})
	}
	for i := range snap.Conns {
		if c := &snap.Conns[i]; live[c.ID] {
			d.neverTicked(now, c, ticked, add)
		}
	}
	// Connections in order, so new incidents get their ids in a stable order.
	for _, conn := range slices.Sorted(maps.Keys(byConn)) {
		l := byConn[conn]
		if len(l) > d.cfg.TickerSilenceGroup || d.grouped[conn] {
			d.grouped[conn] = true
			out = append(out, d.silentGroup(conn, l))
			continue
		}
		slices.SortFunc(l, func(a, b silentTicker) int { return strings.Compare(a.t.Symbol, b.t.Symbol) })
		for _, s := range l {
			msg := fmt.Sprintf("no event for %s while its connection keeps ticking (usual gap %s, threshold %s)",
				fmtDur(s.gap), fmtDur(s.t.MedianGap), fmtDur(s.thr))
			if s.never != "" {
				msg = fmt.Sprintf("no event since %s %s ago while its connection keeps ticking (threshold %s)",
					s.never, fmtDur(s.gap), fmtDur(s.thr))
			}
			out = append(out, finding{key: key(KindTickerSilent, conn, s.t.Symbol), kind: KindTickerSilent,
				conn: conn, ticker: s.t.Symbol, since: s.since, value: secs(s.gap), threshold: secs(s.thr), unit: "seconds",
				message: msg})
		}
	}
	return out
}

// neverTicked adds the tickers of connection c that have not delivered an
// event on it since they were subscribed (no timing of theirs is c's) and
// are silent for longer than TickerNeverTicked: there is no median gap to go
// by, and a threshold of its own (15 min by default, not TickerSilenceMin's
// 2) because an illiquid name may well not trade for minutes after the
// opening, which must not page anyone at every market open. The clock starts at the latest of the
// acknowledgement (as first seen by a check, so up to CheckInterval late),
// the link's connection and the market's opening today.
func (d *detectors) neverTicked(now time.Time, c *Conn, ticked map[string]bool, add func(silentTicker)) {
	var open time.Time
	if d.cfg.Calendar.Mode() != HoursAlways {
		if o, _, ok := d.cfg.Calendar.Session(now); ok {
			open = o
		}
	}
	for sym, at := range d.subscribedAt[c.ID] {
		if ticked[sym] {
			continue
		}
		since, why := at, "it was subscribed"
		if c.ConnectedSince.After(since) {
			since = c.ConnectedSince
		}
		if open.After(since) {
			since, why = open, "the market opened"
		}
		gap := now.Sub(since)
		if gap <= d.cfg.TickerNeverTicked {
			continue
		}
		add(silentTicker{t: tickstore.Timing{Symbol: sym, ConnectionID: c.ID}, since: since, gap: gap,
			thr: d.cfg.TickerNeverTicked, never: why})
	}
}

// silentTicker is a ticker the detector found silent: since when, for how
// long, and its own threshold. never says what its clock counts from when
// it has not ticked since it was subscribed.
type silentTicker struct {
	t        tickstore.Timing
	since    time.Time
	gap, thr time.Duration
	never    string
}

// groupShow is how many symbols a group's message names.
const groupShow = 10

// silentGroup is the one finding for the silent tickers l of conn. Its
// message names the longest-silent first and carries no duration, so it
// changes only when the set of silent tickers does: that is when the
// engine sends an "updated" event, not at every check.
func (d *detectors) silentGroup(conn string, l []silentTicker) finding {
	slices.SortFunc(l, func(a, b silentTicker) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.t.Symbol, b.t.Symbol)
	})
	syms := make([]string, len(l))
	members := make([]string, len(l))
	for i, s := range l {
		syms[i] = s.t.Symbol
		members[i] = key(KindTickerSilent, conn, s.t.Symbol)
	}
	what := fmt.Sprintf("%d tickers silent", len(l))
	if len(l) == 1 {
		what = "1 ticker silent"
	}
	g := d.cfg.TickerSilenceGroup
	return finding{key: groupKey(conn), kind: KindTickerSilent, conn: conn, since: l[0].since,
		value: float64(len(l)), threshold: float64(g), unit: "tickers", members: members, live: true,
		message: fmt.Sprintf("%s while %s keeps ticking: %s (more than %d at once: one incident until all recover)",
			what, conn, clipN(syms, groupShow), g)}
}

// groupKey is the dedup key of conn's grouped ticker_silent incident.
func groupKey(conn string) string { return key(KindTickerSilent, conn, "*") }
