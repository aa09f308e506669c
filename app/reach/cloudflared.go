package reach

import (
	"context"
	"fmt"
	"time"

	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// updateCheckEvery is how often the Releases API is asked for a newer cloudflared while a tunnel
// uses it (GitHub allows 60 unauthenticated requests an hour; once a day is plenty).
const updateCheckEvery = 24 * time.Hour

// releases is where cloudflared releases are looked up.
func (s *Service) releases() tunnel.Releases {
	return tunnel.Releases{API: s.opts.ReleasesAPI, Clock: s.opts.Clock, Client: useragent.Client(s.opts.Version, 30*time.Second)}
}

// InstallCloudflared downloads cloudflared (version "" means the newest release) from the
// release's own files, checked against the size and SHA-256 the Releases API reports, installs it
// in the data dir and restarts the tunnel with it. It returns at once: progress and outcome are in
// CloudflaredInstall, and each step publishes hook.TunnelChanged.
func (s *Service) InstallCloudflared(version string) error {
	if version != "" {
		if _, err := tunnel.ParseVersion(version); err != nil {
			return &hook.FieldError{Field: "version", Message: err.Error() + " (cloudflared versions look like 2026.8.2)"}
		}
	}
	s.mu.Lock()
	if s.tunnel.installing {
		s.mu.Unlock()
		return tunnel.ErrInstallRunning
	}
	s.tunnel.installing = true
	s.tunnel.install = tunnel.InstallStatus{State: tunnel.InstallDownloading}
	s.mu.Unlock()
	s.opts.Changes.Publish(hook.TunnelChanged)
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Minute)
		defer cancel()
		installed, err := s.install(ctx, version)
		s.mu.Lock()
		s.tunnel.installing = false
		if err != nil {
			s.tunnel.install.State, s.tunnel.install.Error = tunnel.InstallFailed, netmsg.Sentence(err)
		} else {
			s.tunnel.install.State, s.tunnel.install.Version = tunnel.InstallInstalled, installed
		}
		s.mu.Unlock()
		if err != nil {
			s.opts.Log.Warn("cloudflared was not installed", "err", err)
			s.tunnel.log.Add("hooktray: cloudflared was not installed: " + netmsg.Sentence(err))
		}
		s.opts.Changes.Publish(hook.TunnelChanged)
	}()
	return nil
}

// install downloads and installs the release, then restarts the tunnel with it.
func (s *Service) install(ctx context.Context, version string) (string, error) {
	rel, asset, err := s.release(ctx, version)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.tunnel.install.Version, s.tunnel.install.Total = rel.Version, asset.Size
	s.mu.Unlock()
	s.tunnel.log.Add(fmt.Sprintf("hooktray: downloading cloudflared %s (%s, %s) from %s", rel.Version, asset.Name, hook.Bytes(asset.Size), asset.URL))
	staged, err := tunnel.Fetch(ctx, useragent.Client(s.opts.Version, 0), asset, s.opts.DataDir, s.progress())
	if err != nil {
		return "", err
	}
	// cloudflared stops before its file is replaced (Windows cannot replace a running program).
	s.stopTunnel()
	path, err := staged.Install()
	if err != nil {
		s.startTunnel(ctx)
		return "", err
	}
	s.tunnel.log.Add("hooktray: installed " + staged.Version + " at " + path)
	s.opts.Log.Info("cloudflared installed", "version", staged.Version, "path", path)
	s.mu.Lock()
	s.tunnel.binary.Latest = rel.Version
	if s.settings.Cloudflared != "" {
		// A path given at start would win over the download the user just asked for.
		s.settings.Cloudflared = path
	}
	s.mu.Unlock()
	s.startTunnel(s.ctx)
	return rel.Version, nil
}

// release looks up a release (the newest when version is "") and its file for this platform.
func (s *Service) release(ctx context.Context, version string) (tunnel.Release, tunnel.Asset, error) {
	src := s.releases()
	var rel tunnel.Release
	var err error
	if version == "" {
		rel, err = src.Latest(ctx)
	} else {
		rel, err = src.Tagged(ctx, version)
	}
	if err != nil {
		return rel, tunnel.Asset{}, err
	}
	asset, err := rel.AssetFor(tunnel.Platform())
	return rel, asset, err
}

// progress follows a download, publishing each whole percent so a view follows without being
// flooded.
func (s *Service) progress() func(done, total int64) {
	lastPercent := int64(-1)
	return func(done, total int64) {
		s.mu.Lock()
		s.tunnel.install.Done, s.tunnel.install.Total = done, total
		s.mu.Unlock()
		if total > 0 {
			if p := done * 100 / total; p != lastPercent {
				lastPercent = p
				s.opts.Changes.Publish(hook.TunnelChanged)
			}
		}
	}
}

// CloudflaredInstall reports the progress and outcome of the last download of cloudflared.
func (s *Service) CloudflaredInstall() tunnel.InstallStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tunnel.install.State == "" {
		return tunnel.InstallStatus{State: tunnel.InstallIdle}
	}
	return s.tunnel.install
}

// Cloudflared describes the cloudflared in use (empty Path when none was found or needed), and
// whether a newer release is known.
func (s *Service) Cloudflared() tunnel.Binary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tunnel.binary
}

// checkForUpdate asks the Releases API for the newest cloudflared in the background, at most once
// per updateCheckEvery; a newer one is offered (never installed without being asked).
func (s *Service) checkForUpdate() {
	if s.opts.UpdateCheckEvery < 0 {
		return
	}
	every := s.opts.UpdateCheckEvery
	if every == 0 {
		every = updateCheckEvery
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	due := s.tunnel.checkedAt.IsZero() || now.Sub(s.tunnel.checkedAt) >= every
	if due {
		s.tunnel.checkedAt = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
		defer cancel()
		rel, err := s.releases().Latest(ctx)
		if err != nil {
			s.opts.Log.Debug("could not look for a newer cloudflared", "err", err)
			return
		}
		s.mu.Lock()
		b := &s.tunnel.binary
		b.Latest = rel.Version
		b.UpdateAvailable = b.Path != "" && newer(rel.Version, b.Version)
		s.mu.Unlock()
		s.opts.Changes.Publish(hook.TunnelChanged)
	}()
}

// newer reports whether the release latest is newer than the installed version line.
func newer(latest, installed string) bool {
	l, err1 := tunnel.ParseVersion(latest)
	i, err2 := tunnel.ParseVersion(installed)
	return err1 == nil && err2 == nil && i.Less(l)
}
