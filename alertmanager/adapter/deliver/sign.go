package deliver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Headers every delivered request carries besides Content-Type and User-Agent.
const (
	// HeaderIdempotencyKey carries Event.Key: the same for every copy of one
	// event, whichever Alertmanager peer or adapter replica sent it, so a
	// consumer can drop the copies an HA setup may produce (see
	// docs/reliability.md). The name is the IETF httpapi draft's.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderSignature is Flux's generic-hmac header: "sha256=" and the hex
	// HMAC-SHA256 of the exact body bytes.
	HeaderSignature = "X-Signature"
)

// request is one event as posted to one target.
type request struct {
	body      []byte
	key       string
	signature string // "" when the target has no HMAC key
}

// sign returns the X-Signature value of body under key.
func sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (t *Target) request(body []byte, key string) request {
	r := request{body: body, key: key}
	if len(t.HMACKey) > 0 {
		r.signature = sign(t.HMACKey, body)
	}
	return r
}
