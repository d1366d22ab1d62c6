package adapter_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loopback is the fastest possible consumer: read, answer 202.
func loopback(b *testing.B) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
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

// drive posts n notifications from conc concurrent clients.
func drive(b *testing.B, client *http.Client, url string, n, conc, size int, g *bodies) run {
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
	elapsed := time.Since(start)
	slices.Sort(lat)
	return run{
		alertsPerSec: float64(n*size) / elapsed.Seconds(),
		p50:          lat[n*50/100],
		p99:          lat[min(n*99/100, n-1)],
	}
}

// BenchmarkAdapterVsRelay measures the adapter and the relay baseline in the
// same run, against the same loopback target. Each iteration is one
// notification through each of them, so ns/op covers both; read the custom
// metrics: alerts/s (adapter), relay-alerts/s, ratio (adapter/relay), and the
// p99 latency the adapter adds over the relay. The relay forwards a group as
// one request while the adapter posts one event per alert, which is the cost
// being measured.
func BenchmarkAdapterVsRelay(b *testing.B) {
	for _, conc := range []int{1, 10, 100} {
		for _, size := range []int{1, 100} {
			b.Run("conc="+strconv.Itoa(conc)+"/group="+strconv.Itoa(size), func(b *testing.B) {
				target := loopback(b)
				client := benchClient()
				rl := relay(b, target.URL, client)
				e := newEnv(b, "targets: [{name: loopback, url: '"+target.URL+"'}]")
				g := newBodies(size)
				b.ResetTimer()
				base := drive(b, client, rl.URL, b.N, conc, size, g)
				ad := drive(b, client, e.webhookURL(), b.N, conc, size, g)
				b.StopTimer()
				b.ReportMetric(ad.alertsPerSec, "alerts/s")
				b.ReportMetric(base.alertsPerSec, "relay-alerts/s")
				b.ReportMetric(ad.alertsPerSec/base.alertsPerSec, "ratio")
				b.ReportMetric(float64(ad.p50)/1e6, "p50-ms")
				b.ReportMetric(float64(ad.p99)/1e6, "p99-ms")
				b.ReportMetric(float64(base.p99)/1e6, "relay-p99-ms")
				b.ReportMetric(float64(ad.p99-base.p99)/1e6, "added-p99-ms")
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
