package web

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwatch/tickwatch/backend/buildinfo"
)

func TestBuildInfoGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfoGauge(buildinfo.Info{Version: "v1.2.3", Revision: "ca74b20a6b3a", GoVersion: "go1.26.1"}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || families[0].GetName() != "tickwatch_build_info" || len(families[0].GetMetric()) != 1 {
		t.Fatalf("families = %v", families)
	}
	m := families[0].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	want := map[string]string{"version": "v1.2.3", "revision": "ca74b20a6b3a", "goversion": "go1.26.1"}
	if len(labels) != len(want) || m.GetGauge().GetValue() != 1 {
		t.Fatalf("metric = %v", m)
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
}
