package adapter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The adapter's User-Agent and the JSON content type reach targets.
func TestUserAgent(t *testing.T) {
	got := make(chan string, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("User-Agent") + "|" + r.Header.Get("Content-Type")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(target.Close)
	e := newEnv(t, "targets: [{name: a, url: '"+target.URL+"'}]")
	if code, body := post(t, e.webhookURL(), group(1, 1, 1)); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if s := <-got; s != "test|application/json" {
		t.Errorf("User-Agent|Content-Type seen by the target: %q", s)
	}
}
