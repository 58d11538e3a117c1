package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// maxUsersFileSize keeps a wrong AUTH_USERS_FILE (a log, a dump) from being
// read into memory whole.
const maxUsersFileSize = 1 << 20

// fileEntry is one record of a users file.
type fileEntry struct {
	Username     string `json:"username" yaml:"username"`
	PasswordHash string `json:"password_hash" yaml:"password_hash"`
	Role         string `json:"role" yaml:"role"`
}

// LoadUsersFile reads a JSON or YAML list of {username, password_hash, role}.
//
// The format is chosen by extension (.json, .yaml, .yml); any other name is
// read as JSON when its first non-blank byte is '[', else as YAML. Every
// error names the file and, where it concerns one entry, its position, line
// and username. Hashes must be bcrypt ($2a$, $2b$, $2y$); a plain password
// in the hash field is refused naming the user, and never echoed.
func LoadUsersFile(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: users file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUsersFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("auth: users file %s: %w", path, err)
	}
	if len(data) > maxUsersFileSize {
		return nil, fmt.Errorf("auth: users file %s: larger than %d bytes", path, maxUsersFileSize)
	}
	users, err := parseUsersFile(path, data)
	if err != nil {
		return nil, fmt.Errorf("auth: users file %s: %w", path, err)
	}
	return users, nil
}

func parseUsersFile(path string, data []byte) ([]User, error) {
	var (
		entries []fileEntry
		lines   []int
		err     error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".json", ext != ".yaml" && ext != ".yml" && looksLikeJSON(data):
		entries, lines, err = decodeJSONEntries(data)
	default:
		entries, lines, err = decodeYAMLEntries(data)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("no users in file (want a list of {username, password_hash, role})")
	}
	users := make([]User, 0, len(entries))
	firstLine := make(map[string]int, len(entries))
	for i, e := range entries {
		where := fmt.Sprintf("line %d: entry %d", lines[i], i+1)
		u, err := e.user()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if prev, dup := firstLine[u.Username]; dup {
			return nil, fmt.Errorf("%s: duplicate user %q (first on line %d)", where, u.Username, prev)
		}
		firstLine[u.Username] = lines[i]
		users = append(users, u)
	}
	return users, nil
}

func (e fileEntry) user() (User, error) {
	if err := validateUsername(e.Username); err != nil {
		return User{}, err
	}
	role, err := ParseRole(e.Role)
	switch {
	case e.Role == "":
		return User{}, fmt.Errorf("user %q: role is missing (want admin, viewer or user)", e.Username)
	case err != nil:
		// The value is not echoed: in a file of credentials a misplaced
		// column could put a password here.
		return User{}, fmt.Errorf("user %q: unknown role (want admin, viewer or user)", e.Username)
	}
	hash := strings.TrimSpace(e.PasswordHash)
	if hash == "" {
		return User{}, fmt.Errorf("user %q: password_hash is missing", e.Username)
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return User{}, fmt.Errorf("user %q: password_hash is not a bcrypt hash (create one with `tickwatch hash-password`)", e.Username)
	}
	return User{Username: e.Username, Hash: []byte(hash), Role: role}, nil
}

func looksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '['
}

// decodeJSONEntries streams the top-level array so each entry's line number
// is known for error messages.
func decodeJSONEntries(data []byte) ([]fileEntry, []int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, jsonError(data, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, nil, fmt.Errorf("line %d: want a JSON list of {username, password_hash, role}", lineAt(data, dec.InputOffset()))
	}
	var (
		entries []fileEntry
		lines   []int
	)
	for dec.More() {
		line := lineAt(data, nextValueOffset(data, dec.InputOffset()))
		var e fileEntry
		if err := dec.Decode(&e); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) { // the offending line beats the entry's first line
				line = lineAt(data, syn.Offset)
			}
			return nil, nil, fmt.Errorf("line %d: entry %d: %w", line, len(entries)+1, describeJSONError(err))
		}
		entries = append(entries, e)
		lines = append(lines, line)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, jsonError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("line %d: unexpected data after the list", lineAt(data, dec.InputOffset()))
	}
	return entries, lines, nil
}

func jsonError(data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("line %d: invalid JSON: %s", lineAt(data, syn.Offset), syn.Error())
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of file")
	}
	return fmt.Errorf("line %d: invalid JSON: %w", lineAt(data, dec.InputOffset()), err)
}

// describeJSONError drops the Go type names encoding/json puts in its
// messages, which mean nothing to whoever edits the file.
func describeJSONError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Errorf("want an object {username, password_hash, role}, got a JSON %s", typ.Value)
		}
		return fmt.Errorf("field %q: want a string, got a JSON %s", typ.Field, typ.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s (want username, password_hash, role)", msg)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// nextValueOffset skips the whitespace and comma the decoder has not yet
// consumed, so the reported line is the entry's own, not the previous one's.
func nextValueOffset(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func decodeYAMLEntries(data []byte) ([]fileEntry, []int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil, nil // empty file: reported as "no users" by the caller
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("line %d: want a YAML list of {username, password_hash, role}", list.Line)
	}
	entries := make([]fileEntry, 0, len(list.Content))
	lines := make([]int, 0, len(list.Content))
	for i, item := range list.Content {
		e, err := yamlEntry(item)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: entry %d: %w", item.Line, i+1, err)
		}
		entries = append(entries, e)
		lines = append(lines, item.Line)
	}
	return entries, lines, nil
}

// yamlEntry reads one mapping by hand: yaml.v3's Node.Decode cannot reject
// unknown keys, and a typo such as "pasword_hash" must not pass silently.
func yamlEntry(n *yaml.Node) (fileEntry, error) {
	var e fileEntry
	if n.Kind != yaml.MappingNode {
		return e, errors.New("want a mapping {username, password_hash, role}")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "username":
			dst = &e.Username
		case "password_hash":
			dst = &e.PasswordHash
		case "role":
			dst = &e.Role
		default:
			return e, fmt.Errorf("unknown field %q on line %d (want username, password_hash, role)", k.Value, k.Line)
		}
		if seen[k.Value] {
			return e, fmt.Errorf("field %q given twice (line %d)", k.Value, k.Line)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode {
			return e, fmt.Errorf("field %q on line %d: want a string", k.Value, k.Line)
		}
		*dst = v.Value
	}
	return e, nil
}
