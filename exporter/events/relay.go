package events

import (
	"context"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// EventResource is core/v1 Events, the API Flagger's recorder writes.
var EventResource = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// canarySelector asks the API server for Events on Canaries only.
var canarySelector = fields.Set{
	"involvedObject.kind":       flagger.Kind,
	"involvedObject.apiVersion": flagger.Group + "/" + flagger.Version,
}.String()

// Canaries is what the relay reads about a canary when it relays a step:
// its phase and checksum, as Flagger's own post carries them. Only canaries
// the exporter exports are relayed, so its namespace and label selection
// hold for Events too.
type Canaries interface {
	Lookup(namespace, name string) (canary.Facts, bool)
}

// Sender takes one alert for Alertmanager and never blocks (see Forwarder).
type Sender interface{ Send(Alert) }

// Config configures a Relay.
type Config struct {
	Client     dynamic.Interface
	Namespaces []string // nil or empty: all namespaces
	// Shard: only the Events on this shard's canaries are cached, by the
	// involved Canary's UID.
	Shard    kube.Shard
	Canaries Canaries
	Sender   Sender // nil: only the latest-step metric, nothing is sent
	// Lifetime is how long a step's alert stays firing in Alertmanager, and
	// how old an Event found at start-up may be to be (re)sent: Alertmanager
	// merges a re-sent alert with the one it holds, so a restart neither
	// loses a step of the last Lifetime nor notifies one twice.
	Lifetime time.Duration
	// Severity is the alerts' severity label (DefaultSeverity if empty): the
	// mixin's notices' (its noticeSeverity), so routes and inhibitions treat
	// a step like them.
	Severity   string
	Logger     log.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time // default time.Now
}

// Relay watches the Events of Canaries. It is safe for concurrent use.
type Relay struct {
	c         Config
	informers *kube.Informers
	metrics   *metrics

	mu       sync.Mutex
	sent     map[string]int32   // Event uid → the occurrence last handled
	latest   map[[2]string]Step // namespace, canary → its latest step
	reported string             // the watch failure already logged, "" when healthy
}

// New sets up the informers; Run starts them.
func New(c Config) (*Relay, error) {
	if c.Logger == nil {
		c.Logger = log.NewNopLogger()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Severity == "" {
		c.Severity = DefaultSeverity
	}
	r := &Relay{c: c, sent: map[string]int32{}, latest: map[[2]string]Step{}}
	var err error
	r.informers, err = kube.NewInformers(kube.InformerConfig{
		Client: c.Client, Namespaces: c.Namespaces, Resource: EventResource,
		Tweak:     func(o *metav1.ListOptions) { o.FieldSelector = canarySelector },
		Keep:      c.Shard.Keep(involvedUID),
		Transform: transform,
		OnError:   r.watchError,
		Handler: cache.ResourceEventHandlerDetailedFuncs{
			AddFunc:    func(obj any, initial bool) { r.observe(obj, initial) },
			UpdateFunc: func(_, obj any) { r.observe(obj, false) },
			DeleteFunc: r.forgetEvent,
		},
	})
	if err != nil {
		return nil, err
	}
	r.metrics = newMetrics(c.Registerer, r)
	return r, nil
}

// Run starts the informers and blocks until ctx is done.
func (r *Relay) Run(ctx context.Context) { r.informers.Run(ctx) }

// Synced reports whether every informer has completed its first list.
// Occurrences before that are seen only as each Event's latest.
func (r *Relay) Synced() bool { return r.informers.HasSynced() }

// object is what the informer's cache keeps per Event: its identity and the
// decoded step, not the whole object.
type object struct {
	metav1.TypeMeta
	metav1.ObjectMeta // Name, Namespace, UID and ResourceVersion only

	step Step
	ok   bool // an Event on a Canary with a message
}

func (o *object) DeepCopyObject() runtime.Object {
	c := *o
	o.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	return &c
}

// involvedUID is the UID of the Canary an Event is about.
func involvedUID(u *unstructured.Unstructured) types.UID {
	uid, _, _ := unstructured.NestedString(u.Object, "involvedObject", "uid")
	return types.UID(uid)
}

func transform(in any) (any, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return in, nil
	}
	o := &object{ObjectMeta: metav1.ObjectMeta{
		Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
	}}
	o.step, o.ok = Decode(u)
	return o, nil
}

// observe handles an Event as it is created or updated: every update of a
// recorder's Event is a new occurrence (count + 1, and for an aggregated
// Event a new message). initial marks the informer's first list, which
// holds Events from before the start: only those younger than Lifetime are
// sent, and Alertmanager drops the ones it already has.
func (r *Relay) observe(obj any, initial bool) {
	o, ok := obj.(*object)
	if !ok || !o.ok {
		return
	}
	s := o.step
	facts, exported := r.c.Canaries.Lookup(s.Namespace, s.Canary)
	if !exported {
		r.metrics.ignored.Inc()
		return
	}
	// An old Event comes from a list (the first, or a relist after the
	// watch could not resume): announcing it now would call a past step
	// new. Live occurrences are stamped as they happen.
	now := r.c.Now()
	stale := !s.Time.IsZero() && now.Sub(s.Time) > r.c.Lifetime
	listed := initial || stale

	r.mu.Lock()
	r.reported = "" // events flow: a logged watch failure is over
	last, known := r.sent[s.UID]
	if known && s.Count <= last {
		r.mu.Unlock()
		return // a resync or a metadata-only change: no new occurrence
	}
	r.sent[s.UID] = s.Count
	// The mixin's notices stand for lifecycle events: neither the latest
	// step nor sent.
	lifecycle := flagger.IsLifecycleMessage(s.Message)
	key := [2]string{s.Namespace, s.Canary}
	// Live, the watch's order is the order Flagger wrote in; the
	// one-second timestamps are not (the aggregator stamps its own clock).
	// A list comes in name order, so there the time decides.
	if l, ok := r.latest[key]; !lifecycle && (!ok || !listed || !s.Time.Before(l.Time)) {
		r.latest[key] = s
	}
	r.mu.Unlock()

	r.metrics.observed.WithLabelValues(s.Type).Inc()
	if r.c.Sender == nil || lifecycle {
		return
	}
	if stale {
		r.metrics.stale.Inc()
		return
	}
	at := now
	if initial {
		at = s.Time
	}
	r.c.Sender.Send(alertFor(s, facts, at, r.c.Lifetime, r.c.Severity))
}

// forgetEvent drops what the relay remembers of an Event Kubernetes deleted
// (Events expire, an hour after their last occurrence by default).
func (r *Relay) forgetEvent(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if o, ok := obj.(*object); ok {
		r.mu.Lock()
		delete(r.sent, string(o.UID))
		r.mu.Unlock()
	}
}

// Latest returns every exported canary's latest step, in no particular
// order. A step whose canary went is dropped here, at the scrape, so the
// canary's series goes with it whatever order the two watches report in.
func (r *Relay) Latest() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Step, 0, len(r.latest))
	for k, s := range r.latest {
		if _, ok := r.c.Canaries.Lookup(k[0], k[1]); !ok {
			delete(r.latest, k)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (r *Relay) watchError(_ context.Context, _ *cache.Reflector, err error) {
	reason := kube.WatchErrorReason(err)
	r.metrics.watchErrors.WithLabelValues(reason).Inc()
	if reason == "forbidden" {
		r.mu.Lock()
		first := r.reported != reason
		r.reported = reason
		r.mu.Unlock()
		if first { // client-go retries every few seconds: say it once
			level.Error(r.c.Logger).Log("msg", "cannot list or watch Events; no per-step events are relayed", "fix", "grant get, list and watch on events to the exporter's ServiceAccount (deploy/exporter/rbac.yaml), or run with --no-events.watch", "err", err)
		}
		return
	}
	level.Debug(r.c.Logger).Log("msg", "event watch ended, client-go re-establishes it", "reason", reason, "err", err)
}
