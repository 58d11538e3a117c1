package app_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/app"
	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// TestCommandLineErrors: a refused command or start-up says so in exactly
// one line, ending in a newline, each part said once, and exits 2.
func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		environ []string
		stdin   string
		want    string // the whole of stderr
	}{
		{"hash-password without input", []string{"hash-password"}, nil, "",
			"hash-password: empty password (pipe one line to stdin)\n"},
		{"REDIS_URL of another scheme", nil, []string{"REDIS_URL=http://foo"}, "",
			`config: REDIS_URL="http://foo": redis url: scheme "http"; accepted: redis://[user:password@]host[:port][/db] or rediss://... for TLS` + "\n"},
		{"REDIS_URL port out of range", nil, []string{"REDIS_URL=redis://:pw@127.0.0.1:99999/0"}, "",
			`config: REDIS_URL="redis://:xxxxx@127.0.0.1:99999/0": redis url: port 99999 is out of range (use 1 to 65535, or leave it out for 6379); accepted: redis://[user:password@]host[:port][/db] or rediss://... for TLS` + "\n"},
		{"REDIS_URL port zero", nil, []string{"REDIS_URL=redis://127.0.0.1:0"}, "",
			`config: REDIS_URL="redis://127.0.0.1:0": redis url: port 0 is out of range (use 1 to 65535, or leave it out for 6379); accepted: redis://[user:password@]host[:port][/db] or rediss://... for TLS` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			environ := append([]string{"HTTP_ADDR=127.0.0.1:0", "DATA_DIR=" + t.TempDir()}, tc.environ...)
			code := app.Main(tc.args, environ, strings.NewReader(tc.stdin), &stdout, &stderr, apptest.Static(), "test")
			if code != 2 || stderr.String() != tc.want || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr\n%q\nwant exit 2 and stderr\n%q", code, stdout.String(), stderr.String(), tc.want)
			}
		})
	}
}
