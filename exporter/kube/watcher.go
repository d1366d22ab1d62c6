// Package kube watches Flagger Canary objects with client-go informers and
// feeds their decoded facts to a Sink. It survives a missing CRD, missing
// RBAC and API server restarts: such failures are retried at most 2 s apart
// (retry.go), everything else by client-go's reflector, and this package
// reports each kind of failure once, with its fix.
package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// CanaryResource is Flagger's Canary resource.
var CanaryResource = schema.GroupVersionResource{Group: flagger.Group, Version: flagger.Version, Resource: flagger.Resource}

// Sink receives every change to a canary.
type Sink interface {
	Upsert(canary.Facts)
	Delete(namespace, name string) bool
}

// Config configures a Watcher.
type Config struct {
	Client        dynamic.Interface
	Namespaces    []string // nil or empty: all namespaces
	LabelSelector string
	// Shard is the part of the canaries to watch; the zero value: all.
	Shard      Shard
	Sink       Sink
	Logger     log.Logger
	Registerer prometheus.Registerer
	// Decode holds the Flagger settings decoding needs (the global mesh
	// provider).
	Decode canary.Options
}

// Watcher watches the canaries of the watched namespaces (Informers).
type Watcher struct {
	informers *Informers
	sink      Sink
	logger    log.Logger
	metrics   *metrics

	mu      sync.Mutex
	problem string // reason of the failure being reported, "" when healthy
}

// New validates the configuration and sets up the informers.
func New(c Config) (*Watcher, error) {
	if c.LabelSelector != "" {
		if _, err := labels.Parse(c.LabelSelector); err != nil {
			return nil, fmt.Errorf("invalid label selector %q: %w", c.LabelSelector, err)
		}
	}
	w := &Watcher{sink: c.Sink, logger: c.Logger}
	var err error
	w.informers, err = NewInformers(InformerConfig{
		Client: c.Client, Namespaces: c.Namespaces, Resource: CanaryResource,
		Tweak:     func(o *metav1.ListOptions) { o.LabelSelector = c.LabelSelector },
		Keep:      c.Shard.Keep(func(u *unstructured.Unstructured) types.UID { return u.GetUID() }),
		Transform: transform(c.Decode),
		OnError:   w.watchError,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    w.upsert,
			UpdateFunc: func(_, obj any) { w.upsert(obj) },
			DeleteFunc: w.delete,
		},
	})
	if err != nil {
		return nil, err
	}
	w.metrics = newMetrics(c.Registerer, w)
	return w, nil
}

// Run starts the informers and blocks until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	go w.reportSync(ctx)
	w.informers.Run(ctx)
}

// reportSync logs once when every informer has listed its canaries.
func (w *Watcher) reportSync(ctx context.Context) {
	start := time.Now()
	if cache.WaitForCacheSync(ctx.Done(), w.informers.HasSynced) {
		level.Info(w.logger).Log("msg", "canary cache synced", "canaries", w.informers.Len(), "duration", time.Since(start))
	}
}

// Synced returns nil once every informer has completed its first list, and
// otherwise why not.
func (w *Watcher) Synced() error {
	if w.informers.HasSynced() {
		return nil
	}
	w.mu.Lock()
	p := w.problem
	w.mu.Unlock()
	if p != "" {
		return fmt.Errorf("canary cache not synced: %s", p)
	}
	return errors.New("canary cache not synced yet")
}

func (w *Watcher) watchError(_ context.Context, _ *cache.Reflector, err error) {
	p := classify(err)
	w.metrics.watchErrors.WithLabelValues(p.reason).Inc()
	if p == problemCRDMissing {
		w.dropAll()
	}
	if p.fix == "" {
		level.Debug(w.logger).Log("msg", "canary watch ended; re-established", "reason", p.reason, "err", err)
		return
	}
	w.mu.Lock()
	first := w.problem != p.reason
	w.problem = p.reason
	w.mu.Unlock()
	if first {
		level.Error(w.logger).Log("msg", "cannot list or watch canaries; retrying every few seconds", "reason", p.reason, "fix", p.fix, "err", err)
	} else {
		level.Debug(w.logger).Log("msg", "canary watch still failing", "reason", p.reason, "err", err)
	}
}

// dropAll removes every cached canary from the sink. Without the CRD no
// canary exists; the informers' caches can still hold some when the watch
// was down while the CRD (and with it every canary) was deleted, and their
// series would otherwise stay until the CRD returns. The caches keep them:
// the relist after the CRD returns re-adds what exists again (as updates)
// and deletes the rest, which the sink ignores.
func (w *Watcher) dropAll() {
	for _, key := range w.informers.Keys() {
		if ns, name, err := cache.SplitMetaNamespaceKey(key); err == nil && w.sink.Delete(ns, name) {
			level.Debug(w.logger).Log("msg", "canary dropped: its CRD is gone", "namespace", ns, "name", name)
		}
	}
}

// recovered clears a reported problem when objects flow again.
func (w *Watcher) recovered() {
	w.mu.Lock()
	p := w.problem
	w.problem = ""
	w.mu.Unlock()
	if p != "" {
		level.Info(w.logger).Log("msg", "canary watch recovered", "previous_problem", p)
	}
}

func (w *Watcher) upsert(obj any) {
	o, ok := obj.(*object)
	if !ok {
		return
	}
	w.recovered()
	d := o.take()
	switch {
	case d == nil: // already handed over: nothing new
	case d.err != nil:
		w.metrics.decodeErrors.Inc()
		level.Warn(w.logger).Log("msg", "canary not exported", "namespace", o.Namespace, "name", o.Name, "err", d.err)
	default:
		if len(d.warnings) > 0 {
			w.metrics.decodeWarnings.Inc()
			level.Debug(w.logger).Log("msg", "canary exported with fields ignored", "namespace", o.Namespace, "name", o.Name, "warnings", fmt.Sprint(d.warnings))
		}
		w.sink.Upsert(d.facts)
	}
}

func (w *Watcher) delete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		if o, ok := tomb.Obj.(*object); ok {
			obj = o
		} else if ns, name, err := cache.SplitMetaNamespaceKey(tomb.Key); err == nil {
			w.sink.Delete(ns, name)
			return
		}
	}
	if o, ok := obj.(*object); ok {
		w.sink.Delete(o.Namespace, o.Name)
	}
}
