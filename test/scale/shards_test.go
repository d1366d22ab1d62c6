package scale

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// BenchmarkExporterShards splits 100k canaries over 4 exporter shards
// (--shard/--total-shards) started together, and one unsharded exporter on
// the same fleet as the baseline of the same run. Per shard: time to ready,
// RSS, scrape latency and size. Then shard 2 restarts while the other three
// are scraped without pause: every scrape of every shard must export
// exactly the canaries it exported before (none taken over, none lost), and
// the restarted shard exactly its own again; across the shards every
// canary is exported once.
func BenchmarkExporterShards(b *testing.B) {
	const total, shards = 100000, 4
	c := harness.Start(b)
	c.InstallCRDs(b, harness.CanaryCRD())
	for i := 0; i < namespaces; i++ {
		if _, err := c.Kube.CoreV1().Namespaces().Create(b.Context(), harness.Namespace(namespace(i)), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	grow(b, c, 0, total)
	b.Logf("created %d canaries in %v", total, time.Since(start).Round(time.Second))

	for i := 0; i < b.N; i++ {
		// The baseline alone first, so the shards' figures are not
		// inflated by it.
		one := startExporter(b, c)
		oneKeys, oneScrape, oneSize := scrapeKeys(b, one.url, 3)
		if len(oneKeys) != total {
			b.Fatalf("unsharded exporter exports %d canaries, want %d", len(oneKeys), total)
		}
		oneRSS, _ := rssBytes(one.Pid())
		one.Stop()

		var wg sync.WaitGroup
		ex := make([]*started, shards)
		for s := range ex {
			wg.Go(func() {
				ex[s] = startExporter(b, c, "--shard", strconv.Itoa(s), "--total-shards", strconv.Itoa(shards))
			})
		}
		wg.Wait()
		owned := make([]map[string]bool, shards)
		seen := map[string]int{}
		var worstReady, worstScrape time.Duration
		var worstRSS, sumRSS float64
		for s, e := range ex {
			keys, scrape, size := scrapeKeys(b, e.url, 3)
			owned[s] = keys
			for k := range keys {
				seen[k]++
			}
			rss, _ := rssBytes(e.Pid())
			b.Logf("shard %d: %d canaries, ready %v, RSS %.1f MB, scrape %v (%.1f MB)", s, len(keys), e.ready.Round(time.Millisecond), rss/1e6, scrape.Round(time.Millisecond), float64(size)/1e6)
			worstReady, worstScrape, worstRSS = max(worstReady, e.ready), max(worstScrape, scrape), max(worstRSS, rss)
			sumRSS += rss
		}
		checkOnce(b, seen, total)

		// Restart shard 2, scraping the others all the while.
		stop := make(chan struct{})
		var mu sync.Mutex
		var problems []string
		scrapes := 0
		for _, s := range []int{0, 1, 3} {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					keys, _, _, err := tryScrapeKeys(ex[s].url, 1)
					d := diff(keys, owned[s])
					if err != nil {
						d = err.Error()
					}
					mu.Lock()
					scrapes++
					if d != "" {
						problems = append(problems, fmt.Sprintf("shard %d during the restart: %s", s, d))
					}
					mu.Unlock()
					time.Sleep(500 * time.Millisecond) // about a scrape interval

				}
			})
		}
		ex[2].Stop()
		restart := time.Now()
		ex[2] = startExporter(b, c, "--shard", "2", "--total-shards", strconv.Itoa(shards))
		restarted := time.Since(restart)
		keys, _, _ := scrapeKeys(b, ex[2].url, 1)
		time.Sleep(2 * time.Second) // the others keep being scraped
		close(stop)
		wg.Wait()
		if d := diff(keys, owned[2]); d != "" {
			problems = append(problems, "shard 2 after its restart: "+d)
		}
		for _, p := range problems {
			b.Error(p)
		}
		b.Logf("shard 2 restarted and ready in %v; %d scrapes of the other shards meanwhile, all unchanged", restarted.Round(time.Millisecond), scrapes)

		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(one.ready.Seconds(), "unsharded_ready_s")
		b.ReportMetric(oneRSS/1e6, "unsharded_rss_MB")
		b.ReportMetric(ms(oneScrape), "unsharded_scrape_ms")
		b.ReportMetric(float64(oneSize)/1e6, "unsharded_text_MB")
		b.ReportMetric(worstReady.Seconds(), "shard_ready_max_s")
		b.ReportMetric(worstRSS/1e6, "shard_rss_max_MB")
		b.ReportMetric(sumRSS/1e6, "shards_rss_sum_MB")
		b.ReportMetric(ms(worstScrape), "shard_scrape_max_ms")
		b.ReportMetric(float64(worstScrape)/float64(oneScrape), "x_unsharded_scrape")
		b.ReportMetric(restarted.Seconds(), "restart_ready_s")
	}
}

type started struct {
	*harness.Process
	url   string
	ready time.Duration // process start → /-/ready 200
}

// startExporter starts the exporter binary on c's canaries and waits until
// it is ready.
func startExporter(b *testing.B, c *harness.Cluster, args ...string) *started {
	addr := harness.FreeAddr(b)
	bin := harness.Build(b, "flagger-exporter")
	url := "http://" + addr
	t0 := time.Now()
	p := harness.StartProcess(b, bin, append([]string{"--kubeconfig", c.Kubeconfig, "--web.listen-address", addr}, args...)...)
	for {
		if s, _ := harness.Get(url + "/-/ready"); s == http.StatusOK {
			return &started{Process: p, url: url, ready: time.Since(t0)}
		}
		if p.Exited() || time.Since(t0) > 5*time.Minute {
			b.Fatalf("exporter not ready:\n%s", p.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// scrapeKeys scrapes url n times and returns the namespace/canary of every
// flagger_canary_status series of the last scrape, the median scrape time
// (the whole body read) and the body's size.
func scrapeKeys(b *testing.B, url string, n int) (map[string]bool, time.Duration, int) {
	keys, d, size, err := tryScrapeKeys(url, n)
	if err != nil {
		b.Fatal(err)
	}
	return keys, d, size
}

func tryScrapeKeys(url string, n int) (map[string]bool, time.Duration, int, error) {
	var keys map[string]bool
	var times []time.Duration
	size := 0
	for range n {
		t0 := time.Now()
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Get(url + "/metrics")
		if err != nil {
			return nil, 0, 0, err
		}
		keys, size = map[string]bool{}, 0
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			size += len(line) + 1
			if rest, ok := strings.CutPrefix(line, "flagger_canary_status{"); ok {
				keys[label(rest, "namespace")+"/"+label(rest, "canary")] = true
			}
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return nil, 0, 0, err
		}
		times = append(times, time.Since(t0))
	}
	return keys, median(times), size, nil
}

// label is the value of name in a series' label pairs (no escapes: the
// fleet's names have none).
func label(pairs, name string) string {
	_, v, _ := strings.Cut(pairs, name+`="`)
	v, _, _ = strings.Cut(v, `"`)
	return v
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// checkOnce fails unless every one of total canaries was seen exactly once.
func checkOnce(b *testing.B, seen map[string]int, total int) {
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	if len(seen) != total || twice > 0 {
		b.Errorf("across the shards: %d canaries of %d, %d of them on more than one shard", len(seen), total, twice)
	}
}

// diff is "" when got and want hold the same keys, else what differs.
func diff(got, want map[string]bool) string {
	missing, extra := 0, 0
	for k := range want {
		if !got[k] {
			missing++
		}
	}
	for k := range got {
		if !want[k] {
			extra++
		}
	}
	if missing == 0 && extra == 0 {
		return ""
	}
	return fmt.Sprintf("%d canaries missing, %d not its own", missing, extra)
}
