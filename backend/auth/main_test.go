package auth

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a manually advanced clock for sessions and the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
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
