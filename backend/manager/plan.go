package manager

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// Where a slot's tickers came from.
const (
	SourceUniverse = "universe"
	SourceSymbols  = "symbols"
	SourceNone     = "none"
)

// slotPlan is the resolved, not yet running form of one SlotConfig.
type slotPlan struct {
	id          int
	name        string
	enabled     bool // runs at start
	universeKey string
	source      string
	note        string
	tickers     []string // after overlap resolution, in resolution order
	warnings    []string // things worth a log line (unknown universe, ...)
}

// moved records tickers configured on a higher slot that a lower slot kept.
type moved struct {
	from, keptBy string
	symbols      []string
}

// planResult is what New acts on; it is computed without any I/O so the
// configuration rules can be tested as a table.
type planResult struct {
	slots []slotPlan
	moved []moved
}

func connID(id int) string { return massive.ConnID(id).String() }

// symbolsVar names the environment variable that holds a slot's fallback, so
// notes tell the operator what to set.
func symbolsVar(id int) string { return fmt.Sprintf("WEBSOCKET_CONNECTION_%d_SYMBOLS", id) }

func validateSlots(slots []SlotConfig) error {
	if len(slots) == 0 {
		return errors.New("manager: no connection slots configured")
	}
	for i, sc := range slots {
		if sc.ID != i+1 {
			return fmt.Errorf("manager: slot %d has id %d; slots must be numbered 1..%d in order", i+1, sc.ID, len(slots))
		}
		if sp := sc.Split; sp != nil && (sp.Of < 1 || sp.Index < 1 || sp.Index > sp.Of) {
			return fmt.Errorf("manager: %s: split %d/%d: want 1 <= index <= of", connID(sc.ID), sp.Index, sp.Of)
		}
	}
	return nil
}

// plan resolves every slot's tickers. Slots that do not run at start get no
// tickers: nothing should be reserved for a connection that is not there.
func plan(cfg Config) (planResult, error) {
	if err := validateSlots(cfg.Slots); err != nil {
		return planResult{}, err
	}
	var res planResult
	owner := make(map[string]int) // symbol -> slot id that keeps it
	for _, sc := range cfg.Slots {
		p := slotPlan{id: sc.ID, name: sc.Name, universeKey: sc.UniverseKey, source: SourceNone}
		if p.name == "" {
			p.name = defaultName(sc.ID)
		}
		p.enabled = sc.Enabled
		if !cfg.MultiConnection {
			// Single-connection mode: connection 1 always runs, the others never do.
			p.enabled = sc.ID == 1
			if sc.ID == 1 && sc.UniverseKey == "" && len(sc.Symbols) == 0 {
				p.universeKey = cfg.DefaultUniverse
			}
		}
		if !p.enabled {
			res.slots = append(res.slots, p)
			continue
		}
		list := configuredTickers(cfg.Universes, sc, &p)
		kept := list[:0:0]
		movedBy := map[int][]string{}
		for _, sym := range list {
			if o, dup := owner[sym]; dup {
				if o != sc.ID {
					movedBy[o] = append(movedBy[o], sym)
				}
				continue
			}
			owner[sym] = sc.ID
			kept = append(kept, sym)
		}
		for _, o := range sortedKeys(movedBy) {
			res.moved = append(res.moved, moved{from: connID(sc.ID), keptBy: connID(o), symbols: movedBy[o]})
		}
		if len(kept) == 0 && len(list) > 0 {
			p.note = "every configured ticker is already assigned to a lower connection"
		}
		p.tickers = kept
		res.slots = append(res.slots, p)
	}
	return res, nil
}

// configuredTickers is a slot's ticker list before overlap resolution.
func configuredTickers(reg *universe.Registry, sc SlotConfig, p *slotPlan) []string {
	list := resolveTickers(reg, sc, p)
	if sc.Split != nil {
		list = splitPart(list, *sc.Split)
	}
	return list
}

// resolveTickers applies the universe-then-symbols fallback rule and records
// in p where the tickers came from and, when there are none, why.
func resolveTickers(reg *universe.Registry, sc SlotConfig, p *slotPlan) []string {
	key := p.universeKey
	var why string
	if key != "" {
		var (
			list []string
			err  error
		)
		if reg == nil {
			err = errors.New("no universe registry")
		} else {
			list, err = reg.Resolve(key)
		}
		switch {
		case err != nil:
			why = fmt.Sprintf("universe %q unknown", key)
			p.warnings = append(p.warnings, fmt.Sprintf("universe %q: %v; falling back to %s", key, err, symbolsVar(sc.ID)))
		case len(list) == 0:
			why = fmt.Sprintf("universe %q is empty", key)
			p.warnings = append(p.warnings, fmt.Sprintf("universe %q is empty; falling back to %s", key, symbolsVar(sc.ID)))
		default:
			p.source = SourceUniverse
			return dedupe(list)
		}
	}
	if len(sc.Symbols) > 0 {
		p.source = SourceSymbols
		if why != "" {
			p.note = why + "; using " + symbolsVar(sc.ID)
		}
		return dedupe(sc.Symbols)
	}
	if why != "" {
		p.note = why + " and no " + symbolsVar(sc.ID)
	} else {
		p.note = "no universe key and no " + symbolsVar(sc.ID)
	}
	return nil
}

// splitPart returns part sp.Index of sp.Of contiguous parts whose sizes differ
// by at most one, so a 500-ticker universe split 3 ways covers every ticker.
func splitPart(list []string, sp Split) []string {
	n := len(list)
	lo := (sp.Index - 1) * n / sp.Of
	hi := sp.Index * n / sp.Of
	return list[lo:hi]
}

func dedupe(list []string) []string {
	seen := make(map[string]struct{}, len(list))
	out := make([]string, 0, len(list))
	for _, s := range list {
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

func sortedKeys(m map[int][]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// defaultName mirrors the original's names for the first three connections.
func defaultName(id int) string {
	switch id {
	case 1:
		return "primary"
	case 2:
		return "secondary"
	case 3:
		return "tertiary"
	}
	return connID(id)
}

func (m moved) String() string {
	return fmt.Sprintf("%s: %s (kept by %s)", m.from, strings.Join(m.symbols, ","), m.keptBy)
}
