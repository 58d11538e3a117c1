// Package buildinfo says which build is running: the version stamped by the
// release build (-ldflags "-X main.version=..."), or else what the Go
// toolchain recorded in the binary, so `go install` and plain `go build`
// binaries name themselves too instead of all reporting "dev".
//
// What the toolchain records: `go install module@v1.2.3` -> "v1.2.3"; `go
// build` in a git checkout (Go 1.24+) -> a pseudo-version such as
// "v0.0.0-20260101120000-abcdef123456+dirty"; with -buildvcs=false only the
// revision may be missing too. `go run` records no VCS data at all, so it
// stays "dev". It is a leaf package: no imports from this module.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Unknown is the version of a build that carries no version information.
const Unknown = "dev"

// Info describes the running binary.
type Info struct {
	Version   string // never empty; Unknown when nothing better is known
	Revision  string // VCS commit (12 hex digits), "" when unknown
	Modified  bool   // built from a work tree with uncommitted changes
	GoVersion string // toolchain that built the binary, e.g. "go1.26.1"
}

// Read describes the running binary; stamped is the link-time version ("" or
// Unknown when the build did not stamp one).
func Read(stamped string) Info {
	bi, ok := debug.ReadBuildInfo()
	return from(stamped, bi, ok, runtime.Version())
}

// from is Read with its inputs given, for tests.
func from(stamped string, bi *debug.BuildInfo, ok bool, goVersion string) Info {
	info := Info{Version: stamped, GoVersion: goVersion}
	if ok && bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
				if len(info.Revision) > 12 {
					info.Revision = info.Revision[:12]
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version != "" && info.Version != Unknown {
		return info
	}
	switch {
	case ok && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		info.Version = bi.Main.Version // already carries "+dirty" when modified
	case info.Revision != "":
		info.Version = info.Revision
		if info.Modified {
			info.Version += "-dirty"
		}
	default:
		info.Version = Unknown
	}
	return info
}
