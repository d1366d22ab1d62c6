package adapter_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loopback is the fastest possible consumer: read, answer 202.
// conns, when not nil, counts the connections it accepts, to show whether
// its clients keep connections alive.
func loopback(b *testing.B, conns ...*atomic.Int64) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew && len(conns) > 0 {
			conns[0].Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

// relay is the baseline: a plain HTTP relay that reads the body and forwards
// it unchanged to the same target, with no decoding, mapping or retries.
func relay(b *testing.B, target string, client *http.Client) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		resp, err := client.Post(target, "application/json", bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	b.Cleanup(s.Close)
	return s
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000}}
}

// bodies hands out webhook bodies with fresh fingerprints, so the adapter's
// idempotency window never turns a delivery into a skipped duplicate. The
// relay gets the same bodies, so the generation cost is on both sides.
type bodies struct {
	tmpl []byte
	seq  atomic.Int64
}

func newBodies(size int) *bodies {
	return &bodies{tmpl: bytes.ReplaceAll(group(0, size, max(size/10, 1)), []byte(`00000000`), []byte(`SEQSEQSE`))}
}

func (g *bodies) next() []byte {
	s := fmt.Sprintf("%08x", g.seq.Add(1))
	return bytes.ReplaceAll(g.tmpl, []byte("SEQSEQSE"), []byte(s))
}

type run struct {
	alertsPerSec float64
	p50, p99     time.Duration
}

// samples accumulates one side's rounds: latencies and busy time.
type samples struct {
	lat     []time.Duration
	elapsed time.Duration
	alerts  int
}

func (s *samples) run() run {
	slices.Sort(s.lat)
	n := len(s.lat)
	return run{
		alertsPerSec: float64(s.alerts) / s.elapsed.Seconds(),
		p50:          s.lat[n*50/100],
		p99:          s.lat[min(n*99/100, n-1)],
	}
}

// drive posts n notifications from conc concurrent clients and adds their
// latencies and the wall time to s.
func drive(b *testing.B, client *http.Client, url string, n, conc, size int, g *bodies, s *samples) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				body := g.next()
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	s.alerts += n * size
	s.lat = append(s.lat, lat...)
}

// rounds the relay and the adapter take turns in: on a machine with other
// work, load drifts over seconds, and one side measured after the other
// would see different weather.
const rounds = 10

// BenchmarkAdapterVsRelay measures the adapter and the relay baseline in the
// same run, against the same loopback target, taking turns in rounds (the
// first mover alternating) so both see the same background load. Each
// iteration is one notification through each of them, so ns/op covers both;
// read the custom metrics: alerts/s (adapter), relay-alerts/s, ratio
// (adapter/relay), the latencies (p50, p99: adapter; relay-p50, relay-p99)
// and the p99 latency the adapter adds over the relay (added-p99-ms). The
// relay forwards a group as one request while the adapter posts one event
// per alert, which is the cost being measured. The issue-#16 target is the
// conc=1/group=1 case (one sequential Alertmanager client, one alert per
// notification): alerts/s ≥ 10000 with added-p99-ms ≤ 1.
func BenchmarkAdapterVsRelay(b *testing.B) {
	for _, conc := range []int{1, 10, 100} {
		for _, size := range []int{1, 100} {
			b.Run("conc="+strconv.Itoa(conc)+"/group="+strconv.Itoa(size), func(b *testing.B) {
				var conns atomic.Int64
				target := loopback(b, &conns)
				client := benchClient()
				rl := relay(b, target.URL, client)
				e := newEnv(b, "targets: [{name: loopback, url: '"+target.URL+"'}]")
				g := newBodies(size)
				var base, ad samples
				var adConns int64
				b.ResetTimer()
				for r := range rounds {
					n := b.N*(r+1)/rounds - b.N*r/rounds // b.N in all
					if n == 0 {
						continue
					}
					adapterRound := func() {
						before := conns.Load()
						drive(b, client, e.webhookURL(), n, conc, size, g, &ad)
						adConns += conns.Load() - before
					}
					if r%2 == 1 {
						adapterRound()
					}
					drive(b, client, rl.URL, n, conc, size, g, &base)
					if r%2 == 0 {
						adapterRound()
					}
				}
				b.StopTimer()
				bs, as := base.run(), ad.run()
				// Connections the adapter opened to the target: at most its
				// concurrency per notification in flight when kept alive.
				b.ReportMetric(float64(adConns), "target-conns")
				b.ReportMetric(as.alertsPerSec, "alerts/s")
				b.ReportMetric(bs.alertsPerSec, "relay-alerts/s")
				b.ReportMetric(as.alertsPerSec/bs.alertsPerSec, "ratio")
				b.ReportMetric(float64(as.p50)/1e6, "p50-ms")
				b.ReportMetric(float64(as.p99)/1e6, "p99-ms")
				b.ReportMetric(float64(bs.p50)/1e6, "relay-p50-ms")
				b.ReportMetric(float64(bs.p99)/1e6, "relay-p99-ms")
				b.ReportMetric(float64(as.p99-bs.p99)/1e6, "added-p99-ms")
			})
		}
	}
}

// BenchmarkAdapterBurst: memory per notification for a burst of large groups,
// in process (no client side), target on loopback.
func BenchmarkAdapterBurst(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run("group="+strconv.Itoa(size), func(b *testing.B) {
			target := loopback(b)
			e := newEnv(b, "targets: [{name: loopback, url: '"+target.URL+"', concurrency: 8}]\nglobal: {idempotency_max_entries: 100000}")
			mux := http.NewServeMux()
			if err := e.Register(mux, "/webhook"); err != nil {
				b.Fatal(err)
			}
			g := newBodies(size)
			in := make([][]byte, b.N)
			for i := range in {
				in[i] = g.next()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(in[i]))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkAdapterSustained drives the adapter through its real HTTP handler
// (over loopback, like Alertmanager) for the whole benchmark with distinct
// alerts, so the idempotency window fills to its bound and then evicts. Run
// it for as long as the burst to check, e.g. -benchtime 5m: one iteration is
// one notification of sustainedGroup alerts. It reports live heap (after a
// forced GC) when the window has just filled, halfway, and at the end, plus
// the growth between the middle and the end, which must be about zero for
// memory to be flat; and the ledger size, which must stay at its bound.
func BenchmarkAdapterSustained(b *testing.B) {
	const (
		conc           = 10
		sustainedGroup = 100   // 10 canaries, as in the group=100 cases above
		maxEntries     = 10000 // the default idempotency_max_entries
	)
	target := loopback(b)
	client := benchClient()
	e := newEnv(b, "targets: [{name: loopback, url: '"+target.URL+"'}]\nglobal: {idempotency_max_entries: "+strconv.Itoa(maxEntries)+"}")
	g := newBodies(sustainedGroup)
	url := e.webhookURL()

	heapMB := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20)
	}
	// Samples: once the window is full (or at 10% for short runs), at 50%,
	// and after the last notification.
	full := max(b.N/10, 2*maxEntries/sustainedGroup)
	marks := []int{min(full, b.N/2), b.N / 2}
	samples := make([]float64, len(marks))
	var sampled [2]sync.Once

	var next, done atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				resp, err := client.Post(url, "application/json", bytes.NewReader(g.next()))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				n := int(done.Add(1))
				for k, m := range marks {
					if n == m && b.N >= 4 {
						sampled[k].Do(func() { samples[k] = heapMB() })
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	end := heapMB()
	entries := gauge(b, e, "flagger_event_adapter_idempotency_entries")
	b.ReportMetric(float64(b.N*sustainedGroup)/elapsed.Seconds(), "alerts/s")
	b.ReportMetric(samples[0], "heap-start-MB")
	b.ReportMetric(samples[1], "heap-mid-MB")
	b.ReportMetric(end, "heap-end-MB")
	b.ReportMetric(end-samples[1], "heap-growth-MB")
	b.ReportMetric(entries, "ledger-entries")
	if b.N*sustainedGroup > maxEntries && entries > maxEntries {
		b.Errorf("idempotency ledger holds %v entries, bound is %d", entries, maxEntries)
	}
}

func gauge(b *testing.B, e *env, name string) float64 {
	mfs, err := e.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
			return sum
		}
	}
	return 0
}
