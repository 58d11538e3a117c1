package config

import (
	"fmt"
	"io"
	"reflect"
	"text/tabwriter"
)

// WriteUsage prints every variable with its default and accepted form; it is
// what `tickwatch --help` shows, generated from the same tags that Load reads
// so the two cannot drift apart.
func WriteUsage(w io.Writer) {
	fmt.Fprintln(w, "Tickwatch: live monitor for Massive market-data WebSocket connections.")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  tickwatch                      run the server (configuration from the environment)")
	fmt.Fprintln(w, "  tickwatch simulate --addr A    run only the built-in Massive-protocol simulator")
	fmt.Fprintln(w, "  tickwatch hash-password        read a password on stdin, print its bcrypt hash")
	fmt.Fprintln(w, "  tickwatch backup PATH          write a consistent copy of DATA_DIR's database to PATH (server may run)")
	fmt.Fprintln(w, "  tickwatch healthcheck          probe the local /healthz (the container HEALTHCHECK)")
	fmt.Fprintln(w, "  tickwatch --version            print the version")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Environment:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if name == "" || name == "-" {
			continue
		}
		def := f.Tag.Get("envDefault")
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t(default %s)\t%s\n", name, def, f.Tag.Get("help"))
	}
	fmt.Fprintf(tw, "  WEBSOCKET_CONNECTION_{n}_ENABLED\t(default slot 1 only)\tEnable slot n (1..WEBSOCKET_CONNECTIONS_MAX).\n")
	fmt.Fprintf(tw, "  WEBSOCKET_CONNECTION_{n}_NAME\t(default primary, secondary, tertiary, connection_n)\tDisplay name of slot n.\n")
	fmt.Fprintf(tw, "  WEBSOCKET_CONNECTION_{n}_UNIVERSE_KEY\t(default -)\tUniverse of slot n, e.g. market_leaders:top_500 or sp500:nasdaq100.\n")
	fmt.Fprintf(tw, "  WEBSOCKET_CONNECTION_{n}_SYMBOLS\t(default -)\tComma list used when the universe is unknown or empty.\n")
	tw.Flush()
}
