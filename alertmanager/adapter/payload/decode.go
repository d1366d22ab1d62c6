package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// Error is a request the adapter refuses. Code is always a 4xx: Alertmanager
// drops a notification on any 4xx instead of retrying it, which is what a body
// that will never decode deserves. Msg says exactly what is wrong, for the
// operator reading Alertmanager's log.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// CheckContentType accepts application/json with any parameters (charset);
// Alertmanager always sends exactly that. A missing header is refused too: the
// adapter cannot know the body is JSON.
func CheckContentType(header string) error {
	if header == "" {
		return &Error{Code: http.StatusUnsupportedMediaType, Msg: "missing Content-Type: want application/json"}
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/json" {
		return &Error{Code: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("unsupported Content-Type %q: want application/json", header)}
	}
	return nil
}

// ReadBody reads at most limit bytes. A longer body is a 413 rather than a
// truncated decode, so the operator sees the limit they hit. contentLength
// (-1 when unknown) refuses an announced oversize body before reading it and
// sizes the buffer once instead of growing it.
func ReadBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	// A func, not a value: formatting the message on every request showed
	// in the profile of the single-alert path.
	tooBig := func() error {
		return &Error{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("body exceeds max_body_bytes (%d bytes)", limit)}
	}
	if contentLength > limit {
		return nil, tooBig()
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		buf.Grow(int(contentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	switch {
	case err != nil:
		return nil, badRequest("reading body: %v", err)
	case int64(buf.Len()) > limit:
		return nil, tooBig()
	}
	return buf.Bytes(), nil
}

// Decode parses and validates a webhook body. Structural faults (not JSON,
// wrong types, wrong version, no alerts, an alert status other than firing or
// resolved) reject the whole body: Alertmanager never sends such a thing, so
// half-processing it would only hide a broken sender. Alerts that are well
// formed but not about a canary are the mapper's business, not an error here.
func Decode(body []byte) (*Message, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("empty body: want a JSON object")
	}
	m, ok := decodeFast(body)
	if !ok {
		m = &Message{}
		// Unmarshal, not a Decoder: the body is in memory already, and
		// Unmarshal also refuses anything after the top-level value.
		if err := json.Unmarshal(body, m); err != nil {
			return nil, describe(err)
		}
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) validate() error {
	switch {
	case m.Version == "":
		return badRequest(`missing "version": want %q`, Version)
	case m.Version != Version:
		return badRequest(`unsupported "version" %q: want %q`, m.Version, Version)
	case m.Alerts == nil:
		return badRequest(`missing "alerts"`)
	case len(m.Alerts) == 0:
		return badRequest(`"alerts" is empty`)
	}
	for i := range m.Alerts {
		if s := m.Alerts[i].Status; s != StatusFiring && s != StatusResolved {
			return badRequest(`alerts[%d].status is %q: want %q or %q`, i, s, StatusFiring, StatusResolved)
		}
	}
	return nil
}

// describe turns encoding/json's errors into messages that name the offending
// place, since the operator only sees this text in Alertmanager's log.
func describe(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest("invalid JSON at offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the top level"
		}
		return badRequest("invalid JSON: %s is a JSON %s, want %s", field, typ.Value, typ.Type)
	}
	return badRequest("invalid JSON: %v", err)
}
