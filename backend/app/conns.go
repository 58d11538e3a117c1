package app

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/tickwatch/tickwatch/backend/config"
)

// fdReserve is how many file descriptors the automatic HTTP connection cap
// leaves for everything that is not an HTTP client: upstream and simulator
// sockets, the store's files, Redis, log files and the listener itself.
const fdReserve = 64

// connLimits are the effective HTTP connection caps.
type connLimits struct {
	total, perIP       int
	fdSoft, fdHard     uint64
	fdKnown, automatic bool
}

// effectiveConnLimits turns HTTP_MAX_CONNS / HTTP_MAX_CONNS_PER_IP into the
// caps the server applies. With HTTP_MAX_CONNS=0 the total cap stays below
// the open-file limit, so a flood is refused with 503 by fasthttp (which
// closes the socket at once) long before accept(2) can fail with EMFILE.
func effectiveConnLimits(cfg *config.Config) connLimits {
	l := connLimits{total: cfg.HTTPMaxConns, perIP: cfg.HTTPMaxConnsPerIP}
	l.fdSoft, l.fdHard, l.fdKnown = openFileLimit()
	if l.total == 0 {
		l.automatic = true
		l.total = 256 * 1024 // fasthttp's own default
		if l.fdKnown && l.fdSoft < uint64(l.total)+fdReserve {
			l.total = max(16, int(l.fdSoft)-fdReserve)
		}
	}
	return l
}

// apply sets the caps on the fasthttp server behind Fiber. Both fields are
// read when Serve starts, so this must run before the listener is served.
func (l connLimits) apply(srv *fasthttp.Server) {
	srv.Concurrency = l.total
	srv.MaxConnsPerIP = l.perIP
}

func (l connLimits) log(log zerolog.Logger) {
	ev := log.Info().Int("http_max_conns", l.total).Bool("http_max_conns_auto", l.automatic).Int("http_max_conns_per_ip", l.perIP)
	if l.fdKnown {
		ev = ev.Uint64("open_files_soft", l.fdSoft).Uint64("open_files_hard", l.fdHard)
	}
	ev.Msg("connection limits")
}

// retryListener keeps accepting after errors that mean "not now" rather
// than "never": running out of file descriptors (EMFILE, ENFILE) or kernel
// memory. fasthttp treats every Accept error that is not a timeout as
// permanent and returns from Serve, which used to stop the whole process when
// a flood of idle connections used up the descriptors. Here the accept loop
// pauses with a growing delay (5 ms to 1 s) and carries on; the pause also
// gives the server time to close idle sockets and free descriptors.
type retryListener struct {
	net.Listener
	log zerolog.Logger

	closeOnce sync.Once
	done      chan struct{}

	mu       sync.Mutex
	failures int // consecutive retryable failures in the current episode
}

func newRetryListener(ln net.Listener, log zerolog.Logger) *retryListener {
	return &retryListener{Listener: ln, log: log, done: make(chan struct{})}
}

func (l *retryListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			l.recovered()
			return c, nil
		}
		if !retryableAccept(err) {
			return nil, err
		}
		l.failed(err)
		t := time.NewTimer(delay)
		select {
		case <-l.done:
			t.Stop()
			return nil, net.ErrClosed
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

// Close wakes an Accept that is pausing so shutdown does not wait for it.
func (l *retryListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// failed logs the first failure of an episode only: a flood would otherwise
// write a line per attempt.
func (l *retryListener) failed(err error) {
	l.mu.Lock()
	l.failures++
	first := l.failures == 1
	l.mu.Unlock()
	if first {
		l.log.Warn().Err(err).Msg("accept failed: out of file descriptors or memory; pausing new connections and retrying")
	}
}

func (l *retryListener) recovered() {
	l.mu.Lock()
	n := l.failures
	l.failures = 0
	l.mu.Unlock()
	if n > 0 {
		l.log.Info().Int("failed_accepts", n).Msg("accepting connections again")
	}
}

func retryableAccept(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
