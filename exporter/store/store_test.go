package store

import (
	"fmt"
	"sync"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

func c(ns, name string, phase flagger.Phase) canary.Facts {
	return canary.Facts{Namespace: ns, Name: name, Phase: phase}
}

func TestOrderAndDelete(t *testing.T) {
	s := New()
	for _, k := range [][2]string{{"b", "x"}, {"a", "z"}, {"a", "b"}, {"c", "a"}, {"a", "m"}} {
		s.Upsert(c(k[0], k[1], flagger.PhaseUnknown))
	}
	got := ""
	for _, e := range s.Snapshot() {
		got += e.Facts.Namespace + "/" + e.Facts.Name + " "
	}
	if got != "a/b a/m a/z b/x c/a " {
		t.Fatalf("order %q", got)
	}
	if !s.Delete("a", "m") || s.Delete("a", "m") || s.Len() != 4 {
		t.Fatalf("delete: len %d", s.Len())
	}
	if snap := s.Snapshot(); snap[1].Facts.Name != "z" {
		t.Fatalf("after delete: %v", snap[1].Facts)
	}
}

func TestTransitionsCountPhaseChangesOnly(t *testing.T) {
	s := New()
	s.Upsert(c("ns", "a", flagger.PhaseProgressing)) // first sight: no transition
	s.Upsert(c("ns", "a", flagger.PhaseProgressing)) // unchanged
	s.Upsert(c("ns", "a", flagger.PhaseFailed))
	s.Upsert(c("ns", "a", flagger.PhaseProgressing))
	s.Upsert(c("ns", "a", flagger.PhaseUnknown)) // status wiped: not a transition
	s.Upsert(c("ns", "a", flagger.PhaseProgressing))
	tr := s.Snapshot()[0].Transitions
	if tr[flagger.PhaseProgressing] != 2 || tr[flagger.PhaseFailed] != 1 {
		t.Fatalf("transitions %v", tr)
	}
	var sum uint64
	for _, n := range tr {
		sum += n
	}
	if sum != 3 {
		t.Fatalf("unexpected transitions %v", tr)
	}
	// A deleted and recreated canary starts from zero.
	s.Delete("ns", "a")
	s.Upsert(c("ns", "a", flagger.PhaseFailed))
	if s.Snapshot()[0].Transitions[flagger.PhaseFailed] != 0 {
		t.Fatal("recreated canary kept old counters")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				s.Upsert(c(fmt.Sprint("ns", w), fmt.Sprint(i%50), flagger.Phase(i%flagger.NumPhases)))
				if i%7 == 0 {
					s.Delete(fmt.Sprint("ns", w), fmt.Sprint(i%50))
				}
				_ = s.Snapshot()
			}
		}(w)
	}
	wg.Wait()
	snap := s.Snapshot()
	for i := 1; i < len(snap); i++ {
		if compare(snap[i].Facts.Namespace, snap[i].Facts.Name, snap[i-1]) <= 0 {
			t.Fatalf("not sorted at %d", i)
		}
	}
}

// The generation moves with every change, and only then: the scrape keeps
// its compressed body while it stays.
func TestGeneration(t *testing.T) {
	s := New()
	gen := func() uint64 { _, g := s.Versioned(); return g }
	g0 := gen()
	s.Upsert(c("a", "x", flagger.PhaseProgressing))
	g1 := gen()
	s.Upsert(c("a", "x", flagger.PhaseSucceeded))
	g2 := gen()
	s.Delete("a", "missing")
	g3 := gen()
	s.Delete("a", "x")
	g4 := gen()
	if g1 == g0 || g2 == g1 || g3 != g2 || g4 == g3 || gen() != g4 {
		t.Errorf("generations %d %d %d %d %d: want a change on each upsert and real delete only", g0, g1, g2, g3, g4)
	}
}
