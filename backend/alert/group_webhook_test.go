package alert_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/alert"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// fixedSource serves the snapshot the test last set.
type fixedSource struct{ snap alert.Snapshot }

func (s *fixedSource) Snapshot() alert.Snapshot { return s.snap }

// TestTickerSilentGroupWebhooks: a group is one webhook post when it fires
// and one when it resolves, however many checks, count changes and
// tickers lie between. The engine runs on a fake clock; the webhooks post
// to a real HTTP receiver.
func TestTickerSilentGroupWebhooks(t *testing.T) {
	t.Parallel()
	recv := &receiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	hooks, err := alert.NewWebhooks(alert.WebhookConfig{URLs: []string{srv.URL + "/hook"}, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hooks.Run(ctx) }()
	defer func() { cancel(); <-done }()

	cal, err := alert.NewCalendar(alert.HoursAlways)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	src := &fixedSource{}
	eng, err := alert.New(context.Background(), alert.Config{Calendar: cal, Now: func() time.Time { return now },
		TickerSilenceMin: 10 * time.Second}, src)
	if err != nil {
		t.Fatal(err)
	}
	var updates int
	eng.Listen(func(ev alert.Event) {
		if ev.Type == alert.EventUpdated {
			updates++
		}
	})
	eng.Listen(hooks.Notify)
	for _, silent := range []int{0, 312, 312, 400, 650, 650, 120, 3, 0} {
		now = now.Add(time.Second)
		src.snap = alert.GroupSnap(now, 1000, silent, 0)
		eng.Check(context.Background())
	}
	if updates != 4 { // 312 -> 400 -> 650 -> 120 -> 3
		t.Errorf("%d updated events, want 4 (one per count change)", updates)
	}
	testkit.WaitFor(t, 10*time.Second, "two webhook posts", func() bool { return len(recv.bodies()) >= 2 })
	time.Sleep(200 * time.Millisecond) // room for an extra post to show up
	var got []string
	for _, b := range recv.bodies() {
		got = append(got, string(b.Status)+" "+b.Alert.Key)
	}
	want := []string{"firing ticker_silent:connection_1:*", "resolved ticker_silent:connection_1:*"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("webhook posts %v, want %v", got, want)
	}
}
