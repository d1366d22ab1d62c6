package event

import (
	"encoding/json"
	"slices"
)

// AppendJSON appends the event's body, byte for byte what json.Marshal
// writes for it (TestAppendJSONIsMarshal holds the two together), without
// reflection and, for the usual plain-ASCII strings, without an allocation
// per string: the body is built once per event on the delivery path.
func (e *Event) AppendJSON(b []byte) []byte {
	// Room for the usual body (no escapes), so it is allocated once.
	n := 64 + len(e.Name) + len(e.Namespace) + len(e.Phase) + len(e.Checksum)
	for k, v := range e.Metadata {
		n += len(k) + len(v) + 6
	}
	b = slices.Grow(b, n)
	b = append(b, `{"name":`...)
	b = appendString(b, e.Name)
	b = append(b, `,"namespace":`...)
	b = appendString(b, e.Namespace)
	b = append(b, `,"phase":`...)
	b = appendString(b, e.Phase)
	b = append(b, `,"checksum":`...)
	b = appendString(b, e.Checksum)
	b = append(b, `,"metadata":`...)
	if e.Metadata == nil {
		return append(b, `null}`...)
	}
	// encoding/json writes map keys sorted.
	var stack [8]string
	keys := stack[:0]
	for k := range e.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, e.Metadata[k])
	}
	return append(b, `}}`...)
}

// appendString quotes s as encoding/json does. Printable ASCII other than
// the characters it escapes (the quote, the backslash and, for HTML safety,
// <, > and &) goes as is; any other string is left to encoding/json itself,
// so control characters, invalid UTF-8 and U+2028/U+2029 come out exactly
// as json.Marshal writes them.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
