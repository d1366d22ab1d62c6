package kube

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Informers are the exporter's way of watching one resource: one filtered
// informer per watched namespace (one in all for the cluster-wide default),
// each keeping only what transform makes of an object, reporting its
// list/watch failures to onError and its changes to handler. The canary
// watch and the Events watch both use it.
type Informers struct {
	informers []cache.SharedIndexInformer
	// handlers have synced once handler has seen every listed object: an
	// informer's own HasSynced turns true before its handlers have run.
	handlers []cache.ResourceEventHandlerRegistration
}

// InformerConfig configures Informers.
type InformerConfig struct {
	Client     dynamic.Interface
	Namespaces []string // nil or empty: all namespaces
	Resource   schema.GroupVersionResource
	Tweak      func(*metav1.ListOptions) // label or field selector
	Keep       Keep                      // this shard's objects; nil: all
	Transform  cache.TransformFunc
	OnError    cache.WatchErrorHandlerWithContext
	Handler    cache.ResourceEventHandler
}

// NewInformers sets the informers up; Run starts them.
func NewInformers(c InformerConfig) (*Informers, error) {
	namespaces := Dedupe(c.Namespaces)
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	in := &Informers{}
	for _, ns := range namespaces {
		onError := func(err error) { c.OnError(context.Background(), nil, err) }
		inf := cache.NewSharedIndexInformerWithOptions(
			retrying(c.Client, c.Resource, ns, c.Tweak, c.Keep, onError),
			&unstructured.Unstructured{},
			cache.SharedIndexInformerOptions{ObjectDescription: c.Resource.String()},
		)
		if err := inf.SetTransform(c.Transform); err != nil {
			return nil, err
		}
		if err := inf.SetWatchErrorHandlerWithContext(c.OnError); err != nil {
			return nil, err
		}
		reg, err := inf.AddEventHandler(c.Handler)
		if err != nil {
			return nil, err
		}
		in.informers = append(in.informers, inf)
		in.handlers = append(in.handlers, reg)
	}
	return in, nil
}

// Run starts the informers, blocks until ctx is done and waits for them to
// stop.
func (in *Informers) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, inf := range in.informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
	}
	wg.Wait()
}

// HasSynced reports whether the handler has seen every object of every
// informer's first list.
func (in *Informers) HasSynced() bool {
	for _, h := range in.handlers {
		if !h.HasSynced() {
			return false
		}
	}
	return true
}

// Len is the number of objects in the informers' caches.
func (in *Informers) Len() int {
	n := 0
	for _, inf := range in.informers {
		n += len(inf.GetStore().ListKeys())
	}
	return n
}

// Keys are the namespace/name keys of the objects in the informers' caches.
func (in *Informers) Keys() []string {
	var keys []string
	for _, inf := range in.informers {
		keys = append(keys, inf.GetStore().ListKeys()...)
	}
	return keys
}

// Dedupe drops repeated namespaces, keeping the first of each.
func Dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
