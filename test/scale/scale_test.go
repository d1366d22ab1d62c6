package scale

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/internal/benchutil"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// BenchmarkExporterScale runs the exporter binary against 1k, 5k and 10k
// canaries in 200 namespaces and reports, per size: time to ready, RSS and Go
// heap per canary, scrape latency and CPU per scrape, exposition size, gzip,
// event → metric latency, and the scrape cost relative to client_golang
// (same series, plain registry) and to a raw write of the same bytes, both
// measured in the same run. Run with -benchtime 1x (`make bench-scale`).
func BenchmarkExporterScale(b *testing.B) {
	c := harness.Start(b)
	c.InstallCRDs(b, harness.CanaryCRD())
	for i := 0; i < namespaces; i++ {
		if _, err := c.Kube.CoreV1().Namespaces().Create(b.Context(), harness.Namespace(namespace(i)), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	have := 0
	for _, n := range []int{1000, 5000, 10000} {
		start := time.Now()
		grow(b, c, have, n)
		have = n
		b.Logf("created %d canaries in %v", n, time.Since(start).Round(time.Millisecond))
		b.Run("canaries="+strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				measure(b, c, n)
			}
		})
	}
}

func measure(b *testing.B, c *harness.Cluster, n int) {
	addr := harness.FreeAddr(b)
	bin := harness.Build(b, "flagger-exporter")
	url := "http://" + addr
	started := time.Now()
	p := harness.StartProcess(b, bin, "--kubeconfig", c.Kubeconfig, "--web.listen-address", addr)
	defer p.Stop()
	for {
		if s, _ := harness.Get(url + "/-/ready"); s == http.StatusOK {
			break
		}
		if p.Exited() || time.Since(started) > 2*time.Minute {
			b.Fatalf("exporter not ready:\n%s", p.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ready := time.Since(started)

	// Scrapes without compression: latency and the exporter's CPU per scrape.
	const scrapes = 20
	var text []byte
	var latencies []time.Duration
	cpu0, _ := cpuTime(p.Pid())
	for i := 0; i < scrapes; i++ {
		t0 := time.Now()
		body, err := fetch(url+"/metrics", false)
		if err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(t0))
		text = body
	}
	cpu1, _ := cpuTime(p.Pid())
	fams := testutil.ParseText(b, text)
	if got := testutil.Value(b, fams, "flagger_exporter_canaries", nil); got != float64(n) {
		b.Fatalf("exporter has %v canaries, want %d", got, n)
	}
	heap := testutil.Value(b, fams, "go_memstats_heap_inuse_bytes", nil)
	rss, err := rssBytes(p.Pid())
	if err != nil {
		b.Fatal(err)
	}
	rssFile, _ := procStatus(p.Pid(), "RssFile")
	// Where the resident memory goes: live heap after a collection, and
	// heap the runtime holds but has not returned to the OS.
	b.Logf("%d canaries: RSS %.1f MB (binary pages %.1f MB); heap in use %.1f MB, idle not released %.1f MB, stacks %.1f MB, runtime %.1f MB", n,
		rss/1e6, rssFile/1e6, heap/1e6,
		(testutil.Value(b, fams, "go_memstats_heap_idle_bytes", nil)-testutil.Value(b, fams, "go_memstats_heap_released_bytes", nil))/1e6,
		testutil.Value(b, fams, "go_memstats_stack_inuse_bytes", nil)/1e6,
		(testutil.Value(b, fams, "go_memstats_mspan_inuse_bytes", nil)+testutil.Value(b, fams, "go_memstats_mcache_inuse_bytes", nil)+
			testutil.Value(b, fams, "go_memstats_gc_sys_bytes", nil)+testutil.Value(b, fams, "go_memstats_other_sys_bytes", nil)+
			testutil.Value(b, fams, "go_memstats_buck_hash_sys_bytes", nil))/1e6)
	series := bytes.Count(text, []byte("\n")) - bytes.Count(text, []byte("\n#"))

	// gzip, as Prometheus asks: the first scrape compresses the canary
	// families, the next ones of a quiet fleet find them kept; then with a
	// canary changed before each scrape, every one compresses again.
	var gz []byte
	var gzipQuiet, gzipChanging []time.Duration
	for i := 0; i < 6; i++ {
		t0 := time.Now()
		if gz, err = fetch(url+"/metrics", true); err != nil {
			b.Fatal(err)
		}
		gzipQuiet = append(gzipQuiet, time.Since(t0))
	}
	for i := 0; i < 5; i++ {
		if err := touch(c, (i*104729)%n, int64(500+i)); err != nil {
			b.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the watch delivers it
		t0 := time.Now()
		if _, err := fetch(url+"/metrics", true); err != nil {
			b.Fatal(err)
		}
		gzipChanging = append(gzipChanging, time.Since(t0))
	}
	gzipLatency := median(gzipQuiet[1:])

	// Baselines in the same run, on the same bytes, served over loopback HTTP
	// and fetched by the same client: client_golang's promhttp on a plain
	// registry holding the same series, and a handler writing the
	// pre-rendered bytes from memory (the ceiling for any exporter).
	reg, err := benchutil.RegistryFromText(text)
	if err != nil {
		b.Fatal(err)
	}
	baseline := medianFetch(b, promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true}), 3)
	reg = nil
	raw := medianFetch(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { benchutil.WriteRaw(text, w) }), scrapes)
	rawGzip := medianFetch(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		benchutil.WriteRaw(gz, w)
	}), scrapes)

	events := eventLatencies(b, c, url, n)
	if n == 10000 {
		measureRules(b, addr)
	}

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	scrape := latencies[len(latencies)/2]
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ready.Seconds(), "ready_s")
	b.ReportMetric(rss/1e6, "rss_MB")
	b.ReportMetric(rss/float64(n)/1e3, "rss_KB/canary")
	b.ReportMetric(heap/float64(n)/1e3, "heap_KB/canary")
	b.ReportMetric(ms(scrape), "scrape_ms")
	b.ReportMetric(ms((cpu1-cpu0)/scrapes), "scrape_cpu_ms")
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(len(text))/1e6, "text_MB")
	b.ReportMetric(ms(gzipLatency), "gzip_scrape_ms")
	b.ReportMetric(ms(gzipQuiet[0]), "gzip_first_scrape_ms")
	b.ReportMetric(ms(median(gzipChanging)), "gzip_changing_scrape_ms")
	b.ReportMetric(ms(rawGzip), "raw_gzip_scrape_ms")
	b.ReportMetric(float64(gzipLatency)/float64(rawGzip), "x_raw_gzip")
	b.ReportMetric(float64(len(gz))/1e6, "gzip_MB")
	b.ReportMetric(ms(baseline), "client_golang_scrape_ms")
	b.ReportMetric(ms(raw), "raw_scrape_ms")
	b.ReportMetric(float64(scrape)/float64(baseline), "x_client_golang")
	b.ReportMetric(float64(scrape)/float64(raw), "x_raw")
	b.ReportMetric(ms(events[len(events)/2]), "event_p50_ms")
	b.ReportMetric(ms(events[len(events)*99/100]), "event_p99_ms")
}

// eventLatencies updates canaries' status and measures how long until the
// new value is on /metrics: the time from issuing the update to the start of
// the first scrape that shows it. Each probe reads the exposition only up to
// the family it looks for, so probes are frequent even at 10k canaries.
func eventLatencies(b *testing.B, c *harness.Cluster, url string, n int) []time.Duration {
	const updates = 50
	var out []time.Duration
	for k := 0; k < updates; k++ {
		i := (k * 7919) % n
		v := int64(1000 + k)
		want := fmt.Sprintf("flagger_canary_status_failed_checks{namespace=%q,canary=\"service-%05d\"} %d", namespace(i), i, v)
		t0 := time.Now()
		if err := touch(c, i, v); err != nil {
			b.Fatal(err)
		}
		for {
			probe := time.Now()
			found, err := probeFor(url+"/metrics", want, "# HELP flagger_canary_status_iterations ")
			if err != nil {
				b.Fatal(err)
			}
			if found {
				out = append(out, probe.Sub(t0))
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("update %d never visible", k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// probeFor reads /metrics line by line until it sees want, or stop (the
// family after the one searched), and then hangs up.
func probeFor(url, want, stop string) (bool, error) {
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Get(url)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == want {
			return true, nil
		}
		if strings.HasPrefix(line, stop) {
			return false, nil
		}
	}
	return false, sc.Err()
}

// medianFetch serves h on loopback and returns the median time to fetch it.
func medianFetch(b *testing.B, h http.Handler, n int) time.Duration {
	srv := httptest.NewServer(h)
	defer srv.Close()
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := fetch(srv.URL, false); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func fetch(url string, gz bool) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	tr := &http.Transport{DisableCompression: true}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if gz && resp.Header.Get("Content-Encoding") == "gzip" {
		if _, err := gzip.NewReader(bytes.NewReader(body)); err != nil {
			return nil, fmt.Errorf("bad gzip: %w", err)
		}
	}
	return body, nil
}
