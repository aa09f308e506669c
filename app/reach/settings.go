package reach

import (
	"context"
	"encoding/json"

	"github.com/hooktray/hooktray/tunnel"
)

// Where the tunnel settings made in the app or through the API are kept: a setting (JSON) and,
// for the named tunnel's token, a sealed secret.
const (
	settingTunnel     = "tunnel"
	secretTunnelToken = "tunnel-token"
)

// storedTunnel is the tunnel setting as kept in the database.
type storedTunnel struct {
	Mode      tunnel.Mode `json:"mode"`
	PublicURL string      `json:"public_url,omitempty"`
}

// loadSettings decides the tunnel settings at start: flags and environment first, then what was
// set in the app or through the API, then Options.TunnelDefault. The stored token is used when
// none was given.
func (s *Service) loadSettings(ctx context.Context) error {
	o := s.opts.Tunnel
	if o.Mode == "" && o.PublicURL == "" {
		if err := s.storedSettings(ctx, &o); err != nil {
			return err
		}
	}
	unreadable := false
	if o.Token == "" {
		token, found, err := s.token.Get(ctx, secretTunnelToken)
		if err != nil && !found {
			return err
		}
		if err != nil {
			unreadable = true
			s.opts.Log.Error("the stored tunnel token cannot be read (the master key that sealed it is missing or another); enter it again", "key_looked_for_in", s.opts.Box.Where())
		}
		o.Token = token
	}
	s.mu.Lock()
	s.settings, s.tunnel.tokenUnreadable = o, unreadable
	s.mu.Unlock()
	return nil
}

// storedSettings fills o's mode and public URL from the database, else with the default mode.
func (s *Service) storedSettings(ctx context.Context, o *tunnel.Settings) error {
	raw, ok, err := s.opts.Store.Setting(ctx, settingTunnel)
	if err != nil {
		return err
	}
	var saved storedTunnel
	switch {
	case ok && json.Unmarshal([]byte(raw), &saved) == nil:
		if _, err := tunnel.ParseMode(string(saved.Mode)); err == nil {
			o.Mode, o.PublicURL = saved.Mode, saved.PublicURL
		}
	case ok:
		s.opts.Log.Warn("the stored tunnel setting is unreadable; using the default", "setting", raw)
	}
	if o.Mode == "" && o.PublicURL == "" {
		o.Mode = s.opts.TunnelDefault
	}
	return nil
}

// SetTunnel changes how endpoints become public, remembers it (the token sealed like endpoint
// secrets), and applies it at once. Invalid settings give *hook.FieldError naming the field.
func (s *Service) SetTunnel(ctx context.Context, c tunnel.SettingsChange) error {
	s.mu.Lock()
	o := s.settings
	s.mu.Unlock()
	if err := c.Apply(&o); err != nil {
		return err
	}
	saved, err := json.Marshal(storedTunnel{Mode: o.Mode, PublicURL: o.PublicURL})
	if err != nil {
		return err
	}
	if err := s.opts.Store.PutSetting(ctx, settingTunnel, string(saved)); err != nil {
		s.opts.Health.NoteStorage(err)
		return err
	}
	if c.Token != nil {
		if err := s.token.Put(ctx, secretTunnelToken, o.Token); err != nil {
			s.opts.Health.NoteStorage(err)
			return err
		}
	}
	s.mu.Lock()
	s.settings.Mode, s.settings.PublicURL, s.settings.Token = o.Mode, o.PublicURL, o.Token
	if c.Token != nil && o.Token != "" {
		s.tunnel.tokenUnreadable = false
	}
	s.mu.Unlock()
	s.opts.Log.Info("tunnel settings changed", "mode", o.Mode, "public_url", o.PublicURL, "token_set", o.Token != "")
	s.stopTunnel()
	s.startTunnel(ctx)
	return nil
}

// Settings returns the tunnel settings in force, without the token (hasToken says whether one
// is set).
func (s *Service) Settings() (o tunnel.Settings, hasToken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o = s.settings
	o.Mode = o.EffectiveMode()
	hasToken, o.Token = o.Token != "", ""
	return o, hasToken
}
