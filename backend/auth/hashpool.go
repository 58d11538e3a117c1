package auth

import (
	"errors"
	"runtime"
)

// ErrBusy is returned by HashPool.Do when every worker is busy and the
// queue is full.
var ErrBusy = errors.New("auth: too many password checks in progress")

// HashPool bounds how many bcrypt comparisons run at once. A bcrypt
// comparison at PasswordCost is a few hundred milliseconds of one core, so
// unbounded, 300 parallel logins queue every other request (health checks,
// the dashboard's API) behind seconds of hashing. With about one worker per
// core and a short queue, a flood costs at most the cores the pool owns and
// everything beyond it is refused at once, cheaply, with ErrBusy.
//
// The pool owns no goroutines: Do runs the work on the caller's goroutine
// once it holds a worker slot, so there is nothing to start or stop.
type HashPool struct {
	admit chan struct{} // workers+queue tokens, held from admission to the end
	run   chan struct{} // workers tokens, held while comparing
}

// NewHashPool: workers below 1 means runtime.GOMAXPROCS(0); queue below 0
// means 0 (refuse as soon as every worker is busy).
func NewHashPool(workers, queue int) *HashPool {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	queue = max(queue, 0)
	return &HashPool{admit: make(chan struct{}, workers+queue), run: make(chan struct{}, workers)}
}

// Do runs fn when a worker is free, waiting in the queue if need be, or
// returns ErrBusy at once when the queue is full too.
func (p *HashPool) Do(fn func()) error {
	select {
	case p.admit <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-p.admit }()
	p.run <- struct{}{}
	defer func() { <-p.run }()
	fn()
	return nil
}

// Capacity is the number of workers and the length of the queue.
func (p *HashPool) Capacity() (workers, queue int) {
	return cap(p.run), cap(p.admit) - cap(p.run)
}

// Admitted is how many calls are running or queued right now.
func (p *HashPool) Admitted() int { return len(p.admit) }
