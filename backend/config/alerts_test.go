package config

import (
	"strings"
	"testing"
	"time"
)

func TestAlertSettings(t *testing.T) {
	c, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.MarketHours != "regular" || c.ReadyWhen != "started" || c.AlertSilence != 15*time.Second ||
		c.AlertTickerSilenceMin != 2*time.Minute || c.AlertTickerSilenceFactor != 20 || c.AlertTickerSilenceGroup != 5 || c.AlertTickerNeverTicked != 15*time.Minute || c.AlertDrift != 10*time.Second ||
		c.AlertReconnects != 5 || c.AlertReconnectWindow != 10*time.Minute || c.AlertDropWindow != time.Minute || len(c.AlertWebhookURLs) != 0 {
		t.Errorf("alert defaults: %+v", c)
	}
	c, err = load(t, "MARKET_HOURS=always", "READY_WHEN=all", "ALERT_WEBHOOK_URLS=https://a.example/x, http://b.example:8080/y",
		"ALERT_TICKER_SILENCE_GROUP=100000", "ALERT_TICKER_NEVER_TICKED=90s")
	if err != nil {
		t.Fatal(err)
	}
	if c.MarketHours != "always" || c.ReadyWhen != "all" || len(c.AlertWebhookURLs) != 2 || c.AlertWebhookURLs[1] != "http://b.example:8080/y" ||
		c.AlertTickerSilenceGroup != 100000 || c.AlertTickerNeverTicked != 90*time.Second {
		t.Errorf("parsed: %q %q %q %d %s", c.MarketHours, c.ReadyWhen, c.AlertWebhookURLs, c.AlertTickerSilenceGroup, c.AlertTickerNeverTicked)
	}
	// The refusal names the accepted form, like every other variable's.
	if _, err := load(t, "ALERT_TICKER_SILENCE_GROUP=0"); err == nil || !strings.Contains(err.Error(), "an integer from 1 to 100000") {
		t.Errorf("ALERT_TICKER_SILENCE_GROUP=0: error %v, want the accepted form", err)
	}
	for _, tc := range []struct{ kv, want string }{
		{"MARKET_HOURS=weekdays", "MARKET_HOURS"},
		{"READY_WHEN=some", "READY_WHEN"},
		{"ALERT_SILENCE=0s", "ALERT_SILENCE"},
		{"ALERT_TICKER_SILENCE_FACTOR=1", "ALERT_TICKER_SILENCE_FACTOR"},
		{"ALERT_TICKER_SILENCE_GROUP=0", "ALERT_TICKER_SILENCE_GROUP"},
		{"ALERT_TICKER_SILENCE_GROUP=100001", "ALERT_TICKER_SILENCE_GROUP"},
		{"ALERT_TICKER_SILENCE_GROUP=many", "ALERT_TICKER_SILENCE_GROUP"},
		{"ALERT_TICKER_NEVER_TICKED=50ms", "ALERT_TICKER_NEVER_TICKED"},
		{"ALERT_TICKER_NEVER_TICKED=25h", "ALERT_TICKER_NEVER_TICKED"},
		{"ALERT_RECONNECTS=0", "ALERT_RECONNECTS"},
		{"ALERT_WEBHOOK_URLS=ftp://hooks.example/T0/secret-token-xyz", "ALERT_WEBHOOK_URLS"},
	} {
		_, err := load(t, tc.kv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.kv, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret-token-xyz") {
			t.Errorf("%s: the error shows the webhook URL: %v", tc.kv, err)
		}
	}
}
