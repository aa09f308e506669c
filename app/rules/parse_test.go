package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/bench/load"
)

// reference is what rules saw before parseJSON: encoding/json's Unmarshal, whole numbers made ints.
func reference(b []byte) (any, bool) {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil, false
	}
	return numbers(v), true
}

var parseCases = []string{
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `  [1, -2, 3.5, 1e2, -0, 0.0, 12345678901234567890, 9007199254740993] `,
	`"\u00e9\ud83d\ude00 \ud800 x\"\\\/\b\f\n\r\t"`, "\"bad \xff utf8\"", `{"a":1,"a":2}`, `[]`, `{}`, `""`,
	`01`, `[1,]`, `{"a"}`, `{"a":}`, `"\x"`, `"\u12"`, "\"\x01\"", `1.`, `.5`, `-`, `1e`, `tru`, `nul`, `[1 2]`, `{"a":1 "b":2}`,
	`1e400`, `"\ud83d\u0041"`, `"\ud83d\uzzzz"`, ``, ` `, `[` + strings.Repeat(`[`, 9999) + strings.Repeat(`]`, 10000),
	strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001), `[1]x`,
}

func TestParseJSONReadsAsEncodingJSONDoes(t *testing.T) {
	for _, c := range append(parseCases, string(load.JSONBody(4096))) {
		want, ok := reference([]byte(c))
		got, err := parseJSON([]byte(c))
		if ok != (err == nil) || ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%.80q: got %#v (%v), encoding/json %#v (ok %v)", c, got, err, want, ok)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, ok := reference(b)
		got, err := parseJSON(b)
		if ok != (err == nil) || ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %#v (%v), encoding/json %#v (ok %v)", b, got, err, want, ok)
		}
	})
}

func BenchmarkParseJSON(b *testing.B) {
	body := load.JSONBody(1024)
	b.Run("parseJSON", func(b *testing.B) {
		for b.Loop() {
			parseJSON(body)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			reference(body)
		}
	})
}
