package kube

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Failures that last until someone acts (the API server unreachable, the
// CRD missing, RBAC or credentials wrong) are retried here instead of by
// client-go's reflector. Its backoff doubles from 0.8 s to a 30 s cap with up
// to 100% jitter and only resets after two quiet minutes, so once such a
// failure has lasted a minute the exporter would take up to another minute to
// notice the fix. Here the attempts are at most retryMax apart: metrics are
// right again within a few seconds of the fix, for one list or watch request
// per informer every two seconds while it lasts.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 2 * time.Second
)

// persistent reports whether err is a failure worth retrying in place. API
// answers such as 410 Gone (expired resource version) or 429 go back to the
// reflector, which relists or backs off as the API server asks.
func persistent(err error) bool {
	switch classify(err) {
	case problemCRDMissing, problemForbidden, problemUnauthorized:
		return true
	}
	// Not an API answer at all: the connection failed. errors.As, so that a
	// wrapped 410 still goes back to the reflector instead of being retried
	// with the same resource version for ever.
	var status apierrors.APIStatus
	return !errors.As(err, &status)
}

// retrying lists and watches resource in namespace through client, retrying
// persistent failures, reporting each attempt's error to onError and
// dropping the objects keep rejects (nil keeps all) before the informer sees
// them, so its cache holds only this shard's.
func retrying(client dynamic.Interface, resource schema.GroupVersionResource, namespace string, tweak func(*metav1.ListOptions), keep Keep, onError func(error)) cache.ListerWatcher {
	r := client.Resource(resource).Namespace(namespace)
	options := func(o metav1.ListOptions) metav1.ListOptions {
		if tweak != nil {
			tweak(&o)
		}
		return o
	}
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			list, err := retry(ctx, onError, func() (*unstructured.UnstructuredList, error) { return r.List(ctx, options(o)) })
			if err != nil {
				return nil, err
			}
			if keep != nil {
				list.Items = slices.DeleteFunc(list.Items, func(u unstructured.Unstructured) bool { return !keep(&u) })
			}
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			w, err := retry(ctx, onError, func() (watch.Interface, error) { return r.Watch(ctx, options(o)) })
			if err != nil {
				return nil, err
			}
			return filter(w, keep, onError), nil
		},
	}, client)
}

// retry calls call until it succeeds, fails for a reason that is not
// persistent, or ctx ends.
func retry[T any](ctx context.Context, onError func(error), call func() (T, error)) (T, error) {
	delay := retryMin
	for {
		v, err := call()
		if err == nil || ctx.Err() != nil || !persistent(err) {
			return v, err
		}
		onError(err)
		// Jitter spreads the replicas of an exporter that all lost access at once.
		t := time.NewTimer(delay/2 + rand.N(delay/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// Keep reports whether an object belongs to this exporter (its Shard).
type Keep func(*unstructured.Unstructured) bool

// filter passes a watch's events through, but for the objects keep rejects,
// and reports its ERROR events, such as the 410 Gone that ends a watch whose
// resource version expired while it was established: the reflector relists
// then without calling its error handler, so the relist would otherwise go
// uncounted. BOOKMARK events always pass: a streaming list (WatchList) ends
// its initial events with one. Unlike apimachinery's watch.Filter, its
// goroutine also ends when Stop is called while an event waits for a reader
// that has gone.
func filter(w watch.Interface, keep Keep, onError func(error)) watch.Interface {
	r := &filteredWatch{incoming: w, result: make(chan watch.Event), done: make(chan struct{})}
	go r.loop(keep, onError)
	return r
}

type filteredWatch struct {
	incoming watch.Interface
	result   chan watch.Event
	done     chan struct{}
	stop     sync.Once
}

func (r *filteredWatch) ResultChan() <-chan watch.Event { return r.result }

func (r *filteredWatch) Stop() {
	r.stop.Do(func() { close(r.done) })
	r.incoming.Stop()
}

func (r *filteredWatch) loop(keep Keep, onError func(error)) {
	defer close(r.result)
	in := r.incoming.ResultChan()
	for {
		select {
		case <-r.done:
			return
		case e, ok := <-in:
			if !ok {
				return
			}
			switch e.Type {
			case watch.Error:
				onError(apierrors.FromObject(e.Object))
			case watch.Added, watch.Modified, watch.Deleted:
				// An object's UID, and so its shard, never changes: a
				// rejected object's modifications and deletion are
				// never this shard's either.
				if u, ok := e.Object.(*unstructured.Unstructured); ok && keep != nil && !keep(u) {
					continue
				}
			}
			select {
			case r.result <- e:
			case <-r.done:
				return
			}
		}
	}
}
