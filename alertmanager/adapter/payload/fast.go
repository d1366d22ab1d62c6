package payload

import (
	"encoding/json"
	"math"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast parses the JSON Alertmanager actually writes: its known fields,
// each once, with string values (the escapes it writes included) and no
// nulls. That covers every real notification in half encoding/json's
// time (its reflection was the largest part of the adapter's own time per
// single-alert notification). Anything else, valid or not, returns false and
// goes to encoding/json, which so keeps defining what a body means and what
// its errors say; FuzzDecodeFast holds the two to the same result.
func decodeFast(b []byte) (*Message, bool) {
	s := scanner{b: b}
	m := &Message{}
	var seen uint16
	ok := s.object(func(key []byte, plain bool) bool {
		var bit uint16
		var ok bool
		switch string(key[1 : len(key)-1]) {
		case "version":
			bit, ok = 1<<0, s.str(&m.Version)
		case "groupKey":
			bit, ok = 1<<1, s.str(&m.GroupKey)
		case "truncatedAlerts":
			bit, ok = 1<<2, s.uint(&m.TruncatedAlerts)
		case "receiver":
			bit, ok = 1<<3, s.str(&m.Receiver)
		case "status":
			bit, ok = 1<<4, s.str(&m.Status)
		case "alerts":
			bit, ok = 1<<5, s.alerts(&m.Alerts)
		case "groupLabels":
			bit, ok = 1<<6, s.strMap(&m.GroupLabels)
		case "commonLabels":
			bit, ok = 1<<7, s.strMap(&m.CommonLabels)
		case "commonAnnotations":
			bit, ok = 1<<8, s.strMap(&m.CommonAnnotations)
		case "routeLabels":
			bit, ok = 1<<9, s.strMap(&m.RouteLabels)
		case "externalURL":
			bit, ok = 1<<10, s.str(&m.ExternalURL)
		case "notification_reason":
			bit, ok = 1<<11, s.str(&m.NotificationReason)
		}
		// An unknown key may still name a field (encoding/json matches
		// case-insensitively); a repeated one merges maps. Both: slow path.
		if !ok || !plain || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	s.space()
	return m, ok && s.i == len(b)
}

func (s *scanner) alerts(dst *[]Alert) bool {
	if !s.next('[') || s.next(']') { // [] is refused later; let encoding/json build it
		return false
	}
	for {
		var a Alert
		var seen uint8
		ok := s.object(func(key []byte, plain bool) bool {
			var bit uint8
			var ok bool
			switch string(key[1 : len(key)-1]) {
			case "status":
				bit, ok = 1<<0, s.str(&a.Status)
			case "labels":
				bit, ok = 1<<1, s.strMap(&a.Labels)
			case "annotations":
				bit, ok = 1<<2, s.strMap(&a.Annotations)
			case "startsAt":
				bit, ok = 1<<3, s.time(&a.StartsAt)
			case "endsAt":
				bit, ok = 1<<4, s.time(&a.EndsAt)
			case "generatorURL":
				bit, ok = 1<<5, s.str(&a.GeneratorURL)
			case "fingerprint":
				bit, ok = 1<<6, s.str(&a.Fingerprint)
			}
			if !ok || !plain || seen&bit != 0 {
				return false
			}
			seen |= bit
			return true
		})
		if !ok {
			return false
		}
		*dst = append(*dst, a)
		if !s.next(',') {
			return s.next(']')
		}
	}
}

// scanner walks a JSON text; every method returns false on anything it
// does not handle, and then the position no longer matters.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// next consumes c after optional whitespace.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object calls field with each key's literal (quotes included, see
// literal), positioned at its value. Raw bytes: matching a field name
// allocates nothing.
func (s *scanner) object(field func(key []byte, plain bool) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		lit, plain, ok := s.literal()
		if !ok || !s.next(':') || !field(lit, plain) {
			return false
		}
		if !s.next(',') {
			return s.next('}')
		}
	}
}

// literal reads a string literal, quotes included; plain: no escapes and
// valid UTF-8, so its content is what encoding/json unquotes it to.
func (s *scanner) literal() (lit []byte, plain, ok bool) {
	if !s.next('"') {
		return nil, false, false
	}
	start, escaped, ascii := s.i-1, false, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			lit = s.b[start:s.i]
			return lit, !escaped && (ascii || utf8.Valid(lit)), true
		case c < 0x20: // not allowed in JSON
			return nil, false, false
		case c == '\\':
			escaped = true
			s.i++ // the escaped character cannot end the string
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// str reads a string.
func (s *scanner) str(dst *string) bool {
	lit, plain, ok := s.literal()
	return ok && content(lit, plain, dst)
}

// content sets dst to a literal's content. A plain one, by far the most
// common, is copied as is.
func content(lit []byte, plain bool, dst *string) bool {
	if plain {
		*dst = string(lit[1 : len(lit)-1])
		return true
	}
	return unquote(lit, dst)
}

// unquote undoes the escapes Alertmanager writes itself: \" in every
// groupKey, \u0026 for & in generatorURLs. A surrogate (encoding/json pairs
// them or substitutes U+FFFD), invalid UTF-8 (substituted too) or a bad
// escape goes to encoding/json, so the result is always what it would
// decode.
func unquote(lit []byte, dst *string) bool {
	var stack [128]byte
	out, in := stack[:0], lit[1:len(lit)-1]
	for i := 0; i < len(in); i++ {
		if in[i] != '\\' {
			out = append(out, in[i])
			continue
		}
		if i++; i == len(in) {
			return slowUnquote(lit, dst)
		}
		switch c := in[i]; c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in[i+1:])
			if !ok || utf16.IsSurrogate(r) {
				return slowUnquote(lit, dst)
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return slowUnquote(lit, dst)
		}
	}
	// Escapes always yield whole runes, so this fails only for invalid
	// bytes in the literal itself.
	if !utf8.Valid(out) {
		return slowUnquote(lit, dst)
	}
	*dst = string(out)
	return true
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// slowUnquote is apart so that only this rare path pays for the heap
// string encoding/json needs.
func slowUnquote(lit []byte, dst *string) bool {
	var v string
	if json.Unmarshal(lit, &v) != nil {
		return false
	}
	*dst = v
	return true
}

// strMap decodes an object of strings; like encoding/json, {} is an empty
// map, not nil, and a repeated key keeps its last value.
func (s *scanner) strMap(dst *map[string]string) bool {
	m := map[string]string{}
	*dst = m
	return s.object(func(key []byte, plain bool) bool {
		var k, v string
		if !content(key, plain, &k) || !s.str(&v) {
			return false
		}
		m[k] = v
		return true
	})
}

// time is what encoding/json does for a time.Time: hand the literal,
// quotes and all, to its UnmarshalJSON. (A literal it accepts is plain
// RFC 3339, so encoding/json would have found it valid too.)
func (s *scanner) time(dst *time.Time) bool {
	lit, _, ok := s.literal()
	return ok && dst.UnmarshalJSON(lit) == nil
}

// uint takes plain digits, without a leading zero (JSON's grammar), that
// fit.
func (s *scanner) uint(dst *uint64) bool {
	s.space()
	start := s.i
	var n uint64
	for ; s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9'; s.i++ {
		d := uint64(s.b[s.i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return false
		}
		n = n*10 + d
	}
	digits := s.i - start
	if digits == 0 || digits > 1 && s.b[start] == '0' {
		return false
	}
	*dst = n
	return true
}
