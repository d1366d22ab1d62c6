package mixin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// BenchmarkRuleGroups measures what the rendered rules cost the real
// Prometheus (bin/prometheus) at 10k canaries (420k series), without
// Kubernetes: a loopback server writes the exporter's exposition of a fleet
// like test/scale's (200 namespaces, phases mixed as in a real fleet) with
// exposition.Write, Prometheus scrapes it every 5 s and evaluates rules/*.yaml
// every 5 s, and the benchmark reports the median evaluation time of every
// group (/api/v1/rules evaluationTime) over BENCH_RULES_EVALS evaluations
// (default 8) once the data is in place.
//
// BENCH_RULES_BASELINE=<dir> adds an A/B in the same run: a directory of
// rule files (an earlier rendering of rules/, e.g. from `git show`) is
// measured too, in alternating rounds (baseline, current, baseline, current;
// BENCH_RULES_ROUNDS pairs, default 2), each round on a fresh Prometheus, and
// the metrics of both are reported (baseline_*). BENCH_RULES_CANARIES
// changes the fleet size.
//
//	go test -run '^$' -bench RuleGroups -benchtime 1x -timeout 30m -v ./mixin
//
// With -v it also logs every rule's median evaluation time.
//
// Skipped without bin/prometheus (`make $PWD/bin/prometheus`).
func BenchmarkRuleGroups(b *testing.B) {
	prom := filepath.Join(testutil.RepoRoot(b), "bin", "prometheus")
	if _, err := os.Stat(prom); err != nil {
		b.Skip("bin/prometheus not built")
	}
	n := envInt(b, "BENCH_RULES_CANARIES", 10000)
	evals := envInt(b, "BENCH_RULES_EVALS", 8)
	rounds := envInt(b, "BENCH_RULES_ROUNDS", 2)
	// Copies, so that a `make generate` during the run changes nothing.
	sets := []ruleSet{{name: "", files: copyRules(b, files(b, rulesDir, "*.yaml"))}}
	if dir := os.Getenv("BENCH_RULES_BASELINE"); dir != "" {
		base, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if len(base) == 0 {
			b.Fatalf("BENCH_RULES_BASELINE=%s: no *.yaml", dir)
		}
		sets = []ruleSet{{name: "baseline_", files: copyRules(b, base)}, sets[0]}
	} else {
		rounds = 1
	}

	var body atomic.Pointer[[]byte]
	target := serveExposition(b, &body)

	results := map[string]map[string][]float64{} // set → group → per-round medians (s)
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			for _, s := range sets {
				// A fleet as of now for every round, so that every round
				// sees the same alerts.
				fleet := fleetExposition(b, n, time.Now())
				body.Store(&fleet)
				if i == 0 && r == 0 && s.name == sets[0].name {
					b.Logf("exposition of %d canaries: %.1f MB, %d lines", n, float64(len(fleet))/1e6, bytes.Count(fleet, []byte("\n")))
				}
				groups := measureGroups(b, prom, target, s.files, evals)
				if results[s.name] == nil {
					results[s.name] = map[string][]float64{}
				}
				var line []string
				var total float64
				for _, g := range slices.Sorted(maps.Keys(groups)) {
					m := median(groups[g])
					total += m
					results[s.name][g] = append(results[s.name][g], m)
					line = append(line, fmt.Sprintf("%s %.0f ms", g, m*1000))
				}
				b.Logf("round %d %srules: total %.0f ms: %s", r+1, s.name, total*1000, strings.Join(line, ", "))
			}
		}
	}
	for _, s := range sets {
		var total float64
		for g, ms := range results[s.name] {
			m := median(ms)
			total += m
			b.ReportMetric(m*1000, s.name+"rules_"+g+"_ms")
		}
		b.ReportMetric(total*1000, s.name+"rules_total_ms")
	}
}

// copyRules copies rule files into a directory of their own.
func copyRules(b testing.TB, from []string) []string {
	dir := b.TempDir()
	var out []string
	for _, f := range from {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		to := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(to, raw, 0o644); err != nil {
			b.Fatal(err)
		}
		out = append(out, to)
	}
	return out
}

type ruleSet struct {
	name  string // metric prefix
	files []string
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchPhases is test/scale's mix: mostly Succeeded, some Progressing,
// Waiting, WaitingPromotion, Failed and Initialized.
var benchPhases = []flagger.Phase{
	flagger.PhaseInitialized, flagger.PhaseSucceeded, flagger.PhaseSucceeded, flagger.PhaseSucceeded,
	flagger.PhaseProgressing, flagger.PhaseWaiting, flagger.PhaseFailed, flagger.PhaseWaitingPromotion,
}

// fleetExposition is what flagger-exporter serves for n canaries over 200
// namespaces with test/scale's specs and phases, as of now: a fleet in a
// steady state (created a day ago, so that no Initialized notice fires, and
// every status written now, stamped an hour ahead so that
// ProgressDeadlineExceeded does not start firing in a slow round), plus
// the exporter's own series the alerts read. What does fire is what such a
// fleet has: RolledBack and canary_rollback for the Failed eighth,
// NewRevision for the quarter in a rollout, WaitingPromotionTooLong
// pending.
func fleetExposition(b testing.TB, n int, now time.Time) []byte {
	const namespaces = 200
	written := float64(now.Add(time.Hour).Unix())
	byNS := make([][]*exposition.Canary, namespaces)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("service-%05d", i)
		phase := benchPhases[i%len(benchPhases)]
		f := canary.Facts{
			Namespace: fmt.Sprintf("team-%03d", i%namespaces), Name: name,
			TargetKind: "Deployment", TargetName: name, Provider: "istio", Strategy: canary.StrategyCanary,
			Phase: phase, Promoted: canary.ConditionTrue,
			LastTransition: written, Created: float64(now.Unix()) - 86400,
			Threshold: 5, AnalysisIterations: canary.Absent, MaxWeight: 50, StepWeight: 10,
			IntervalSeconds: 60, ProgressDeadlineSeconds: 600, PromotionWeight: 50,
			Checksum: fmt.Sprintf("5f7b%05d", i),
		}
		f.Webhooks[0] = 1 // a rollout (load test) hook
		if phase == flagger.PhaseProgressing {
			f.CanaryWeight = float64(10 * (i % 5))
			f.FailedChecks = float64(i % 3)
		}
		var tr [exposition.NumTransitionPhases]uint64
		byNS[i%namespaces] = append(byNS[i%namespaces], exposition.Prepare(f, tr))
	}
	var cs []*exposition.Canary
	for _, ns := range byNS {
		cs = append(cs, ns...)
	}
	var buf bytes.Buffer
	if err := exposition.Write(&buf, cs); err != nil {
		b.Fatal(err)
	}
	buf.WriteString("# TYPE flagger_exporter_cache_synced gauge\nflagger_exporter_cache_synced 1\n")
	buf.WriteString(fmt.Sprintf("# TYPE flagger_exporter_canaries gauge\nflagger_exporter_canaries %d\n", n))
	return buf.Bytes()
}

// serveExposition serves *body at /metrics on loopback and returns
// host:port.
func serveExposition(b testing.TB, body *atomic.Pointer[[]byte]) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(*body.Load())
	})}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// measureGroups starts Prometheus on the rule files, waits until the
// exporter target has been scraped a few times and every group evaluated
// with the data in place, and returns the evaluation times (seconds) of
// evals evaluations of every group.
func measureGroups(b *testing.B, prom, target string, ruleFiles []string, evals int) map[string][]float64 {
	dir := b.TempDir()
	config := testutil.PrometheusRulesConfig(b, dir, ruleFiles, target)
	addr := testutil.FreeAddr(b)
	var out testutil.SyncBuffer
	cmd := exec.Command(prom, "--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	api := "http://" + addr
	fail := func(format string, args ...any) {
		b.Helper()
		b.Fatalf("%s\nPrometheus output:\n%s", fmt.Sprintf(format, args...), out.String())
	}

	// Ready, three scrapes of the exporter, and then one more evaluation of
	// every group, so that each has seen the data.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		select {
		case <-exited:
			fail("Prometheus exited")
		default:
		}
		if time.Now().After(deadline) {
			fail("no three scrapes of the exporter in time")
		}
		time.Sleep(time.Second)
		if v, ok := instant(api, `count_over_time(up{job="flagger-exporter"}[1m]) >= 3 and up{job="flagger-exporter"} == 1`); ok && v > 0 {
			break
		}
	}
	start := time.Now()
	seen := map[string]time.Time{}
	got := map[string][]float64{}
	perRule := map[string][]float64{}
	for {
		if time.Now().After(deadline) {
			fail("rule groups did not complete %d evaluations in time: %v", evals, got)
		}
		groups, err := ruleGroups(api)
		if err != nil {
			fail("%v", err)
		}
		done := len(groups) > 0
		for _, g := range groups {
			if g.Health() != "" {
				fail("group %s: %s", g.Name, g.Health())
			}
			if g.LastEvaluation.After(start) && g.LastEvaluation != seen[g.Name] {
				// The first evaluation that started after the scrapes is
				// the warm-up; keep the following ones.
				if !seen[g.Name].IsZero() && seen[g.Name].After(start) {
					got[g.Name] = append(got[g.Name], g.EvaluationTime)
					for i, r := range g.Rules {
						k := fmt.Sprintf("%s/%02d %s", g.Name, i, r.Name)
						perRule[k] = append(perRule[k], r.EvaluationTime)
					}
				}
				seen[g.Name] = g.LastEvaluation
			}
			if len(got[g.Name]) < evals {
				done = false
			}
		}
		if done {
			if testing.Verbose() {
				var lines []string
				for _, k := range slices.Sorted(maps.Keys(perRule)) {
					lines = append(lines, fmt.Sprintf("  %6.1f ms  %s", median(perRule[k])*1000, k))
				}
				b.Logf("median per rule:\n%s", strings.Join(lines, "\n"))
			}
			return got
		}
		time.Sleep(time.Second)
	}
}

type apiGroup struct {
	Name           string    `json:"name"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Rules          []struct {
		Name           string  `json:"name"`
		Health         string  `json:"health"`
		LastError      string  `json:"lastError"`
		EvaluationTime float64 `json:"evaluationTime"`
	} `json:"rules"`
}

// Health is the first rule error of the group, "" when none.
func (g apiGroup) Health() string {
	for _, r := range g.Rules {
		if r.LastError != "" {
			return r.Name + ": " + r.LastError
		}
	}
	return ""
}

func ruleGroups(api string) ([]apiGroup, error) {
	var resp struct {
		Data struct {
			Groups []apiGroup `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(api+"/api/v1/rules", &resp); err != nil {
		return nil, err
	}
	return resp.Data.Groups, nil
}

// instant returns the first value of an instant query; false when the query
// fails or returns nothing.
func instant(api, q string) (float64, bool) {
	var resp struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(api+"/api/v1/query?query="+url.QueryEscape(q), &resp); err != nil || len(resp.Data.Result) == 0 {
		return 0, false
	}
	s, _ := resp.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func getJSON(u string, into any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
