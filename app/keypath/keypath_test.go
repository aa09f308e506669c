package keypath

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestKeyPaths(t *testing.T) {
	r := Request{
		Header: http.Header{"X-Device-Id": {"aaabbbccc"}},
		Query:  url.Values{"homey": {"h1"}},
		Body:   []byte(`{"device_id":"dev-7","n":42,"on":true,"items":[{"id":"i0"},{"id":"i1"}],"odd key":{"x":"y"},"0":"zero"}`),
	}
	for _, tc := range []struct{ path, want string }{
		{"headers['X-Device-Id']", "aaabbbccc"},
		{"headers['x-device-id']", "aaabbbccc"},
		{`headers["X-Device-Id"]`, "aaabbbccc"},
		{"body.device_id", "dev-7"},
		{"body['device_id']", "dev-7"},
		{"body.items[1].id", "i1"},
		{"body['odd key'].x", "y"},
		{"body.n", "42"},
		{"body.on", "true"},
		{"body[0]", "zero"},
		{"query.homey", "h1"},
		{"query['homey']", "h1"},
	} {
		kp, err := Parse(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if got, ok := kp.Lookup(r); !ok || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.path, got, ok, tc.want)
		}
	}
	for _, path := range []string{"body.missing", "body.items[5].id", "body.items.id", "headers['X-Other']", "body.items"} {
		kp, _ := Parse(path)
		if v, ok := kp.Lookup(r); ok {
			t.Errorf("%s found %q", path, v)
		}
	}
}

func TestBadKeyPathsAreClearErrors(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"", "expected a name"},
		{"cookies.x", "must start with body, headers or query"},
		{"body", "not a value"},
		{"body.a()", "unexpected '('"},
		{"body[a]", "number or a quoted name"},
		{"body['a'", "expected ]"},
		{"body['a]", "unterminated string"},
		{"headers.a.b", "exactly one name"},
		{"body.a + 1", "unexpected ' '"},
		{"body.a;process.exit()", "unexpected ';'"},
	} {
		_, err := Parse(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.path, err, tc.want)
		}
	}
}

func FuzzKeyPath(f *testing.F) {
	for _, s := range []string{"body.a[0]['b']", "headers['X']", `query["q"]`, "body[", "x.y"} {
		f.Add(s, []byte(`{"a":[{"b":1}]}`))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		kp, err := Parse(path)
		if err != nil {
			return
		}
		if kp.Root == "" || len(kp.Steps) == 0 {
			t.Fatalf("accepted %q without a root or steps", path)
		}
		kp.Lookup(Request{Header: http.Header{}, Query: url.Values{}, Body: body})
	})
}
