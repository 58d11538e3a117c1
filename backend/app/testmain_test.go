package app_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test here starts the whole program; goleak checks that Run's
// shutdown stops every goroutine it started (clients, hub, sessions,
// simulator, HTTP server).
func TestMain(m *testing.M) {
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
