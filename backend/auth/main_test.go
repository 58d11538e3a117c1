package auth

import (
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newFakeClock is a manually advanced clock for the tests.
func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC))
}

// cheapHash hashes at bcrypt's minimum cost to keep the suite fast.
func cheapHash(t testing.TB, pw string) []byte {
	t.Helper()
	h, err := hashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("hash %q: %v", pw, err)
	}
	return []byte(h)
}
