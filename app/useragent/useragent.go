// Package useragent names Hooktray in every request it makes of its own (to providers, GitHub,
// forwarding targets, its own probes), so the other side's logs say who called.
package useragent

import (
	"net/http"
	"time"
)

// String is Hooktray's User-Agent for a version, e.g. "Hooktray/1.2.0".
func String(version string) string {
	if version == "" {
		version = "dev"
	}
	return "Hooktray/" + version + " (+https://github.com/hooktray/hooktray)"
}

// Client returns an HTTP client with the timeout (0: none) whose requests carry Hooktray's
// User-Agent unless they set their own (a forwarded request keeps the provider's).
func Client(version string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: transport{ua: String(version), base: http.DefaultTransport}}
}

type transport struct {
	ua   string
	base http.RoundTripper
}

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", t.ua)
	}
	return t.base.RoundTrip(r)
}
