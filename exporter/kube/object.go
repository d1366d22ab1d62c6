package kube

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
)

// object is what the informer's cache keeps per Canary instead of the whole
// unstructured object (tens of kilobytes with managedFields and spec): the
// identity the cache needs for its keys, and the decoded facts until the
// handler has handed them to the store. The store keeps the facts; a copy
// here would be another 250 bytes per canary for nothing (the handlers
// read only the new object of an update, and a deletion only its name).
type object struct {
	metav1.TypeMeta
	metav1.ObjectMeta // Name, Namespace, UID and ResourceVersion only

	decoded *decoded // nil once handed over
}

type decoded struct {
	facts    canary.Facts
	warnings []string
	err      error // the object could not be decoded; facts are empty
}

func (o *object) DeepCopyObject() runtime.Object {
	c := *o
	o.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	if o.decoded != nil {
		d := *o.decoded
		d.warnings = append([]string(nil), d.warnings...)
		c.decoded = &d
	}
	return &c
}

// take returns the decoded facts once; the cache keeps only the identity.
func (o *object) take() *decoded {
	d := o.decoded
	o.decoded = nil
	return d
}

// transform returns the informer's transform: it decodes a Canary as it
// enters the informer's queue, so the cache never holds the unstructured
// object. Anything else passes through (the informer also queues tombstones).
func transform(opts canary.Options) func(any) (any, error) {
	return func(in any) (any, error) {
		return decode(in, opts), nil
	}
}

func decode(in any, opts canary.Options) any {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return in
	}
	o := &object{ObjectMeta: metav1.ObjectMeta{
		Name:            u.GetName(),
		Namespace:       u.GetNamespace(),
		UID:             u.GetUID(),
		ResourceVersion: u.GetResourceVersion(),
	}}
	d := &decoded{}
	d.facts, d.warnings, d.err = canary.Decode(u.Object, opts)
	o.decoded = d
	return o
}
