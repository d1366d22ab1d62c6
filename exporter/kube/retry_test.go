package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

var canaryGR = schema.GroupResource{Group: "flagger.app", Resource: "canaries"}

func TestPersistent(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for err, want := range map[error]bool{
		apierrors.NewNotFound(canaryGR, ""):                              true,
		apierrors.NewForbidden(canaryGR, "", errors.New("rbac")):         true,
		apierrors.NewUnauthorized("token expired"):                       true,
		fmt.Errorf("Get https://api: %w", refused):                       true,
		apierrors.NewResourceExpired("too old resource version: 1"):      false,
		fmt.Errorf("watch: %w", apierrors.NewResourceExpired("too old")): false,
		apierrors.NewTooManyRequests("slow down", 1):                     false,
		apierrors.NewInternalError(errors.New("etcd")):                   false,
	} {
		if got := persistent(err); got != want {
			t.Errorf("persistent(%v) = %v, want %v", err, got, want)
		}
	}
}

func TestRetryPersistentFailures(t *testing.T) {
	fails := []error{
		apierrors.NewForbidden(canaryGR, "", errors.New("rbac")),
		apierrors.NewNotFound(canaryGR, ""),
		errors.New("dial tcp: connection refused"),
	}
	var reported []error
	calls := 0
	start := time.Now()
	v, err := retry(t.Context(), func(err error) { reported = append(reported, err) }, func() (int, error) {
		calls++
		if calls <= len(fails) {
			return 0, fails[calls-1]
		}
		return 42, nil
	})
	if err != nil || v != 42 {
		t.Fatalf("retry = %v, %v; want 42 after the failures", v, err)
	}
	if calls != 4 || len(reported) != 3 {
		t.Errorf("%d calls, %d reported; want 4 calls and each of the 3 failures reported", calls, len(reported))
	}
	// Delays 0.125-0.25, 0.25-0.5, 0.5-1 s: 0.875-1.75 s, with room for a
	// loaded machine above.
	if d := time.Since(start); d < 875*time.Millisecond || d > 3*time.Second {
		t.Errorf("three retries took %v, want 0.875-1.75 s (3 s at most)", d)
	}
}

func TestRetryPassesOtherErrorsBack(t *testing.T) {
	expired := apierrors.NewResourceExpired("too old resource version: 1")
	calls := 0
	_, err := retry(t.Context(), func(error) { t.Error("expired reported as persistent") }, func() (int, error) {
		calls++
		return 0, expired
	})
	if err != expired || calls != 1 {
		t.Errorf("got %v after %d calls; want the 410 back to the reflector at once", err, calls)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	forbidden := apierrors.NewForbidden(canaryGR, "", errors.New("rbac"))
	_, err := retry(ctx, func(error) {}, func() (int, error) { return 0, forbidden })
	if err != forbidden || ctx.Err() == nil {
		t.Errorf("got %v with ctx %v; want the last error once ctx ends", err, ctx.Err())
	}
}

// A 410 inside an established watch ends it; it is reported, and passed on
// for the reflector to relist.
func TestReportErrorsInWatch(t *testing.T) {
	fake := watch.NewFake()
	var reported []string
	w := filter(fake, nil, func(err error) { reported = append(reported, classify(err).reason) })
	gone := apierrors.NewResourceExpired("too old resource version: 5 (9)").ErrStatus
	go func() {
		fake.Add(&unstructured.Unstructured{Object: map[string]any{"kind": "Canary"}})
		fake.Error(&gone)
		fake.Stop()
	}()
	var types []watch.EventType
	for e := range w.ResultChan() {
		types = append(types, e.Type)
	}
	if len(types) != 2 || types[0] != watch.Added || types[1] != watch.Error {
		t.Errorf("events passed on: %v, want ADDED and ERROR", types)
	}
	if len(reported) != 1 || reported[0] != "expired" {
		t.Errorf("reported %v, want one expired", reported)
	}
}

// Stopped while an event waits for a reader that has gone: the proxy ends
// (its result channel closes) instead of blocking for ever.
func TestReportErrorsStops(t *testing.T) {
	fake := watch.NewFakeWithChanSize(1, false)
	w := filter(fake, nil, func(error) {})
	fake.Add(&unstructured.Unstructured{Object: map[string]any{"kind": "Canary"}})
	time.Sleep(50 * time.Millisecond) // the proxy holds the event, nobody reads
	w.Stop()
	time.Sleep(100 * time.Millisecond)
	select {
	case e, ok := <-w.ResultChan():
		if ok {
			t.Errorf("after Stop the proxy still held %s for a reader: it would block for ever without one", e.Type)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the proxy did not end after Stop")
	}
}
