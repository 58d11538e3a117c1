package universe

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/massive"
)

func mustDefault(t *testing.T) *Registry {
	t.Helper()
	r, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return r
}

func TestEmbeddedUniverses(t *testing.T) {
	r := mustDefault(t)
	tests := []struct {
		name     string
		min, max int
	}{
		{"market_leaders:top_500", 500, 500},
		{"market_leaders:top_50", 50, 50},
		{"dow30", 30, 30},
		{"nasdaq100", 100, 101},
		{"sp500", 490, 505},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syms, err := r.Resolve(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(syms); n < tt.min || n > tt.max {
				t.Errorf("%d symbols, want %d..%d", n, tt.min, tt.max)
			}
			seen := map[string]bool{}
			for _, s := range syms {
				if !massive.ValidTicker(s) {
					t.Errorf("symbol %q is not in the ticker form", s)
				}
				if seen[s] {
					t.Errorf("duplicate symbol %q", s)
				}
				seen[s] = true
			}
		})
	}
	if got, want := r.Names(), []string{"dow30", "market_leaders:top_50", "market_leaders:top_500", "nasdaq100", "sp500"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestEmbeddedRelations(t *testing.T) {
	r := mustDefault(t)
	get := func(k string) []string {
		s, err := r.Resolve(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	top500, top50 := get("market_leaders:top_500"), get("market_leaders:top_50")
	// top_50 is the head of top_500: the same size order, so the same priority.
	if !slices.Equal(top50, top500[:50]) {
		t.Errorf("top_50 is not the first 50 of top_500:\n%q\n%q", top50, top500[:50])
	}
	sp := get("sp500")
	for _, s := range get("dow30") {
		if !slices.Contains(sp, s) {
			t.Errorf("dow30 member %s missing from sp500", s)
		}
	}
	for _, s := range []string{"AAPL", "MSFT", "NVDA", "BRK.B", "BF.B", "GOOGL", "GOOG"} {
		if !slices.Contains(sp, s) {
			t.Errorf("sp500 lacks %s", s)
		}
	}
	if top500[0] != "NVDA" || !slices.Contains(top500, "BRK.B") {
		t.Errorf("top_500 should start with the largest name and use dotted classes: %q", top500[:10])
	}
}

func TestResolve(t *testing.T) {
	r := New()
	r.set(map[string][]string{
		"a":       {"ZZ", "AA", "MM"},
		"b":       {"MM", "BB"},
		"x:y":     {"XY"},
		"x":       {"X1"},
		"empty":   {},
		"lead:10": {"Q2", "Q1"},
	})
	tests := []struct {
		key     string
		want    []string
		wantErr string
	}{
		{key: "a", want: []string{"ZZ", "AA", "MM"}}, // own order kept
		{key: " a ", want: []string{"ZZ", "AA", "MM"}},
		{key: "x:y", want: []string{"XY"}},           // whole name wins over a union
		{key: "lead:10", want: []string{"Q2", "Q1"}}, // order kept for a name with ':'
		{key: "a:b", want: []string{"AA", "BB", "MM", "ZZ"}},
		{key: "b:a", want: []string{"AA", "BB", "MM", "ZZ"}},
		{key: "a:a", want: []string{"AA", "MM", "ZZ"}},
		{key: "x:y:b", want: []string{"BB", "MM", "XY"}}, // longest name first
		{key: "b:lead:10", want: []string{"BB", "MM", "Q1", "Q2"}},
		{key: "empty", want: []string{}},
		{key: "empty:b", want: []string{"BB", "MM"}},
		{key: "nope", wantErr: `unknown universe "nope" (known: a, b, empty, lead:10, x, x:y)`},
		{key: "", wantErr: `unknown universe "" (known: a, b`},
		{key: "a:nope", wantErr: `unknown universe "nope" in key "a:nope" (known: a, b`},
		{key: "a:", wantErr: `unknown universe "" in key "a:"`},
		{key: "lead", wantErr: `unknown universe "lead" (known:`},
		{key: "lead:11", wantErr: `unknown universe "lead" in key "lead:11"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := r.Resolve(tt.key)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnknown) {
					t.Errorf("error %v does not wrap ErrUnknown", err)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Resolve(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestResolveReturnsCopy(t *testing.T) {
	r := mustDefault(t)
	a, _ := r.Resolve("dow30")
	a[0] = "CHANGED"
	b, _ := r.Resolve("dow30")
	if b[0] == "CHANGED" {
		t.Fatal("Resolve exposed the registry's slice")
	}
}

func TestResolveUnionOfDefaults(t *testing.T) {
	r := mustDefault(t)
	got, err := r.Resolve("sp500:nasdaq100")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatal("union is not sorted and distinct")
	}
	for _, s := range []string{"ASML", "AAPL", "BRK.B"} { // ASML: nasdaq100 only
		if !slices.Contains(got, s) {
			t.Errorf("union lacks %s", s)
		}
	}
	top, err := r.Resolve("market_leaders:top_50:dow30")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(top, "SHW") || !slices.Contains(top, "NVDA") {
		t.Errorf("top_50:dow30 union misses members: %q", top)
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name, file, body string
		want             map[string][]string // universes to check afterwards
		wantErr          string
	}{
		{
			name: "json adds and overrides", file: "u.json",
			body: `{"tech": ["aapl", "MSFT", "AAPL"], "dow30": ["IBM"]}`,
			want: map[string][]string{"tech": {"AAPL", "MSFT"}, "dow30": {"IBM"}, "nasdaq100": nil},
		},
		{
			name: "yaml", file: "u.yaml",
			body: "tech:\n  - aapl\n  - brk.b\nmine:colon: [X]\n",
			want: map[string][]string{"tech": {"AAPL", "BRK.B"}, "mine:colon": {"X"}},
		},
		{
			name: "yaml keeps ON and Y as tickers", file: "u.yml",
			body: "norway:\n  - ON\n  - Y\n  - NO\n  - 1234\n",
			want: map[string][]string{"norway": {"ON", "Y", "NO", "1234"}},
		},
		{name: "yaml anchors", file: "u.yaml", body: "a: &l [AAPL]\nb: *l\n", want: map[string][]string{"b": {"AAPL"}}},
		{name: "empty list allowed", file: "u.json", body: `{"none": []}`, want: map[string][]string{"none": {}}},
		{name: "sniffs json", file: "universes", body: " {\"t\": [\"AAPL\"]}", want: map[string][]string{"t": {"AAPL"}}},
		{name: "sniffs yaml", file: "universes", body: "t: [AAPL]", want: map[string][]string{"t": {"AAPL"}}},
		{
			name: "json syntax error line", file: "u.json",
			body:    "{\n  \"a\": [\"AAPL\"],\n  \"b\": [\"MSFT\",]\n}",
			wantErr: `u.json": line 3: invalid character ']'`,
		},
		{name: "json truncated", file: "u.json", body: "{\n\"a\": [\"AAPL\"", wantErr: `u.json": line 2: unexpected end of JSON input`},
		{name: "json not an object", file: "u.json", body: `["AAPL"]`, wantErr: `line 1: want a mapping of universe name -> list of symbols`},
		{name: "json value not a list", file: "u.json", body: "{\n\"a\": \"AAPL\"}", wantErr: `line 2: universe "a": want a list of symbols`},
		{name: "json null value", file: "u.json", body: `{"a": null}`, wantErr: `line 1: universe "a": want a list of symbols`},
		{name: "json numbers", file: "u.json", body: `{"a": [1, 2]}`, wantErr: `universe "a": want a list of symbols`},
		{name: "json trailing data", file: "u.json", body: "{\"a\": []}\n{}", wantErr: `line 2: unexpected data after the JSON object`},
		{name: "json duplicate key", file: "u.json", body: "{\"a\": [],\n\"a\": [\"X\"]}", wantErr: `line 2: universe "a" is already defined at line 1`},
		{
			name: "json bad symbol names key", file: "u.json",
			body:    "{\n  \"good\": [\"AAPL\"],\n  \"tech\": [\"AAPL\", \"MS FT\"]\n}",
			wantErr: `universes file "DIR/u.json": line 3: universe "tech": invalid symbol "MS FT": want 1-10 characters`,
		},
		{name: "json empty name", file: "u.json", body: "{\n\"\": [\"AAPL\"]}", wantErr: `line 2: empty universe name`},
		{name: "json blank name", file: "u.json", body: `{"  ": ["AAPL"]}`, wantErr: `empty universe name`},
		{name: "name with space", file: "u.json", body: `{"my list": ["AAPL"]}`, wantErr: `universe name "my list": want non-empty parts separated by ':'`},
		{name: "name with empty part", file: "u.json", body: `{"a::b": ["AAPL"]}`, wantErr: `universe name "a::b"`},
		{name: "json empty file", file: "u.json", body: "", wantErr: `line 1: unexpected end of JSON input`},
		{name: "yaml syntax error line", file: "u.yaml", body: "a:\n  - AAPL\n b: [\n", wantErr: `u.yaml": yaml: line 2: did not find expected key`},
		{name: "yaml empty file", file: "u.yaml", body: "", wantErr: `file is empty: want a mapping`},
		{name: "yaml not a mapping", file: "u.yaml", body: "- AAPL\n", wantErr: `line 1: want a mapping`},
		{name: "yaml value not a list", file: "u.yaml", body: "a: b\nc: AAPL\n", wantErr: `line 1: universe "a": want a list of symbols`},
		{name: "yaml null value", file: "u.yaml", body: "a:\n", wantErr: `universe "a": want a list of symbols`},
		{name: "yaml nested list", file: "u.yaml", body: "a:\n  - [AAPL]\n", wantErr: `line 2: universe "a": want a list of symbols`},
		{name: "yaml bad symbol line", file: "u.yaml", body: "a:\n  - AAPL\n  - BAD$\n", wantErr: `line 3: universe "a": invalid symbol "BAD$"`},
		{name: "yaml empty name", file: "u.yaml", body: "'': [AAPL]\n", wantErr: `line 1: empty universe name`},
		{name: "yaml duplicate key", file: "u.yaml", body: "a: [X]\na: [Y]\n", wantErr: `line 2: universe "a" is already defined at line 1`},
		{name: "yaml mapping key", file: "u.yaml", body: "? [a]\n: [X]\n", wantErr: `line 1: universe names must be plain strings`},
		{name: "missing file", file: "", wantErr: `universes file: open DIR/missing.json: no such file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "missing.json")
			if tt.file != "" {
				p = filepath.Join(dir, tt.file)
				if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := mustDefault(t)
			before := r.Names()
			err := r.LoadFile(p)
			checkErr(t, err, strings.ReplaceAll(tt.wantErr, "DIR", dir))
			if err != nil {
				if !slices.Equal(r.Names(), before) {
					t.Error("a failed load changed the registry")
				}
				if !strings.Contains(err.Error(), p) && tt.file != "" {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			for name, want := range tt.want {
				got, err := r.Resolve(name)
				if err != nil {
					t.Fatal(err)
				}
				if want != nil && !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestLoadFileIsAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "u.json")
	if err := os.WriteFile(p, []byte(`{"dow30": ["IBM"], "bad": ["$"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustDefault(t)
	if err := r.LoadFile(p); err == nil {
		t.Fatal("want error")
	}
	if got, _ := r.Resolve("dow30"); len(got) != 30 {
		t.Errorf("dow30 changed by a failed load: %d symbols", len(got))
	}
}
