package event_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// TestAppendJSONIsMarshal: the hand-written body encoder writes exactly what
// json.Marshal writes, escaping included, so targets see the same bytes as
// before it existed (and as the Idempotency-Key and X-Signature cover).
func TestAppendJSONIsMarshal(t *testing.T) {
	tricky := []string{
		"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnewline\nreturn\r\b\f",
		"\x00\x01\x1f\x7f", "caf\u00e9 \u2028\u2029 \U0001F680", "bad \xff\xfe utf-8", strings.Repeat("x", 300),
	}
	for _, s := range tricky {
		for _, e := range []event.Event{
			{Name: s, Namespace: "ns", Phase: "Failed", Checksum: "c", Metadata: map[string]string{"eventMessage": s}},
			{Name: "n", Namespace: s, Phase: s, Checksum: s, Metadata: map[string]string{s: "v", "eventType": "Normal", "timestamp": "1", "a": s, "z": s, "m": "", "b": s, "y": s, "c": s, "x": s}},
			{Name: "n", Namespace: "ns", Metadata: nil},
			{Name: "n", Namespace: "ns", Metadata: map[string]string{}},
		} {
			want, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.AppendJSON([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("AppendJSON\n%s\nwant\nprefix%s", got, want)
			}
		}
	}
}
