package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/storage"
)

// purposeSigning marks the secrets that verify an endpoint's requests.
const purposeSigning = "signing"

// RotationGrace is how long the previous secret stays valid after a rotation (as Shopify does).
const RotationGrace = time.Hour

// openSecrets returns an endpoint's current secrets in clear (newest first), for memory only, and
// how many stored ones could not be opened (their master key is missing or another).
func (h *Hub) openSecrets(ctx context.Context, id string, now time.Time) (open []string, unreadable int, err error) {
	sealed, err := h.store.Secrets(ctx, id, purposeSigning, now)
	if err != nil {
		return nil, 0, err
	}
	out := make([]string, 0, len(sealed))
	for _, s := range sealed {
		plain, err := h.box.Unseal(s.Nonce, s.Ciphertext, id)
		if err != nil {
			unreadable++
			continue
		}
		out = append(out, plain)
	}
	return out, unreadable, nil
}

// noteUnreadableSecrets remembers (and logs, when it changes) which endpoints' secrets cannot be
// read, for status and the GUI.
func (h *Hub) noteUnreadableSecrets(names []string) {
	h.health.mu.Lock()
	changed := !slices.Equal(h.health.lockedSecrets, names)
	h.health.lockedSecrets = names
	h.health.mu.Unlock()
	if changed && len(names) > 0 {
		h.log.Error("stored secrets cannot be read; verification of these endpoints fails until the key is restored or each secret is entered again",
			"endpoints", names, "key_looked_for_in", h.box.Where())
	}
}

// SecretsError is a sentence naming the endpoints whose secrets cannot be read and how to mend
// it, or "" when every secret opens.
func (h *Hub) SecretsError() string {
	h.health.mu.Lock()
	names := h.health.lockedSecrets
	h.health.mu.Unlock()
	if len(names) == 0 {
		return ""
	}
	why := "the master key that sealed them is not in " + h.box.Where()
	if !h.box.Missing() {
		why = "they were sealed with another master key than the one in use"
	}
	return fmt.Sprintf("the secrets of %s cannot be read: %s. Restore the master key from a backup and restart Hooktray, "+
		"or enter each secret again (edit the endpoint, or rotate its secret); until then their verification fails",
		strings.Join(names, ", "), why)
}

// addSecret seals and stores a secret; with grace > 0 the current ones stay valid that long.
func (h *Hub) addSecret(ctx context.Context, id, secret string, grace time.Duration) error {
	if h.box.Missing() {
		// The user enters a secret although the old key is gone: only now is a new key made.
		if err := h.box.Create(); err != nil {
			return err
		}
		h.log.Warn("a new master key was created for a secret entered again; secrets sealed with the missing key stay unreadable", "key", h.box.Source)
	}
	if grace >= 0 {
		if err := h.store.ExpireSecrets(ctx, id, purposeSigning, h.opts.Clock.Now().Add(grace)); err != nil {
			return err
		}
	}
	nonce, ct := h.box.Seal(secret, id)
	return h.store.AddSecret(ctx, &storage.SealedSecret{EndpointID: id, Purpose: purposeSigning, Nonce: nonce, Ciphertext: ct})
}

// applySecret handles the secret part of a create or update: a given secret replaces the current
// ones at once; an endpoint that verifies but has no secret gets a generated one.
func (h *Hub) applySecret(ctx context.Context, ep hook.Endpoint, given *string) error {
	switch {
	case given != nil && *given != "":
		return h.addSecret(ctx, ep.ID, *given, 0)
	case ep.VerifyScheme != hook.SchemeNone:
		have, err := h.store.Secrets(ctx, ep.ID, purposeSigning, h.opts.Clock.Now())
		if err != nil || len(have) > 0 {
			return err
		}
		return h.addSecret(ctx, ep.ID, verify.NewSecret(ep.VerifyScheme), -1)
	}
	return nil
}

// RotateSecret gives the endpoint a new secret in its scheme's format and keeps the previous one
// valid for RotationGrace. It returns the new secret: this is one of the two calls that reveal a
// secret (RevealSecret is the other).
func (h *Hub) RotateSecret(ctx context.Context, id string) (string, error) {
	// A provider that owns the secret (Homecast) rotates it at its side; the endpoint follows.
	if secret, ok, err := h.rotateAtProvider(ctx, id); ok {
		return secret, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ep, err := h.Endpoint(id)
	if err != nil {
		return "", err
	}
	if ep.VerifyScheme == hook.SchemeNone {
		return "", &hook.FieldError{Field: "verify.scheme", Message: "the endpoint verifies nothing, so it has no secret to rotate"}
	}
	secret := verify.NewSecret(ep.VerifyScheme)
	if err := h.addSecret(ctx, id, secret, RotationGrace); err != nil {
		return "", err
	}
	h.log.Info("secret rotated", "endpoint", id, "previous_valid_until", h.opts.Clock.Now().Add(RotationGrace).Format(time.RFC3339))
	return secret, h.refreshEndpoint(ctx, id)
}

// RevealSecret returns the endpoint's newest secret in clear. Nothing else returns one.
func (h *Hub) RevealSecret(ctx context.Context, id string) (string, error) {
	if _, err := h.Endpoint(id); err != nil {
		return "", err
	}
	secrets, unreadable, err := h.openSecrets(ctx, id, h.opts.Clock.Now())
	if err != nil {
		return "", err
	}
	if len(secrets) == 0 && unreadable > 0 {
		return "", &hook.FieldError{Field: "secret", Message: "the endpoint's secret cannot be read: its master key is missing; restore it or enter the secret again"}
	}
	if len(secrets) == 0 {
		return "", &hook.FieldError{Field: "secret", Message: "the endpoint has no secret"}
	}
	return secrets[0], nil
}

// SecretsStorage says where the master key lives ("keychain" or "file"), for status.
func (h *Hub) SecretsStorage() string { return h.box.Source }
