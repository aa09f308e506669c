package receiver

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// SharedSecretMask replaces a shared-secret header's value in stored events.
const SharedSecretMask = "[the endpoint's shared secret, not stored]"

// Endpoint is an endpoint as the receiver needs it: its settings and its current secrets, in
// clear, in memory only.
type Endpoint struct {
	hook.Endpoint
	Secrets  []string
	KeyPath  *keypath.Path // parsed Settings.Route.KeyPath of a router
	TypePath *keypath.Path // parsed Settings.TypePath
	// Responses are the compiled response rules, in order.
	Responses []ResponseRule
	// SecretsUnreadable: the endpoint has stored secrets but none can be opened (the master key
	// is missing), so its verification fails with that reason rather than "no secret".
	SecretsUnreadable bool
}

// unreadableReason is the verdict while an endpoint's secrets cannot be opened.
const unreadableReason = "the endpoint's secret cannot be read (the master key is missing): restore the key or enter the secret again"

// maskSharedSecret replaces the value of the header that carries t's shared secret in h, on every
// path (paused, oversized, unreadable, verification off), before anything is recorded. It returns
// the header set to verify with: a copy holding the original value, or h when nothing was masked.
func maskSharedSecret(t *Endpoint, h http.Header) http.Header {
	name := t.Settings.Verify.Header
	if t.VerifyScheme != hook.SchemeSharedSecret || name == "" {
		return h
	}
	key := http.CanonicalHeaderKey(name)
	values, ok := h[key]
	if !ok {
		return h
	}
	original := h.Clone()
	masked := make([]string, len(values))
	for i := range masked {
		masked[i] = SharedSecretMask
	}
	h[key] = masked
	return original
}

// check verifies (or, for Home Assistant, decrypts) ev's body for t, filling ev's verdict, type
// and decrypted payload; signed holds the request's headers as they arrived (ev's may be masked).
// It reports whether the request passes.
func check(t *Endpoint, ev *hook.Event, signed http.Header, now time.Time, bd *body) bool {
	if t.VerifyScheme == hook.SchemeNone || !t.VerifyMode.Checks() {
		return true
	}
	ev.Verification.Scheme = t.VerifyScheme
	if t.SecretsUnreadable {
		ev.Verification.Result, ev.Verification.Reason = hook.ResultFailed, unreadableReason
		return false
	}
	if t.VerifyScheme == hook.SchemeMobileApp {
		if bd.spooled() {
			ev.Verification.Result = hook.ResultFailed
			ev.Verification.Reason = fmt.Sprintf("a body of %d bytes is too large to be a Home Assistant message", ev.Size)
			return false
		}
		reason := "the endpoint has no registration secret"
		for _, s := range t.Secrets {
			typ, data, err := verify.Decrypt(s, ev.Body)
			if err == nil {
				ev.Verification.Result, ev.Decrypted = hook.ResultOK, data
				if typ != "" {
					ev.Type = typ
				}
				return true
			}
			reason = err.Error()
		}
		ev.Verification.Result, ev.Verification.Reason = hook.ResultFailed, reason
		return false
	}
	vs := t.Settings.Verify
	req := verify.Request{Header: signed, Body: ev.Body, Now: now}
	if bd.spooled() {
		req.Body, req.BodyFile = nil, bd.path
	}
	res := verify.Check(verify.Config{
		Scheme: t.VerifyScheme, Window: time.Duration(vs.WindowSeconds) * time.Second,
		Header: vs.Header, Prefix: vs.Prefix, Algorithm: vs.Algorithm, Encoding: vs.Encoding,
	}, t.Secrets, req)
	if res.OK {
		ev.Verification.Result = hook.ResultOK
		return true
	}
	ev.Verification.Result, ev.Verification.Reason = hook.ResultFailed, res.Reason
	return false
}
