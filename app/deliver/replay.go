package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// ErrTarget wraps every failure to reach a URL a replay was sent to (refused, timed out, not an
// http(s) URL).
var ErrTarget = errors.New("target unreachable")

// ErrNothingToSend means the event has no stored body to send (it was rejected).
var ErrNothingToSend = errors.New("nothing to send")

// ReplayResult is what a URL answered a stored webhook sent to it once.
type ReplayResult struct {
	Status   int           // HTTP status the URL answered
	Duration time.Duration // from sending to the end of the response headers
	Body     string        // the first KiB of the answer, for showing
}

// hopHeaders are per-connection headers that are not passed on (RFC 9110 §7.6.1), plus Host and
// Content-Length, which net/http sets.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true,
}

// passOn is the request a stored webhook becomes when it is sent on, to a target or a replay's
// URL: ev's method (or method), the URL with ev's query appended, ev's headers without the
// hop-by-hop ones. It is the one place that builds such a request.
func passOn(ev hook.Event, to, method string) (target string, h http.Header, err error) {
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("%q is not an absolute http(s) URL", to)
	}
	if !ev.BodyKept() && ev.Status == hook.Rejected {
		return "", nil, fmt.Errorf("%w: event %d was rejected, so its body was not kept", ErrNothingToSend, ev.ID)
	}
	if ev.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += ev.Query
	}
	h = http.Header{}
	for k, vs := range ev.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			h[k] = append([]string(nil), vs...)
		}
	}
	return u.String(), h, nil
}

// SendOnce sends ev as it was received (its method, query, headers without hop-by-hop ones, and
// body) to a URL the user typed, once. A URL that answers at all, whatever the status, is a
// ReplayResult; only a request that could not be made or got no answer is an error.
func SendOnce(ctx context.Context, client *http.Client, ev hook.Event, to string) (ReplayResult, error) {
	target, h, err := passOn(ev, to, "")
	if errors.Is(err, ErrNothingToSend) {
		return ReplayResult{}, err
	}
	if err != nil {
		return ReplayResult{}, fmt.Errorf("%w: %v", ErrTarget, err)
	}
	method := ev.Method
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(ev.Body))
	if err != nil {
		return ReplayResult{}, fmt.Errorf("build request for %s: %w", to, err)
	}
	req.Header = h
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return ReplayResult{}, fmt.Errorf("%w: send to %s: %v", ErrTarget, to, err)
	}
	defer resp.Body.Close()
	res := ReplayResult{Status: resp.StatusCode, Duration: time.Since(start)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	res.Body = string(b)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return res, nil
}
