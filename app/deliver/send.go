package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// Request is one attempt of one delivery.
type Request struct {
	Target   hook.Target
	Event    hook.Event
	Delivery hook.Delivery
	Attempt  int // 1 for the first
	Now      time.Time
	secrets  *secretMemo // the batch's opened secrets
}

// secret opens the target's secret for purpose ("" when none is set), once per batch.
func (e *Engine) secret(ctx context.Context, r Request, purpose string) (string, error) {
	if r.secrets == nil {
		return e.opts.Secret(ctx, r.Target.ID, purpose)
	}
	return r.secrets.get(ctx, purpose)
}

// Outcome is what an attempt came to.
type Outcome struct {
	Status     int // HTTP status, or a command's exit code; 0 when nothing answered
	Latency    time.Duration
	URL        string // where it went
	Response   string // the start of the answer
	Err        error  // nothing answered (refused, timed out), or a command failed
	RetryAfter time.Duration
	Final      bool // retrying cannot help (the event is gone, the target is misconfigured)
	Success    bool // a command that exited 0
	// Route says how an attempt along a fallback chain went: the URLs tried and why each failed,
	// or skipped and why (Home Assistant).
	Route string
	// Rule: a rule of the target's failed on the event; the target is not at fault.
	Rule bool
}

// OK reports a delivered attempt: a 2xx answer, or a command that exited 0.
func (o Outcome) OK() bool {
	return o.Err == nil && (o.Success || o.Status >= 200 && o.Status < 300)
}

func (o Outcome) describe() string {
	switch {
	case o.Err != nil:
		return o.Err.Error()
	case o.Status != 0:
		s := fmt.Sprintf("answered %d %s", o.Status, http.StatusText(o.Status))
		if o.Response != "" {
			s += ": " + firstLine(o.Response, 200)
		}
		return s
	}
	return "failed"
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// responseSnippet is how much of an answer is kept on the delivery.
const responseSnippet = 1024

// sendHTTP passes the event on: its method (unless the target sets one), query, headers without
// hop-by-hop ones, body, the target's extra headers, X-Hooktray-* and, when the target signs, a
// fresh signature.
func (e *Engine) sendHTTP(ctx context.Context, r Request) Outcome {
	t, ev := r.Target, r.Event
	target, h, err := passOn(ev, t.URL, t.Method)
	if errors.Is(err, ErrNothingToSend) {
		return Outcome{Err: errors.New("the event was rejected, so there is nothing to forward"), Final: true}
	}
	if err != nil {
		return Outcome{Err: fmt.Errorf("the target URL is invalid: %w", err), Final: true}
	}
	method := ev.Method
	if t.Method != "" {
		method = t.Method
	}
	if err := e.decorate(ctx, h, r, ev.Body); err != nil {
		return Outcome{Err: err, Final: true}
	}
	return e.post(ctx, method, target, h, ev.Body)
}

// decorate adds the target's headers, the X-Hooktray-* ones and a signature.
func (e *Engine) decorate(ctx context.Context, h http.Header, r Request, body []byte) error {
	for k, v := range r.Target.Headers {
		h.Set(k, v)
	}
	id := strconv.FormatInt(r.Delivery.ID, 10)
	h.Set("X-Hooktray-Event", strconv.FormatInt(r.Event.ID, 10))
	h.Set("X-Hooktray-Delivery", id)
	h.Set("X-Hooktray-Attempt", strconv.Itoa(r.Attempt))
	if r.Target.SignScheme == hook.SchemeNone {
		return nil
	}
	secret, err := e.secret(ctx, r, SecretSign)
	if err != nil || secret == "" {
		return fmt.Errorf("the target signs with %s but its secret cannot be read: %v", r.Target.SignScheme, err)
	}
	// The provider's old signature would not match the new request: send only the fresh one.
	for _, name := range []string{"X-Homecast-Signature", "Stripe-Signature", "Webhook-Id", "Webhook-Timestamp",
		"Webhook-Signature", "X-Hub-Signature-256", "X-Hub-Signature", "X-Shopify-Hmac-Sha256", "X-Slack-Signature",
		"X-Slack-Request-Timestamp", verify.SignatureHeader} {
		h.Del(name)
	}
	sig, err := verify.Sign(r.Target.SignScheme, secret, body, "msg_hooktray_"+id, r.Now)
	if err != nil {
		return err
	}
	for k, vs := range sig {
		h[k] = vs
	}
	return nil
}

// post sends one request and reads the start of the answer.
func (e *Engine) post(ctx context.Context, method, target string, h http.Header, body []byte) Outcome {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return Outcome{URL: target, Err: fmt.Errorf("build the request: %w", err), Final: true}
	}
	req.Header = h
	start := time.Now()
	resp, err := e.opts.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within the target's timeout")
		}
		return Outcome{URL: target, Latency: time.Since(start), Err: networkError(req.URL.Host, err)}
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
	o := Outcome{URL: target, Status: resp.StatusCode, Latency: time.Since(start), Response: snippet(b),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil && rerr == nil {
		rerr = err
	}
	if rerr != nil && o.OK() {
		// The answer broke off: whether the target acted on it is unknown, so it is sent again.
		o.Err = fmt.Errorf("the answer broke off: %w", rerr)
	}
	return o
}

func snippet(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("(%d bytes, not text)", len(b))
}

// retryAfter reads Retry-After: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// networkError says why a request got no answer, in the user's words.
func networkError(host string, err error) error {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("nothing answers at %s (connection refused): is it running?", host)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot find the host %s (%v)", dns.Name, dns.Err)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s closed the connection before answering", host)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%s cannot be reached from this computer (%v)", host, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
