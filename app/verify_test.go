package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/endpoints"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

func stripeHeader(secret, body string, t time.Time) string {
	ts := fmt.Sprint(t.Unix())
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestStripeEnforceAcceptsSignedAndRefusesTampered(t *testing.T) {
	h := startHub(t, nil)
	secret := "whsec_stripe_test_secret_0123456789"
	ep := createEndpoint(t, h, "stripe", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("stripe"), hook.VerifyMode("enforce")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
	})
	body := `{"id":"evt_1","type":"payment_intent.succeeded"}`
	resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(body), "Stripe-Signature", stripeHeader(secret, body, time.Now()))
	if resp.StatusCode != 200 {
		t.Fatalf("signed request answered %d", resp.StatusCode)
	}
	ok := newest(t, h)
	if ok.Status != hook.Accepted || ok.Verification.Result != "ok" || ok.Type != "payment_intent.succeeded" {
		t.Errorf("signed event %+v", ok.Verification)
	}
	tampered := strings.Replace(body, "succeeded", "failed", 1)
	resp, got := post(t, h.Services().Endpoints.URL(ep.ID), []byte(tampered), "Stripe-Signature", stripeHeader(secret, body, time.Now()))
	if resp.StatusCode != 401 || !strings.Contains(got, "signature does not match") {
		t.Fatalf("tampered request answered %d %s", resp.StatusCode, got)
	}
	bad := newest(t, h)
	if bad.Status != hook.Rejected || bad.Verification.Result != "failed" || !strings.Contains(bad.Reason, "signature does not match the secret") || string(bad.Body) != tampered {
		t.Errorf("tampered event %+v %q", bad.Verification, bad.Reason)
	}
	old := stripeHeader(secret, body, time.Now().Add(-412*time.Second))
	if resp, got := post(t, h.Services().Endpoints.URL(ep.ID), []byte(body), "Stripe-Signature", old); resp.StatusCode != 401 || !strings.Contains(got, "timestamp is 412 s old (window 300 s)") {
		t.Errorf("stale request answered %d %s", resp.StatusCode, got)
	}

	// Rotation: the new secret works at once and the old one during the grace period.
	newSecret, err := h.Services().Endpoints.RotateSecret(context.Background(), ep.ID)
	if err != nil || newSecret == secret || newSecret == "" {
		t.Fatalf("rotate: %q %v", newSecret, err)
	}
	for _, s := range []string{newSecret, secret} {
		if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(body), "Stripe-Signature", stripeHeader(s, body, time.Now())); resp.StatusCode != 200 {
			t.Errorf("after rotation, a request signed with %q answered %d", s[:10], resp.StatusCode)
		}
	}
	if revealed, err := h.Services().Endpoints.RevealSecret(context.Background(), ep.ID); err != nil || revealed != newSecret {
		t.Errorf("reveal: %q %v", revealed, err)
	}

	// The API never shows the secret outside the reveal and rotate calls.
	c := newAPIClient(t, h)
	var raw map[string]any
	c.do("GET", "/api/v1/endpoints/"+ep.ID, "", &raw)
	if strings.Contains(fmt.Sprint(raw), secret) || strings.Contains(fmt.Sprint(raw), newSecret) {
		t.Error("the endpoint JSON contains a secret")
	}
	h.Stop(context.Background())
	assertNotOnDisk(t, h.Services().Info.DataDir, secret, newSecret)
}

func TestHomeAssistantPayloadIsDecrypted(t *testing.T) {
	h := startHub(t, nil)
	secret := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	ep := createEndpoint(t, h, "phone", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("ha-mobile-app"), hook.VerifyMode("annotate")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
	})
	body := `{"type":"update_location","encrypted":true,"encrypted_data":"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3PS9/W3rupsN+zNKKj40NJk230GrxRN31RhkVeMKEQ/B6rOjzFalvT0MUMrcpFp1nrJNpnh92UQndKQFCe457iUIh7nDx"}`
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(body)); resp.StatusCode != 200 {
		t.Fatalf("answered %d", resp.StatusCode)
	}
	ev := newest(t, h)
	if string(ev.Decrypted) != `{"gps":[12.34,56.78],"gps_accuracy":120,"battery":45}` || ev.Type != "update_location" || ev.Verification.Result != "ok" {
		t.Errorf("event %+v decrypted %q", ev.Verification, ev.Decrypted)
	}
	var apiEv struct{ Decrypted string }
	newAPIClient(t, h).do("GET", fmt.Sprintf("/api/v1/events/%d", ev.ID), "", &apiEv)
	if !strings.Contains(apiEv.Decrypted, "gps_accuracy") {
		t.Errorf("API decrypted %q", apiEv.Decrypted)
	}
	// annotate: a payload that does not open is accepted and marked.
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"type":"x","encrypted":true,"encrypted_data":"AAAA"}`)); resp.StatusCode != 200 {
		t.Errorf("annotate mode refused a bad payload: %d", resp.StatusCode)
	}
	if ev := newest(t, h); ev.Verification.Result != "failed" || ev.Status != hook.Accepted {
		t.Errorf("bad payload %+v", ev.Verification)
	}
}

func TestVerificationSettingsAreValidated(t *testing.T) {
	h := startHub(t, nil)
	for _, tc := range []struct {
		v     hook.VerifyChange
		field string
	}{
		{hook.VerifyChange{Scheme: ptr(hook.Scheme("md5"))}, "verify.scheme"},
		{hook.VerifyChange{Scheme: ptr(hook.SchemeGitHub), Mode: ptr(hook.VerifyMode("strict"))}, "verify.mode"},
		{hook.VerifyChange{Scheme: ptr(hook.SchemeHMAC), Mode: ptr(hook.VerifyEnforce)}, "verify.header"},
		{hook.VerifyChange{Mode: ptr(hook.VerifyEnforce)}, "verify.scheme"},
	} {
		name := "v"
		_, err := h.Services().Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name, Verify: &tc.v})
		fe, ok := err.(*hook.FieldError)
		if !ok || fe.Field != tc.field {
			t.Errorf("%+v: %v, want a %s error", tc.v, err, tc.field)
		}
	}
	// A verifying endpoint created without a secret gets one in its scheme's format.
	name, scheme, mode := "gen", hook.SchemeStandardWebhooks, hook.VerifyEnforce
	ep, err := h.Services().Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name, Verify: &hook.VerifyChange{Scheme: &scheme, Mode: &mode}})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := h.Services().Endpoints.RevealSecret(context.Background(), ep.ID); err != nil || !strings.HasPrefix(s, "whsec_") {
		t.Errorf("generated secret %q %v", s, err)
	}
}

func TestSharedSecretHeaderIsCheckedButNeverStored(t *testing.T) {
	h := startHub(t, nil)
	secret := "shared-secret-value-987654321"
	ep := createEndpoint(t, h, "device", func(c *hook.EndpointChange) {
		scheme, mode, header := hook.Scheme("shared-secret"), hook.VerifyMode("enforce"), "X-Device-Secret"
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode, Header: &header}
		c.Secret = &secret
	})
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Device-Secret", secret); resp.StatusCode != 200 {
		t.Fatalf("right secret answered %d", resp.StatusCode)
	}
	if resp, got := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Device-Secret", "wrong"); resp.StatusCode != 401 || !strings.Contains(got, "X-Device-Secret does not match") {
		t.Fatalf("wrong secret answered %d %s", resp.StatusCode, got)
	}
	if ev := newest(t, h); strings.Contains(fmt.Sprint(ev.Header), "wrong") || strings.Contains(fmt.Sprint(ev.Header), secret) {
		t.Errorf("stored headers %v", ev.Header)
	}
	h.Stop(context.Background())
	assertNotOnDisk(t, h.Services().Info.DataDir, secret)
}

// assertNotOnDisk fails if the database or its WAL holds any of secrets in clear.
func assertNotOnDisk(t *testing.T, dataDir string, secrets ...string) {
	t.Helper()
	for _, name := range []string{DatabaseFile, DatabaseFile + "-wal"} {
		b, _ := os.ReadFile(filepath.Join(dataDir, name))
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a secret in clear", name)
			}
		}
	}
}

func TestRotationGraceEnds(t *testing.T) {
	h := startHub(t, nil)
	secret := "gh-old-secret"
	ep := createEndpoint(t, h, "gh", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("github"), hook.VerifyMode("enforce")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
	})
	if _, err := h.Services().Endpoints.RotateSecret(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	sign := func(s string) string {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte("{}"))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(secret)); resp.StatusCode != 200 {
		t.Fatalf("old secret during the grace: %d", resp.StatusCode)
	}
	// The grace period ends (moved to the past here rather than waiting an hour).
	if err := h.store.ExpireSecrets(context.Background(), ep.ID, "signing", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	// ExpireSecrets expired the new one too; give the endpoint a fresh current secret.
	fresh := "gh-new-secret"
	if _, err := h.Services().Endpoints.Update(context.Background(), ep.ID, hook.EndpointChange{Secret: &fresh}); err != nil {
		t.Fatal(err)
	}
	h.Services().Endpoints.DropExpiredSecrets(context.Background())
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(secret)); resp.StatusCode != 401 {
		t.Errorf("old secret after the grace: %d", resp.StatusCode)
	}
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(fresh)); resp.StatusCode != 200 {
		t.Errorf("current secret: %d", resp.StatusCode)
	}
}

func TestMissingMasterKeyNeverLocksTheUserOut(t *testing.T) {
	dir := t.TempDir()
	secret := "gh-secret-before-the-key-was-lost"
	sign := func(s string) string {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte("{}"))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	h := startHub(t, func(o *Options) { o.DataDir = dir })
	ep := createEndpoint(t, h, "github-repo", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("github"), hook.VerifyMode("enforce")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
	})
	h.Stop(context.Background())
	keyFile := filepath.Join(dir, "master-key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}

	h = startHub(t, func(o *Options) { o.DataDir = dir })
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new master key was written while sealed secrets exist")
	}
	if e := h.Services().Endpoints.SecretsError(); !strings.Contains(e, "github-repo") || !strings.Contains(e, "master-key") {
		t.Errorf("status does not say which secrets cannot be read and where the key belongs: %q", e)
	}
	resp, got := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(secret))
	if resp.StatusCode != 401 || !strings.Contains(got, "master key is missing") {
		t.Errorf("enforce endpoint without its key answered %d %s, want 401 saying why", resp.StatusCode, got)
	}
	if _, err := h.Services().Endpoints.RevealSecret(context.Background(), ep.ID); err == nil {
		t.Error("an unreadable secret was revealed")
	}

	// The user enters the secret again: only now is a key made, and the endpoint verifies.
	if _, err := h.Services().Endpoints.Update(context.Background(), ep.ID, hook.EndpointChange{Secret: &secret}); err != nil {
		t.Fatal(err)
	}
	if e := h.Services().Endpoints.SecretsError(); e != "" {
		t.Errorf("after the secret was entered again: %q", e)
	}
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(secret)); resp.StatusCode != 200 {
		t.Errorf("re-entered secret: %d", resp.StatusCode)
	}
}

// A clock set back a day after a rotation does not keep the old secret valid for a day: its grace
// is an hour of elapsed time.
func TestRotationGraceIsElapsedTimeNotWallTime(t *testing.T) {
	clk := clock.NewFake(time.Now())
	h := startHub(t, func(o *Options) { o.Clock = clk })
	secret := "gh-old-secret"
	ep := createEndpoint(t, h, "gh", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("github"), hook.VerifyMode("enforce")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
	})
	if _, err := h.Services().Endpoints.RotateSecret(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	sign := func(s string) string {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte("{}"))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	h.Services().Endpoints.DropExpiredSecrets(context.Background()) // the grace is seen: an hour from now
	clk.Step(-24 * time.Hour)
	clk.Advance(endpoints.RotationGrace)
	h.Services().Endpoints.DropExpiredSecrets(context.Background())
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"), "X-Hub-Signature-256", sign(secret)); resp.StatusCode != 401 {
		t.Errorf("the old secret still works an hour after the rotation, the clock having been set back: %d", resp.StatusCode)
	}
}
