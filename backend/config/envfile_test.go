package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"
)

// parseDockerEnvFile reads an env file the way `docker run --env-file` does
// (docker/cli opts/envfile.go): leading whitespace trimmed, blank lines and
// lines starting with '#' skipped, every other line KEY=VALUE with VALUE
// taken verbatim: no quote removal and no inline comments, so
// `LOG_LEVEL=info   # comment` sets LOG_LEVEL to "info   # comment".
// A bare KEY passes the host's value through; .env.example has none.
func parseDockerEnvFile(data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q has no '=' (docker would pass the host's value through)", n, line)
		}
		if key == "" || strings.ContainsFunc(key, unicode.IsSpace) {
			return nil, fmt.Errorf("line %d: bad variable name %q", n, key)
		}
		out = append(out, key+"="+value)
	}
	return out, sc.Err()
}

// TestEnvExampleIsADockerEnvFile loads .env.example exactly as
// `docker run --env-file .env.example` hands it to the process.
func TestEnvExampleIsADockerEnvFile(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	environ, err := parseDockerEnvFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(environ) < 10 {
		t.Fatalf("only %d variables set in .env.example; is the file being read?", len(environ))
	}
	for _, kv := range environ {
		_, v, _ := strings.Cut(kv, "=")
		// Values that Load would accept but that do not mean what they say:
		// a trailing comment, padding, or quotes docker would keep.
		if strings.Contains(v, "#") || strings.TrimSpace(v) != v || strings.ContainsAny(v, `"'`) {
			t.Errorf("%q: docker --env-file takes the value verbatim; put comments on their own line and drop quotes", kv)
		}
	}
	if _, err := Load(environ, false); err != nil {
		t.Fatalf("config.Load rejects .env.example as docker passes it: %v", err)
	}
}

// TestParseDockerEnvFile pins the parser to docker's rules, including the
// case that broke: an inline comment becomes part of the value.
func TestParseDockerEnvFile(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"comments and blanks", "# c\n\n   # indented c\nA=1\n", []string{"A=1"}, false},
		{"inline comment is part of the value", "LOG_LEVEL=info   # level\n", []string{"LOG_LEVEL=info   # level"}, false},
		{"quotes are kept", `A="x"` + "\n", []string{`A="x"`}, false},
		{"leading whitespace trimmed, trailing kept", "  A=1 \n", []string{"A=1 "}, false},
		{"empty value", "A=\n", []string{"A="}, false},
		{"pass-through name", "A\n", nil, true},
		{"space in name", "A B=1\n", nil, true},
		{"no name", "=1\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDockerEnvFile([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// The old .env.example's first line of that kind really is refused.
	if _, err := Load([]string{"LOG_LEVEL=info                       # trace|debug|info|warn|error"}, false); err == nil {
		t.Fatal("Load accepted a LOG_LEVEL with an inline comment; the env-file test above would not catch it")
	}
}
