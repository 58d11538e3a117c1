// Package universe names lists of ticker symbols ("universes"): the defaults
// embedded in the binary, an optional operator file that adds or overrides
// them, and "a:b" keys that mean the union of several universes.
package universe

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// ErrUnknown is wrapped by Resolve when a key names no universe.
var ErrUnknown = errors.New("unknown universe")

// The data files hold whitespace-separated symbols with '#' comments; a file's
// name is the universe name with ':' written as "__" (':' is not portable in
// file names).
//
//go:embed universes/*.txt
var embedded embed.FS

// Registry maps universe names to ordered symbol lists. It is safe for
// concurrent use; LoadFile is meant for start-up but may run at any time.
type Registry struct {
	mu   sync.RWMutex
	sets map[string][]string
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{sets: make(map[string][]string)}
}

// Default returns a registry holding the embedded universes
// (market_leaders:top_500, market_leaders:top_50, sp500, nasdaq100, dow30).
func Default() (*Registry, error) {
	r := New()
	files, err := fs.Glob(embedded, "universes/*.txt")
	if err != nil {
		return nil, fmt.Errorf("universe: embedded data: %w", err)
	}
	for _, f := range files {
		data, err := embedded.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("universe: embedded %s: %w", f, err)
		}
		name := strings.ReplaceAll(strings.TrimSuffix(path.Base(f), ".txt"), "__", ":")
		syms, _, err := normalizeAll(parseText(string(data)), false)
		if err != nil {
			return nil, fmt.Errorf("universe: embedded %s: %w", f, err)
		}
		r.sets[name] = syms
	}
	return r, nil
}

// parseText splits a data file into symbols, dropping '#' comments.
func parseText(data string) []string {
	var out []string
	for line := range strings.Lines(data) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// Names returns every universe name, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.sets))
	for n := range r.sets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Resolve returns the symbols of key as a new slice the caller may keep.
//
// A key that is itself a universe name (including names containing ':' such
// as "market_leaders:top_500") returns that universe in its own order, which is
// its priority. Otherwise a key with ':' is a union ("sp500:nasdaq100"): its
// parts are matched longest-name-first, so "market_leaders:top_50:dow30" works,
// and the result is the sorted distinct union. A part or key that names no
// universe gives an error wrapping ErrUnknown that lists the known names.
func (r *Registry) Resolve(key string) ([]string, error) {
	key = strings.TrimSpace(key)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if syms, ok := r.sets[key]; ok {
		return slices.Clone(syms), nil
	}
	if !strings.Contains(key, ":") {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknown, key, r.knownLocked())
	}
	parts := strings.Split(key, ":")
	var union []string
	for i := 0; i < len(parts); {
		j := len(parts)
		for ; j > i; j-- {
			if syms, ok := r.sets[strings.Join(parts[i:j], ":")]; ok {
				union = append(union, syms...)
				break
			}
		}
		if j == i {
			return nil, fmt.Errorf("%w %q in key %q (known: %s)", ErrUnknown, parts[i], key, r.knownLocked())
		}
		i = j
	}
	slices.Sort(union)
	return slices.Compact(union), nil
}

func (r *Registry) knownLocked() string {
	names := make([]string, 0, len(r.sets))
	for n := range r.sets {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// set replaces universes from a validated batch, all at once.
func (r *Registry) set(batch map[string][]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, syms := range batch {
		r.sets[name] = syms
	}
}
