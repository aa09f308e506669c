package eventtype

import (
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
