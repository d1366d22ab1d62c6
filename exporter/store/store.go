// Package store holds the canaries the exporter currently knows, each
// prepared for writing, in the order the exposition needs (namespace, name).
// It is the only exporter state beyond the informer's cache: the transition
// counters, which start at zero for every canary the process first sees, so a
// restart never invents a transition.
package store

import (
	"sort"
	"strings"
	"sync"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Store is safe for concurrent use: the informer writes, scrapes read.
type Store struct {
	mu     sync.RWMutex
	sorted []*exposition.Canary // by namespace, then name
	gen    uint64               // counts the changes, for the scrape's cache
}

// New returns an empty store.
func New() *Store { return &Store{} }

// compare orders namespace/name against c, as strings.Compare does.
func compare(ns, name string, c *exposition.Canary) int {
	if r := strings.Compare(ns, c.Facts.Namespace); r != 0 {
		return r
	}
	return strings.Compare(name, c.Facts.Name)
}

// find returns the index of namespace/name, or where it would be inserted.
func (s *Store) find(ns, name string) (int, bool) {
	i := sort.Search(len(s.sorted), func(i int) bool { return compare(ns, name, s.sorted[i]) <= 0 })
	return i, i < len(s.sorted) && compare(ns, name, s.sorted[i]) == 0
}

// Upsert records the current facts of a canary. A phase change from the
// previous facts counts one transition into the new phase; the first sight of
// a canary counts none.
func (s *Store) Upsert(f canary.Facts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	i, found := s.find(f.Namespace, f.Name)
	if !found {
		s.sorted = append(s.sorted, nil)
		copy(s.sorted[i+1:], s.sorted[i:])
		s.sorted[i] = exposition.Prepare(f, [exposition.NumTransitionPhases]uint64{})
		return
	}
	old := s.sorted[i]
	transitions := old.Transitions
	if f.Phase != old.Facts.Phase && f.Phase != flagger.PhaseUnknown {
		transitions[f.Phase]++
	}
	s.sorted[i] = exposition.Prepare(f, transitions)
}

// Delete forgets a canary; its series disappear from the next scrape.
func (s *Store) Delete(namespace, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := s.find(namespace, name)
	if found {
		s.gen++
		s.sorted = append(s.sorted[:i], s.sorted[i+1:]...)
		s.sorted[len(s.sorted):cap(s.sorted)][0] = nil // let the GC have it
	}
	return found
}

// Snapshot returns the canaries in exposition order. The entries are
// immutable, so the caller may write them without holding any lock.
func (s *Store) Snapshot() []*exposition.Canary {
	c, _ := s.Versioned()
	return c
}

// Versioned is Snapshot with the store's generation, which changes with
// every Upsert and every Delete that finds its canary.
func (s *Store) Versioned() ([]*exposition.Canary, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*exposition.Canary(nil), s.sorted...), s.gen
}

// Len is the number of canaries.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sorted)
}

// Lookup returns the current facts of namespace/name.
func (s *Store) Lookup(namespace, name string) (canary.Facts, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i, found := s.find(namespace, name); found {
		return s.sorted[i].Facts, true
	}
	return canary.Facts{}, false
}
