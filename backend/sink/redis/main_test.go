package redissink

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// discard drops go-redis's process-wide log lines (a line per failed dial),
// as the app does by installing Publisher.ClientLog; TestClientLog checks
// that adapter itself.
type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(discard{})
	goleak.VerifyTestMain(m)
}
