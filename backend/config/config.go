// Package config turns the process environment into one typed, validated
// Config. Every invalid value is a start-up error that names the variable, the
// value and the accepted form: an operator reading the single log line must be
// able to fix the deployment without reading code.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v10"

	"github.com/tickwatch/tickwatch/backend/massive"
	redissink "github.com/tickwatch/tickwatch/backend/sink/redis"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// Config is the whole configuration of a Tickwatch process.
type Config struct {
	HTTPAddr  string `env:"HTTP_ADDR" envDefault:":8080" accept:"host:port, e.g. :8080 or 127.0.0.1:8080" help:"Address the HTTP server listens on."`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info" accept:"trace, debug, info, warn, error" help:"Minimum log level."`
	LogFormat string `env:"LOG_FORMAT" accept:"json or console" help:"Log format; default console on a terminal, json otherwise."`

	APIKey      string   `env:"MASSIVE_API_KEY" help:"Massive API key. Unset: demo mode on the built-in simulator." secret:"true"`
	UpstreamURL string   `env:"MASSIVE_WEBSOCKET_URL" envDefault:"wss://socket.massive.com/stocks" accept:"a ws:// or wss:// URL" help:"Upstream feed URL (delayed feed, a test server...)."`
	Simulator   string   `env:"MASSIVE_SIMULATOR" envDefault:"auto" accept:"auto, on, off" help:"Built-in simulator: auto = on when MASSIVE_API_KEY is unset."`
	Channels    []string `env:"MASSIVE_CHANNELS" envDefault:"A" accept:"comma list of T, Q, A, AM" help:"Event channels subscribed per ticker."`

	ReconnectDelay        time.Duration `env:"MASSIVE_WEBSOCKET_RECONNECT_DELAY" envDefault:"1s" accept:"a positive duration such as 500ms or 2s" help:"Initial reconnect backoff."`
	MaxReconnectDelay     time.Duration `env:"MASSIVE_WEBSOCKET_MAX_RECONNECT_DELAY" envDefault:"60s" accept:"a duration >= MASSIVE_WEBSOCKET_RECONNECT_DELAY" help:"Reconnect backoff cap."`
	MaxRetries            int           `env:"MASSIVE_WEBSOCKET_MAX_RETRIES" envDefault:"0" accept:"an integer >= 0 (0 = retry forever)" help:"Consecutive failed reconnects before giving up."`
	MaxConnectionsBackoff time.Duration `env:"MASSIVE_MAX_CONNECTIONS_BACKOFF" envDefault:"5m" accept:"a positive duration such as 5m" help:"Back-off after the provider answers max_connections."`

	MultiConnection Bool   `env:"USE_MULTI_CONNECTION" accept:"true/false, yes/no, y/n, 1/0" help:"Multi-connection mode (demo mode defaults to true)."`
	MaxConnections  int    `env:"WEBSOCKET_CONNECTIONS_MAX" envDefault:"3" accept:"an integer from 1 to 10" help:"Number of connection slots."`
	DefaultUniverse string `env:"SYMBOL_UNIVERSE_KEY" envDefault:"market_leaders:top_50" accept:"a universe name or a:b union" help:"Universe of connection 1 in single-connection mode when it has none of its own."`
	UniversesFile   string `env:"UNIVERSES_FILE" accept:"path to a JSON or YAML file" help:"Adds or overrides named universes."`
	TickBufferSize  int    `env:"TICK_BUFFER_SIZE" envDefault:"4096" accept:"an integer from 16 to 1048576" help:"Recent ticks kept per connection."`

	SimAddr           string `env:"SIM_ADDR" envDefault:"127.0.0.1:0" accept:"a loopback host:port such as 127.0.0.1:9090" help:"Listener of the built-in simulator (demo mode)."`
	SimTicksPerSecond int    `env:"SIM_TICKS_PER_SECOND" envDefault:"600" accept:"an integer from 1 to 1000000" help:"Simulated trades per second across all symbols."`
	SimSeed           int64  `env:"SIM_SEED" envDefault:"1" accept:"an integer" help:"Seed of the simulated market."`

	DashboardEnabled Bool          `env:"ADMIN_WEBSOCKET_DASHBOARD_ENABLED" envDefault:"true" accept:"true/false, yes/no, y/n, 1/0" help:"Rollback switch: false turns the dashboard, its API and /admin-ws off (404)."`
	AuthUsersFile    string        `env:"AUTH_USERS_FILE" accept:"path to a JSON or YAML list of {username, password_hash, role}" help:"Users with roles admin, viewer, user."`
	AdminUsername    string        `env:"ADMIN_USERNAME" envDefault:"admin" help:"Username of the admin defined by ADMIN_PASSWORD(_HASH)."`
	AdminPassword    string        `env:"ADMIN_PASSWORD" help:"Plain admin password (development only)." secret:"true"`
	AdminHash        string        `env:"ADMIN_PASSWORD_HASH" accept:"a bcrypt hash ($2a$/$2b$/$2y$)" help:"bcrypt hash of the admin password (tickwatch hash-password)." secret:"true"`
	SessionSecret    string        `env:"SESSION_SECRET" accept:"at least 32 characters" help:"Signs session cookies; generated when unset (sessions then do not survive a restart)." secret:"true"`
	SessionTTL       time.Duration `env:"SESSION_TTL" envDefault:"12h" accept:"a duration from 1m to 720h" help:"Session lifetime."`
	TrustedProxies   []string      `env:"TRUSTED_PROXIES" accept:"comma list of IPs or CIDRs" help:"Proxies whose X-Forwarded-For/Proto are honoured."`
	AllowedOrigins   []string      `env:"ALLOWED_ORIGINS" accept:"comma list of scheme://host[:port]" help:"Extra origins allowed for state-changing requests and /admin-ws."`
	MetricsToken     string        `env:"METRICS_TOKEN" help:"Bearer token required by /metrics when set." secret:"true"`

	AdminWSMaxSessions int `env:"ADMIN_WS_MAX_SESSIONS" envDefault:"200" accept:"an integer from 1 to 100000" help:"Dashboard WebSocket sessions (/admin-ws) served at once; beyond it a new one is closed with 1013."`
	AdminWSMaxPerUser  int `env:"ADMIN_WS_MAX_PER_USER" envDefault:"20" accept:"an integer from 1 to 100000" help:"Dashboard WebSocket sessions of one user at once; beyond it a new one is closed with 1013."`
	// Redis sink (docs/redis.md). REDIS_URL is secret-bearing: a rejected
	// value is shown with its password replaced (see validate), never whole.
	RedisURL           string `env:"REDIS_URL" accept:"redis://[user:password@]host[:port][/db] or rediss://... for TLS" help:"Publish every tick and status update to this Redis. Unset: no Redis." secret:"true"`
	RedisTickChannel   string `env:"REDIS_TICK_CHANNEL" envDefault:"tickwatch:ticks" accept:"a non-empty channel name" help:"Pub/sub channel for ticks (JSON arrays)."`
	RedisStatusChannel string `env:"REDIS_STATUS_CHANNEL" envDefault:"tickwatch:status" accept:"a non-empty channel name" help:"Pub/sub channel for status updates and health snapshots."`
	RedisTickStream    string `env:"REDIS_TICK_STREAM" accept:"a stream key" help:"Stream that also receives every tick message (XADD). Unset: no stream."`
	RedisTickStreamMax int64  `env:"REDIS_TICK_STREAM_MAXLEN" envDefault:"100000" accept:"an integer from 1 to 1000000000" help:"About how many ticks (not entries) the stream keeps."`
	RedisRequired      Bool   `env:"REDIS_REQUIRED" envDefault:"false" accept:"true/false, yes/no, y/n, 1/0" help:"true: /readyz fails while the Redis sink is not connected."`

	DataDir        string `env:"DATA_DIR" envDefault:"./tickwatch-data" accept:"a directory path tickwatch may create and write" help:"Where admin changes, the audit log and credentials are stored (tickwatch.db); created if missing."`
	AuditRetention Days   `env:"AUDIT_RETENTION" envDefault:"90d" accept:"a duration of at least 1h, in days (90d) or Go units (2160h)" help:"How long audit log entries are kept."`
	AlertRetention Days   `env:"ALERT_RETENTION" envDefault:"90d" accept:"a duration of at least 1h, in days (90d) or Go units (2160h)" help:"How long resolved alert incidents are kept in the store after they resolve (firing ones always are)."`

	FlushInterval   time.Duration `env:"LIVE_FLUSH_INTERVAL" envDefault:"100ms" accept:"a duration from 10ms to 5s" help:"How often coalesced ticks are pushed to browsers."`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"4s" accept:"a duration from 100ms to 60s" help:"Grace period for shutdown."`

	// Alerting (README "Alerts").
	MarketHours              string        `env:"MARKET_HOURS" envDefault:"regular" accept:"regular, extended, always" help:"When silence is an alert: US equities regular (09:30-16:00 New York) or extended (04:00-20:00) hours on NYSE trading days, or always."`
	ReadyWhen                string        `env:"READY_WHEN" envDefault:"started" accept:"started, any, all" help:"/readyz: started = every enabled connection was attempted once; any = and one is connected; all = and every enabled one is connected."`
	AlertCheckInterval       time.Duration `env:"ALERT_CHECK_INTERVAL" envDefault:"1s" accept:"a duration from 10ms to 1m" help:"How often the alert detectors run."`
	AlertSilence             time.Duration `env:"ALERT_SILENCE" envDefault:"15s" accept:"a duration from 100ms to 1h" help:"An enabled connection without a message this long (market open) is an alert."`
	AlertTickerSilenceMin    time.Duration `env:"ALERT_TICKER_SILENCE_MIN" envDefault:"2m" accept:"a duration from 100ms to 24h" help:"A ticker silent for ALERT_TICKER_SILENCE_FACTOR times its median gap, and at least this long, while its connection ticks, is an alert."`
	AlertTickerSilenceFactor float64       `env:"ALERT_TICKER_SILENCE_FACTOR" envDefault:"20" accept:"a number from 2 to 10000" help:"How many of its usual gaps a ticker may be silent."`
	AlertTickerNeverTicked   time.Duration `env:"ALERT_TICKER_NEVER_TICKED" envDefault:"15m" accept:"a duration from 100ms to 24h" help:"A subscribed and acknowledged ticker that has not delivered an event this long (from the acknowledgement, the link's connection or the market's opening), while its connection ticks, is an alert. Longer than ALERT_TICKER_SILENCE_MIN by default: an illiquid name may not trade for minutes after the opening."`
	AlertTickerSilenceGroup  int           `env:"ALERT_TICKER_SILENCE_GROUP" envDefault:"5" accept:"an integer from 1 to 100000" help:"More silent tickers of one connection than this at once are one ticker_silent incident for the connection, not one per ticker."`
	AlertDrift               time.Duration `env:"ALERT_DRIFT" envDefault:"10s" accept:"a duration from 100ms to 1h" help:"Acknowledged subscriptions may differ from the desired set this long."`
	AlertReconnects          int           `env:"ALERT_RECONNECTS" envDefault:"5" accept:"an integer from 1 to 100000" help:"More reconnects of one connection than this within ALERT_RECONNECT_WINDOW is a storm."`
	AlertReconnectWindow     time.Duration `env:"ALERT_RECONNECT_WINDOW" envDefault:"10m" accept:"a duration from 1s to 24h" help:"Window of the reconnect-storm count."`
	AlertDropWindow          time.Duration `env:"ALERT_DROP_WINDOW" envDefault:"1m" accept:"a duration from 1s to 1h" help:"Frames dropped (reader, browser queues, sinks) within this window are an alert."`
	AlertKeepResolved        time.Duration `env:"ALERT_KEEP_RESOLVED" envDefault:"1h" accept:"a duration from 1m to 720h" help:"How long resolved alerts stay listed by /api/admin/alerts (the store keeps them for ALERT_RETENTION)."`
	AlertWebhookURLs         []string      `env:"ALERT_WEBHOOK_URLS" accept:"comma list of http(s) URLs" help:"Each firing and resolved alert is POSTed as JSON (with a Slack/Mattermost text field) to these URLs." secret:"true"`

	HTTPMaxConns      int `env:"HTTP_MAX_CONNS" envDefault:"0" accept:"an integer from 0 to 1000000 (0 = the open-file limit minus a reserve)" help:"Connections served at once; beyond it a new one gets 503 and is closed."`
	HTTPMaxConnsPerIP int `env:"HTTP_MAX_CONNS_PER_IP" envDefault:"128" accept:"an integer from 0 to 1000000 (0 = no per-address cap)" help:"Connections from one client address at once; set 0 or raise it behind a proxy, whose address every request shares."`

	RelayEnabled       Bool   `env:"RELAY_ENABLED" accept:"true/false, yes/no, y/n, 1/0" help:"Serve Massive's WebSocket protocol to internal consumers at /stocks (docs/relay.md); default true in demo mode, false otherwise."`
	RelayAllowWildcard Bool   `env:"RELAY_ALLOW_WILDCARD" envDefault:"false" accept:"true/false, yes/no, y/n, 1/0" help:"Let relay consumers subscribe T.* and the like (the whole market upstream)."`
	RelayAddr          string `env:"RELAY_ADDR" accept:"host:port, e.g. :8081" help:"Separate listener for the relay; unset: the main listener (HTTP_ADDR) at /stocks."`

	// Connections has one entry per slot 1..MaxConnections, read from the
	// WEBSOCKET_CONNECTION_{n}_* variables (numbered names cannot be struct tags).
	Connections []Connection `env:"-"`
	// ConnectionsConfigured is true when any WEBSOCKET_CONNECTION_{n}_* variable is set.
	ConnectionsConfigured bool `env:"-"`
}

// Connection is one slot's configuration.
type Connection struct {
	ID          int
	Name        string
	Enabled     bool
	UniverseKey string
	Symbols     []string
}

// Bool accepts the original application's spellings: true/false, yes/no,
// y/n, 1/0, on/off, in any case.
type Bool bool

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Bool) UnmarshalText(text []byte) error {
	v, err := ParseBool(string(text))
	if err != nil {
		return err
	}
	*b = Bool(v)
	return nil
}

// ParseBool parses the accepted boolean spellings.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "on":
		return true, nil
	case "false", "no", "n", "0", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// Days is a duration that also accepts whole days ("90d"), the unit a
// retention period is thought of in; Go durations ("2160h") work too.
type Days time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Days) UnmarshalText(text []byte) error {
	v, err := ParseDays(string(text))
	if err != nil {
		return err
	}
	*d = Days(v)
	return nil
}

// ParseDays parses "90d" or a Go duration.
func ParseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, errors.New("not a number of days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Duration is d as a time.Duration.
func (d Days) Duration() time.Duration { return time.Duration(d) }

// Simulated reports whether connections go to the built-in simulator.
func (c *Config) Simulated() bool {
	return c.Simulator == "on" || (c.Simulator == "auto" && c.APIKey == "")
}

// Problem is one invalid variable.
type Problem struct {
	Var, Value, Reason, Accepted string
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s=%q: %s", p.Var, p.Value, p.Reason)
	if p.Accepted != "" {
		s += "; accepted: " + p.Accepted
	}
	return s
}

// Error lists every invalid variable, one per line.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "config: " + p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads the configuration from environ (as returned by os.Environ).
// isTerminal decides the default log format.
func Load(environ []string, isTerminal bool) (*Config, error) {
	vars := env.ToMap(environ)
	cfg := &Config{}
	var problems []Problem
	if err := env.ParseWithOptions(cfg, env.Options{Environment: vars}); err != nil {
		problems = append(problems, parseProblems(err, vars)...)
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = "json"
		if isTerminal {
			cfg.LogFormat = "console"
		}
	}
	problems = append(problems, cfg.validate(vars)...)
	if len(problems) == 0 {
		problems = append(problems, cfg.loadConnections(vars)...)
	}
	if len(problems) > 0 {
		// A value that failed to parse also fails validation as a zero
		// value; report each variable once, with the parse problem.
		problems = firstPerVar(problems)
		// Stable order so the operator sees the same message every run.
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Var < problems[j].Var })
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

// parseProblems converts caarlos0/env's errors (which name Go fields) into
// problems naming the environment variable and the accepted form.
func parseProblems(err error, vars map[string]string) []Problem {
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	var out []Problem
	for _, e := range errs {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, Problem{Var: "environment", Reason: e.Error()})
			continue
		}
		f, ok := reflect.TypeOf(Config{}).FieldByName(pe.Name)
		if !ok {
			out = append(out, Problem{Var: pe.Name, Reason: pe.Err.Error()})
			continue
		}
		name := f.Tag.Get("env")
		out = append(out, Problem{
			Var:      name,
			Value:    displayValue(f, vars[name]),
			Reason:   "invalid " + kindName(f.Type),
			Accepted: f.Tag.Get("accept"),
		})
	}
	return out
}

func kindName(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(time.Duration(0)):
		return "duration"
	case reflect.TypeOf(Bool(false)):
		return "boolean"
	case reflect.TypeOf(Days(0)):
		return "duration"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "integer"
	}
	return "value"
}

// displayValue masks secrets so a bad secret never reaches a log line.
func displayValue(f reflect.StructField, v string) string {
	if f.Tag.Get("secret") == "true" && v != "" {
		return "<redacted>"
	}
	return v
}

func (c *Config) problem(vars map[string]string, field, reason string) Problem {
	f, _ := reflect.TypeOf(*c).FieldByName(field)
	name := f.Tag.Get("env")
	return Problem{Var: name, Value: displayValue(f, vars[name]), Reason: reason, Accepted: f.Tag.Get("accept")}
}

func (c *Config) validate(vars map[string]string) []Problem {
	var ps []Problem
	bad := func(field, reason string) { ps = append(ps, c.problem(vars, field, reason)) }

	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || !validPort(port) {
		bad("HTTPAddr", "not a listen address")
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("LogLevel", "unknown log level")
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		bad("LogFormat", "unknown log format")
	}
	switch c.Simulator {
	case "auto", "on", "off":
	default:
		bad("Simulator", "unknown simulator mode")
	}
	if c.Simulator == "off" && c.APIKey == "" {
		ps = append(ps, Problem{Var: "MASSIVE_API_KEY", Reason: "is required when MASSIVE_SIMULATOR=off", Accepted: "your Massive API key, or MASSIVE_SIMULATOR=auto for demo mode"})
	}
	if !strings.HasPrefix(c.UpstreamURL, "ws://") && !strings.HasPrefix(c.UpstreamURL, "wss://") || len(c.UpstreamURL) <= len("wss://") {
		bad("UpstreamURL", "not a WebSocket URL")
	}
	if chs, err := massive.NormalizeChannels(c.Channels); err != nil {
		bad("Channels", err.Error())
	} else {
		c.Channels = chs
	}
	if c.ReconnectDelay <= 0 {
		bad("ReconnectDelay", "must be positive")
	}
	if c.MaxReconnectDelay < c.ReconnectDelay {
		bad("MaxReconnectDelay", "smaller than the initial delay")
	}
	if c.MaxRetries < 0 {
		bad("MaxRetries", "must not be negative")
	}
	if c.MaxConnectionsBackoff <= 0 {
		bad("MaxConnectionsBackoff", "must be positive")
	}
	if c.MaxConnections < 1 || c.MaxConnections > 10 {
		bad("MaxConnections", "out of range")
	}
	if c.TickBufferSize < 16 || c.TickBufferSize > 1<<20 {
		bad("TickBufferSize", "out of range")
	}
	if host, port, err := net.SplitHostPort(c.SimAddr); err != nil || !validPort(port) || !isLoopback(host) {
		bad("SimAddr", "not a loopback listen address")
	}
	if c.RelayAddr != "" {
		if _, port, err := net.SplitHostPort(c.RelayAddr); err != nil || !validPort(port) {
			bad("RelayAddr", "not a listen address")
		} else if c.RelayAddr == c.HTTPAddr {
			bad("RelayAddr", "is HTTP_ADDR; leave RELAY_ADDR unset to serve the relay on the main listener")
		}
	}
	if _, set := vars["RELAY_ENABLED"]; !set {
		// The demo shows the relay working out of the box; with a real key
		// it is opt-in, because it opens the account's feed to key holders.
		c.RelayEnabled = Bool(c.Simulated())
	}
	if c.SimTicksPerSecond < 1 || c.SimTicksPerSecond > 1_000_000 {
		bad("SimTicksPerSecond", "out of range")
	}
	if c.AdminHash != "" && !strings.HasPrefix(c.AdminHash, "$2a$") && !strings.HasPrefix(c.AdminHash, "$2b$") && !strings.HasPrefix(c.AdminHash, "$2y$") {
		bad("AdminHash", "not a bcrypt hash")
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		bad("SessionSecret", "too short")
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 720*time.Hour {
		bad("SessionTTL", "out of range")
	}
	for _, p := range c.TrustedProxies {
		p = strings.TrimSpace(p)
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("TrustedProxies", fmt.Sprintf("%q is neither an IP nor a CIDR", p))
			}
		}
	}
	for i, o := range c.AllowedOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		c.AllowedOrigins[i] = o
		if !(strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://")) || strings.Count(o, "/") != 2 {
			bad("AllowedOrigins", fmt.Sprintf("%q is not an origin", o))
		}
	}
	if c.RedisURL != "" {
		if _, err := redissink.CheckURL(c.RedisURL); err != nil {
			// The sink's error names what is wrong without the password;
			// the value is shown with the password replaced, not hidden
			// whole, so the operator can see a typo in the host.
			p := c.problem(vars, "RedisURL", err.Error())
			p.Value = redissink.RedactURL(c.RedisURL)
			ps = append(ps, p)
		}
	} else if bool(c.RedisRequired) {
		ps = append(ps, Problem{Var: "REDIS_REQUIRED", Value: vars["REDIS_REQUIRED"], Reason: "needs REDIS_URL", Accepted: "false, or set REDIS_URL"})
	}
	if strings.TrimSpace(c.RedisTickChannel) == "" {
		bad("RedisTickChannel", "empty")
	}
	if strings.TrimSpace(c.RedisStatusChannel) == "" {
		bad("RedisStatusChannel", "empty")
	}
	if c.RedisTickStreamMax < 1 || c.RedisTickStreamMax > 1_000_000_000 {
		bad("RedisTickStreamMax", "out of range")
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("DataDir", "empty")
	}
	// Retentions are pruned hourly; less than that would be a promise the
	// pruner cannot keep.
	for _, r := range []struct {
		field string
		v     Days
	}{{"AuditRetention", c.AuditRetention}, {"AlertRetention", c.AlertRetention}} {
		if r.v.Duration() < time.Hour {
			bad(r.field, "too short")
		}
	}
	if c.FlushInterval < 10*time.Millisecond || c.FlushInterval > 5*time.Second {
		bad("FlushInterval", "out of range")
	}
	if c.AdminWSMaxSessions < 1 || c.AdminWSMaxSessions > 100_000 {
		bad("AdminWSMaxSessions", "out of range")
	}
	if c.AdminWSMaxPerUser < 1 || c.AdminWSMaxPerUser > 100_000 {
		bad("AdminWSMaxPerUser", "out of range")
	}
	if c.ShutdownTimeout < 100*time.Millisecond || c.ShutdownTimeout > time.Minute {
		bad("ShutdownTimeout", "out of range")
	}
	ps = append(ps, c.validateAlerts(vars)...)
	if c.HTTPMaxConns < 0 || c.HTTPMaxConns > 1_000_000 {
		bad("HTTPMaxConns", "out of range")
	}
	if c.HTTPMaxConnsPerIP < 0 || c.HTTPMaxConnsPerIP > 1_000_000 {
		bad("HTTPMaxConnsPerIP", "out of range")
	}
	return ps
}

func (c *Config) validateAlerts(vars map[string]string) []Problem {
	var ps []Problem
	bad := func(field, reason string) { ps = append(ps, c.problem(vars, field, reason)) }
	switch c.MarketHours {
	case "regular", "extended", "always":
	default:
		bad("MarketHours", "unknown mode")
	}
	switch c.ReadyWhen {
	case "started", "any", "all":
	default:
		bad("ReadyWhen", "unknown mode")
	}
	for _, d := range []struct {
		field     string
		v, lo, hi time.Duration
	}{
		{"AlertCheckInterval", c.AlertCheckInterval, 10 * time.Millisecond, time.Minute},
		{"AlertSilence", c.AlertSilence, 100 * time.Millisecond, time.Hour},
		{"AlertTickerSilenceMin", c.AlertTickerSilenceMin, 100 * time.Millisecond, 24 * time.Hour},
		{"AlertTickerNeverTicked", c.AlertTickerNeverTicked, 100 * time.Millisecond, 24 * time.Hour},
		{"AlertDrift", c.AlertDrift, 100 * time.Millisecond, time.Hour},
		{"AlertReconnectWindow", c.AlertReconnectWindow, time.Second, 24 * time.Hour},
		{"AlertDropWindow", c.AlertDropWindow, time.Second, time.Hour},
		{"AlertKeepResolved", c.AlertKeepResolved, time.Minute, 720 * time.Hour},
	} {
		if d.v < d.lo || d.v > d.hi {
			bad(d.field, "out of range")
		}
	}
	if c.AlertTickerSilenceFactor < 2 || c.AlertTickerSilenceFactor > 10000 {
		bad("AlertTickerSilenceFactor", "out of range")
	}
	if c.AlertTickerSilenceGroup < 1 || c.AlertTickerSilenceGroup > 100000 {
		bad("AlertTickerSilenceGroup", "out of range")
	}
	if c.AlertReconnects < 1 || c.AlertReconnects > 100000 {
		bad("AlertReconnects", "out of range")
	}
	for i, raw := range c.AlertWebhookURLs {
		raw = strings.TrimSpace(raw)
		c.AlertWebhookURLs[i] = raw
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// A webhook URL carries its own secret: say which one, not what it is.
			bad("AlertWebhookURLs", fmt.Sprintf("URL %d is not an http(s) URL", i+1))
		}
	}
	return ps
}

func firstPerVar(ps []Problem) []Problem {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p.Var] {
			seen[p.Var] = true
			out = append(out, p)
		}
	}
	return out
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var defaultNames = []string{"primary", "secondary", "tertiary"}

// loadConnections reads WEBSOCKET_CONNECTION_{n}_* for every slot. Symbols
// are validated here so a typo is a start-up error naming the variable; the
// manager resolves universes later (it owns the registry).
func (c *Config) loadConnections(vars map[string]string) []Problem {
	var ps []Problem
	for n := 1; n <= c.MaxConnections; n++ {
		prefix := fmt.Sprintf("WEBSOCKET_CONNECTION_%d_", n)
		conn := Connection{ID: n, Name: massive.ConnID(n).String()}
		if n <= len(defaultNames) {
			conn.Name = defaultNames[n-1]
		}
		// Slot 1 is enabled unless told otherwise: single-connection mode
		// must show something without extra variables.
		conn.Enabled = n == 1
		for _, suffix := range []string{"ENABLED", "NAME", "UNIVERSE_KEY", "SYMBOLS"} {
			if _, ok := vars[prefix+suffix]; ok {
				c.ConnectionsConfigured = true
			}
		}
		if v, ok := vars[prefix+"ENABLED"]; ok {
			b, err := ParseBool(v)
			if err != nil {
				ps = append(ps, Problem{Var: prefix + "ENABLED", Value: v, Reason: "invalid boolean", Accepted: "true/false, yes/no, y/n, 1/0"})
			}
			conn.Enabled = b
		}
		if v := strings.TrimSpace(vars[prefix+"NAME"]); v != "" {
			if len(v) > 64 {
				ps = append(ps, Problem{Var: prefix + "NAME", Value: v, Reason: "too long", Accepted: "at most 64 characters"})
			}
			conn.Name = v
		}
		conn.UniverseKey = strings.TrimSpace(vars[prefix+"UNIVERSE_KEY"])
		if v := vars[prefix+"SYMBOLS"]; strings.TrimSpace(v) != "" {
			syms, err := universe.ParseSymbols(v)
			if err != nil {
				ps = append(ps, Problem{Var: prefix + "SYMBOLS", Value: v, Reason: err.Error(), Accepted: "a comma list of symbols"})
			}
			conn.Symbols = syms
		}
		c.Connections = append(c.Connections, conn)
	}
	for k := range vars {
		if n, ok := slotNumber(k); ok && n > c.MaxConnections {
			ps = append(ps, Problem{Var: k, Value: vars[k], Reason: fmt.Sprintf("slot %d is above WEBSOCKET_CONNECTIONS_MAX=%d", n, c.MaxConnections), Accepted: "slots 1..WEBSOCKET_CONNECTIONS_MAX"})
		}
	}
	if !c.ConnectionsConfigured && c.Simulated() {
		// Demo mode: three live columns out of the box.
		if _, set := vars["USE_MULTI_CONNECTION"]; !set {
			c.MultiConnection = true
		}
		for i := range c.Connections {
			c.Connections[i].Enabled = i < 3
		}
	}
	return ps
}

func slotNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "WEBSOCKET_CONNECTION_")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil
}
