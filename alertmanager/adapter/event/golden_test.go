package event_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	fixtures = "../testdata/webhook"
	goldens  = "../testdata/golden"
)

// now stands in for the clock; no fixture needs it, so it must never show up
// in a golden file.
var now = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type golden struct {
	Events   []event.Event     `json:"events"`
	Rejected []event.Rejection `json:"rejected"`
}

func TestGoldenDefaultRules(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if len(files) < 8 {
		t.Fatalf("want at least 8 fixtures, got %d", len(files))
	}
	m := mustCompile(t, event.Rules{})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res := mapFile(t, m, f)
			check(t, strings.TrimSuffix(filepath.Base(f), ".json"), golden{res.Events, res.Rejected})
		})
	}
}

func TestGoldenCustomRules(t *testing.T) {
	m := mustCompile(t, event.Rules{
		NameLabels:      []string{"canary"},
		Phases:          map[string]string{"FlaggerCanaryFailed": "", "SomethingElse": "Waiting"},
		LifecycleAlerts: []string{},
		MessageTemplate: `[{{ .Status | toUpper }}] {{ .Namespace }}/{{ .Name }} {{ .Phase }}: {{ .Annotations.summary }} (receiver {{ .Receiver }})`,
		Metadata:        event.MetadataRules{Labels: []string{"severity", "alertname"}, Annotations: []string{"runbook_url"}},
	})
	for _, name := range []string{"am-0.34-route-labels-mixed", "am-0.34-rejects"} {
		res := mapFile(t, m, filepath.Join(fixtures, name+".json"))
		check(t, name+".custom", golden{res.Events, res.Rejected})
	}
}

// TestGoldenHugeGroup maps a group of 1000 alerts; the golden file keeps a
// digest and a few events instead of a 400 KB listing.
func TestGoldenHugeGroup(t *testing.T) {
	m := mustCompile(t, event.Rules{})
	msg, err := payload.Decode(HugeGroup(1000))
	if err != nil {
		t.Fatal(err)
	}
	res := m.Map(msg, now)
	all, _ := json.Marshal(res.Events)
	sum := sha256.Sum256(all)
	seen := map[string]bool{}
	for _, e := range res.Events {
		if seen[e.Checksum] {
			t.Fatalf("checksum %s repeats", e.Checksum)
		}
		seen[e.Checksum] = true
	}
	check(t, "huge-group-1000", map[string]any{
		"events":   len(res.Events),
		"rejected": len(res.Rejected),
		"sha256":   hex.EncodeToString(sum[:]),
		"first":    res.Events[0],
		"last":     res.Events[len(res.Events)-1],
	})
}

// HugeGroup is a notification of n alerts over n/10 canaries, half resolved.
func HugeGroup(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"receiver":"flagger-events","status":"firing","version":"4","groupKey":"{}:{}","truncatedAlerts":0,"externalURL":"http://am","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"alerts":[`)
	start := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		status, end := "firing", "0001-01-01T00:00:00Z"
		if i%2 == 1 {
			status, end = "resolved", start.Add(time.Duration(i)*time.Second+time.Minute).Format(time.RFC3339)
		}
		fmt.Fprintf(&b, `{"status":%q,"labels":{"alertname":"FlaggerCanaryFailed","canary":"c%d","namespace":"ns%d","severity":"warning","i":"%d"},`+
			`"annotations":{"summary":"Canary c%d failed"},"startsAt":%q,"endsAt":%q,"generatorURL":"","fingerprint":"%016x"}`,
			status, i/10, i%7, i, i/10, start.Add(time.Duration(i)*time.Second).Format(time.RFC3339), end, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func mustCompile(t testing.TB, r event.Rules) *event.Mapper {
	t.Helper()
	m, err := r.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mapFile(t *testing.T, m *event.Mapper, path string) event.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := payload.Decode(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m.Map(msg, now)
}

func check(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(goldens, name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update and review the diff):\n%s", name, path, got)
	}
	if bytes.Contains(got, []byte("946684800000")) {
		t.Errorf("%s: a timestamp came from the clock, not the alert", name)
	}
}
