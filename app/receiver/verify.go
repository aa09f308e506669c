package receiver

import (
	"time"

	"github.com/hooktray/hooktray/app/route"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/storage"
)

// SharedSecretMask replaces a shared-secret header's value in stored events.
const SharedSecretMask = "[the endpoint's shared secret, not stored]"

// Target is an endpoint as the receiver needs it: its settings and its current secrets, in
// clear, in memory only.
type Target struct {
	storage.Endpoint
	Secrets  []string
	KeyPath  *route.KeyPath // parsed Settings.Route.KeyPath of a router
	TypePath *route.KeyPath // parsed Settings.TypePath
}

// check verifies (or, for Home Assistant, decrypts) ev's body for t, filling ev's verdict, type
// and decrypted payload. It reports whether the request passes.
func check(t *Target, ev *storage.Event, now time.Time) bool {
	if t.VerifyScheme == "" || t.VerifyMode == "off" || t.VerifyMode == "" {
		return true
	}
	ev.Verification.Scheme = t.VerifyScheme
	if t.VerifyScheme == verify.MobileApp {
		reason := "the endpoint has no registration secret"
		for _, s := range t.Secrets {
			typ, data, err := verify.Decrypt(s, ev.Body)
			if err == nil {
				ev.Verification.Result, ev.Decrypted = "ok", data
				if typ != "" {
					ev.Type = typ
				}
				return true
			}
			reason = err.Error()
		}
		ev.Verification.Result, ev.Verification.Reason = "failed", reason
		return false
	}
	vs := t.Settings.Verify
	res := verify.Check(verify.Config{
		Scheme: t.VerifyScheme, Window: time.Duration(vs.WindowSeconds) * time.Second,
		Header: vs.Header, Prefix: vs.Prefix, Algorithm: vs.Algorithm, Encoding: vs.Encoding,
	}, t.Secrets, verify.Request{Header: ev.Header, Body: ev.Body, Now: now})
	if t.VerifyScheme == verify.SharedSecret && vs.Header != "" && ev.Header.Get(vs.Header) != "" {
		// That header carries the secret itself: it is checked, never stored.
		ev.Header.Set(vs.Header, SharedSecretMask)
	}
	if res.OK {
		ev.Verification.Result = "ok"
		return true
	}
	ev.Verification.Result, ev.Verification.Reason = "failed", res.Reason
	return false
}
