// Package export turns a stored event into things people paste and share: a cURL command that
// re-sends it, a HAR file for browser tools, and the API's JSON.
package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

// skipHeaders are not copied into a re-sent request: the client sets them itself, or they
// describe the old connection.
var skipHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Connection": true, "Keep-Alive": true,
	"Transfer-Encoding": true, "Te": true, "Trailer": true, "Upgrade": true, "Accept-Encoding": true,
}

// Masked replaces sensitive header values in exports.
const Masked = "[masked by Hooktray]"

// sensitiveHeaders carry credentials or signatures; exports mask them unless asked not to.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Hub-Signature": true, "X-Hub-Signature-256": true, "Stripe-Signature": true,
	"Webhook-Signature": true, "Svix-Signature": true, "X-Shopify-Hmac-Sha256": true,
	"X-Slack-Signature": true, "X-Homecast-Signature": true, "X-Api-Key": true,
}

// Sensitive reports whether a header carries credentials or a signature, as exports see it.
func Sensitive(name string) bool { return sensitiveHeaders[http.CanonicalHeaderKey(name)] }

// Mask returns ev with credential and signature headers (and the extra ones named, such as an
// endpoint's own signature header) replaced by Masked. The event given is not changed.
func Mask(ev hook.Event, extra ...string) hook.Event {
	h := make(http.Header, len(ev.Header))
	for k, vs := range ev.Header {
		h[k] = vs
	}
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		sensitive := sensitiveHeaders[ck]
		for _, e := range extra {
			sensitive = sensitive || (e != "" && http.CanonicalHeaderKey(e) == ck)
		}
		if sensitive {
			masked := make([]string, len(vs))
			for i := range masked {
				masked[i] = Masked
			}
			h[k] = masked
		}
	}
	ev.Header = h
	return ev
}

// Curl returns a POSIX shell command that sends ev again to target (the endpoint's URL), with its
// method, query, headers and exact body. Text bodies are quoted inline; other bodies are piped in
// from printf with octal escapes, so any byte survives the trip. A body that starts with '@' is
// piped too: curl reads "--data-binary @name" as the file name, which would send a local file.
func Curl(ev hook.Event, target string) string {
	u := target
	if ev.Query != "" {
		u += "?" + ev.Query
	}
	var b strings.Builder
	text := utf8.Valid(ev.Body) && !bytes.ContainsRune(ev.Body, 0) && !bytes.HasPrefix(ev.Body, []byte("@"))
	if len(ev.Body) > 0 && !text {
		b.WriteString("printf '" + printfEscape(ev.Body) + "' | ")
	}
	b.WriteString("curl")
	if ev.Method != http.MethodGet || len(ev.Body) > 0 {
		b.WriteString(" -X " + shellQuote(ev.Method))
	}
	b.WriteString(" " + shellQuote(u))
	for _, name := range sortedNames(ev.Header) {
		if skipHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		for _, v := range ev.Header[name] {
			b.WriteString(" \\\n  -H " + shellQuote(name+": "+v))
		}
	}
	switch {
	case len(ev.Body) == 0 && ev.Method != http.MethodGet && ev.Method != http.MethodHead:
		b.WriteString(" \\\n  --data-binary ''")
	case len(ev.Body) > 0 && text:
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(ev.Body)))
	case len(ev.Body) > 0:
		b.WriteString(" \\\n  --data-binary @-")
	}
	return b.String()
}

func sortedNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// shellQuote quotes s for a POSIX shell: single quotes, with each ' written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printfEscape writes b for printf's format string inside single quotes: printable ASCII as is,
// everything else as \ooo (octal escapes are POSIX; \x is not), '%' and '\' escaped.
func printfEscape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '%':
			sb.WriteString("%%")
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '\'':
			sb.WriteString(`'\''`)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\%03o`, c)
		}
	}
	return sb.String()
}

// JSON is the event as the admin API shows it, indented.
func JSON(ev hook.Event) ([]byte, error) {
	return json.MarshalIndent(apijson.EventJSON(ev, -1), "", "  ")
}

// HAR returns a HAR 1.2 document with the event as its one entry's request and Hooktray's answer
// as the response. target is the URL the request was sent to.
func HAR(ev hook.Event, target, version string) ([]byte, error) {
	type nv struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	headers := []nv{}
	for _, name := range sortedNames(ev.Header) {
		for _, v := range ev.Header[name] {
			headers = append(headers, nv{name, v})
		}
	}
	query := []nv{}
	if q, err := url.ParseQuery(ev.Query); err == nil {
		for _, k := range sortedNames(http.Header(q)) {
			for _, v := range q[k] {
				query = append(query, nv{k, v})
			}
		}
	}
	full := target
	if ev.Query != "" {
		full += "?" + ev.Query
	}
	request := map[string]any{
		"method": ev.Method, "url": full, "httpVersion": "HTTP/1.1", "headers": headers,
		"queryString": query, "cookies": []any{}, "headersSize": -1, "bodySize": ev.Size,
	}
	if ev.Body != nil {
		post := map[string]any{"mimeType": ev.Header.Get("Content-Type")}
		if utf8.Valid(ev.Body) {
			post["text"] = string(ev.Body)
		} else {
			post["text"] = base64.StdEncoding.EncodeToString(ev.Body)
			post["encoding"] = "base64" // as HAR's content.encoding; tools that know it decode it
		}
		request["postData"] = post
	}
	doc := map[string]any{"log": map[string]any{
		"version": "1.2",
		"creator": map[string]any{"name": "Hooktray", "version": version},
		"entries": []any{map[string]any{
			"startedDateTime": ev.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			"time":            0,
			"request":         request,
			"response": map[string]any{
				"status": ev.ResponseStatus, "statusText": http.StatusText(ev.ResponseStatus),
				"httpVersion": "HTTP/1.1", "headers": []any{}, "cookies": []any{},
				"content": map[string]any{"size": 0, "mimeType": ""}, "redirectURL": "",
				"headersSize": -1, "bodySize": -1,
			},
			"cache":   map[string]any{},
			"timings": map[string]any{"send": 0, "wait": 0, "receive": 0},
			"comment": fmt.Sprintf("Hooktray event %d (%s)", ev.ID, ev.Status),
		}},
	}}
	return json.MarshalIndent(doc, "", "  ")
}
