package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// WebhookBody is the JSON each webhook URL receives per transition. "text"
// makes it a valid Slack or Mattermost incoming-webhook message on its own;
// the other fields are for machines.
type WebhookBody struct {
	Text   string `json:"text"`
	Status State  `json:"status"` // firing | resolved
	Alert  Alert  `json:"alert"`
}

// WebhookConfig configures Webhooks. Zero values take the defaults.
type WebhookConfig struct {
	URLs        []string
	Client      *http.Client  // default: 10 s timeout
	QueueSize   int           // messages waiting per URL [64]
	MaxAttempts int           // per message [6]
	Backoff     time.Duration // first retry delay, doubled each time, jittered [1s]
	MaxBackoff  time.Duration // [1m]
	Logger      zerolog.Logger
}

// Webhooks posts firing and resolved transitions to every URL. Each URL
// has its own bounded queue and goroutine, so a slow or failing receiver
// delays nobody: Notify never blocks, and a full queue drops (logged).
type Webhooks struct {
	cfg     WebhookConfig
	targets []*target

	mu   sync.Mutex
	sent map[int64]State // incident id -> last state queued: one firing, one resolved
}

type target struct {
	url  string
	host string // for logs: a Slack URL's path is its secret
	q    chan WebhookBody
}

// NewWebhooks checks the URLs; nothing is sent until Run.
func NewWebhooks(cfg WebhookConfig) (*Webhooks, error) {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 64
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	w := &Webhooks{cfg: cfg, sent: map[int64]State{}}
	for i, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL itself may hold a token: name its position, not it.
			return nil, fmt.Errorf("webhook URL %d: not an http(s) URL", i+1)
		}
		w.targets = append(w.targets, &target{url: raw, host: u.Host, q: make(chan WebhookBody, cfg.QueueSize)})
	}
	return w, nil
}

// Notify queues ev for every URL if it is a transition not sent before.
// It never blocks.
func (w *Webhooks) Notify(ev Event) {
	if ev.Type != EventFiring && ev.Type != EventResolved {
		return
	}
	a := ev.Alert
	w.mu.Lock()
	prev, seen := w.sent[a.ID]
	dup := seen && prev == a.State
	if !dup {
		if a.State == Resolved {
			delete(w.sent, a.ID) // the incident is over: nothing more to dedupe
		} else {
			w.sent[a.ID] = a.State
		}
	}
	w.mu.Unlock()
	if dup {
		return
	}
	body := WebhookBody{Text: a.Text(), Status: a.State, Alert: a}
	for _, t := range w.targets {
		select {
		case t.q <- body:
		default:
			w.cfg.Logger.Warn().Str("webhook", t.host).Int64("alert_id", a.ID).Msg("webhook queue full: alert message dropped")
		}
	}
}

// Run delivers until ctx is done; it returns when every sender stopped.
// Messages still queued then are dropped.
func (w *Webhooks) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range w.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case b := <-t.q:
					w.deliver(ctx, t, b)
				}
			}
		}()
	}
	wg.Wait()
}

// deliver posts b, retrying failures (network errors, 429, 5xx) with
// capped, jittered exponential backoff. A 4xx other than 429 will not get
// better by retrying.
func (w *Webhooks) deliver(ctx context.Context, t *target, b WebhookBody) {
	data, err := json.Marshal(b)
	if err != nil {
		w.cfg.Logger.Error().Err(err).Msg("webhook: encode")
		return
	}
	delay := w.cfg.Backoff
	for attempt := 1; ; attempt++ {
		code, err := w.post(ctx, t, data)
		if err == nil && code < 300 {
			return
		}
		retry := err != nil || code == http.StatusTooManyRequests || code >= 500
		l := w.cfg.Logger.Warn().Str("webhook", t.host).Int64("alert_id", b.Alert.ID).Int("attempt", attempt)
		if err != nil {
			l = l.Str("error", redactURL(err.Error(), t.url))
		} else {
			l = l.Int("status", code)
		}
		if !retry || attempt >= w.cfg.MaxAttempts {
			l.Msg("webhook delivery failed; giving up on this message")
			return
		}
		l.Msg("webhook delivery failed; will retry")
		timer := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		delay = min(delay*2, w.cfg.MaxBackoff)
	}
}

func (w *Webhooks) post(ctx context.Context, t *target, data []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tickwatch-alerts")
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// redactURL keeps a webhook URL (whose path is often its only secret) out
// of an error message (url.Error quotes it).
func redactURL(msg, u string) string {
	return string(bytes.ReplaceAll([]byte(msg), []byte(u), []byte("<webhook URL>")))
}
