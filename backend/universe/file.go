package universe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

const fileForm = "a mapping of universe name -> list of symbols, e.g. {\"tech\": [\"AAPL\", \"MSFT\"]}"

// LoadFile adds the universes defined in a JSON or YAML file, replacing any
// of the same name. The format follows the extension (.json, .yaml, .yml) and
// is sniffed otherwise. The file is validated as a whole before anything
// changes, so a bad file leaves the registry as it was. Errors name the file
// and the line, and the universe when one of its entries is at fault.
func (r *Registry) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("universes file: %w", err)
	}
	var batch map[string][]string
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".json":
		batch, err = parseJSON(data)
	case ext == ".yaml" || ext == ".yml":
		batch, err = parseYAML(data)
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")):
		batch, err = parseJSON(data)
	default:
		batch, err = parseYAML(data)
	}
	if err != nil {
		return fmt.Errorf("universes file %q: %w", path, err)
	}
	r.set(batch)
	return nil
}

// entry is one universe as read from a file, before validation.
type entry struct {
	line     int
	name     string
	syms     []string
	symLines []int // line of each symbol when known (YAML), else nil
}

// validate turns entries into a batch, checking names and symbols.
func validate(entries []entry) (map[string][]string, error) {
	batch := make(map[string][]string, len(entries))
	seenLine := make(map[string]int, len(entries))
	for _, e := range entries {
		name := strings.TrimSpace(e.name)
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", e.line, err)
		}
		if prev, dup := seenLine[name]; dup {
			return nil, fmt.Errorf("line %d: universe %q is already defined at line %d", e.line, name, prev)
		}
		seenLine[name] = e.line
		syms, bad, err := normalizeAll(e.syms, false)
		if err != nil {
			line := e.line
			if bad < len(e.symLines) {
				line = e.symLines[bad]
			}
			return nil, fmt.Errorf("line %d: universe %q: %w", line, name, err)
		}
		batch[name] = syms
	}
	return batch, nil
}

// checkName rejects names that could not be addressed in an "a:b" union key.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty universe name")
	}
	bad := strings.IndexFunc(name, unicode.IsSpace) >= 0
	for part := range strings.SplitSeq(name, ":") {
		bad = bad || part == ""
	}
	if bad {
		return fmt.Errorf("universe name %q: want non-empty parts separated by ':' and no spaces (e.g. market_leaders:top_50)", name)
	}
	return nil
}

func parseJSON(data []byte) (map[string][]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) error {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			off = int64(len(data))
			err = errors.New("unexpected end of JSON input")
		}
		return fmt.Errorf("line %d: %w", lineAt(data, off), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("line %d: want %s", lineAt(data, dec.InputOffset()), fileForm)
	}
	var entries []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		name, _ := tok.(string) // object keys are always strings
		line := lineAt(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(err)
		}
		var syms []string
		if bytes.Equal(raw, []byte("null")) || json.Unmarshal(raw, &syms) != nil {
			return nil, fmt.Errorf("line %d: universe %q: want a list of symbols", line, name)
		}
		entries = append(entries, entry{line: line, name: name, syms: syms})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: unexpected data after the JSON object", lineAt(data, dec.InputOffset()))
	}
	return validate(entries)
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

func parseYAML(data []byte) (map[string][]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 errors already read "yaml: line N: ...".
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("file is empty: want %s", fileForm)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want %s", root.Line, fileForm)
	}
	entries := make([]entry, 0, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: universe names must be plain strings", k.Line)
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: universe %q: want a list of symbols", k.Line, k.Value)
		}
		syms := make([]string, 0, len(v.Content))
		lines := make([]int, 0, len(v.Content))
		for _, item := range v.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: universe %q: want a list of symbols", item.Line, k.Value)
			}
			// The raw text, not a resolved value: "ON" or "Y" are tickers, not booleans.
			syms = append(syms, item.Value)
			lines = append(lines, item.Line)
		}
		entries = append(entries, entry{line: k.Line, name: k.Value, syms: syms, symLines: lines})
	}
	return validate(entries)
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
