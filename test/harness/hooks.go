package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Hooks is a loopback server for Flagger's analysis webhooks (confirm-rollout,
// pre-rollout, rollout, confirm-traffic-increase, confirm-promotion, rollback,
// post-rollout): each path answers what the test last set, so a test opens
// and closes gates and passes or fails checks. Flagger treats any status up to
// 202 as success.
type Hooks struct {
	URL string

	mu      sync.Mutex
	answers map[string]bool // path → pass
	calls   map[string][]HookCall
}

// HookCall is one webhook call as Flagger sent it.
type HookCall struct {
	Name, Namespace, Phase, Checksum string
	Metadata                         map[string]string
}

// StartHooks starts the server; every path passes until Set says otherwise.
func StartHooks(t testing.TB) *Hooks {
	t.Helper()
	h := &Hooks{answers: map[string]bool{}, calls: map[string][]HookCall{}}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *Hooks) serve(w http.ResponseWriter, r *http.Request) {
	var call HookCall
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &call); err != nil {
		http.Error(w, "not Flagger's webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.calls[r.URL.Path] = append(h.calls[r.URL.Path], call)
	pass, set := h.answers[r.URL.Path]
	h.mu.Unlock()
	if set && !pass {
		// 403, not 5xx: Flagger's webhook client would retry a 5xx when a
		// canary sets retries, and a closed gate is an answer, not an outage.
		http.Error(w, "closed by the test", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Set makes path pass (2xx) or fail (403) from now on.
func (h *Hooks) Set(path string, pass bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answers[path] = pass
}

// Calls is every call to path so far.
func (h *Hooks) Calls(path string) []HookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]HookCall(nil), h.calls[path]...)
}
