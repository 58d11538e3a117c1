package redissink

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// What is queued when Run is stopped still goes out: the app stops the
// manager first and then the sink, and a clean shutdown should not lose
// the last ticks. Redis is paused for writes (CLIENT PAUSE WRITE holds
// PUBLISH) so that the batches are certainly still queued when the stop
// comes.
func TestStopDrainsQueue(t *testing.T) {
	r := testkit.StartRedis(t)
	sub := subscribe(t, r.URL(), DefaultTickChannel)
	var logs testkit.SyncBuffer
	p, err := New(Options{URL: r.URL(), DrainTimeout: wait, Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := p.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	waitState(t, p, StateConnected)

	admin := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer admin.Close()
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "500", "WRITE").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	// The first batch takes the writer into the paused PUBLISH ...
	p.Ticks("connection_1", []massive.Event{sampleTrade})
	testkit.WaitFor(t, wait, "the writer blocked in the paused PUBLISH", func() bool {
		info, err := admin.Info(context.Background(), "clients").Result()
		return err == nil && strings.Contains(info, "blocked_clients:1")
	})
	// ... and these wait behind it.
	const later = 20
	for range later {
		p.Ticks("connection_2", []massive.Event{sampleQuote})
	}
	if d := p.Stats().QueueDepth; d == 0 {
		t.Fatal("nothing queued behind the paused write")
	}
	cancel()
	wg.Wait()

	st := p.Stats()
	if st.QueueDepth != 0 {
		t.Fatalf("%d batches left in the queue after Run returned", st.QueueDepth)
	}
	if st.Published != later+1 || st.Dropped != 0 {
		t.Fatalf("published %d, dropped %d; want all %d published\n%s", st.Published, st.Dropped, later+1, logs.String())
	}
	got := 0
	for got < later {
		got += strings.Count(sub.next(), `"connection_2"`)
	}
	if got != later {
		t.Fatalf("subscriber got %d queued ticks, want %d", got, later)
	}
}

// A Redis that takes nothing does not hold the stop: the write in flight
// ends with the I/O timeout and the drain with DrainTimeout.
func TestStopWithRedisHung(t *testing.T) {
	r := testkit.StartRedis(t)
	p, err := New(Options{URL: r.URL(), DrainTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	waitState(t, p, StateConnected)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer admin.Close()
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "60000", "WRITE").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	defer admin.Do(context.Background(), "CLIENT", "UNPAUSE")
	for range 5 {
		p.Ticks("connection_1", []massive.Event{sampleTrade})
	}
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Run did not return although Redis is paused for a minute")
	}
	if st := p.Stats(); st.Published != 0 {
		t.Fatalf("published %d into a paused Redis", st.Published)
	}
}
