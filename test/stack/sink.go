package stack

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one request a sink received.
type Message struct {
	Sink string
	// Seq orders arrivals across every sink of a stack.
	Seq  int64
	At   time.Time
	Body []byte
	// IdempotencyKey is the request's Idempotency-Key header (the adapter
	// sends one per event).
	IdempotencyKey string
}

// Sink is a loopback stand-in for a chat service or an event consumer: it
// answers every JSON POST the way the real service does and records it.
// Anything else is answered 400 and recorded as a bad request, which no
// sender in the pipeline should ever cause.
type Sink struct {
	Name string
	// URL is what the stack writes into the secret file (or adapter
	// config); its path looks like a webhook token, as the real ones do.
	URL string

	status      int
	contentType string
	answer      string
	seq         *atomic.Int64
	close       func()

	mu       sync.Mutex
	messages []Message
	bad      []string
	onMsg    func(Message)
	down     int // while not 0, every request is answered with it
	refused  int // requests answered with down
}

// Outage makes the sink answer every request with status (503, say) and
// record nothing, until Outage(0) ends it.
func (s *Sink) Outage(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = status
}

// Refused counts the requests answered during outages.
func (s *Sink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func newSink(name string, seq *atomic.Int64, status int, contentType, answer string) *Sink {
	s := &Sink{Name: name, status: status, contentType: contentType, answer: answer, seq: seq}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = srv.URL + "/hooks/" + name + "/T0KEN"
	s.close = srv.Close
	return s
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.HasSuffix(r.URL.Path, "/T0KEN") {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("%s %s Content-Type %q: %.200s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), b))
		s.mu.Unlock()
		http.Error(w, "want a JSON POST to the webhook path", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down != 0 {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		http.Error(w, "consumer outage", down)
		return
	}
	m := Message{Sink: s.Name, Seq: s.seq.Add(1), At: time.Now(), Body: b, IdempotencyKey: r.Header.Get("Idempotency-Key")}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	onMsg := s.onMsg
	s.mu.Unlock()
	if onMsg != nil {
		onMsg(m)
	}
	if s.contentType != "" {
		w.Header().Set("Content-Type", s.contentType)
	}
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.answer)
}

// Messages returns a copy of what arrived so far, in arrival order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Bad lists requests the sink refused.
func (s *Sink) Bad() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// OnMessage calls f (from the sink's server goroutine) for every message
// received from now on; the demo prints them.
func (s *Sink) OnMessage(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMsg = f
}
