package receiver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/hook"
)

type oneEndpoint struct{ ep hook.Endpoint }

func (d oneEndpoint) Lookup(id string) (*Endpoint, bool) {
	if id == d.ep.ID {
		return &Endpoint{Endpoint: d.ep}, false
	}
	return nil, false
}

func (d oneEndpoint) Routed(string) []*Endpoint { return nil }

// failingStore is a database that refuses every write, as a full disk does.
type failingStore struct{ err error }

func (f failingStore) Commit(*hook.Event) error      { return f.err }
func (f failingStore) CommitAll([]*hook.Event) error { return f.err }
func (f failingStore) Backlog() int64                { return 0 }

func TestStorageFailureNeverAnswers2xx(t *testing.T) {
	ep := hook.NewEndpoint("x")
	paused := ep
	paused.Enabled = false
	for _, tc := range []struct {
		name string
		ep   hook.Endpoint
		body string
	}{
		{"accepted request", ep, `{"a":1}`},
		{"rejected request", paused, `{"a":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(oneEndpoint{tc.ep}, failingStore{errors.New("database or disk is full")}, Options{})
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, Prefix+tc.ep.ID, strings.NewReader(tc.body)))
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Errorf("answered %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
			}
		})
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		hook.NewEndpointID():                    true,
		"short":                                 false,
		"has/slash/aaaaaaaaaaaaaaaa":            false,
		"has%20space_aaaaaaaaaaaaaaa":           false,
		"ünïcödé_aaaaaaaaaaaaaaaaaa":            false,
		strings.Repeat("a", 65):                 false,
		"AAAAAAAAAAAAAAAAAAAAAA-_":              true,
		"'; DROP TABLE endpoints; --aaaaaaaaaa": false,
	} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}

func TestClientIPIsInformationOnly(t *testing.T) {
	for _, tc := range []struct {
		hdr  map[string]string
		want string
	}{
		{nil, "192.0.2.1"},
		{map[string]string{"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}, "198.51.100.7"},
		{map[string]string{"Cf-Connecting-Ip": "203.0.113.5", "X-Forwarded-For": "198.51.100.7"}, "203.0.113.5"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		if got := clientIP(req); got != tc.want {
			t.Errorf("clientIP with %v = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}
