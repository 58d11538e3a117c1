package universe

import (
	"strings"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Symbols follow the protocol's one ticker form, massive.NormalizeTicker
// (1-10 characters of A-Z, 0-9, '.' and '-'): a universe must not hold a
// symbol the client would refuse to subscribe.

// ParseSymbols reads a comma-separated list ("AAPL, msft,BRK.B"). Empty items
// (a trailing comma, ",,") are skipped because they are harmless typos in an
// environment variable; duplicates are dropped keeping the first occurrence,
// so the list's order (its priority) survives.
func ParseSymbols(list string) ([]string, error) {
	syms, _, err := normalizeAll(strings.Split(list, ","), true)
	return syms, err
}

// NormalizeAll normalizes and de-duplicates a list of symbols in order
// (blank entries are errors); the error names the first bad symbol.
func NormalizeAll(syms []string) ([]string, error) {
	out, _, err := normalizeAll(syms, false)
	return out, err
}

// normalizeAll normalizes and de-duplicates syms in order. skipBlank decides
// whether blank entries are ignored or reported. On error it also returns the
// index of the offending entry.
func normalizeAll(syms []string, skipBlank bool) ([]string, int, error) {
	out := make([]string, 0, len(syms))
	seen := make(map[string]struct{}, len(syms))
	for i, raw := range syms {
		if skipBlank && strings.TrimSpace(raw) == "" {
			continue
		}
		s, err := massive.NormalizeTicker(raw)
		if err != nil {
			return nil, i, err
		}
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out, -1, nil
}
