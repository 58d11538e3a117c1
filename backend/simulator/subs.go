package simulator

import (
	"sort"
	"strings"
)

// Channel indexes for the prefixes the simulator produces data for.
const (
	chT = iota
	chQ
	chA
	chAM
	numChannels
)

// channelIndex maps a subscription prefix to its data channel. Prefixes the
// real stocks cluster accepts but the simulator has no data for (LULD, NOI,
// FMV) are acknowledged and recorded but never produce events (-1).
func channelIndex(prefix string) (int, bool) {
	switch prefix {
	case "T":
		return chT, true
	case "Q":
		return chQ, true
	case "A":
		return chA, true
	case "AM":
		return chAM, true
	case "LULD", "NOI", "FMV":
		return -1, true
	}
	return 0, false
}

// channelRef is one parsed "<PREFIX>.<TICKER>" entry.
type channelRef struct {
	raw    string // normalised "T.AAPL"
	prefix string
	symbol string // "*" for the wildcard
}

// parseParams splits a subscribe/unsubscribe params string. Entries are
// comma-separated, spaces trimmed, and split at the FIRST dot because tickers
// such as BRK.A contain dots. Bad entries are returned separately so the
// valid ones in the same message still take effect.
func parseParams(params string) (refs []channelRef, bad []string) {
	for _, part := range strings.Split(params, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		prefix, sym, ok := strings.Cut(part, ".")
		prefix, sym = strings.TrimSpace(prefix), strings.TrimSpace(sym)
		if !ok || sym == "" || prefix == "" {
			bad = append(bad, part)
			continue
		}
		if _, known := channelIndex(prefix); !known {
			bad = append(bad, part)
			continue
		}
		refs = append(refs, channelRef{raw: prefix + "." + sym, prefix: prefix, symbol: sym})
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
	if r.symbol == "*" {
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
	if r.symbol == "*" {
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
		_, s, _ := strings.Cut(k, ".")
		if s == sym {
			explicit = true
		}
		if s == "*" {
			wildcard = true
		}
	}
	return explicit, wildcard
}
