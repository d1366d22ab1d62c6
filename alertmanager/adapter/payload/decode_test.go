package payload_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/notify/webhook"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

const fixtures = "../testdata/webhook"

func TestDecodeFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := payload.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m.Version != "4" || len(m.Alerts) == 0 || m.Alerts[0].Fingerprint == "" || m.Alerts[0].StartsAt.IsZero() {
			t.Errorf("%s: decoded %+v", f, m)
		}
	}
}

// TestFixturesAreAlertmanagerShaped decodes every fixture strictly into
// Alertmanager 0.34's own webhook.Message: a hand-made body with a field
// Alertmanager does not send (other than the deliberate future field) or a
// wrong type would fail here.
func TestFixturesAreAlertmanagerShaped(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		delete(raw, "futureField")
		b, _ = json.Marshal(raw)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var m webhook.Message
		if err := dec.Decode(&m); err != nil {
			t.Errorf("%s is not Alertmanager's shape: %v", f, err)
			continue
		}
		if strings.HasPrefix(filepath.Base(f), "am-0.34") && m.RouteLabels == nil {
			t.Errorf("%s: 0.34 bodies carry routeLabels", f)
		}
		if strings.HasPrefix(filepath.Base(f), "am-0.3") && m.NotificationReason == "" {
			t.Errorf("%s: 0.32+ bodies carry notification_reason", f)
		}
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	const alert = `{"status":"firing","labels":{"canary":"a","namespace":"b"},"startsAt":"2026-11-24T06:54:24Z"}`
	for _, tc := range []struct{ body, want string }{
		{``, "empty body"},
		{`   `, "empty body"},
		{`{"version":"4","alerts":[`, "unexpected end of JSON input"},
		{`not json`, "invalid JSON at offset 2: invalid character"},
		{`{"version":"4","alerts":[` + alert + `]} {}`, "after top-level value"},
		{`[1,2]`, "the top level is a JSON array"},
		{`{"version":4,"alerts":[]}`, "version is a JSON number, want string"},
		{`{"alerts":[` + alert + `]}`, `missing "version"`},
		{`{"version":"3","alerts":[` + alert + `]}`, `unsupported "version" "3"`},
		{`{"version":"4"}`, `missing "alerts"`},
		{`{"version":"4","alerts":null}`, `missing "alerts"`},
		{`{"version":"4","alerts":[]}`, `"alerts" is empty`},
		{`{"version":"4","alerts":[{"status":"pending"}]}`, `alerts[0].status is "pending"`},
		{`{"version":"4","alerts":[{"status":"firing","labels":{"a":1}}]}`, "alerts.labels is a JSON number, want string"},
		{`{"version":"4","alerts":[{"status":"firing","startsAt":"yesterday"}]}`, "invalid JSON"},
	} {
		_, err := payload.Decode([]byte(tc.body))
		var pe *payload.Error
		if !errors.As(err, &pe) || pe.Code != http.StatusBadRequest {
			t.Errorf("%q: want a 400, got %v", tc.body, err)
			continue
		}
		if !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("%q: message %q does not say %q", tc.body, pe.Msg, tc.want)
		}
	}
}

func TestDecodeToleratesNewerFields(t *testing.T) {
	b := []byte(`{"version":"4","notification_reason":"x","routeLabels":{"a":"b"},"brandNew":{"x":[1]},"alerts":[{"status":"resolved","labels":{},"newAlertField":true}]}`)
	m, err := payload.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.NotificationReason != "x" || m.RouteLabels["a"] != "b" || m.Alerts[0].Firing() {
		t.Errorf("decoded %+v", m)
	}
}

func TestCheckContentType(t *testing.T) {
	for h, ok := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"Application/JSON":                  true,
		"":                                  false,
		"text/plain":                        false,
		"application/x-www-form-urlencoded": false,
		"application/json;;;":               false,
	} {
		err := payload.CheckContentType(h)
		var pe *payload.Error
		if ok != (err == nil) || (err != nil && (!errors.As(err, &pe) || pe.Code != http.StatusUnsupportedMediaType)) {
			t.Errorf("%q: %v", h, err)
		}
	}
}

func TestReadBodyLimit(t *testing.T) {
	for _, cl := range []int64{-1, 5, 3} { // unknown, right, wrong Content-Length
		if b, err := payload.ReadBody(strings.NewReader("12345"), cl, 5); err != nil || string(b) != "12345" {
			t.Fatalf("at the limit (Content-Length %d): %q %v", cl, b, err)
		}
	}
	for _, cl := range []int64{-1, 6, 1 << 40} {
		_, err := payload.ReadBody(strings.NewReader("123456"), cl, 5)
		var pe *payload.Error
		if !errors.As(err, &pe) || pe.Code != http.StatusRequestEntityTooLarge || !strings.Contains(pe.Msg, "5 bytes") {
			t.Fatalf("over the limit (Content-Length %d): %v", cl, err)
		}
	}
}
