package event

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

// checksum identifies one state of one alert: the same alert re-sent by
// Alertmanager (repeat interval, retry after a 503) gets the same checksum, so
// delivery can skip what a target already accepted; a new firing (new
// startsAt) or a resolution gets a new one. The mapped name, namespace and
// phase are included so that a mapping change is a new event, not a duplicate.
func checksum(a *payload.Alert, name, namespace, phase string) string {
	fp := a.Fingerprint
	if fp == "" {
		// Only hand-made bodies lack one; derive it the way Alertmanager does.
		fp = labelSet(a.Labels).Fingerprint().String()
	}
	h := sha256.New()
	for _, s := range []string{fp, a.Status, name, namespace, phase, stamp(a.StartsAt)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if !a.Firing() {
		h.Write([]byte(stamp(a.EndsAt)))
	}
	var sum [sha256.Size]byte
	// 64 bits: Flagger's own checksums are short hashes too, and collisions
	// inside one idempotency window of at most a few thousand entries are
	// vanishingly unlikely.
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

func labelSet(l map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(l))
	for k, v := range l {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// stamp is exact and zone-independent, unlike UnixNano, which is undefined
// for Alertmanager's "unknown" time 0001-01-01.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
