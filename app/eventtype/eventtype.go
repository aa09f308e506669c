// Package eventtype finds a webhook's event type (STATUS, ALERT, push, payment_intent.succeeded…)
// where providers commonly say it, so the log can show it and alerts can be told apart.
package eventtype

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
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
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		return ""
	}
	best, bestRank := "", len(bodyKeys)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return best
		}
		key, _ := tok.(string)
		rank, wanted := bodyKeys[key]
		if !wanted || rank >= bestRank {
			if err := skip(dec); err != nil {
				return best
			}
			continue
		}
		val, err := dec.Token()
		if err != nil {
			return best
		}
		switch v := val.(type) {
		case string:
			if key == "alarm_code" {
				v = diagralTypes[v] // a code, not a type: its type, or none
			}
			if v != "" {
				best, bestRank = clip(v), rank
			}
		case json.Delim: // an object or array under a type-ish key: not a type
			if err := skipRest(dec); err != nil {
				return best
			}
		}
		if bestRank == 0 {
			return best
		}
	}
	return best
}

// skip consumes one value.
func skip(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if _, ok := tok.(json.Delim); ok {
		return skipRest(dec)
	}
	return nil
}

// skipRest consumes the rest of an object or array whose opening delimiter was read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err == io.EOF {
			return err
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > maxLen {
		return s[:maxLen]
	}
	return s
}
