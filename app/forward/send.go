// Package forward sends stored webhooks on to other HTTP targets: replays now, the durable
// forwarding queue later.
package forward

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

// ErrTarget wraps every failure to reach a target (refused, timed out, not an http(s) URL).
var ErrTarget = errors.New("target unreachable")

// ErrNothingToSend means the event has no stored body to send (it was rejected).
var ErrNothingToSend = errors.New("nothing to send")

// Result is the target's answer to one sent request.
type Result struct {
	Status   int           // HTTP status the target answered
	Duration time.Duration // from sending to the end of the response headers
	Body     string        // the first KiB of the response body, for showing
}

// hopHeaders are per-connection headers that must not be copied to a new request (RFC 9110 §7.6.1),
// plus Host and Content-Length which net/http sets itself.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true,
}

// Send re-sends ev's method, headers, query and body to target (an absolute http(s) URL; ev's query
// string is appended). A target that answers at all, whatever the status, is a Result; only a
// request that could not be made or got no answer is an error.
func Send(ctx context.Context, client *http.Client, ev hook.Event, target string) (Result, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrTarget, target)
	}
	if !ev.BodyKept() && ev.Status == hook.Rejected {
		return Result{}, fmt.Errorf("%w: event %d was rejected, so its body was not kept", ErrNothingToSend, ev.ID)
	}
	if ev.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += ev.Query
	}
	req, err := http.NewRequestWithContext(ctx, ev.Method, u.String(), bytes.NewReader(ev.Body))
	if err != nil {
		return Result{}, fmt.Errorf("build request for %s: %w", target, err)
	}
	for k, vs := range ev.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%w: send to %s: %v", ErrTarget, target, err)
	}
	defer resp.Body.Close()
	res := Result{Status: resp.StatusCode, Duration: time.Since(start)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	res.Body = string(b)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return res, nil
}
