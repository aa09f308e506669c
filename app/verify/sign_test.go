package verify

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// TestSignedRequestsPassTheirCheck: what a target re-signs, the same scheme's check accepts, and
// a changed body or another secret does not pass.
func TestSignedRequestsPassTheirCheck(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"state.changed"}`)
	for _, scheme := range []hook.Scheme{hook.SchemeHomecast, hook.SchemeStripe, hook.SchemeStandardWebhooks,
		hook.SchemeGitHub, hook.SchemeShopify, hook.SchemeSlack, hook.SchemeHMAC} {
		secret := NewSecret(scheme)
		h, err := Sign(scheme, secret, body, "msg_1", now)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		cfg := Config{Scheme: scheme, Header: SignatureHeader, Prefix: "sha256="}
		if res := Check(cfg, []string{secret}, Request{Header: h, Body: body, Now: now.Add(time.Minute)}); !res.OK {
			t.Errorf("%s: %s", scheme, res.Reason)
		}
		if res := Check(cfg, []string{secret}, Request{Header: h, Body: append(body, ' '), Now: now}); res.OK {
			t.Errorf("%s: a changed body passed", scheme)
		}
		if res := Check(cfg, []string{NewSecret(scheme)}, Request{Header: h, Body: body, Now: now}); res.OK {
			t.Errorf("%s: another secret passed", scheme)
		}
		if !CanSign(scheme) {
			t.Errorf("CanSign(%s) is false", scheme)
		}
	}
	for _, scheme := range []hook.Scheme{hook.SchemeSharedSecret, hook.SchemeMobileApp} {
		if CanSign(scheme) {
			t.Errorf("%s claims to sign", scheme)
		}
	}
}

func TestEncryptedPayloadOpensWithTheDecryption(t *testing.T) {
	for _, secret := range []string{NewSecret(hook.SchemeMobileApp), "legacy secret text of a registration"} {
		data := []byte(`{"event_type":"hooktray_webhook","event_data":{"x":1}}`)
		env, err := Encrypt(secret, "fire_event", data)
		if err != nil {
			t.Fatal(err)
		}
		typ, plain, err := Decrypt(secret, env)
		if err != nil || typ != "fire_event" || !bytes.Equal(plain, data) {
			t.Errorf("%q: %q %q %v", secret, typ, plain, err)
		}
		if bytes.Contains(env, []byte("hooktray_webhook")) {
			t.Error("the data is readable in the envelope")
		}
		var keys map[string]any
		json.Unmarshal(env, &keys)
		if len(keys) != 3 || keys["type"] != "fire_event" || keys["encrypted"] != true {
			t.Errorf("envelope %s: want exactly type, encrypted and encrypted_data", env)
		}
	}
}
