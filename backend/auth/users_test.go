package auth

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestNewUsersErrors(t *testing.T) {
	good := cheapHash(t, "pw")
	tests := []struct {
		name    string
		list    []User
		wantErr string // substring; "" = success
	}{
		{"ok", []User{{"alice", good, RoleAdmin}, {"bob", good, RoleViewer}}, ""},
		{"empty list", nil, ""},
		{"duplicate", []User{{"alice", good, RoleAdmin}, {"alice", good, RoleUser}}, `duplicate user "alice"`},
		{"empty name", []User{{"", good, RoleAdmin}}, "user 1: username is empty"},
		{"spaces", []User{{" al", good, RoleAdmin}}, "leading or trailing spaces"},
		{"control", []User{{"al\nice", good, RoleAdmin}}, "control characters"},
		{"long name", []User{{strings.Repeat("a", 129), good, RoleAdmin}}, "longer than 128"},
		{"bad role", []User{{"alice", good, Role("root")}}, `user "alice": unknown role (want`},
		{"plain hash", []User{{"alice", []byte("hunter2"), RoleAdmin}}, `user "alice": password hash is not a bcrypt hash`},
		{"no hash", []User{{"alice", nil, RoleAdmin}}, `user "alice": password hash is not a bcrypt hash`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewUsers(tt.list)
			if tt.wantErr == "" {
				if err != nil || u.Len() != len(tt.list) {
					t.Fatalf("NewUsers: %v (len %d)", err, u.Len())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the hash field: %v", err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	users, err := NewUsers([]User{
		{"alice", cheapHash(t, "correct horse"), RoleAdmin},
		{"bob", cheapHash(t, "battery staple"), RoleViewer},
	})
	if err != nil {
		t.Fatal(err)
	}
	var compares atomic.Int64
	users.compare = func(h, p []byte) error {
		compares.Add(1)
		return bcrypt.CompareHashAndPassword(h, p)
	}
	long := "correct horse" + strings.Repeat("x", 80)
	tests := []struct {
		name, user, pw string
		wantOK         bool
		wantRole       Role
	}{
		{"admin right", "alice", "correct horse", true, RoleAdmin},
		{"viewer right", "bob", "battery staple", true, RoleViewer},
		{"wrong password", "alice", "battery staple", false, ""},
		{"unknown user", "mallory", "correct horse", false, ""},
		{"empty user", "", "x", false, ""},
		{"empty password", "alice", "", false, ""},
		{"case matters", "Alice", "correct horse", false, ""},
		{"over 72 bytes", "alice", long, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := compares.Load()
			u, ok := users.Authenticate(tt.user, tt.pw)
			if ok != tt.wantOK || u.Role != tt.wantRole {
				t.Fatalf("Authenticate(%q) = %v, %v; want ok=%v role %q", tt.user, u, ok, tt.wantOK, tt.wantRole)
			}
			if ok && u.Username != tt.user {
				t.Fatalf("got user %q", u.Username)
			}
			// Every path, unknown users included, does exactly one bcrypt
			// comparison: that is what makes the timings equal.
			if n := compares.Load() - before; n != 1 {
				t.Fatalf("%d bcrypt comparisons, want 1", n)
			}
		})
	}
}

func TestDummyHashMatchesHighestCost(t *testing.T) {
	h5, err := bcrypt.GenerateFromPassword([]byte("pw"), 5)
	if err != nil {
		t.Fatal(err)
	}
	users, err := NewUsers([]User{{"a", cheapHash(t, "pw"), RoleAdmin}, {"b", h5, RoleUser}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(users.current().dummy); err != nil || c != 5 {
		t.Fatalf("dummy cost = %d, %v; want 5", c, err)
	}
}

func TestZeroUsersRefuses(t *testing.T) {
	var u Users
	if _, ok := u.Authenticate("a", "b"); ok {
		t.Fatal("zero Users authenticated someone")
	}
}

func TestLookup(t *testing.T) {
	users, err := NewUsers([]User{{"alice", cheapHash(t, "pw"), RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := users.Lookup("alice"); !ok || u.Role != RoleViewer {
		t.Fatalf("Lookup(alice) = %v, %v", u, ok)
	}
	if _, ok := users.Lookup("bob"); ok {
		t.Fatal("Lookup(bob) found")
	}
}

func TestHashPassword(t *testing.T) {
	if PasswordCost != 12 {
		t.Fatalf("PasswordCost = %d, the agreed cost is 12", PasswordCost)
	}
	cost, hash := PasswordCost, HashPassword
	if raceEnabled || testing.Short() {
		// A cost-12 hash takes seconds of CPU under -race; the plain run checks it.
		cost, hash = bcrypt.MinCost, func(pw string) (string, error) { return hashPassword(pw, bcrypt.MinCost) }
	}
	h, err := hash("s3cret-pw")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost([]byte(h)); err != nil || c != cost {
		t.Fatalf("cost = %d, %v; want %d", c, err, cost)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret-pw")) != nil {
		t.Fatal("hash does not verify")
	}
	for _, bad := range []string{"", strings.Repeat("p", 73)} {
		if _, err := HashPassword(bad); err == nil {
			t.Errorf("HashPassword(len %d) succeeded", len(bad))
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	seen := map[string]bool{}
	for range 50 {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) < 20 || !urlSafe.MatchString(pw) {
			t.Fatalf("password %q: want >= 20 URL-safe characters", pw)
		}
		if seen[pw] {
			t.Fatalf("repeated password %q", pw)
		}
		seen[pw] = true
	}
}

func TestUserNeverShowsHash(t *testing.T) {
	hash := cheapHash(t, "pw")
	u := User{Username: "alice", Hash: hash, Role: RoleAdmin}
	js, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		string(js), fmt.Sprint(u), fmt.Sprintf("%v %+v %#v %s", u, u, u, u),
		fmt.Sprintf("%v", &u), fmt.Sprintf("%+v", []User{u}),
	} {
		if strings.Contains(s, string(hash)) || strings.Contains(s, "$2a$") {
			t.Errorf("hash visible in %q", s)
		}
		if !strings.Contains(s, "alice") {
			t.Errorf("username missing from %q", s)
		}
	}
	if string(js) != `{"username":"alice","role":"admin"}` {
		t.Errorf("json = %s", js)
	}
}

// TestUsersReplace: a reloaded list takes effect at once, and Replace names
// exactly the users whose access changed (removed, new role, new password),
// whose sessions must therefore end. An invalid list changes nothing.
func TestUsersReplace(t *testing.T) {
	pwA, pwB := cheapHash(t, "a-pw"), cheapHash(t, "b-pw")
	users, err := NewUsers([]User{{"admin", pwA, RoleAdmin}, {"bob", pwB, RoleViewer}, {"carol", pwB, RoleUser}, {"dave", pwB, RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	changed, err := users.Replace([]User{
		{"admin", pwA, RoleAdmin}, // unchanged
		{"bob", pwB, RoleAdmin},   // promoted
		{"carol", pwA, RoleUser},  // new password
		{"erin", pwB, RoleViewer}, // added: had no sessions
	}) // dave removed
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bob", "carol", "dave"}; !slices.Equal(changed, want) {
		t.Fatalf("changed = %v, want %v", changed, want)
	}
	if _, ok := users.Lookup("dave"); ok {
		t.Error("dave still known")
	}
	if u, ok := users.Authenticate("carol", "a-pw"); !ok || u.Role != RoleUser {
		t.Errorf("carol with the new password: %v %v", u, ok)
	}
	if _, err := users.Replace([]User{{"x", []byte("plain"), RoleAdmin}}); err == nil {
		t.Fatal("an invalid list was accepted")
	}
	if _, ok := users.Lookup("erin"); !ok || users.Len() != 4 {
		t.Fatalf("an invalid list changed the set (%d users)", users.Len())
	}
}
