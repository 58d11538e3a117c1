package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPasswordCommand(t *testing.T) {
	tests := []struct {
		name, in, wantPw string
		wantErr          string
	}{
		{"plain line", "s3cret\n", "s3cret", ""},
		{"crlf", "s3cret\r\n", "s3cret", ""},
		{"no newline", "s3cret", "s3cret", ""},
		{"inner and edge spaces kept", "  two words \n", "  two words ", ""},
		{"only first line", "first\nsecond\n", "first", ""},
		{"empty", "", "", "empty password"},
		{"blank line", "\n", "", "empty password"},
		{"whitespace", "   \t\n", "", "empty password"},
		{"too long", strings.Repeat("p", 73) + "\n", "", "longer than 72 bytes"},
		{"huge", strings.Repeat("p", 10000), "", "longer than 72 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := hashPasswordCommand(strings.NewReader(tt.in), &out, bcrypt.MinCost)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.TrimSpace(tt.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)[:10]) {
					t.Fatalf("error leaks the password: %v", err)
				}
				if out.Len() != 0 {
					t.Fatalf("wrote %q on error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			line := out.String()
			if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Fatalf("output %q: want one line", line)
			}
			hash := strings.TrimSuffix(line, "\n")
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(tt.wantPw)) != nil {
				t.Fatalf("hash does not verify %q", tt.wantPw)
			}
			// The output is accepted as a users-file/ADMIN_PASSWORD_HASH value.
			if _, err := NewUsers([]User{{Username: "a", Hash: []byte(hash), Role: RoleAdmin}}); err != nil {
				t.Fatalf("hash refused by NewUsers: %v", err)
			}
		})
	}
}

type failingIO struct{}

func (failingIO) Read([]byte) (int, error)  { return 0, errors.New("read boom") }
func (failingIO) Write([]byte) (int, error) { return 0, errors.New("write boom") }

func TestHashPasswordCommandIOErrors(t *testing.T) {
	if err := hashPasswordCommand(failingIO{}, &bytes.Buffer{}, bcrypt.MinCost); err == nil || !strings.Contains(err.Error(), "read boom") {
		t.Errorf("read error: %v", err)
	}
	if err := hashPasswordCommand(strings.NewReader("pw\n"), failingIO{}, bcrypt.MinCost); err == nil || !strings.Contains(err.Error(), "write boom") {
		t.Errorf("write error: %v", err)
	}
}

// The exported command hashes at the production cost; its cost-4 twin above
// covers the behaviour, this only checks the wiring (skipped under -race).
func TestHashPasswordCommandCost(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("cost-12 bcrypt takes seconds under -race/-short")
	}
	var out bytes.Buffer
	if err := HashPasswordCommand(strings.NewReader("pw\n"), &out); err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(bytes.TrimSpace(out.Bytes())); err != nil || c != PasswordCost {
		t.Fatalf("cost = %d, %v", c, err)
	}
}
