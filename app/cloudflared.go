package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// updateCheckEvery is how often the Releases API is asked for a newer cloudflared while a tunnel
// uses it (GitHub allows 60 unauthenticated requests an hour; once a day is plenty).
const updateCheckEvery = 24 * time.Hour

// releases is where cloudflared releases are looked up.
func (h *Hub) releases() tunnel.Releases {
	return tunnel.Releases{API: h.opts.ReleasesAPI, Clock: h.opts.Clock, Client: useragent.Client(h.opts.Version, 30*time.Second)}
}

// InstallCloudflared downloads cloudflared (version "" means the newest release) from the
// release's own files, checked against the size and SHA-256 the Releases API reports, installs it
// in the data dir and restarts the tunnel with it. It returns at once: progress and outcome are in
// CloudflaredInstall, and each step publishes hook.TunnelChanged.
func (h *Hub) InstallCloudflared(version string) error {
	if version != "" {
		if _, err := tunnel.ParseVersion(version); err != nil {
			return &hook.FieldError{Field: "version", Message: err.Error() + " (cloudflared versions look like 2026.8.2)"}
		}
	}
	h.tunnel.mu.Lock()
	if h.tunnel.installing {
		h.tunnel.mu.Unlock()
		return tunnel.ErrInstallRunning
	}
	h.tunnel.installing = true
	h.tunnel.install = tunnel.InstallStatus{State: tunnel.InstallDownloading}
	h.tunnel.mu.Unlock()
	h.changes.Publish(hook.TunnelChanged)
	h.background.Add(1)
	go func() {
		defer h.background.Done()
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Minute)
		defer cancel()
		installed, err := h.installCloudflared(ctx, version)
		h.tunnel.mu.Lock()
		h.tunnel.installing = false
		if err != nil {
			h.tunnel.install.State, h.tunnel.install.Error = tunnel.InstallFailed, err.Error()
		} else {
			h.tunnel.install.State, h.tunnel.install.Version = tunnel.InstallInstalled, installed
		}
		h.tunnel.mu.Unlock()
		if err != nil {
			h.log.Warn("cloudflared was not installed", "err", err)
			h.tunnel.log.Add("hooktray: cloudflared was not installed: " + err.Error())
		}
		h.changes.Publish(hook.TunnelChanged)
	}()
	return nil
}

func (h *Hub) installCloudflared(ctx context.Context, version string) (string, error) {
	src := h.releases()
	var rel tunnel.Release
	var err error
	if version == "" {
		rel, err = src.Latest(ctx)
	} else {
		rel, err = src.Tagged(ctx, version)
	}
	if err != nil {
		return "", err
	}
	asset, err := rel.AssetFor(tunnel.Platform())
	if err != nil {
		return "", err
	}
	h.tunnel.mu.Lock()
	h.tunnel.install.Version, h.tunnel.install.Total = rel.Version, asset.Size
	h.tunnel.mu.Unlock()
	h.tunnel.log.Add(fmt.Sprintf("hooktray: downloading cloudflared %s (%s, %s) from %s", rel.Version, asset.Name, hook.Bytes(asset.Size), asset.URL))
	lastPercent := int64(-1)
	progress := func(done, total int64) {
		h.tunnel.mu.Lock()
		h.tunnel.install.Done, h.tunnel.install.Total = done, total
		h.tunnel.mu.Unlock()
		// Publish each whole percent, so a view follows without being flooded.
		if total > 0 {
			if p := done * 100 / total; p != lastPercent {
				lastPercent = p
				h.changes.Publish(hook.TunnelChanged)
			}
		}
	}
	staged, err := tunnel.Fetch(ctx, useragent.Client(h.opts.Version, 0), asset, h.opts.DataDir, progress)
	if err != nil {
		return "", err
	}
	// cloudflared stops before its file is replaced (Windows cannot replace a running program).
	h.stopTunnel()
	path, err := staged.Install()
	if err != nil {
		h.startTunnel(ctx)
		return "", err
	}
	h.tunnel.log.Add("hooktray: installed " + staged.Version + " at " + path)
	h.log.Info("cloudflared installed", "version", staged.Version, "path", path)
	h.tunnel.mu.Lock()
	h.tunnel.binary.Latest = rel.Version
	if h.opts.Tunnel.Cloudflared != "" {
		// A path given at start would win over the download the user just asked for.
		h.opts.Tunnel.Cloudflared = path
	}
	h.tunnel.mu.Unlock()
	h.startTunnel(h.ctx)
	return rel.Version, nil
}

// CloudflaredInstall reports the progress and outcome of the last download of cloudflared.
func (h *Hub) CloudflaredInstall() tunnel.InstallStatus {
	h.tunnel.mu.Lock()
	defer h.tunnel.mu.Unlock()
	if h.tunnel.install.State == "" {
		return tunnel.InstallStatus{State: tunnel.InstallIdle}
	}
	return h.tunnel.install
}

// Cloudflared describes the cloudflared in use (empty Path when none was found or needed), and
// whether a newer release is known.
func (h *Hub) Cloudflared() tunnel.Binary {
	h.tunnel.mu.Lock()
	defer h.tunnel.mu.Unlock()
	return h.tunnel.binary
}

// checkForUpdate asks the Releases API for the newest cloudflared in the background, at most once
// per updateCheckEvery; a newer one is offered (never installed without being asked).
func (h *Hub) checkForUpdate() {
	if h.opts.UpdateCheckEvery < 0 {
		return
	}
	every := h.opts.UpdateCheckEvery
	if every == 0 {
		every = updateCheckEvery
	}
	now := h.opts.Clock.Now()
	h.tunnel.mu.Lock()
	due := h.tunnel.checkedAt.IsZero() || now.Sub(h.tunnel.checkedAt) >= every
	if due {
		h.tunnel.checkedAt = now
	}
	h.tunnel.mu.Unlock()
	if !due {
		return
	}
	h.background.Add(1)
	go func() {
		defer h.background.Done()
		ctx, cancel := context.WithTimeout(h.ctx, time.Minute)
		defer cancel()
		rel, err := h.releases().Latest(ctx)
		if err != nil {
			h.log.Debug("could not look for a newer cloudflared", "err", err)
			return
		}
		h.tunnel.mu.Lock()
		b := &h.tunnel.binary
		b.Latest = rel.Version
		b.UpdateAvailable = b.Path != "" && newer(rel.Version, b.Version)
		h.tunnel.mu.Unlock()
		h.changes.Publish(hook.TunnelChanged)
	}()
}

// newer reports whether the release latest is newer than the installed version line.
func newer(latest, installed string) bool {
	l, err1 := tunnel.ParseVersion(latest)
	i, err2 := tunnel.ParseVersion(installed)
	return err1 == nil && err2 == nil && i.Less(l)
}
