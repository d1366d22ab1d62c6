package testutil

import (
	"bytes"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseText parses Prometheus text exposition with prometheus/common's own
// parser, failing the test on any format error.
func ParseText(t testing.TB, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	return fams
}

// Values returns the values of every series of family whose labels include
// all of want.
func Values(fams map[string]*dto.MetricFamily, family string, want map[string]string) []float64 {
	var found []float64
	f, ok := fams[family]
	if !ok {
		return nil
	}
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, lp := range m.Label {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			if have[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			found = append(found, m.Gauge.GetValue())
		case m.Counter != nil:
			found = append(found, m.Counter.GetValue())
		case m.Untyped != nil:
			found = append(found, m.Untyped.GetValue())
		}
	}
	return found
}

// Value is the value of the one series of family matching want; it fails the
// test when there is not exactly one.
func Value(t testing.TB, fams map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	t.Helper()
	v := Values(fams, family, want)
	if len(v) != 1 {
		t.Fatalf("%s%v: want one series, found %d", family, want, len(v))
	}
	return v[0]
}
