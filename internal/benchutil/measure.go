package benchutil

import (
	"math"
	"runtime"
	"time"
)

// BestOf times f n times and returns the fastest run: the usual estimate of
// a cost without scheduler noise. (testing.Benchmark cannot run inside a
// benchmark, so baselines measured in the same run are timed with this.)
func BestOf(n int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for i := 0; i < n; i++ {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// AllocatedBy is the number of bytes f allocates.
func AllocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
