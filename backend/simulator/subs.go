package simulator

import (
	"sort"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Channel indexes for the prefixes the simulator produces data for: the
// massive kinds, counted from 0.
const (
	chT         = int(massive.KindTrade) - 1
	chQ         = int(massive.KindQuote) - 1
	chA         = int(massive.KindSecondAgg) - 1
	chAM        = int(massive.KindMinuteAgg) - 1
	numChannels = chAM + 1
)

// channelIndex maps a subscription prefix to its data channel. Prefixes the
// real stocks cluster accepts but the simulator has no data for (LULD, NOI,
// FMV) are acknowledged and recorded but never produce events (-1).
func channelIndex(prefix string) (int, bool) {
	if k, ok := massive.ChannelKind(prefix); ok {
		return int(k) - 1, true
	}
	if massive.IsStocksChannel(prefix) {
		return -1, true
	}
	return 0, false
}

// channelRef is one parsed "<PREFIX>.<TICKER>" entry.
type channelRef struct {
	raw    string // normalised "T.AAPL"
	prefix string
	symbol string // massive.Wildcard for every ticker
}

// parseParams splits a subscribe/unsubscribe params string with the
// protocol's one rule set (massive.ParseParams).
func parseParams(params string) (refs []channelRef, bad []string) {
	subs, bad := massive.ParseParams(params)
	refs = make([]channelRef, len(subs))
	for i, s := range subs {
		refs[i] = channelRef{raw: s.String(), prefix: s.Channel, symbol: s.Ticker}
	}
	return refs, bad
}

type channelSubs struct {
	all  bool
	syms map[string]struct{}
}

// subTable is one connection's subscriptions. It is guarded by the owning
// conn's mutex.
type subTable struct {
	keys map[string]struct{} // every acknowledged entry, e.g. "T.AAPL", "LULD.*"
	ch   [numChannels]channelSubs
}

func newSubTable() subTable {
	t := subTable{keys: make(map[string]struct{})}
	for i := range t.ch {
		t.ch[i].syms = make(map[string]struct{})
	}
	return t
}

func (t *subTable) add(r channelRef) {
	t.keys[r.raw] = struct{}{}
	idx, _ := channelIndex(r.prefix)
	if idx < 0 {
		return
	}
	if r.symbol == massive.Wildcard {
		t.ch[idx].all = true
		return
	}
	t.ch[idx].syms[r.symbol] = struct{}{}
}

func (t *subTable) remove(r channelRef) {
	delete(t.keys, r.raw)
	idx, _ := channelIndex(r.prefix)
	if idx < 0 {
		return
	}
	if r.symbol == massive.Wildcard {
		t.ch[idx].all = false
		return
	}
	delete(t.ch[idx].syms, r.symbol)
}

func (t *subTable) wants(ch int, sym string) bool {
	c := &t.ch[ch]
	if c.all {
		return true
	}
	_, ok := c.syms[sym]
	return ok
}

func (t *subTable) sorted() []string {
	out := make([]string, 0, len(t.keys))
	for k := range t.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// subscribedTo reports whether sym is named explicitly on any channel, and
// separately whether some channel has the wildcard.
func (t *subTable) subscribedTo(sym string) (explicit, wildcard bool) {
	for k := range t.keys {
		_, s, _ := massive.SplitSubscription(k)
		if s == sym {
			explicit = true
		}
		if s == massive.Wildcard {
			wildcard = true
		}
	}
	return explicit, wildcard
}
