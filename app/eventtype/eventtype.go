// Package eventtype finds a webhook's event type (STATUS, ALERT, push, payment_intent.succeeded…)
// where providers commonly say it, so the log can show it and alerts can be told apart.
package eventtype

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// headers name the headers providers put the event type in, most specific first.
var headers = []string{
	"X-Homecast-Event", // Homecast
	"X-Github-Event",   // GitHub
	"X-Shopify-Topic",  // Shopify
	"X-Gitlab-Event",   // GitLab
	"X-Event-Type",     // generic
	"X-Webhook-Event",  // generic
}

// bodyKeys are top-level JSON keys that hold the event type: Stripe, Standard Webhooks, Home
// Assistant and Homecast use "type"; alarm clouds use alarm_type / event_type.
var bodyKeys = map[string]int{"type": 0, "event_type": 1, "eventType": 2, "alarm_type": 3, "event": 4, "alarm_code": 5}

// diagralTypes are the types of the Diagral cloud's alarm codes (reference/diagral.md): its
// webhooks carry a code and no type field.
var diagralTypes = map[string]string{}

func init() {
	for typ, codes := range map[string]string{
		"ALERT":   "1110 1111 1117 1120 1122 1130 1139 1140 1141 1142 1143 1150 1152 1154 1158 1159 1344 1391 3391",
		"ANOMALY": "1137 1144 1301 1302 1351 1352 1355 1381 1384 1570 1573 3137 3144 3301 3351 3352 3355 3381 3570",
		"STATUS":  "1306 1401 1407 3401 3407",
	} {
		for _, code := range strings.Fields(codes) {
			diagralTypes[code] = typ
		}
	}
}

// maxScan bounds the body looked at: types sit near the top, and this runs on the ingest path.
const maxScan = 64 << 10

// maxLen bounds a type's length: it is a label, not data.
const maxLen = 100

// Find returns the event type from h or a JSON object body, or "".
func Find(h http.Header, body []byte) string {
	for _, name := range headers {
		if v := h.Get(name); v != "" {
			return clip(v)
		}
	}
	return fromJSON(body)
}

func fromJSON(body []byte) string {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) < 2 || body[0] != '{' || len(body) > maxScan {
		return ""
	}
	s := scanner{b: body, i: 1}
	best, bestRank := "", len(bodyKeys)
	for {
		s.space()
		if s.peek() == '}' {
			return best
		}
		key, ok := s.str()
		if !ok {
			return best
		}
		s.space()
		if s.next() != ':' {
			return best
		}
		s.space()
		rank, wanted := bodyKeys[key]
		if wanted && rank < bestRank && s.peek() == '"' {
			v, ok := s.str()
			if !ok {
				return best
			}
			if key == "alarm_code" {
				v = diagralTypes[v] // a code, not a type: its type, or none
			}
			if v != "" {
				best, bestRank = clip(v), rank
			}
			if bestRank == 0 {
				return best
			}
		} else if !s.skipValue() {
			return best
		}
		s.space()
		if s.next() != ',' {
			return best // '}' ends the object; anything else is broken JSON
		}
	}
}

// scanner walks a JSON text without building it: fromJSON reads a handful of top-level keys and
// skips everything else, which on the ingest path must cost little more than reading the bytes.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) next() byte {
	c := s.peek()
	s.i++
	return c
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// str reads a string and returns its value; encoding/json decodes the rare one with escapes or
// invalid UTF-8.
func (s *scanner) str() (string, bool) {
	start := s.i
	if !s.skipString() {
		return "", false
	}
	raw := s.b[start:s.i]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return v, true
}

// skipString moves past a string that starts at the current byte.
func (s *scanner) skipString() bool {
	if s.next() != '"' {
		return false
	}
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

// skipValue moves past one value of any kind: nested objects and arrays by their brackets,
// ignoring brackets inside strings.
func (s *scanner) skipValue() bool {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if !s.skipString() {
				return false
			}
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing object: the value was empty
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				return true
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && s.i < len(s.b) {
			// A complete scalar runs until a delimiter; a complete container has just closed.
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return true
			}
		}
	}
	return depth == 0
}

func clip(s string) string {
	if len(s) > maxLen {
		return s[:maxLen]
	}
	return s
}
