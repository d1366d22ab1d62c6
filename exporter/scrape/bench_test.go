package scrape

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/store"
	"github.com/flagger-monitoring/flagger-monitoring/internal/benchutil"
)

// BenchmarkServe scrapes the handler over loopback HTTP at 10k canaries,
// plain and gzip, for a quiet fleet and for one where a canary changes
// before every scrape, and reports the median against a handler writing the
// very bytes the exporter served from memory (x_raw), fetched by the same
// client in the same loop, one after the other; for gzip also against
// compressing on every scrape, as the exporter did before it kept the
// compressed families (x_streaming). The client reads the body
// as it comes (compressed when gzip), as Prometheus does before decoding.
func BenchmarkServe(b *testing.B) {
	const n = 10000
	facts, _ := benchutil.Fleet(n)
	st := store.New()
	for _, f := range facts {
		st.Upsert(f)
	}
	for _, enc := range []string{"plain", "gzip"} {
		for _, fleet := range []string{"quiet", "changing"} {
			b.Run("canaries="+strconv.Itoa(n)+"/"+enc+"/"+fleet, func(b *testing.B) {
				// The self metrics the exporter serves beside the canaries.
				reg := prometheus.NewRegistry()
				reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				srv := httptest.NewServer(New(st, exposition.All, reg, reg, log.NewNopLogger()))
				defer srv.Close()
				gz := enc == "gzip"
				body := fetchBody(b, srv.URL, gz)
				raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					if gz {
						w.Header().Set("Content-Encoding", "gzip")
					}
					benchutil.WriteRaw(body, w)
				}))
				defer raw.Close()
				// What the exporter did before this handler: render and
				// compress into the connection, on every scrape.
				streaming := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Encoding", "gzip")
					gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
					canaries, _ := st.Versioned()
					exposition.All.Write(gz, canaries)
					gz.Close()
				}))
				defer streaming.Close()
				var ours, floor, stream []time.Duration
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if fleet == "changing" {
						f := facts[i%n]
						f.FailedChecks = float64(i)
						st.Upsert(f)
					}
					t0 := time.Now()
					fetchBody(b, srv.URL, gz)
					ours = append(ours, time.Since(t0))
					t0 = time.Now()
					fetchBody(b, raw.URL, gz)
					floor = append(floor, time.Since(t0))
					if gz {
						t0 = time.Now()
						fetchBody(b, streaming.URL, gz)
						stream = append(stream, time.Since(t0))
					}
				}
				b.StopTimer()
				med := func(ds []time.Duration) float64 { slices.Sort(ds); return float64(ds[len(ds)/2]) }
				b.ReportMetric(med(ours)/1e6, "scrape_ms")
				b.ReportMetric(med(floor)/1e6, "raw_ms")
				b.ReportMetric(med(ours)/med(floor), "x_raw")
				if gz {
					b.ReportMetric(med(ours)/med(stream), "x_streaming")
				}
				b.ReportMetric(float64(len(body))/1e6, "body_MB")
			})
		}
	}
}

var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// fetchBody GETs url and reads the body whole, undecoded.
func fetchBody(b *testing.B, url string, gz bool) []byte {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}
