// Command tickwatch is a live monitor for Massive (formerly Polygon.io)
// market-data WebSocket connections. See README.md.
package main

import (
	"embed"
	"io/fs"
	"os"

	"github.com/tickwatch/tickwatch/backend/app"
)

// dist is the committed production build of the SPA, so `go run .` needs no Node.
//
//go:embed all:frontend/dist
var dist embed.FS

// version is stamped by `go tool task build` and the Dockerfile
// (-ldflags "-X main.version=..."); unstamped builds report what the Go
// toolchain recorded (module version or VCS revision), else "dev".
var version = "dev"

func main() {
	static, err := fs.Sub(dist, "frontend/dist")
	if err != nil {
		panic(err) // the embed directive guarantees the directory exists
	}
	os.Exit(app.Main(os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr, static, version))
}
