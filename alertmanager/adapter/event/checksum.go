package event

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

// key identifies one state of one alert: the same alert re-sent by
// Alertmanager (repeat interval, retry after a 503) gets the same key, so
// delivery can skip what a target already accepted; a new firing (new
// startsAt) or a resolution gets a new one. The mapped name, namespace and
// phase are included so that a mapping change is a new event, not a
// duplicate. It is also the event's checksum when the alert does not carry
// Flagger's (see Mapper.checksum).
func key(a *payload.Alert, name, namespace, phase string) string {
	fp := a.Fingerprint
	if fp == "" {
		// Only hand-made bodies lack one; derive it the way Alertmanager does.
		fp = labelSet(a.Labels).Fingerprint().String()
	}
	// The hashed input is built in a stack buffer and hashed in one go: this
	// runs once per alert, and the streaming hash.Hash allocated every write.
	var in [512]byte
	buf := in[:0]
	for _, s := range [...]string{fp, a.Status, name, namespace, phase} {
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	buf = appendStamp(buf, a.StartsAt)
	buf = append(buf, 0)
	if !a.Firing() {
		buf = appendStamp(buf, a.EndsAt)
	}
	sum := sha256.Sum256(buf)
	// 64 bits: Flagger's own checksums are short hashes too, and collisions
	// inside one idempotency window of at most a few thousand entries are
	// vanishingly unlikely.
	var out [16]byte
	hex.Encode(out[:], sum[:8])
	return string(out[:])
}

func labelSet(l map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(l))
	for k, v := range l {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// appendStamp is exact and zone-independent, unlike UnixNano, which is undefined
// for Alertmanager's "unknown" time 0001-01-01.
func appendStamp(b []byte, t time.Time) []byte { return t.UTC().AppendFormat(b, time.RFC3339Nano) }
