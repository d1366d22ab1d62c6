package payload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeFastTakesFixtures: the fast path is taken for what Alertmanager
// sends (every fixture but the one carrying a field from the future), and
// agrees with encoding/json.
func TestDecodeFastTakesFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("../testdata/webhook", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeFast(b)
		if future := strings.Contains(string(b), `"futureField"`); ok == future {
			t.Errorf("%s: fast path %v", f, ok)
		}
		if !ok {
			continue
		}
		var want Message
		if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s: fast path %+v, encoding/json %+v (%v)", f, *got, want, err)
		}
	}
}

// FuzzDecodeFast: whenever the fast path accepts a body, encoding/json
// accepts it too and decodes exactly the same message.
func FuzzDecodeFast(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("../testdata/webhook", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"version":"4","alerts":[{"status":"firing","labels":{"a":"1","a":"2"},"startsAt":"2026-11-24T06:54:24+02:00"}]}`,
		`{"version":"4","truncatedAlerts":007,"alerts":[{}]}`,
		`{"version":"4","truncatedAlerts":18446744073709551616,"alerts":[{}]}`,
		`{"version":"4","Version":"5","alerts":[{}]}`,
		`{"version":"4","alerts":[{"labels":{}},{"labels":null}]}`,
		`{"version":"4","alerts":[{"labels":{"k":"caf` + "\xc3\xa9" + `","bad":"` + "\xff" + `"}}]}`,
		`{"version":"4","alerts":[{"startsAt":"2026-13-24T06:54:24Z"}]} `,
		`{"version":"4","alerts":[{"endsAt":"0001-01-01T00:00:00Z"}]}x`,
		` { "version" : "4" , "alerts" : [ { "status" : "firing" } ] } `,
		`{"version":"4","groupKey":"{}:{a=\"b\"}","alerts":[{"labels":{"a\u0062":"\ud83d\ude00","x":"\ud800","y":"a\/b"}}]}`,
		`{"vers\u0069on":"4","alerts":[{"generatorURL":"http://p/graph?g0.expr=up\u0026g0.tab=1"}]}`,
		`{"version":"4","alerts":[{"startsAt":"2026-11-24T06:54:24.123456789-07:00","endsAt":"2026-11-24T06:54:2\u0034Z"}]}`,
		`{"version":"4","alerts":[{"labels":{"a":"1"},"labels":{"b":"2"}}]}`,
		`{"version":"4","receiver":"\u00e9\u0026\"\\\/\b\f\n\r\t\u0000\uFFFF","alerts":[{"fingerprint":"\uD83D\uDE00"}]}`,
		`{"version":"4","receiver":"\u12","alerts":[{}]}`,
		`{"version":"4","receiver":"\uZZZZ","alerts":[{}]}`,
		`{"version":"4","receiver":"a` + "\xff" + `b\u0041","alerts":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeFast(b)
		if !ok {
			return
		}
		var want Message
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("fast path took a body encoding/json refuses (%v): %q", err, b)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("fast path %+v\nencoding/json %+v\nbody %q", *got, want, b)
		}
		if strings.TrimSpace(string(b)) == "" {
			t.Fatal("empty body taken")
		}
	})
}
