package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestLoadUsersFile(t *testing.T) {
	h := string(cheapHash(t, "pw"))
	h2y := strings.Replace(h, "$2a$", "$2y$", 1) // htpasswd -B style
	type want struct {
		names []string
		roles []Role
	}
	tests := []struct {
		name, file, body string
		want             want
		wantErr          []string // every substring must appear
	}{
		{
			name: "json", file: "users.json",
			body: `[
  {"username": "alice", "password_hash": "` + h + `", "role": "admin"},
  {"username": "bob", "password_hash": "` + h2y + `", "role": "Viewer"}
]`,
			want: want{[]string{"alice", "bob"}, []Role{RoleAdmin, RoleViewer}},
		},
		{
			name: "yaml", file: "users.yaml",
			body: "# operators\n- username: alice\n  password_hash: " + h + "\n  role: admin\n" +
				"- username: carol\n  password_hash: '" + h + "'\n  role: user\n",
			want: want{[]string{"alice", "carol"}, []Role{RoleAdmin, RoleUser}},
		},
		{
			name: "yml flow style", file: "users.yml",
			body: `[{username: dave, password_hash: "` + h + `", role: viewer}]`,
			want: want{[]string{"dave"}, []Role{RoleViewer}},
		},
		{
			name: "sniffed json", file: "users",
			body: "\n  [{\"username\":\"eve\",\"password_hash\":\"" + h + "\",\"role\":\"admin\"}]",
			want: want{[]string{"eve"}, []Role{RoleAdmin}},
		},
		{
			name: "sniffed yaml", file: "users.conf",
			body: "- username: eve\n  password_hash: " + h + "\n  role: admin\n",
			want: want{[]string{"eve"}, []Role{RoleAdmin}},
		},
		{
			name: "json syntax", file: "bad.json",
			body:    "[\n {\"username\": \"alice\",\n  \"role\": admin}\n]",
			wantErr: []string{"bad.json", "line 3", "invalid JSON"},
		},
		{
			name: "json unknown field", file: "bad.json",
			body:    "[\n {\"username\": \"alice\", \"password\": \"x\", \"role\": \"admin\"}\n]",
			wantErr: []string{"bad.json", "line 2: entry 1", `unknown field "password"`},
		},
		{
			name: "json wrong type", file: "bad.json",
			body:    "[\n {\"username\": \"a\", \"password_hash\": \"" + h + "\", \"role\": \"admin\"},\n {\"username\": 7}\n]",
			wantErr: []string{"line 3: entry 2", `field "username": want a string, got a JSON number`},
		},
		{
			name: "json not a list", file: "bad.json",
			body:    `{"username": "alice"}`,
			wantErr: []string{"bad.json", "line 1", "want a JSON list"},
		},
		{
			name: "json entry not object", file: "bad.json",
			body:    `["alice"]`,
			wantErr: []string{"entry 1", "want an object"},
		},
		{
			name: "json trailing data", file: "bad.json",
			body:    "[]\n[]",
			wantErr: []string{"line 2", "unexpected data after the list"},
		},
		{
			name: "json truncated", file: "bad.json",
			body:    `[{"username": "alice"`,
			wantErr: []string{"bad.json", "entry 1"},
		},
		{
			name: "json garbage", file: "bad.json",
			body:    "\n\nnope",
			wantErr: []string{"bad.json", "line 3", "invalid JSON"},
		},
		{
			name: "json unclosed list", file: "bad.json",
			body:    `[{"username": "a", "password_hash": "` + h + `", "role": "admin"}`,
			wantErr: []string{"bad.json", "unexpected end of file"},
		},
		{
			name: "empty list", file: "users.json", body: "[]",
			wantErr: []string{"users.json", "no users"},
		},
		{
			name: "empty yaml", file: "users.yaml", body: "# nobody yet\n",
			wantErr: []string{"users.yaml", "no users"},
		},
		{
			name: "plain password in json", file: "users.json",
			body:    "[\n {\"username\": \"alice\", \"password_hash\": \"" + h + "\", \"role\": \"admin\"},\n {\"username\": \"bob\", \"password_hash\": \"hunter2hunter2\", \"role\": \"admin\"}\n]",
			wantErr: []string{"users.json", "line 3: entry 2", `user "bob"`, "not a bcrypt hash", "hash-password"},
		},
		{
			name: "plain password in yaml", file: "users.yaml",
			body:    "- username: bob\n  password_hash: hunter2hunter2\n  role: admin\n",
			wantErr: []string{"users.yaml", "line 1: entry 1", `user "bob"`, "not a bcrypt hash"},
		},
		{
			name: "missing role", file: "users.yaml",
			body:    "- username: bob\n  password_hash: " + h + "\n",
			wantErr: []string{`user "bob"`, "role is missing"},
		},
		{
			name: "bad role", file: "users.yaml",
			body:    "- username: bob\n  password_hash: " + h + "\n  role: root\n",
			wantErr: []string{"line 1: entry 1", `user "bob"`, "unknown role (want admin, viewer or user)"},
		},
		{
			name: "missing hash", file: "users.yaml",
			body:    "- username: bob\n  role: admin\n",
			wantErr: []string{`user "bob"`, "password_hash is missing"},
		},
		{
			name: "missing username", file: "users.yaml",
			body:    "- role: admin\n  password_hash: " + h + "\n",
			wantErr: []string{"entry 1", "username is empty"},
		},
		{
			name: "duplicate", file: "users.yaml",
			body: "- username: bob\n  password_hash: " + h + "\n  role: admin\n" +
				"- username: bob\n  password_hash: " + h + "\n  role: viewer\n",
			wantErr: []string{"line 4: entry 2", `duplicate user "bob" (first on line 1)`},
		},
		{
			name: "yaml syntax", file: "users.yaml",
			body:    "- username: bob\n  role: [admin\n",
			wantErr: []string{"users.yaml", "invalid YAML", "line"},
		},
		{
			name: "yaml unknown key", file: "users.yaml",
			body:    "- username: bob\n  pasword_hash: " + h + "\n  role: admin\n",
			wantErr: []string{"entry 1", `unknown field "pasword_hash" on line 2`},
		},
		{
			name: "yaml repeated key", file: "users.yaml",
			body:    "- username: bob\n  role: admin\n  role: viewer\n",
			wantErr: []string{"entry 1"},
		},
		{
			name: "yaml not a list", file: "users.yaml",
			body:    "users:\n  - username: bob\n",
			wantErr: []string{"line 1", "want a YAML list"},
		},
		{
			name: "yaml entry not mapping", file: "users.yaml",
			body:    "- bob\n",
			wantErr: []string{"line 1: entry 1", "want a mapping"},
		},
		{
			name: "yaml nested value", file: "users.yaml",
			body:    "- username: [bob]\n",
			wantErr: []string{`field "username" on line 1: want a string`},
		},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := filepath.Join(dir, string(rune('a'+i)))
			if err := os.Mkdir(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(sub, tt.file)
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			users, err := LoadUsersFile(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, got %v", users)
				}
				t.Log(err)
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				for _, secret := range []string{h, "hunter2"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a hash/password: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != len(tt.want.names) {
				t.Fatalf("got %d users, want %d", len(users), len(tt.want.names))
			}
			for i, u := range users {
				if u.Username != tt.want.names[i] || u.Role != tt.want.roles[i] {
					t.Errorf("user %d = %v, want %s (%s)", i, u, tt.want.names[i], tt.want.roles[i])
				}
				if bcrypt.CompareHashAndPassword(u.Hash, []byte("pw")) != nil {
					t.Errorf("user %s: hash does not verify", u.Username)
				}
			}
			if _, err := NewUsers(users); err != nil {
				t.Errorf("NewUsers on loaded users: %v", err)
			}
		})
	}
}

func TestLoadUsersFileMissingAndHuge(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.yaml")
	if _, err := LoadUsersFile(missing); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: err = %v", err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, make([]byte, maxUsersFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUsersFile(huge); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: err = %v", err)
	}
}
