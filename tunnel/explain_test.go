package tunnel

import (
	"strings"
	"testing"
)

// The lines are cloudflared's own, as it prints them (see tunnel/README.md).
func TestExplainLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		kind cause
	}{
		{`failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com on 127.0.0.53:53: no such host`, causeOffline},
		{`Could not lookup srv records on _v2-origintunneld._tcp.argotunnel.com: lookup _v2-origintunneld._tcp.argotunnel.com on 192.168.1.1:53: no such host`, causeOffline},
		{`failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp 104.16.230.132:443: connect: network is unreachable`, causeUnreachable},
		{`2026-12-01T10:00:00Z ERR Error unmarshaling QuickTunnel response: error code: 1015 error="invalid character 'e' looking for beginning of value" status_code="429 Too Many Requests"`, causeRateLimit},
		{`Provided Tunnel token is not valid.`, causeBadToken},
		{`2026-12-01T10:00:00Z ERR Register tunnel error from server side error="Unauthorized: Invalid tunnel secret" connIndex=0`, causeBadToken},
		{`Incorrect Usage. flag provided but not defined: -bogus`, causeUsage},
		{`2026-12-01T10:00:00Z INF Registered tunnel connection connIndex=0 location=ams08 protocol=quic`, causeNone},
		{`2026-12-01T10:00:00Z ERR lookup of example.org: no such host`, causeNone},
	} {
		if kind, why := explainLine(tc.line); kind != tc.kind || (kind != causeNone) == (why == "") {
			t.Errorf("%q: %v %q, want kind %v", tc.line, kind, why, tc.kind)
		}
	}
}

func TestParseConfigLine(t *testing.T) {
	// As printed by cloudflared 2025.x for a dashboard-managed tunnel.
	line := `2026-12-01T10:00:00Z INF Updated to new configuration config="{\"ingress\":[{\"hostname\":\"hooks.example.com\",\"service\":\"http://localhost:8791\"},{\"service\":\"http_status:404\"}],\"warp-routing\":{\"enabled\":false}}" version=3`
	rules, ok := parseConfigLine(line)
	if !ok || len(rules) != 2 || rules[0].Hostname != "hooks.example.com" || rules[0].Service != "http://localhost:8791" {
		t.Fatalf("%+v %v", rules, ok)
	}
	for _, tc := range []struct{ origin, url, problem string }{
		{"http://127.0.0.1:8791", "https://hooks.example.com", ""},
		{"http://[::1]:8791", "https://hooks.example.com", ""},
		{"http://127.0.0.1:9000", "https://hooks.example.com", "points at http://localhost:8791"},
	} {
		u, problem := publicFromIngress(rules, tc.origin)
		if u != tc.url || (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("%s: %q %q", tc.origin, u, problem)
		}
	}
	if u, problem := publicFromIngress([]IngressRule{{Service: "http_status:404"}}, "http://127.0.0.1:8791"); u != "" || !strings.Contains(problem, "no public hostname") {
		t.Errorf("no hostname: %q %q", u, problem)
	}
	for _, bad := range []string{`INF Updated to new configuration config="{broken" version=1`, `INF Registered tunnel connection`} {
		if _, ok := parseConfigLine(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestCloudflaredLinesAreMadePrintable(t *testing.T) {
	got := printable("Incorrect Usage: flag provided but not defined: -\x1b]0;pwned\x07x\tok")
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, `\x1b]0;pwned\x07x`) || !strings.Contains(got, "\t") {
		t.Errorf("printable = %q", got)
	}
}
