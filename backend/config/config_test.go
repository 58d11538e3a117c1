package config

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
)

func load(t *testing.T, kv ...string) (*Config, error) {
	t.Helper()
	return Load(kv, false)
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.LogLevel != "info" || cfg.LogFormat != "json" || cfg.MaxConnections != 3 ||
		cfg.ReconnectDelay != time.Second || cfg.MaxReconnectDelay != time.Minute || cfg.MaxConnectionsBackoff != 5*time.Minute ||
		cfg.TickBufferSize != 4096 || cfg.FlushInterval != 100*time.Millisecond || !bool(cfg.DashboardEnabled) ||
		cfg.DefaultUniverse != "market_leaders:top_50" || strings.Join(cfg.Channels, ",") != "A" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if !cfg.Simulated() {
		t.Fatal("no API key must mean demo mode")
	}
	// Demo mode with no connection variables: three enabled slots, multi mode.
	if !bool(cfg.MultiConnection) || len(cfg.Connections) != 3 {
		t.Fatalf("demo: multi=%v conns=%d", cfg.MultiConnection, len(cfg.Connections))
	}
	for i, c := range cfg.Connections {
		if !c.Enabled || c.ID != i+1 || c.Name != []string{"primary", "secondary", "tertiary"}[i] {
			t.Fatalf("demo slot %d: %+v", i+1, c)
		}
	}
	if Load(nil, true); true {
		c2, _ := Load(nil, true)
		if c2.LogFormat != "console" {
			t.Fatalf("terminal default format = %q", c2.LogFormat)
		}
	}
}

// TestStoreSettings: DATA_DIR, AUDIT_RETENTION and ALERT_RETENTION defaults
// and spellings.
func TestStoreSettings(t *testing.T) {
	cfg, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "./tickwatch-data" || cfg.AuditRetention.Duration() != 90*24*time.Hour || cfg.AlertRetention.Duration() != 90*24*time.Hour {
		t.Errorf("defaults: DATA_DIR=%q AUDIT_RETENTION=%s ALERT_RETENTION=%s", cfg.DataDir, cfg.AuditRetention.Duration(), cfg.AlertRetention.Duration())
	}
	for _, v := range []struct {
		name string
		get  func(*Config) Days
	}{
		{"AUDIT_RETENTION", func(c *Config) Days { return c.AuditRetention }},
		{"ALERT_RETENTION", func(c *Config) Days { return c.AlertRetention }},
	} {
		for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2160h": 2160 * time.Hour, " 1d ": 24 * time.Hour, "1h30m": 90 * time.Minute, "1h": time.Hour} {
			cfg, err := load(t, v.name+"="+in, "DATA_DIR=/data")
			if err != nil {
				t.Errorf("%s=%q: %v", v.name, in, err)
				continue
			}
			if v.get(cfg).Duration() != want || cfg.DataDir != "/data" {
				t.Errorf("%s=%q parsed as %s", v.name, in, v.get(cfg).Duration())
			}
		}
	}
	// Each variable sets its own field only.
	cfg, err = load(t, "AUDIT_RETENTION=7d", "ALERT_RETENTION=400d")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditRetention.Duration() != 7*24*time.Hour || cfg.AlertRetention.Duration() != 400*24*time.Hour {
		t.Errorf("AUDIT_RETENTION=7d ALERT_RETENTION=400d parsed as %s, %s", cfg.AuditRetention.Duration(), cfg.AlertRetention.Duration())
	}
}

func TestBoolSpellings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{{"true", true}, {"TRUE", true}, {"Yes", true}, {"y", true}, {"1", true}, {"on", true},
		{"false", false}, {"No", false}, {"N", false}, {"0", false}, {"OFF", false}} {
		cfg, err := load(t, "MASSIVE_API_KEY=k", "USE_MULTI_CONNECTION="+tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if bool(cfg.MultiConnection) != tc.want {
			t.Errorf("%q parsed as %v", tc.in, cfg.MultiConnection)
		}
	}
}

// TestInvalid checks that each validated variable fails with one line naming
// the variable, the value and the accepted form.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		env      string
		contains string
	}{
		{"HTTP_ADDR=nonsense", `HTTP_ADDR="nonsense": not a listen address; accepted: host:port`},
		{"HTTP_ADDR=:99999", `HTTP_ADDR=":99999"`},
		{"LOG_LEVEL=loud", `LOG_LEVEL="loud": unknown log level; accepted: trace, debug, info, warn, error`},
		{"LOG_FORMAT=xml", `LOG_FORMAT="xml": unknown log format; accepted: json or console`},
		{"MASSIVE_SIMULATOR=maybe", `MASSIVE_SIMULATOR="maybe": unknown simulator mode; accepted: auto, on, off`},
		{"MASSIVE_SIMULATOR=off", `MASSIVE_API_KEY="": is required when MASSIVE_SIMULATOR=off`},
		{"MASSIVE_WEBSOCKET_URL=http://x", `MASSIVE_WEBSOCKET_URL="http://x": not a WebSocket URL`},
		{"MASSIVE_CHANNELS=T,X", `MASSIVE_CHANNELS="T,X": unknown channel "X"; accepted: comma list of T, Q, A, AM`},
		{"MASSIVE_WEBSOCKET_RECONNECT_DELAY=soon", `MASSIVE_WEBSOCKET_RECONNECT_DELAY="soon": invalid duration; accepted: a positive duration`},
		{"MASSIVE_WEBSOCKET_RECONNECT_DELAY=-1s", `MASSIVE_WEBSOCKET_RECONNECT_DELAY="-1s": must be positive`},
		{"MASSIVE_WEBSOCKET_MAX_RECONNECT_DELAY=10ms", `MASSIVE_WEBSOCKET_MAX_RECONNECT_DELAY="10ms": smaller than the initial delay`},
		{"MASSIVE_WEBSOCKET_MAX_RETRIES=-2", `MASSIVE_WEBSOCKET_MAX_RETRIES="-2": must not be negative`},
		{"MASSIVE_WEBSOCKET_MAX_RETRIES=many", `MASSIVE_WEBSOCKET_MAX_RETRIES="many": invalid integer; accepted: an integer >= 0`},
		{"MASSIVE_MAX_CONNECTIONS_BACKOFF=0s", `MASSIVE_MAX_CONNECTIONS_BACKOFF="0s": must be positive`},
		{"USE_MULTI_CONNECTION=perhaps", `USE_MULTI_CONNECTION="perhaps": invalid boolean; accepted: true/false, yes/no, y/n, 1/0`},
		{"WEBSOCKET_CONNECTIONS_MAX=11", `WEBSOCKET_CONNECTIONS_MAX="11": out of range; accepted: an integer from 1 to 10`},
		{"WEBSOCKET_CONNECTIONS_MAX=0", `WEBSOCKET_CONNECTIONS_MAX="0": out of range`},
		{"TICK_BUFFER_SIZE=1", `TICK_BUFFER_SIZE="1": out of range`},
		{"SIM_ADDR=0.0.0.0:9090", `SIM_ADDR="0.0.0.0:9090": not a loopback listen address`},
		{"SIM_TICKS_PER_SECOND=0", `SIM_TICKS_PER_SECOND="0": out of range`},
		{"SIM_SEED=x", `SIM_SEED="x": invalid integer`},
		{"ADMIN_WEBSOCKET_DASHBOARD_ENABLED=sometimes", `ADMIN_WEBSOCKET_DASHBOARD_ENABLED="sometimes": invalid boolean`},
		{"ADMIN_PASSWORD_HASH=plain", `ADMIN_PASSWORD_HASH="<redacted>": not a bcrypt hash`},
		{"SESSION_SECRET=short", `SESSION_SECRET="<redacted>": too short; accepted: at least 32 characters`},
		{"SESSION_TTL=10s", `SESSION_TTL="10s": out of range`},
		{"TRUSTED_PROXIES=10.0.0.1,proxy", `TRUSTED_PROXIES="10.0.0.1,proxy": "proxy" is neither an IP nor a CIDR`},
		{"ALLOWED_ORIGINS=example.com", `ALLOWED_ORIGINS="example.com": "example.com" is not an origin`},
		{"LIVE_FLUSH_INTERVAL=1ms", `LIVE_FLUSH_INTERVAL="1ms": out of range`},
		{"SHUTDOWN_TIMEOUT=2h", `SHUTDOWN_TIMEOUT="2h": out of range`},
		{"HTTP_MAX_CONNS=-1", `HTTP_MAX_CONNS="-1": out of range`},
		{"HTTP_MAX_CONNS_PER_IP=2000000", `HTTP_MAX_CONNS_PER_IP="2000000": out of range`},
		{"RELAY_ENABLED=sometimes", `RELAY_ENABLED="sometimes": invalid boolean`},
		{"RELAY_ALLOW_WILDCARD=all", `RELAY_ALLOW_WILDCARD="all": invalid boolean`},
		{"RELAY_ADDR=nowhere", `RELAY_ADDR="nowhere": not a listen address; accepted: host:port`},
		{"RELAY_ADDR=:8080", `RELAY_ADDR=":8080": is HTTP_ADDR`},
		{"DATA_DIR= ", `DATA_DIR=" ": empty; accepted: a directory path`},
		{"AUDIT_RETENTION=forever", `AUDIT_RETENTION="forever": invalid duration; accepted: a duration of at least 1h, in days (90d) or Go units (2160h)`},
		{"AUDIT_RETENTION=1.5d", `AUDIT_RETENTION="1.5d": invalid duration`},
		{"AUDIT_RETENTION=30m", `AUDIT_RETENTION="30m": too short`},
		{"ALERT_RETENTION=forever", `ALERT_RETENTION="forever": invalid duration; accepted: a duration of at least 1h, in days (90d) or Go units (2160h)`},
		{"ALERT_RETENTION=1.5d", `ALERT_RETENTION="1.5d": invalid duration`},
		{"ALERT_RETENTION=59m59s", `ALERT_RETENTION="59m59s": too short; accepted: a duration of at least 1h`},
		{"ALERT_RETENTION=-90d", `ALERT_RETENTION="-90d": invalid duration`},
		{"ADMIN_WS_MAX_SESSIONS=0", `ADMIN_WS_MAX_SESSIONS="0": out of range`},
		{"ADMIN_WS_MAX_PER_USER=100001", `ADMIN_WS_MAX_PER_USER="100001": out of range`},
		{"WEBSOCKET_CONNECTION_2_ENABLED=maybe", `WEBSOCKET_CONNECTION_2_ENABLED="maybe": invalid boolean`},
		{"WEBSOCKET_CONNECTION_1_SYMBOLS=AAPL,A$B", `WEBSOCKET_CONNECTION_1_SYMBOLS="AAPL,A$B": invalid symbol "A$B"`},
		{"WEBSOCKET_CONNECTION_1_SYMBOLS=TOOLONGSYMBOL", `invalid symbol "TOOLONGSYMBOL"`},
		{"REDIS_URL=http://:s3cret@cache:6379", `REDIS_URL="http://:xxxxx@cache:6379": redis url: scheme "http"; accepted: redis://[user:password@]host[:port][/db]`},
		{"REDIS_URL=redis://:s3cret@127.0.0.1:99999/0", `REDIS_URL="redis://:xxxxx@127.0.0.1:99999/0": redis url: port 99999 is out of range (use 1 to 65535, or leave it out for 6379); accepted: redis://`},
		{"REDIS_URL=redis://127.0.0.1:0", `REDIS_URL="redis://127.0.0.1:0": redis url: port 0 is out of range`},
		{"REDIS_URL=redis://:s3cret@cache:notaport/0", `REDIS_URL="redis://:xxxxx@cache:notaport/0": redis url: not a URL`},
		{"REDIS_URL=cache:6379", `REDIS_URL="cache:6379": redis url`},
		{"REDIS_TICK_CHANNEL= ", `REDIS_TICK_CHANNEL=" ": empty; accepted: a non-empty channel name`},
		{"REDIS_STATUS_CHANNEL= ", `REDIS_STATUS_CHANNEL=" ": empty`},
		{"REDIS_TICK_STREAM_MAXLEN=0", `REDIS_TICK_STREAM_MAXLEN="0": out of range; accepted: an integer from 1 to 1000000000`},
		{"REDIS_TICK_STREAM_MAXLEN=lots", `REDIS_TICK_STREAM_MAXLEN="lots": invalid integer`},
		{"REDIS_REQUIRED=maybe", `REDIS_REQUIRED="maybe": invalid boolean`},
		{"REDIS_REQUIRED=true", `REDIS_REQUIRED="true": needs REDIS_URL`},
		{"WEBSOCKET_CONNECTION_5_ENABLED=true", `WEBSOCKET_CONNECTION_5_ENABLED="true": slot 5 is above WEBSOCKET_CONNECTIONS_MAX=3`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, err := load(t, tc.env)
			if err == nil {
				t.Fatal("expected an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.contains) {
				t.Fatalf("error %q does not contain %q", msg, tc.contains)
			}
			if strings.Count(msg, "\n") != 0 {
				t.Fatalf("one bad variable must give one line, got %q", msg)
			}
			if strings.Count(msg, "redis://[user:password@]") > 1 {
				t.Fatalf("the accepted form is said twice: %q", msg)
			}
		})
	}
}

// TestChannelsFollowProtocol keeps MASSIVE_CHANNELS and its help text in step
// with the channels massive decodes.
func TestChannelsFollowProtocol(t *testing.T) {
	f, _ := reflect.TypeOf(Config{}).FieldByName("Channels")
	accept := f.Tag.Get("accept")
	for _, k := range []massive.Kind{massive.KindTrade, massive.KindQuote, massive.KindSecondAgg, massive.KindMinuteAgg} {
		ch := k.Prefix()
		if !strings.Contains(accept, ch) {
			t.Errorf("accept tag %q does not name channel %s", accept, ch)
		}
		cfg, err := load(t, "MASSIVE_CHANNELS=a, "+strings.ToLower(ch)+" ,A")
		if err != nil {
			t.Fatalf("channel %s: %v", ch, err)
		}
		want := []string{"A"}
		if ch != "A" {
			want = append(want, ch)
		}
		if !reflect.DeepEqual(cfg.Channels, want) {
			t.Errorf("MASSIVE_CHANNELS with %s gave %q, want %q", ch, cfg.Channels, want)
		}
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	_, err := load(t, "SESSION_SECRET=hunter2", "ADMIN_PASSWORD_HASH=hunter3", "MASSIVE_API_KEY=sekrit", "LOG_LEVEL=loud",
		"REDIS_URL=redis://app:hunter4@cache:6379/zero")
	if err == nil || strings.Contains(err.Error(), "hunter") || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("secret leaked or no error: %v", err)
	}
	if strings.Count(err.Error(), "\n") != 3 {
		t.Fatalf("want four lines, got %q", err)
	}
}

func TestRedis(t *testing.T) {
	cfg, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RedisURL != "" || cfg.RedisTickChannel != "tickwatch:ticks" || cfg.RedisStatusChannel != "tickwatch:status" ||
		cfg.RedisTickStream != "" || cfg.RedisTickStreamMax != 100000 || bool(cfg.RedisRequired) {
		t.Fatalf("Redis defaults: %+v", cfg)
	}
	cfg, err = load(t, "REDIS_URL=rediss://app:pw@cache:6380/1", "REDIS_TICK_CHANNEL=a:ticks", "REDIS_STATUS_CHANNEL=a:status",
		"REDIS_TICK_STREAM=a:stream", "REDIS_TICK_STREAM_MAXLEN=5000", "REDIS_REQUIRED=yes")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RedisURL != "rediss://app:pw@cache:6380/1" || cfg.RedisTickChannel != "a:ticks" || cfg.RedisStatusChannel != "a:status" ||
		cfg.RedisTickStream != "a:stream" || cfg.RedisTickStreamMax != 5000 || !bool(cfg.RedisRequired) {
		t.Fatalf("Redis settings: %+v", cfg)
	}
}

func TestConnections(t *testing.T) {
	t.Run("single mode with API key", func(t *testing.T) {
		cfg, err := load(t, "MASSIVE_API_KEY=k")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Simulated() || bool(cfg.MultiConnection) || !cfg.Connections[0].Enabled || cfg.Connections[1].Enabled {
			t.Fatalf("%+v", cfg.Connections)
		}
	})
	t.Run("configured slots", func(t *testing.T) {
		cfg, err := load(t, "WEBSOCKET_CONNECTIONS_MAX=4", "USE_MULTI_CONNECTION=yes",
			"WEBSOCKET_CONNECTION_2_ENABLED=1", "WEBSOCKET_CONNECTION_2_NAME= backup ",
			"WEBSOCKET_CONNECTION_2_UNIVERSE_KEY=sp500:nasdaq100",
			"WEBSOCKET_CONNECTION_4_SYMBOLS= aapl, brk.b ,AAPL,,msft")
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Connections) != 4 || !cfg.ConnectionsConfigured {
			t.Fatalf("%+v", cfg)
		}
		c2, c4 := cfg.Connections[1], cfg.Connections[3]
		if !c2.Enabled || c2.Name != "backup" || c2.UniverseKey != "sp500:nasdaq100" {
			t.Fatalf("slot 2: %+v", c2)
		}
		if c4.Enabled || c4.Name != "connection_4" || strings.Join(c4.Symbols, ",") != "AAPL,BRK.B,MSFT" {
			t.Fatalf("slot 4: %+v", c4)
		}
		// Configured connections switch off the demo defaults: slot 3 stays off.
		if cfg.Connections[2].Enabled {
			t.Fatal("slot 3 must not be enabled")
		}
	})
}

func TestUsageListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	WriteUsage(&b)
	for _, v := range []string{"HTTP_ADDR", "LOG_LEVEL", "MASSIVE_API_KEY", "USE_MULTI_CONNECTION", "WEBSOCKET_CONNECTION_{n}_SYMBOLS", "SESSION_TTL",
		"REDIS_URL", "REDIS_TICK_STREAM_MAXLEN", "REDIS_REQUIRED", "DATA_DIR", "AUDIT_RETENTION", "ALERT_RETENTION", "tickwatch backup PATH"} {
		if !strings.Contains(b.String(), v) {
			t.Errorf("usage lacks %s", v)
		}
	}
}

// TestEnvExampleDocumentsEveryVariable keeps .env.example honest.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	rt := reflect.TypeOf(Config{})
	for i := 0; i < rt.NumField(); i++ {
		name := rt.Field(i).Tag.Get("env")
		if name == "" || name == "-" {
			continue
		}
		if !strings.Contains(string(data), name) {
			t.Errorf(".env.example does not mention %s", name)
		}
	}
}

func TestRelayDefaults(t *testing.T) {
	for _, tc := range []struct {
		env               []string
		enabled, wildcard bool
	}{
		{nil, true, false}, // demo mode: on
		{[]string{"MASSIVE_API_KEY=k"}, false, false},
		{[]string{"MASSIVE_API_KEY=k", "RELAY_ENABLED=yes", "RELAY_ALLOW_WILDCARD=1"}, true, true},
		{[]string{"RELAY_ENABLED=false"}, false, false},
	} {
		cfg, err := load(t, tc.env...)
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if bool(cfg.RelayEnabled) != tc.enabled || bool(cfg.RelayAllowWildcard) != tc.wildcard || cfg.RelayAddr != "" {
			t.Errorf("%v: enabled=%v wildcard=%v addr=%q", tc.env, cfg.RelayEnabled, cfg.RelayAllowWildcard, cfg.RelayAddr)
		}
	}
}
