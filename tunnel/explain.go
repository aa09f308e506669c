package tunnel

import (
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// cause is what a line of cloudflared's log says went wrong.
type cause int

const (
	causeNone cause = iota
	causeOffline
	causeUnreachable
	causeBadToken
	causeRateLimit
	causeUsage
)

// explainLine puts what a line of cloudflared's log reports in the user's words, or returns
// causeNone. The raw line stays in the tunnel log for whoever wants the details.
func explainLine(line string) (cause, string) {
	switch {
	case strings.Contains(line, "error code: 1015") || strings.Contains(line, "429 Too Many Requests"):
		return causeRateLimit, "Cloudflare is rate-limiting quick tunnels from this network"
	case strings.Contains(line, "Provided Tunnel token is not valid"):
		return causeBadToken, "the tunnel token is not a valid token: copy it again from the Cloudflare dashboard (Networks → Tunnels → your tunnel → install command)"
	case strings.Contains(line, "Unauthorized"):
		return causeBadToken, "the tunnel token was refused by Cloudflare: the tunnel may have been deleted or its token rotated; copy the current one from the dashboard"
	case strings.HasPrefix(line, "Incorrect Usage"):
		_, detail, _ := strings.Cut(line, " ")
		return causeUsage, "this cloudflared does not accept Hooktray's command line (" + strings.TrimSpace(detail) + "): update cloudflared"
	case isCloudflareHost(line) && (strings.Contains(line, "no such host") || strings.Contains(line, "server misbehaving") ||
		strings.Contains(line, "Temporary failure in name resolution")):
		return causeOffline, "cannot reach Cloudflare (DNS lookup failed): is this computer online?"
	case isCloudflareHost(line) && (strings.Contains(line, "connection refused") || strings.Contains(line, "i/o timeout") ||
		strings.Contains(line, "network is unreachable") || strings.Contains(line, "no route to host")):
		return causeUnreachable, "cannot reach Cloudflare (the connection failed): is this computer online, or does a firewall block it?"
	}
	return causeNone, ""
}

func isCloudflareHost(line string) bool {
	return strings.Contains(line, "trycloudflare.com") || strings.Contains(line, "argotunnel.com") ||
		strings.Contains(line, "cloudflare.com") || strings.Contains(line, "Failed to dial a quic connection")
}

// IngressRule is one rule of a named tunnel's ingress, as configured in Cloudflare's dashboard.
type IngressRule struct {
	Hostname string `json:"hostname"`
	Service  string `json:"service"`
	Path     string `json:"path"`
}

// configMarker starts the line cloudflared logs at start and whenever the dashboard's
// configuration of a named tunnel changes (orchestration/orchestrator.go).
const configMarker = "Updated to new configuration"

// parseConfigLine reads the ingress rules from a "Updated to new configuration config=…" line,
// whose config field is the JSON the edge sent, quoted by the console logger.
func parseConfigLine(line string) ([]IngressRule, bool) {
	i := strings.Index(line, configMarker)
	if i < 0 {
		return nil, false
	}
	j := strings.Index(line[i:], " config=")
	if j < 0 {
		return nil, false
	}
	rest := line[i+j+len(" config="):]
	raw := rest
	if strings.HasPrefix(rest, `"`) {
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, false
		}
		if raw, err = strconv.Unquote(quoted); err != nil {
			return nil, false
		}
	}
	var cfg struct {
		Ingress []IngressRule `json:"ingress"`
	}
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&cfg); err != nil {
		return nil, false
	}
	return cfg.Ingress, true
}

// publicFromIngress is the public base URL a named tunnel serves the receiver at (origin, e.g.
// http://127.0.0.1:8791) and, when no rule sends a hostname to the receiver, a sentence saying what
// to change in the dashboard. The URL is then the first hostname's, so the user sees something.
func publicFromIngress(rules []IngressRule, origin string) (publicURL, problem string) {
	var first *IngressRule
	for i, r := range rules {
		if r.Hostname == "" {
			continue
		}
		if first == nil {
			first = &rules[i]
		}
		if pointsAt(r.Service, origin) && !strings.HasPrefix(r.Hostname, "*") {
			return "https://" + r.Hostname, ""
		}
	}
	if first == nil {
		return "", "the named tunnel has no public hostname: add one in the Cloudflare dashboard (Networks → Tunnels → Public hostnames) with the service " + origin
	}
	return "https://" + first.Hostname, "the tunnel's hostname " + first.Hostname + " points at " + first.Service +
		", not at Hooktray's receiver: change its service in the Cloudflare dashboard to " + origin
}

// pointsAt reports whether an ingress service reaches origin: plain http to the same port on a
// loopback name or the same host.
func pointsAt(service, origin string) bool {
	s, err1 := url.Parse(service)
	o, err2 := url.Parse(origin)
	if err1 != nil || err2 != nil || s.Scheme != "http" || o.Scheme != "http" {
		return false
	}
	if port(s) != port(o) {
		return false
	}
	return s.Hostname() == o.Hostname() || isLoopbackName(s.Hostname()) && isLoopbackName(o.Hostname())
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "80"
}

func isLoopbackName(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
