package pretty

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// indent is encoding/json's layout, without the trailing spaces it copies from the input.
func indent(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), " \t\r\n")
}

func TestJSONLaysOutAsIndentDoes(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{ }`, `[ ]`, `1`, `"s"`, `null`,
		`{"a":1,"b":[1,2,{"c":null}],"d":{},"e":[]}`,
		` { "k" : "v with \" quote, comma and ] bracket" , "n" : -1.5e3 } `,
		`[[[[["deep"]]]]]`, `{"emoji":"\u00e9 é 🎉","esc":"\\\\"}`,
	} {
		got, err := JSON([]byte(in), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if want := indent(t, []byte(in)); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestJSONStopsAtItsLimits(t *testing.T) {
	deep := strings.Repeat("[", 9999) + strings.Repeat("]", 9999) // 20 KB, 191 MB once indented
	_, err := JSON([]byte(deep), Limits{})
	var le *LimitError
	if !errors.As(err, &le) || le.Depth != DefaultMaxDepth {
		t.Fatalf("a body nested 9,999 deep: %v", err)
	}
	// Within the depth, but wide at depth: the output is capped instead.
	wide := strings.Repeat("[", 60) + strings.Repeat("1,", 100000) + "1" + strings.Repeat("]", 60)
	if _, err := JSON([]byte(wide), Limits{}); !errors.As(err, &le) || le.Output == 0 {
		t.Errorf("a wide body at depth 60: %v, want an output limit", err)
	}
	if _, err := JSON([]byte(`{"a":`), Limits{}); !errors.Is(err, ErrNotJSON) {
		t.Errorf("broken JSON: %v", err)
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}],"d":{}}`))
	f.Add([]byte(`[ [ ] , { } ]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := JSON(b, Limits{MaxOutput: 1 << 30})
		if !json.Valid(b) {
			if !errors.Is(err, ErrNotJSON) {
				t.Fatalf("invalid JSON gave %v", err)
			}
			return
		}
		var le *LimitError
		if errors.As(err, &le) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := indent(t, b); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", b, got, want)
		}
	})
}
