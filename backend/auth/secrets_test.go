package auth

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// TestSecretsNeverInErrorsOrLogs drives every error path that handles a
// password, a hash, a session secret or a token, and checks that none of
// them appears in any error string, formatted value or log line.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const password = "Pw-SENTINEL-7f3a9c"
	hash := cheapHash(t, password)
	secret := []byte("SECRET-SENTINEL-0123456789abcdefghij") // 36 bytes
	shortSecret := []byte("SECRET-SENTINEL-short")
	var logs bytes.Buffer
	log := zerolog.New(&logs)

	var texts []string
	add := func(err error) {
		if err != nil {
			texts = append(texts, err.Error())
		}
	}

	// Passwords.
	_, err := HashPassword(password + strings.Repeat("x", 80))
	add(err)
	add(hashPasswordCommand(strings.NewReader(password+strings.Repeat("x", 80)+"\n"), &bytes.Buffer{}, bcrypt.MinCost))
	users, err := NewUsers([]User{{Username: "alice", Hash: hash, Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := users.Authenticate("alice", password)
	texts = append(texts, fmt.Sprintf("%v %+v %#v", u, u, u))
	_, err = NewUsers([]User{{Username: "bob", Hash: []byte(password), Role: RoleAdmin}})
	add(err)
	_, err = NewUsers([]User{{Username: "alice", Hash: hash, Role: RoleAdmin}, {Username: "alice", Hash: hash, Role: RoleAdmin}})
	add(err)

	// Users files holding a plain password, or a hash next to other mistakes.
	dir := t.TempDir()
	for name, body := range map[string]string{
		"plain.yaml": "- username: bob\n  password_hash: " + password + "\n  role: admin\n",
		"plain.json": `[{"username": "bob", "password_hash": "` + password + `", "role": "admin"}]`,
		"role.yaml":  "- username: bob\n  password_hash: " + string(hash) + "\n  role: " + password + "\n",
		"key.json":   `[{"username": "bob", "password": "` + password + `", "role": "admin"}]`,
		"syn.json":   `[{"username": "bob", "password_hash": "` + string(hash) + `", role: admin}]`,
		"syn.yaml":   "- username: bob\n  password_hash: \"" + string(hash) + "\n  role: [\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadUsersFile(path)
		if err == nil {
			t.Fatalf("%s loaded", name)
		}
		add(err)
	}

	// Session secrets and tokens.
	_, err = NewSessions(shortSecret, time.Hour, nil)
	add(err)
	s, err := NewSessions(secret, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, fmt.Sprintf("%v %+v %#v %s", s, s, s, s))
	tok, _, err := s.Issue(u, Client{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{tok + "x", "x" + tok, tok[:len(tok)-3], strings.Replace(tok, ".", "", 1)} {
		_, err := s.Verify(bad)
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("tampered token: %v", err)
		}
		add(err)
	}
	_, _, err = s.Issue(User{Username: "x", Role: Role(password)}, Client{})
	add(err)

	// Audit entries are written by callers; the log carries only their fields.
	a := NewAudit(4, log)
	a.Record(AuditEntry{User: "alice", Action: "login", Target: "alice", Result: "ok"})
	texts = append(texts, logs.String())

	for _, txt := range texts {
		for name, sec := range map[string]string{
			"password": password, "hash": string(hash), "hash body": string(hash[7:]),
			"secret": string(secret), "short secret": string(shortSecret), "token": tok,
			"token signature": tok[strings.IndexByte(tok, '.')+1:],
		} {
			if strings.Contains(txt, sec) {
				t.Errorf("%s leaked in %q", name, txt)
			}
		}
	}
	if len(texts) < 15 {
		t.Fatalf("only %d texts checked; an error path stopped failing?", len(texts))
	}
}
