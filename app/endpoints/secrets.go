package endpoints

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// purposeSigning marks the secrets that verify an endpoint's requests.
const purposeSigning = "signing"

// RotationGrace is how long the previous secret stays valid after a rotation (as Shopify does).
const RotationGrace = time.Hour

// openSecrets returns an endpoint's current secrets in clear (newest first), for memory only, and
// how many stored ones could not be opened (their master key is missing or another).
func (s *Service) openSecrets(ctx context.Context, id string, now time.Time) (open []string, unreadable int, err error) {
	sealed, err := s.opts.Store.Secrets(ctx, id, purposeSigning, now)
	if err != nil {
		return nil, 0, err
	}
	out := make([]string, 0, len(sealed))
	for _, sec := range sealed {
		plain, err := s.opts.Box.Unseal(sec.Nonce, sec.Ciphertext, id)
		if err != nil {
			unreadable++
			continue
		}
		out = append(out, plain)
	}
	return out, unreadable, nil
}

// noteUnreadableSecrets logs, when it changes, which endpoints' secrets cannot be read.
func (s *Service) noteUnreadableSecrets(names []string) {
	s.dir.mu.Lock()
	changed := !slices.Equal(s.dir.logged, names)
	s.dir.logged = names
	s.dir.mu.Unlock()
	if changed && len(names) > 0 {
		s.opts.Log.Error("stored secrets cannot be read; verification of these endpoints fails until the key is restored or each secret is entered again",
			"endpoints", names, "key_looked_for_in", s.opts.Box.Where())
	}
}

// SecretsError is a sentence naming the endpoints whose secrets cannot be read and how to mend
// it, or "" when every secret opens.
func (s *Service) SecretsError() string {
	s.dir.mu.Lock()
	names := s.dir.logged
	s.dir.mu.Unlock()
	if len(names) == 0 {
		return ""
	}
	why := "the master key that sealed them is not in " + s.opts.Box.Where()
	if !s.opts.Box.Missing() {
		why = "they were sealed with another master key than the one in use"
	}
	return fmt.Sprintf("the secrets of %s cannot be read: %s. Restore the master key from a backup and restart Hooktray, "+
		"or enter each secret again (edit the endpoint, or rotate its secret); until then their verification fails",
		strings.Join(names, ", "), why)
}

// SecretsStorage says where the master key lives ("keychain" or "file"), for status.
func (s *Service) SecretsStorage() string { return s.opts.Box.Source }

// addSecret seals and stores a secret; with grace > 0 the current ones stay valid that long.
func (s *Service) addSecret(ctx context.Context, id, secret string, grace time.Duration) error {
	if s.opts.Box.Missing() {
		// The user enters a secret although the old key is gone: only now is a new key made.
		if err := s.opts.Box.Create(); err != nil {
			return err
		}
		s.opts.Log.Warn("a new master key was created for a secret entered again; secrets sealed with the missing key stay unreadable", "key", s.opts.Box.Source)
	}
	if grace >= 0 {
		if err := s.opts.Store.ExpireSecrets(ctx, id, purposeSigning, s.opts.Clock.Now().Add(grace)); err != nil {
			return err
		}
	}
	nonce, ct := s.opts.Box.Seal(secret, id)
	return s.opts.Store.AddSecret(ctx, &hook.SealedSecret{EndpointID: id, Purpose: purposeSigning, Nonce: nonce, Ciphertext: ct})
}

// applySecret handles the secret part of a create or update: a given secret replaces the current
// ones at once; an endpoint that verifies but has no secret gets a generated one.
func (s *Service) applySecret(ctx context.Context, ep hook.Endpoint, given *string) error {
	switch {
	case given != nil && *given != "":
		return s.addSecret(ctx, ep.ID, *given, 0)
	case ep.VerifyScheme != hook.SchemeNone:
		have, err := s.opts.Store.Secrets(ctx, ep.ID, purposeSigning, s.opts.Clock.Now())
		if err != nil || len(have) > 0 {
			return err
		}
		return s.addSecret(ctx, ep.ID, verify.NewSecret(ep.VerifyScheme), -1)
	}
	return nil
}

// RotateSecret gives the endpoint a new secret in its scheme's format and keeps the previous one
// valid for RotationGrace. It returns the new secret: this is one of the two calls that reveal a
// secret (RevealSecret is the other). A provider that owns the secret (Homecast) rotates it at its
// side, and the endpoint follows.
func (s *Service) RotateSecret(ctx context.Context, id string) (string, error) {
	if s.peers.Providers != nil {
		if secret, ok, err := s.peers.Providers.RotateAtProvider(ctx, id); ok {
			return secret, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ep, err := s.Get(id)
	if err != nil {
		return "", err
	}
	if ep.VerifyScheme == hook.SchemeNone {
		return "", &hook.FieldError{Field: "verify.scheme", Message: "the endpoint verifies nothing, so it has no secret to rotate"}
	}
	secret := verify.NewSecret(ep.VerifyScheme)
	if err := s.addSecret(ctx, id, secret, RotationGrace); err != nil {
		return "", err
	}
	s.opts.Log.Info("secret rotated", "endpoint", id, "previous_valid_until", s.opts.Clock.Now().Add(RotationGrace).Format(time.RFC3339))
	return secret, s.refresh(ctx, id)
}

// RevealSecret returns the endpoint's newest secret in clear. Nothing else returns one.
func (s *Service) RevealSecret(ctx context.Context, id string) (string, error) {
	if _, err := s.Get(id); err != nil {
		return "", err
	}
	open, unreadable, err := s.openSecrets(ctx, id, s.opts.Clock.Now())
	if err != nil {
		return "", err
	}
	if len(open) == 0 && unreadable > 0 {
		return "", &hook.FieldError{Field: "secret", Message: "the endpoint's secret cannot be read: its master key is missing; restore it or enter the secret again"}
	}
	if len(open) == 0 {
		return "", &hook.FieldError{Field: "secret", Message: "the endpoint has no secret"}
	}
	return open[0], nil
}

// KeepProviderSecret makes a secret a provider returned (or Hooktray made for it) the endpoint's
// verification secret in scheme, the previous ones staying valid for RotationGrace; header names
// where the provider puts signatures, when the scheme needs one.
func (s *Service) KeepProviderSecret(ctx context.Context, endpointID, secret string, scheme hook.Scheme, header string) error {
	ep, err := s.Get(endpointID)
	if err != nil {
		return err
	}
	if err := s.addSecret(ctx, ep.ID, secret, RotationGrace); err != nil {
		return err
	}
	mode := ep.VerifyMode
	if mode == hook.VerifyOff || ep.VerifyScheme != scheme {
		mode = hook.VerifyEnforce
		if scheme == hook.SchemeHMAC {
			mode = hook.VerifyAnnotate // the header is the user's guess: mark, never refuse
		}
	}
	c := hook.VerifyChange{Scheme: &scheme, Mode: &mode}
	if header != "" {
		c.Header = &header
	}
	_, err = s.Update(ctx, ep.ID, hook.EndpointChange{Verify: &c})
	return err
}

// DropExpiredSecrets ends rotation grace periods: expired secrets leave the database and the
// receiver's memory. A grace period is measured on the monotonic clock from when it is first seen
// (clock.Due), so a clock set back cannot keep an old secret valid longer than RotationGrace.
func (s *Service) DropExpiredSecrets(ctx context.Context) {
	n, err := s.opts.Store.DeleteExpiredSecrets(ctx, s.opts.Clock.Now())
	if err != nil {
		return
	}
	expiring, err := s.opts.Store.ExpiringSecrets(ctx)
	if err != nil {
		return
	}
	over := s.graceOver(expiring)
	if err := s.opts.Store.DeleteSecrets(ctx, over); err != nil || n+int64(len(over)) == 0 {
		return
	}
	// Rare (an hour after a rotation): every endpoint is read again, as at start.
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(ctx); err != nil && ctx.Err() == nil {
		s.opts.Log.Error("reload endpoints after a rotation grace ended", "err", err)
	}
	s.opts.Changes.Publish(hook.EndpointsChanged)
}

// graceOver is which of the expiring secrets (id → stored expiry) have had their grace.
func (s *Service) graceOver(expiring map[int64]time.Time) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var over []int64
	for id, at := range expiring {
		due, ok := s.grace[id]
		if !ok {
			due = clock.Due(s.opts.Clock, at, RotationGrace)
			s.grace[id] = due
		}
		if clock.Left(s.opts.Clock, due) <= 0 {
			over = append(over, id)
		}
	}
	for id := range s.grace {
		if _, ok := expiring[id]; !ok {
			delete(s.grace, id)
		}
	}
	return over
}
