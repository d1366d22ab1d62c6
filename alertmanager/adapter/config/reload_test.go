package config_test

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
)

type reloadFixture struct {
	path   string
	r      *config.Reloader
	reg    *prometheus.Registry
	logs   *bytes.Buffer
	swaps  int
	secret string
}

func newReloadFixture(t *testing.T) *reloadFixture {
	f := &reloadFixture{path: filepath.Join(t.TempDir(), "c.yml"), reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}, secret: "hunter2-token"}
	f.r = config.NewReloader(f.path, config.Identity{UserAgent: "test"}, log.NewLogfmtLogger(log.NewSyncWriter(f.logs)), f.reg, func(*config.Runtime) { f.swaps++ })
	return f
}

func (f *reloadFixture) write(t *testing.T, s string) { write(t, f.path, s) }

func lastOK(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "flagger_event_adapter_config_last_reload_successful" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("reload metric missing")
	return 0
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	f := newReloadFixture(t)
	if f.r.Ready() == nil {
		t.Fatal("ready before any load")
	}
	f.write(t, "targets: [{name: first, url: 'https://x.example/"+f.secret+"', http_config: {basic_auth: {username: u, password: "+f.secret+"}}}]")
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	first := f.r.Current()
	if f.r.Ready() != nil || first.Targets[0].Name != "first" || lastOK(t, f.reg) != 1 || f.swaps != 1 {
		t.Fatalf("first load: %+v", first)
	}

	for _, bad := range []string{"targets: [", "targets: []", "targets: [{name: a, url: 'ftp://" + f.secret + "'}]"} {
		f.write(t, bad)
		if err := f.r.Reload(); err == nil {
			t.Fatalf("%q accepted", bad)
		}
		if f.r.Current() != first || lastOK(t, f.reg) != 0 || f.swaps != 1 {
			t.Fatalf("invalid config %q replaced the running one", bad)
		}
	}

	f.write(t, "targets: [{name: second, url: 'http://y.example/'}]")
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	if f.r.Current().Targets[0].Name != "second" || lastOK(t, f.reg) != 1 || f.swaps != 2 {
		t.Fatal("valid config after an invalid one not applied")
	}
	if strings.Contains(f.logs.String(), f.secret) {
		t.Errorf("logs leak a secret:\n%s", f.logs)
	}
	if !strings.Contains(f.logs.String(), "keeping the previous one") {
		t.Errorf("refused reload not logged:\n%s", f.logs)
	}
}

func TestReloadOnSignal(t *testing.T) {
	f := newReloadFixture(t)
	f.write(t, "targets: [{name: first, url: 'http://x.example/'}]")
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The same wiring as the main: a real SIGHUP to this process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	go func() { config.ReloadOnSignal(ctx, sigs, f.r.Reload); close(done) }()

	f.write(t, "targets: [{name: after-hup, url: 'http://x.example/'}]")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.r.Current().Targets[0].Name == "after-hup" })

	f.write(t, "not: [valid")
	sigs <- syscall.SIGHUP
	waitFor(t, func() bool { return lastOK(t, f.reg) == 0 })
	if f.r.Current().Targets[0].Name != "after-hup" {
		t.Error("invalid config applied on SIGHUP")
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
