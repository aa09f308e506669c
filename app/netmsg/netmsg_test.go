package netmsg

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Real failures of real requests, each said as a sentence that keeps the error underneath.
func TestRealFailuresAreSaidInWords(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tls := httptest.NewTLSServer(http.NotFoundHandler())
	defer tls.Close()
	for _, tc := range []struct {
		name, url, want string
		timeout         time.Duration
	}{
		{"nothing listens", "http://" + closed + "/", "refused the connection", 0},
		{"no such name", "http://no-such-host.invalid/", "is not a name the network knows", 0},
		{"no answer in time", hang.URL, "did not answer in time", 200 * time.Millisecond},
		{"a certificate nobody signed", tls.URL, "not signed by an authority", 0},
	} {
		client := &http.Client{Timeout: tc.timeout}
		if tc.timeout == 0 {
			client.Timeout = 10 * time.Second
		}
		_, err := client.Get(tc.url)
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		got := Wrap("", err)
		if !strings.Contains(got.Error(), tc.want) || !errors.Is(got, err) && errors.Unwrap(got) != err {
			t.Errorf("%s: %q (from %v)", tc.name, got, err)
		}
		if strings.Contains(got.Error(), "dial tcp") || strings.Contains(got.Error(), "Get \"") {
			t.Errorf("%s: the chain shows: %q", tc.name, got)
		}
	}
	if Explain("x", context.Canceled) != "" {
		t.Error("a cancellation was explained as a network failure")
	}
}
