package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost used for new hashes.
const PasswordCost = 12

// maxPasswordLen is bcrypt's input limit. Longer inputs would be silently
// truncated by the comparison, so a password that merely starts with the
// right 72 bytes would match; we refuse them instead.
const maxPasswordLen = 72

const maxUsernameLen = 128

// User is one configured account.
type User struct {
	Username string `json:"username"`
	Hash     []byte `json:"-"`
	Role     Role   `json:"role"`
}

// String keeps the hash out of %v / %+v output (log lines, error wrapping).
func (u User) String() string { return fmt.Sprintf("%s (%s)", u.Username, u.Role) }

// GoString keeps the hash out of %#v output.
func (u User) GoString() string {
	return fmt.Sprintf("auth.User{Username:%q, Role:%q}", u.Username, u.Role)
}

// Users is the set of configured accounts; safe for concurrent use.
// Replace swaps the whole set at once (a reloaded users file), so a request
// sees either the old set or the new one, never half of each.
type Users struct {
	set atomic.Pointer[userSet]
	// compare is bcrypt.CompareHashAndPassword; tests swap it to count calls.
	compare func(hash, password []byte) error
}

// userSet is one immutable version of the accounts.
type userSet struct {
	byName map[string]User
	// dummy is compared against when the username is unknown, so that an
	// unknown user costs the same bcrypt work as a wrong password.
	dummy []byte
}

// NewUsers validates list and indexes it by username. Usernames are
// case-sensitive. Errors name the offending user (never its hash).
func NewUsers(list []User) (*Users, error) {
	set, err := newUserSet(list)
	if err != nil {
		return nil, err
	}
	u := &Users{compare: bcrypt.CompareHashAndPassword}
	u.set.Store(set)
	return u, nil
}

// Replace validates list and, if it is valid, makes it the set of accounts.
// It returns the usernames whose access changed: removed, given another
// role or another password hash. Their sessions must end (the caller does
// that: Users knows nothing of sessions). An invalid list changes nothing.
func (u *Users) Replace(list []User) (changed []string, err error) {
	set, err := newUserSet(list)
	if err != nil {
		return nil, err
	}
	old := u.set.Swap(set)
	if old == nil {
		return nil, nil
	}
	for name, was := range old.byName {
		now, ok := set.byName[name]
		if !ok || now.Role != was.Role || !bytes.Equal(now.Hash, was.Hash) {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	return changed, nil
}

func newUserSet(list []User) (*userSet, error) {
	u := &userSet{byName: make(map[string]User, len(list))}
	dummyCost := bcrypt.MinCost
	for i, usr := range list {
		if err := validateUsername(usr.Username); err != nil {
			return nil, fmt.Errorf("auth: user %d: %w", i+1, err)
		}
		if !usr.Role.Valid() {
			return nil, fmt.Errorf("auth: user %q: unknown role (want admin, viewer or user)", usr.Username)
		}
		cost, err := bcrypt.Cost(usr.Hash)
		if err != nil {
			return nil, fmt.Errorf("auth: user %q: password hash is not a bcrypt hash", usr.Username)
		}
		if _, dup := u.byName[usr.Username]; dup {
			return nil, fmt.Errorf("auth: duplicate user %q", usr.Username)
		}
		// The dummy matches the most expensive real hash, so a miss is never
		// cheaper than the slowest hit. With no users there is nothing to leak.
		dummyCost = max(dummyCost, cost)
		usr.Hash = append([]byte(nil), usr.Hash...)
		u.byName[usr.Username] = usr
	}
	dummyPw, err := GeneratePassword()
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	if u.dummy, err = bcrypt.GenerateFromPassword([]byte(dummyPw), dummyCost); err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	return u, nil
}

// validateUsername rejects names that would be ambiguous or dangerous in
// logs and headers; it is otherwise lenient.
func validateUsername(name string) error {
	switch {
	case name == "":
		return errors.New("username is empty")
	case len(name) > maxUsernameLen:
		return fmt.Errorf("username is longer than %d bytes", maxUsernameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("username %q has leading or trailing spaces", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("username %q contains control characters", name)
	}
	return nil
}

// current is the set in use; a zero Users has none (nobody is known).
func (u *Users) current() *userSet {
	if s := u.set.Load(); s != nil {
		return s
	}
	return &userSet{}
}

// Len is the number of users.
func (u *Users) Len() int { return len(u.current().byName) }

// Lookup returns the user with that exact name.
func (u *Users) Lookup(username string) (User, bool) {
	usr, ok := u.current().byName[username]
	return usr, ok
}

// Authenticate checks a username and password. Unknown users, wrong
// passwords and over-long passwords all return false after one bcrypt
// comparison (against a dummy hash for unknown users), so neither the answer
// nor its timing says whether the user exists. (If users' hashes have
// different costs, the cheaper ones are faster to refuse; keep one cost.)
func (u *Users) Authenticate(username, password string) (User, bool) {
	set := u.current()
	usr, known := set.byName[username]
	hash := usr.Hash
	if !known {
		hash = set.dummy
	}
	compare := u.compare
	if compare == nil { // zero Users: nobody is known, refuse everyone
		compare = bcrypt.CompareHashAndPassword
	}
	err := compare(hash, []byte(password))
	if !known || err != nil || len(password) > maxPasswordLen || password == "" {
		return User{}, false
	}
	return usr, true
}

// HashPassword returns a bcrypt hash of pw at PasswordCost.
func HashPassword(pw string) (string, error) { return hashPassword(pw, PasswordCost) }

func hashPassword(pw string, cost int) (string, error) {
	switch {
	case pw == "":
		return "", errors.New("auth: password is empty")
	case len(pw) > maxPasswordLen:
		return "", fmt.Errorf("auth: password is longer than %d bytes", maxPasswordLen)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// GeneratePassword returns a random 24-character URL-safe password
// (144 bits of entropy).
func GeneratePassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
