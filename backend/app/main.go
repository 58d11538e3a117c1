package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/buildinfo"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/simulator"
)

// Main is the whole program behind package main; it returns the exit code.
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.
// version is the link-time stamp ("dev" when unstamped); builds without one
// fall back to what the Go toolchain recorded (see buildinfo).
func Main(args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer, static fs.FS, version string) int {
	version = buildinfo.Read(version).Version
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "-help", "help":
			config.WriteUsage(stdout)
			return 0
		case "--version", "-version", "version":
			fmt.Fprintln(stdout, "tickwatch", version)
			return 0
		case "hash-password":
			if err := auth.HashPasswordCommand(stdin, stdout); err != nil {
				// The error already starts with "hash-password: ".
				fmt.Fprintln(stderr, err)
				return 2
			}
			return 0
		case "simulate":
			return simulate(args[1:], stdout, stderr)
		case "backup":
			return backup(args[1:], environ, stdout, stderr)
		case "healthcheck":
			return healthcheck(environ, stderr)
		default:
			fmt.Fprintf(stderr, "tickwatch: unknown command %q; run tickwatch --help\n", args[0])
			return 2
		}
	}

	terminal := isatty.IsTerminal(os.Stdout.Fd())
	cfg, err := config.Load(environ, terminal)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel, stdout, terminal)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := New(cfg, log, static, version)
	if err != nil {
		log.Error().Err(err).Msg("start-up failed")
		return 1
	}
	a.installProcessWide()
	if err := a.Run(ctx); err != nil {
		log.Error().Err(err).Msg("stopped with an error")
		return 1
	}
	return 0
}

func newLogger(format, level string, out io.Writer, color bool) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if format == "console" {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: !color}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger()
}

// simulate runs only the Massive-protocol simulator, for developers and for
// testing a deployment against a known feed.
func simulate(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:9090", "listen address (host:port)")
	rate := fl.Int("rate", 600, "simulated trades per second across all symbols")
	seed := fl.Int64("seed", 1, "market seed")
	// Load runs shorten it so that the simulator's own batching (a tick
	// waits up to one interval for its frame) does not swamp the latency
	// they measure downstream.
	flush := fl.Duration("flush-interval", 100*time.Millisecond, "events are sent in one frame per connection per interval")
	var keys stringList
	fl.Var(&keys, "key", "accepted API key (repeatable; none = any non-empty key)")
	maxConns := fl.Int("max-conns", 0, "connections allowed per key (0 = unlimited); extra ones evict the oldest")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *rate < 1 {
		fmt.Fprintf(stderr, "simulate: --rate=%d: must be at least 1\n", *rate)
		return 2
	}
	if *flush < time.Millisecond || *flush > 10*time.Second {
		fmt.Fprintf(stderr, "simulate: --flush-interval=%s: must be from 1ms to 10s\n", *flush)
		return 2
	}
	log := newLogger("console", "info", stdout, isatty.IsTerminal(os.Stdout.Fd()))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info().Str("url", "ws://"+*addr+"/stocks").Msg("simulator starting")
	err := simulator.Run(ctx, *addr, simulator.Config{
		Keys: keys, MaxConnsPerKey: *maxConns, TicksPerSecond: *rate, FlushInterval: *flush, Seed: *seed, Logger: log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	}
	return 0
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// healthcheck probes the local /healthz: the container HEALTHCHECK (a
// distroless image has no curl).
func healthcheck(environ []string, stderr io.Writer) int {
	addr := ":8080"
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "HTTP_ADDR="); ok && v != "" {
			addr = v
		}
	}
	url, err := healthURL(addr)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: HTTP_ADDR=%q: %v\n", addr, err)
		return 1
	}
	// No keep-alive: one request, then the process exits.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "healthcheck: status", resp.StatusCode)
		return 1
	}
	return 0
}

// healthURL is the /healthz URL of a server listening on addr: the host it
// binds, or loopback when it binds every address (":8080", "0.0.0.0:8080",
// "[::]:8080"), since a server bound to one address does not answer on
// 127.0.0.1.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
