package relay

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// Consumer is what a consumer key grants. The key itself is not part of it:
// the Hub never keeps, logs or returns a key.
type Consumer struct {
	ID        string   // the key's stable id; MaxConns counts per ID
	Name      string   // shown in logs and stats
	KeyPrefix string   // the key's display prefix (never the key)
	AllowList []string // tickers the key may subscribe; empty: any
	MaxConns  int      // simultaneous connections with this key; 0: no cap
}

// ErrUnknownKey is what Keys.Lookup wraps for a key that does not exist or
// was revoked: the consumer gets auth_failed and the failure counts toward
// its address's limit. Other errors also refuse the consumer but are logged
// as the server's fault and not counted against the address.
var ErrUnknownKey = errors.New("relay: unknown or revoked consumer key")

// Keys looks up consumer keys (the store, through an adapter in app).
type Keys interface {
	Lookup(ctx context.Context, key string) (Consumer, error)
}

// Upstream is the side that holds the upstream connections (the manager,
// through an adapter in app). Acquire is called with the pairs that get
// their first consumer and Release with those whose last consumer left;
// each pair is acquired at most once at a time. A consumer's whole
// subscribe or unsubscribe message, and its disconnect, is ONE call with
// every pair it changes, so the upstream side can take its locks and send
// its frames once per message rather than once per pair (a 30,000-pair
// subscribe pair by pair stalled the manager for seconds). Acquire
// answers one error per pair, in order, nil for a pair now carried.
// Ticker may be massive.Wildcard when Options.AllowWildcard is set. A pair
// that upstream already carries for its own configuration must stay
// subscribed on Release. Both are called with the Hub's subscription lock
// held, so they must not call back into the Hub, and should not block on
// the network.
type Upstream interface {
	Acquire(pairs []massive.Sub) []error
	Release(pairs []massive.Sub)
}

// Options configure a Hub. Zero values take the documented defaults.
type Options struct {
	Keys     Keys     // required
	Upstream Upstream // required
	// AllowWildcard lets consumers subscribe "T.*" (RELAY_ALLOW_WILDCARD);
	// refused by default because it subscribes the whole market upstream.
	AllowWildcard bool
	// QueueSize is how many frames may wait for one consumer (256); one
	// more and the consumer is cut off as a slow consumer.
	QueueSize int
	// AuthTimeout closes a connection that has not authenticated (10 s).
	AuthTimeout time.Duration
	// WriteTimeout bounds one write; a consumer blocked that long is slow (10 s).
	WriteTimeout time.Duration
	// PingInterval is the ping period (30 s); a consumer silent for twice
	// that is dropped.
	PingInterval time.Duration
	// AuthFailures limits failed auths per (remote address, presented key
	// identity) (10 per minute), and AuthFailuresPerAddr per remote address
	// whatever the key (100 per minute); see keyIdentity. Keyed as the
	// dashboard's login guard is (per address and per (address, username)):
	// a program retrying a typo'd or revoked key locks out only that key
	// from its host, never the valid keys of the other programs there, while
	// an address trying many different keys is stopped by the looser
	// per-address limit. Consumer keys are 256 random bits, so the limits
	// are not what keeps a key safe from guessing; they keep a guessing (or
	// misconfigured) host from costing a store lookup per attempt.
	AuthFailures        *auth.Limiter
	AuthFailuresPerAddr *auth.Limiter
	Logger              zerolog.Logger
	// OnChange, when set, is told when a connection authenticates and when
	// an authenticated one ends (ConsumerChange), on that connection's
	// goroutine: it must return quickly and must not call back into the Hub.
	OnChange func(ConsumerChange)
}

const (
	defaultQueueSize    = 256
	defaultAuthTimeout  = 10 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultPingInterval = 30 * time.Second
	defaultAuthFailures = 10
	// defaultAuthFailuresPerAddr is ten times the per-key limit: room for
	// a host running several programs that each retry a stale key, still
	// a hard stop for one cycling through guesses.
	defaultAuthFailuresPerAddr = 100
	// keyIdentityLen is how much of a presented key identifies it to the
	// per-key limit: the display prefix the store gives consumer keys
	// ("twk_" and 8 characters), which the admin pages and logs show, so
	// the limiter never holds more of a key than is public anyway.
	keyIdentityLen = 12
	lookupTimeout  = 5 * time.Second
	closeGrace     = time.Second
	// readLimit bounds a client message; a long subscribe list fits easily.
	readLimit = 1 << 20
	// maxFrameBytes keeps every frame well under the 1,000,000-byte read
	// limit of the official Go client, as the simulator does.
	maxFrameBytes = 512 << 10
)

func (o *Options) applyDefaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueueSize
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = defaultAuthTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = defaultWriteTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = defaultPingInterval
	}
	if o.AuthFailures == nil {
		o.AuthFailures = auth.NewLimiter(defaultAuthFailures, time.Minute, nil)
	}
	if o.AuthFailuresPerAddr == nil {
		o.AuthFailuresPerAddr = auth.NewLimiter(defaultAuthFailuresPerAddr, time.Minute, nil)
	}
}

// route is one (kind, symbol) events are delivered for.
type route struct {
	kind massive.Kind
	sym  string
}

// Hub is the relay: every consumer connection, the routing table and the
// subscription counts. Build it with New, serve connections with Serve, feed
// it with Ticks, and Close it on shutdown.
type Hub struct {
	opts Options
	log  zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	serves sync.WaitGroup // Serve calls in progress

	subMu sync.Mutex // guards refs and each consumer's subs; held across Upstream calls
	refs  map[massive.Sub]int

	mu        sync.RWMutex // guards everything below; Ticks reads
	closed    bool
	nextID    uint64
	consumers map[uint64]*consumer
	perKey    map[string]int // authenticated connections per Consumer.ID
	routes    map[route]*audience
	wild      [massive.KindMinuteAgg + 1]*audience

	tickMu sync.Mutex // guards the scratch below: Ticks may be called from several connections
	fan    fanout

	connsTotal, slowCuts, authFailures, maxConnRefusals, eventsIn, eventsOut atomic.Uint64
}

// New builds a Hub. A nil Keys refuses every key and a nil Upstream every
// subscription: a wiring mistake shows as refusals, never a crash.
func New(opts Options) *Hub {
	opts.applyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		opts:      opts,
		log:       opts.Logger.With().Str("component", "relay").Logger(),
		ctx:       ctx,
		cancel:    cancel,
		refs:      make(map[massive.Sub]int),
		consumers: make(map[uint64]*consumer),
		perKey:    make(map[string]int),
		routes:    make(map[route]*audience),
	}
	for k := range h.wild {
		h.wild[k] = newAudience()
	}
	h.fan.sets = make(map[string]int)
	return h
}

// Close disconnects every consumer with a going-away close and waits until
// every Serve call has returned. Later connections are refused.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	all := make([]*consumer, 0, len(h.consumers))
	for _, c := range h.consumers {
		all = append(all, c)
	}
	h.mu.Unlock()
	for _, c := range all {
		c.ws.Stop(closeGoingAway, "server shutting down")
	}
	h.cancel()
	h.serves.Wait()
}

// register adds a new connection, or reports false when the Hub is closed.
func (h *Hub) register(c *consumer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.nextID++
	c.id = h.nextID
	h.consumers[c.id] = c
	h.serves.Add(1)
	h.connsTotal.Add(1)
	return true
}

// unregister removes a finished connection: its routes, its key's
// connection count and its share of the subscription counts.
func (h *Hub) unregister(c *consumer) {
	h.subMu.Lock()
	subs := make([]massive.Sub, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	h.dropSubsLocked(c, subs)
	h.mu.Lock()
	delete(h.consumers, c.id)
	if c.authed.Load() {
		if h.perKey[c.who.ID]--; h.perKey[c.who.ID] <= 0 {
			delete(h.perKey, c.who.ID)
		}
	}
	h.mu.Unlock()
	h.subMu.Unlock()
	h.serves.Done()
}

// admit counts an authenticated connection against its key's cap.
func (h *Hub) admit(who Consumer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if who.MaxConns > 0 && h.perKey[who.ID] >= who.MaxConns {
		return false
	}
	h.perKey[who.ID]++
	return true
}

// refusal says why c may not subscribe s, or "" when it may.
func (h *Hub) refusal(c *consumer, s massive.Sub) string {
	if _, ok := massive.ChannelKind(s.Channel); !ok {
		return "channel " + s.Channel + " is not relayed (relayed: " + massive.ChannelForm + "): " + s.String()
	}
	if s.Ticker == massive.Wildcard {
		if !h.opts.AllowWildcard {
			return "wildcard subscriptions are not allowed on this relay: " + s.String()
		}
		if len(c.who.AllowList) > 0 {
			return "wildcard not allowed for this key (it has a ticker allow-list): " + s.String()
		}
		return ""
	}
	if len(c.who.AllowList) > 0 && !slices.Contains(c.who.AllowList, s.Ticker) {
		return "ticker " + s.Ticker + " is not allowed for this key: " + s.String()
	}
	return ""
}

// subscribe applies one subscribe or unsubscribe message for c and queues
// its statuses, one per entry. The pairs that need upstream are acquired
// (or released) in one Upstream call for the whole message.
func (h *Hub) subscribe(c *consumer, add bool, params string) {
	subs, bad := massive.ParseParams(params)
	statuses := make([][2]string, 0, len(subs)+len(bad))
	h.subMu.Lock()
	var changed []massive.Sub
	if add {
		// First pass: what the message asks upstream for, each new pair
		// once. Second pass, in entry order: statuses and counts.
		refused := make([]string, len(subs))
		var need []massive.Sub
		seen := make(map[massive.Sub]struct{})
		for i, s := range subs {
			if refused[i] = h.refusal(c, s); refused[i] != "" {
				continue
			}
			if _, dup := c.subs[s]; dup {
				continue
			}
			if _, dup := seen[s]; dup {
				continue
			}
			seen[s] = struct{}{}
			if h.refs[s] == 0 {
				need = append(need, s)
			}
		}
		failed := h.acquireLocked(c, need)
		for i, s := range subs {
			if refused[i] != "" {
				statuses = append(statuses, [2]string{massive.StatusError, refused[i]})
				continue
			}
			if err, ok := failed[s]; ok {
				statuses = append(statuses, [2]string{massive.StatusError, "upstream cannot carry " + s.String() + ": " + err.Error()})
				continue
			}
			if _, dup := c.subs[s]; !dup {
				c.subs[s] = struct{}{}
				h.refs[s]++
				changed = append(changed, s)
			}
			statuses = append(statuses, [2]string{massive.StatusSuccess, massive.AckSubscribed + s.String()})
		}
	} else {
		var gone []massive.Sub
		for _, s := range subs {
			if _, ok := c.subs[s]; ok {
				gone = append(gone, s)
			}
			statuses = append(statuses, [2]string{massive.StatusSuccess, massive.AckUnsubscribed + s.String()})
		}
		h.dropSubsLocked(c, gone)
	}
	c.nsubs.Store(int64(len(c.subs)))
	for _, b := range bad {
		statuses = append(statuses, [2]string{massive.StatusError, "invalid subscription: " + massive.ClipEcho(b)})
	}
	// Routes change and acks are queued under h.mu, which Ticks holds while
	// it queues data: a consumer never gets data for a subscription before
	// its ack.
	h.mu.Lock()
	for _, s := range changed {
		h.routeLocked(c, s, true)
	}
	for len(statuses) > 0 {
		n := min(len(statuses), 4096) // keeps an ack frame far below 1 MB
		c.enqueue(outItem{data: statusFrame(statuses[:n]...)})
		statuses = statuses[n:]
	}
	h.mu.Unlock()
	h.subMu.Unlock()
}

// acquireLocked acquires upstream, in one call, the pairs that get their
// first consumer, and returns the ones refused with why. The caller counts
// the references of the others. h.subMu is held.
func (h *Hub) acquireLocked(c *consumer, need []massive.Sub) map[massive.Sub]error {
	failed := make(map[massive.Sub]error)
	if len(need) == 0 {
		return failed
	}
	if h.opts.Upstream == nil {
		for _, s := range need {
			failed[s] = errors.New("no upstream")
		}
		return failed
	}
	errs := h.opts.Upstream.Acquire(need)
	var first massive.Sub
	for i, s := range need {
		var err error
		if i < len(errs) {
			err = errs[i]
		} else {
			err = errors.New("upstream gave no answer") // a broken Upstream, not a crash
		}
		if err != nil {
			failed[s] = err
			if len(failed) == 1 {
				first = s
			}
		}
	}
	if len(failed) > 0 {
		// One line per message, naming the first: a big refused subscribe
		// (no enabled connection) must not write thousands of lines.
		h.log.Warn().Err(failed[first]).Str("consumer", c.who.Name).Str("subscription", first.String()).
			Int("refused", len(failed)).Msg("relay: upstream refused subscriptions")
	}
	return failed
}

// dropSubsLocked removes subs from c: routes, counts, and one upstream
// release of the pairs no consumer wants any more.
func (h *Hub) dropSubsLocked(c *consumer, subs []massive.Sub) {
	if len(subs) == 0 {
		return
	}
	h.mu.Lock()
	for _, s := range subs {
		h.routeLocked(c, s, false)
	}
	h.mu.Unlock()
	var release []massive.Sub
	for _, s := range subs {
		delete(c.subs, s)
		if h.refs[s]--; h.refs[s] <= 0 {
			delete(h.refs, s)
			release = append(release, s)
		}
	}
	if len(release) > 0 && h.opts.Upstream != nil {
		h.opts.Upstream.Release(release)
	}
	c.nsubs.Store(int64(len(c.subs)))
}

// routeLocked adds or removes c as a receiver of s. h.mu is held.
func (h *Hub) routeLocked(c *consumer, s massive.Sub, add bool) {
	k, _ := massive.ChannelKind(s.Channel)
	if s.Ticker == massive.Wildcard {
		if add {
			h.wild[k].add(c)
		} else {
			h.wild[k].remove(c)
		}
		return
	}
	r := route{kind: k, sym: s.Ticker}
	set := h.routes[r]
	if add {
		if set == nil {
			set = newAudience()
			h.routes[r] = set
		}
		set.add(c)
		return
	}
	if set != nil {
		set.remove(c)
		if len(set.list) == 0 {
			delete(h.routes, r)
		}
	}
}

// audience is the consumers of one route: a set kept as a slice too,
// because Ticks walks it for every event it routes and walking a slice
// costs a fraction of walking a map (map iteration was a third of Ticks'
// time with 100 consumers). Changes are rare: subscribe and unsubscribe.
type audience struct {
	list []*consumer
	at   map[*consumer]int // index in list
}

func newAudience() *audience { return &audience{at: make(map[*consumer]int)} }

func (a *audience) has(c *consumer) bool {
	_, ok := a.at[c]
	return ok
}

func (a *audience) add(c *consumer) {
	if !a.has(c) {
		a.at[c] = len(a.list)
		a.list = append(a.list, c)
	}
}

func (a *audience) remove(c *consumer) {
	i, ok := a.at[c]
	if !ok {
		return
	}
	last := len(a.list) - 1
	a.list[i] = a.list[last]
	a.at[a.list[i]] = i
	a.list[last] = nil
	a.list = a.list[:last]
	delete(a.at, c)
}

// Disconnect ends consumer connection id with force_disconnect (an admin
// action). It reports whether the connection existed.
func (h *Hub) Disconnect(id uint64) bool {
	h.mu.RLock()
	c := h.consumers[id]
	h.mu.RUnlock()
	if c == nil {
		return false
	}
	c.condemn(massive.StatusForceDisconnect, "")
	return true
}

// DisconnectKey ends every connection authenticated with the consumer key
// whose ID is keyID (its key was revoked), and returns how many there were.
func (h *Hub) DisconnectKey(keyID string) int {
	h.mu.RLock()
	var victims []*consumer
	for _, c := range h.consumers {
		if c.authed.Load() && c.who.ID == keyID {
			victims = append(victims, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range victims {
		c.condemn(massive.StatusForceDisconnect, revokedMessage)
	}
	return len(victims)
}

// Upstream statuses: Tickwatch's own additions to the protocol's status
// vocabulary, sent when an upstream connection carrying a consumer's
// subscriptions drops and when it is back. The consumer stays connected
// and keeps its subscriptions either way; clients that do not know these
// statuses log or ignore them (the official clients do one or the other).
const (
	StatusUpstreamLost     = "upstream_lost"
	StatusUpstreamRestored = "upstream_restored"
)

// Notify queues the status (status, message) for every authenticated
// consumer subscribed to at least one pair that match accepts, and returns
// how many it told. match is called with the Hub's subscription lock held,
// so it must not call back into the Hub.
func (h *Hub) Notify(match func(massive.Sub) bool, status, message string) int {
	h.subMu.Lock()
	var told []*consumer
	h.mu.RLock()
	for _, c := range h.consumers {
		if !c.authed.Load() {
			continue
		}
		for s := range c.subs {
			if match(s) {
				told = append(told, c)
				break
			}
		}
	}
	h.mu.RUnlock()
	for _, c := range told {
		c.status(status, message)
	}
	h.subMu.Unlock()
	return len(told)
}

// ConsumerStats describes one consumer connection.
type ConsumerStats struct {
	ID            uint64    `json:"id"`
	Name          string    `json:"name"`       // the key's name; "" before auth
	KeyPrefix     string    `json:"key_prefix"` // never the key
	KeyID         string    `json:"key_id"`     // Consumer.ID; "" before auth
	Remote        string    `json:"remote"`
	Since         time.Time `json:"since"`
	Authenticated bool      `json:"authenticated"`
	Subscriptions int       `json:"subscriptions"`
	QueueDepth    int       `json:"queue_depth"` // frames waiting
	Sent          uint64    `json:"sent"`        // events written
	Dropped       uint64    `json:"dropped"`     // events discarded when it was cut off as slow
	Slow          bool      `json:"slow"`        // being cut off as a slow consumer
}

// SubscriptionCount is how many consumers subscribe one (channel, ticker).
type SubscriptionCount struct {
	Channel   string `json:"channel"`
	Ticker    string `json:"ticker"`
	Consumers int    `json:"consumers"`
}

// Stats is a snapshot of the Hub for the dashboard and /metrics.
type Stats struct {
	Consumers        []ConsumerStats     `json:"consumers"` // by id
	Subscriptions    []SubscriptionCount `json:"subscriptions"`
	ConnectionsTotal uint64              `json:"connections_total"`
	SlowDisconnects  uint64              `json:"slow_disconnects"`
	AuthFailures     uint64              `json:"auth_failures"`
	MaxConnRefusals  uint64              `json:"max_conn_refusals"`
	EventsIn         uint64              `json:"events_in"`
	EventsOut        uint64              `json:"events_out"` // events written to consumers, all connections ever
}

// Stats returns a snapshot.
func (h *Hub) Stats() Stats {
	st := Stats{
		ConnectionsTotal: h.connsTotal.Load(),
		SlowDisconnects:  h.slowCuts.Load(),
		AuthFailures:     h.authFailures.Load(),
		MaxConnRefusals:  h.maxConnRefusals.Load(),
		EventsIn:         h.eventsIn.Load(),
		EventsOut:        h.eventsOut.Load(),
	}
	h.subMu.Lock()
	for s, n := range h.refs {
		st.Subscriptions = append(st.Subscriptions, SubscriptionCount{Channel: s.Channel, Ticker: s.Ticker, Consumers: n})
	}
	h.subMu.Unlock()
	slices.SortFunc(st.Subscriptions, func(a, b SubscriptionCount) int {
		return strings.Compare(a.Channel+"."+a.Ticker, b.Channel+"."+b.Ticker)
	})
	h.mu.RLock()
	for _, c := range h.consumers {
		st.Consumers = append(st.Consumers, c.stats())
	}
	h.mu.RUnlock()
	slices.SortFunc(st.Consumers, func(a, b ConsumerStats) int { return cmp.Compare(a.ID, b.ID) })
	return st
}
