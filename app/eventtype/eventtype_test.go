package eventtype

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		want   string
	}{
		{"GitHub header", http.Header{"X-Github-Event": {"push"}}, `{"type":"other"}`, "push"},
		{"Homecast header", http.Header{"X-Homecast-Event": {"state.changed"}}, ``, "state.changed"},
		{"Stripe body", nil, `{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`, "payment_intent.succeeded"},
		{"alarm body", nil, `{"system":"27458196034A82","alarm_type":"ALERT","data":{"type":{"x":1}}}`, "ALERT"},
		{"type wins over event_type", nil, `{"event_type":"b","type":"a"}`, "a"},
		{"nested type is not top level", nil, `{"data":{"type":"inner"}}`, ""},
		{"object under type is ignored", nil, `{"type":{"name":"x"},"event":"fallback"}`, "fallback"},
		{"not JSON", nil, `type=ALERT`, ""},
		{"broken JSON keeps what it found", nil, `{"event":"ok","x":`, "ok"},
		{"an array body", nil, `[{"type":"a"}]`, ""},
		{"empty", nil, ``, ""},
		{"long types are clipped", nil, `{"type":"` + strings.Repeat("x", 500) + `"}`, strings.Repeat("x", 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.header, []byte(tc.body)); got != tc.want {
				t.Errorf("Find = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzFind(f *testing.F) {
	f.Add([]byte(`{"type":"a","data":[1,{"b":2}]}`))
	f.Add([]byte(`{"event":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if got := Find(nil, body); len(got) > maxLen {
			t.Fatalf("type of %d bytes", len(got))
		}
	})
}

// A Diagral webhook has no type field: its alarm_code says it (reference/diagral.md).
func TestDiagralAlarmCodes(t *testing.T) {
	for code, want := range map[string]string{"1130": "ALERT", "1301": "ANOMALY", "3401": "STATUS", "9999": ""} {
		body := `{"transmitter_id":"T1","alarm_code":"` + code + `","alarm_description":"x","group_index":"01","date_time":"2025-02-26T16:29:00Z"}`
		if got := Find(http.Header{}, []byte(body)); got != want {
			t.Errorf("alarm_code %s: %q, want %q", code, got, want)
		}
	}
	if got := Find(http.Header{}, []byte(`{"type":"push","alarm_code":"1130"}`)); got != "push" {
		t.Errorf("a type field still wins: %q", got)
	}
}

// FuzzFindAgreesWithDecoder checks the hand-written scanner against encoding/json's tokenizer on
// every valid JSON object: the scanner exists only to be fast, never to read differently.
func FuzzFindAgreesWithDecoder(f *testing.F) {
	for _, s := range []string{
		`{"type":"a","data":[1,{"b":2}]}`,
		`{"data":{"type":"inner","list":[[],{},"]"]},"event_type":"x\"y","event":"\u00e9"}`,
		`{"alarm_code":"1130","type":7,"eventType":null}`,
		` {"a" : [ 1 , 2.5e3 , true , null ] , "event" : "e" } `,
		`{"type":"\ud83d\ude00","k":"\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		if got, want := fromJSON(body), decoderType(body); got != want {
			t.Fatalf("fromJSON(%q) = %q, encoding/json reads %q", body, got, want)
		}
	})
}

// decoderType is fromJSON written with encoding/json's Decoder: slow, and the reference.
func decoderType(body []byte) string {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) < 2 || body[0] != '{' || len(body) > maxScan {
		return ""
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	// The first occurrence of a key wins in the scanner; Unmarshal keeps the last. Read the
	// keys in order instead.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.Token()
	best, bestRank := "", len(bodyKeys)
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		var raw json.RawMessage
		dec.Decode(&raw)
		rank, wanted := bodyKeys[key]
		if !wanted || rank >= bestRank {
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		if key == "alarm_code" {
			v = diagralTypes[v]
		}
		if v != "" {
			best, bestRank = clip(v), rank
		}
		if bestRank == 0 {
			break
		}
	}
	return best
}

func BenchmarkFindNested(b *testing.B) {
	body := []byte(`{"device":"kitchen","readings":[`)
	for i := range 40 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, fmt.Sprintf(`{"t":%d,"v":%d.5,"ok":true}`, i, i)...)
	}
	body = append(body, `],"event_type":"sensor.update"}`...)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if Find(http.Header{}, body) != "sensor.update" {
			b.Fatal("wrong type")
		}
	}
}
