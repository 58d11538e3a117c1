package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFrom(t *testing.T) {
	const rev = "ca74b20a6b3aaf43d86c880593dc69f20de9f432"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		ok      bool
		want    Info
	}{
		{"stamped by the release build wins", "v1.4.0", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.0.0-x"}, Settings: vcs("false")}, true,
			Info{Version: "v1.4.0", Revision: "ca74b20a6b3a", GoVersion: "go1.26.1"}},
		{"go install module@version", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.3.2"}}, true,
			Info{Version: "v1.3.2", GoVersion: "go1.26.1"}},
		{"go build in a dirty checkout", "", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.0.0-20261201084758-ca74b20a6b3a+dirty"}, Settings: vcs("true")}, true,
			Info{Version: "v0.0.0-20261201084758-ca74b20a6b3a+dirty", Revision: "ca74b20a6b3a", Modified: true, GoVersion: "go1.26.1"}},
		{"VCS data but no module version", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, true,
			Info{Version: "ca74b20a6b3a-dirty", Revision: "ca74b20a6b3a", Modified: true, GoVersion: "go1.26.1"}},
		{"clean revision", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")}, true,
			Info{Version: "ca74b20a6b3a", Revision: "ca74b20a6b3a", GoVersion: "go1.26.1"}},
		{"go run: nothing recorded", "dev", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}}, true,
			Info{Version: "dev", GoVersion: "go1.26.1"}},
		{"no build info", "", nil, false, Info{Version: "dev", GoVersion: "go-runtime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := from(tt.stamped, tt.bi, tt.ok, "go-runtime"); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRead runs against this test binary's real build info: whatever the
// toolchain recorded, the answer is complete.
func TestRead(t *testing.T) {
	got := Read("")
	if got.Version == "" || got.GoVersion != runtime.Version() {
		t.Fatalf("Read = %+v", got)
	}
	if got := Read("v9.9.9"); got.Version != "v9.9.9" {
		t.Fatalf("a stamped version must win: %+v", got)
	}
}
