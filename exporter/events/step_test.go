package events

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// flaggerEvent is an Event as Flagger v1.44.0's recorder writes it
// (client-go tools/record, core/v1).
func flaggerEvent(uid, message string, count int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]any{"name": "podinfo." + uid, "namespace": "test", "uid": uid},
		"involvedObject": map[string]any{
			"kind": "Canary", "namespace": "test", "name": "podinfo", "uid": "c-1",
			"apiVersion": "flagger.app/v1beta1", "resourceVersion": "123",
		},
		"reason": "Synced", "message": message, "type": "Normal", "count": count,
		"source":         map[string]any{"component": "flagger"},
		"firstTimestamp": "2026-12-02T10:00:00Z", "lastTimestamp": "2026-12-02T10:00:30Z",
	}}
}

func TestDecode(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 30, 0, time.UTC)
	s, ok := Decode(flaggerEvent("e-1", "Advance podinfo.test canary weight 20", 3))
	want := Step{Namespace: "test", Canary: "podinfo", UID: "e-1", Count: 3, Type: "Normal", Message: "Advance podinfo.test canary weight 20", Time: at}
	if !ok || s != want {
		t.Fatalf("Decode = %+v, %v; want %+v", s, ok, want)
	}

	cases := map[string]struct {
		edit func(map[string]any)
		ok   bool
		want func(*Step)
	}{
		"aggregated message loses the aggregator's prefix": {
			edit: func(o map[string]any) { o["message"] = combinedPrefix + "Advance podinfo.test canary weight 30" },
			ok:   true, want: func(s *Step) { s.Message = "Advance podinfo.test canary weight 30" },
		},
		"Warning":            {edit: func(o map[string]any) { o["type"] = "Warning" }, ok: true, want: func(s *Step) { s.Type = "Warning" }},
		"odd type is Normal": {edit: func(o map[string]any) { o["type"] = 7 }, ok: true, want: func(*Step) {}},
		"no count is one":    {edit: func(o map[string]any) { delete(o, "count") }, ok: true, want: func(s *Step) { s.Count = 1 }},
		"series count wins": {
			edit: func(o map[string]any) {
				o["series"] = map[string]any{"count": int64(9), "lastObservedTime": "2026-12-02T10:01:00.5Z"}
				delete(o, "lastTimestamp")
			},
			ok: true, want: func(s *Step) { s.Count = 9; s.Time = at.Add(30*time.Second + 500*time.Millisecond) },
		},
		"no times: zero": {
			edit: func(o map[string]any) { delete(o, "lastTimestamp"); delete(o, "firstTimestamp") },
			ok:   true, want: func(s *Step) { s.Time = time.Time{} },
		},
		"unparseable lastTimestamp falls back": {
			edit: func(o map[string]any) { o["lastTimestamp"] = "yesterday" },
			ok:   true, want: func(s *Step) { s.Time = at.Add(-30 * time.Second) },
		},
		"another kind":           {edit: func(o map[string]any) { o["involvedObject"].(map[string]any)["kind"] = "Deployment" }},
		"another API version":    {edit: func(o map[string]any) { o["involvedObject"].(map[string]any)["apiVersion"] = "flagger.app/v1alpha3" }},
		"no message":             {edit: func(o map[string]any) { delete(o, "message") }},
		"only the prefix":        {edit: func(o map[string]any) { o["message"] = combinedPrefix }},
		"involvedObject garbage": {edit: func(o map[string]any) { o["involvedObject"] = "Canary" }},
		"no canary name":         {edit: func(o map[string]any) { delete(o["involvedObject"].(map[string]any), "name") }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			u := flaggerEvent("e-1", "Advance podinfo.test canary weight 20", 3)
			c.edit(u.Object)
			got, ok := Decode(u)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, c.ok, got)
			}
			if !ok {
				return
			}
			w := want
			c.want(&w)
			if got != w {
				t.Errorf("Decode = %+v, want %+v", got, w)
			}
		})
	}
}

func TestDecodeClipsMessages(t *testing.T) {
	long := strings.Repeat("é", MaxMessageBytes) // 2 bytes each
	s, ok := Decode(flaggerEvent("e", "x"+long, 1))
	if !ok || len(s.Message) > MaxMessageBytes || !strings.HasPrefix(s.Message, "xé") || strings.ContainsRune(s.Message, '\uFFFD') {
		t.Errorf("long message: %d bytes, %q…", len(s.Message), s.Message[:8])
	}
	s, _ = Decode(flaggerEvent("e", "bad \xff byte", 1))
	if s.Message != "bad \uFFFD byte" {
		t.Errorf("invalid UTF-8: %q", s.Message)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("Advance podinfo.test canary weight 20", "Normal", int64(2), "2026-12-02T10:00:30Z")
	f.Add(combinedPrefix, "Warning", int64(-5), "")
	f.Fuzz(func(t *testing.T, msg, typ string, count int64, ts string) {
		u := flaggerEvent("e", msg, count)
		u.Object["type"], u.Object["lastTimestamp"] = typ, ts
		s, ok := Decode(u)
		if !ok {
			return
		}
		if s.Count < 1 || (s.Type != "Normal" && s.Type != "Warning") || len(s.Message) > MaxMessageBytes || s.Message == "" {
			t.Errorf("Decode(%q, %q, %d) = %+v", msg, typ, count, s)
		}
	})
}
