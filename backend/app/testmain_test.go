package app_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// quietRedis drops go-redis's process-wide log lines (one per failed dial
// while a test has Redis stopped). Main installs the sink's own logger
// instead; tests run several Apps in one process and leave it alone.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// Every test here starts the whole program; goleak checks that Run's
// shutdown stops every goroutine it started (clients, hub, sessions,
// simulator, HTTP server).
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	goleak.VerifyTestMain(m,
		// fasthttp keeps one process-wide goroutine that refreshes the Date
		// header every second; started once, never stopped, by design.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// Its compressors run on a process-wide pool of stackless workers.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp/stackless.funcWorker"),
		// A stopped server's worker-pool cleaner notices the stop only
		// after its current idle sleep (10 s): it ends, just later than
		// goleak looks.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	)
}
