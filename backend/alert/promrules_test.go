package alert

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const rulesFile = "../../docs/alerts/prometheus-rules.yml"

// TestPrometheusRules checks the shipped rules with promtool and that
// every detector has its rule, so the file cannot fall behind the code.
func TestPrometheusRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: apt-get install prometheus")
	}
	out, err := exec.Command(promtool, "check", "rules", rulesFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool said:\n%s", out)
	}
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		if !strings.Contains(string(data), `tickwatch_alerts_firing{kind="`+string(k)+`"}`) {
			t.Errorf("%s has no rule for detector %s", rulesFile, k)
		}
	}
	for _, m := range []string{"tickwatch_connection_last_message_timestamp_seconds", "tickwatch_tickers_silent"} {
		if !strings.Contains(string(data), m) {
			t.Errorf("%s does not use %s", rulesFile, m)
		}
	}
}
