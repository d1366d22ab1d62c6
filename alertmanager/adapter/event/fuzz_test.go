package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// FuzzDecodeAndMap: whatever arrives, decoding either refuses it with a 4xx
// or every alert becomes exactly one event or one rejection, and no event
// lacks what a Flagger consumer relies on.
func FuzzDecodeAndMap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"canary":"","namespace":"x"}}]}`))
	f.Add([]byte(`{"version":"4","alerts":[{"status":"resolved","labels":null,"endsAt":"0001-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":4}`))
	f.Add([]byte(`[]`))
	m, err := event.Rules{Metadata: event.MetadataRules{Labels: []string{"severity"}, Annotations: []string{"runbook_url"}}}.Compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := payload.Decode(body)
		if err != nil {
			var pe *payload.Error
			if !errors.As(err, &pe) || pe.Code < 400 || pe.Code > 499 || pe.Code == 429 || pe.Msg == "" {
				t.Fatalf("decode error is not a clear 4xx: %#v", err)
			}
			return
		}
		res := m.Map(msg, now)
		if skipped := res.SkippedResolvedLifecycle + res.SkippedResolvedProblems; len(res.Events)+len(res.Rejected)+skipped != len(msg.Alerts) {
			t.Fatalf("%d alerts became %d events, %d rejections and %d skipped", len(msg.Alerts), len(res.Events), len(res.Rejected), skipped)
		}
		for _, e := range res.Events {
			if e.Name == "" || e.Namespace == "" {
				t.Fatalf("event without name or namespace: %+v", e)
			}
			if !flagger.IsPhase(e.Phase) {
				t.Fatalf("phase %q", e.Phase)
			}
			if ty := e.Metadata[event.KeyType]; ty != event.TypeNormal && ty != event.TypeWarning {
				t.Fatalf("eventType %q", ty)
			}
			if _, err := strconv.ParseInt(e.Metadata[event.KeyTimestamp], 10, 64); err != nil {
				t.Fatalf("timestamp %q", e.Metadata[event.KeyTimestamp])
			}
			if e.Metadata[event.KeyMessage] == "" || e.Checksum == "" || len(e.Checksum) > 64 {
				t.Fatalf("message or checksum missing: %+v", e)
			}
			if want, _ := json.Marshal(&e); !bytes.Equal(e.AppendJSON(nil), want) {
				t.Fatalf("AppendJSON\n%s\nwant json.Marshal's\n%s", e.AppendJSON(nil), want)
			}
		}
	})
}
