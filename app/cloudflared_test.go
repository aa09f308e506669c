package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
	"github.com/hooktray/hooktray/tunnel/tunneltest"
)

// releasesOf serves the fake cloudflared as every file of cloudflared's latest release.
func releasesOf(t *testing.T, latest string) *tunneltest.Releases {
	t.Helper()
	b, err := os.ReadFile(fakeCloudflared(t))
	if err != nil {
		t.Fatal(err)
	}
	gh := tunneltest.NewReleases(b, latest)
	t.Cleanup(gh.Close)
	return gh
}

func waitInstall(t *testing.T, h *Hub) tunnel.InstallStatus {
	t.Helper()
	testutil.Eventually(t, "the download to end", func() bool { return h.Services().Reach.CloudflaredInstall().State != tunnel.InstallDownloading })
	return h.Services().Reach.CloudflaredInstall()
}

func TestMissingCloudflaredIsDownloadedCheckedAndStarted(t *testing.T) {
	gh := releasesOf(t, "2026.9.0")
	t.Setenv("PATH", t.TempDir())
	h := startHub(t, func(o *Options) { o.Tunnel.Mode, o.ReleasesAPI = tunnel.Quick, gh.URL })
	if !h.Services().Reach.CloudflaredMissing() || h.Services().Reach.CloudflaredInstall().State != tunnel.InstallIdle {
		t.Fatalf("missing %v, install %+v", h.Services().Reach.CloudflaredMissing(), h.Services().Reach.CloudflaredInstall())
	}
	release := gh.Hold()
	defer release()
	if err := h.Services().Reach.InstallCloudflared(""); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "progress half-way", func() bool {
		in := h.Services().Reach.CloudflaredInstall()
		return in.State == tunnel.InstallDownloading && in.Done > 0 && in.Done < in.Total && in.Version == "2026.9.0"
	})
	if err := h.Services().Reach.InstallCloudflared(""); !errors.Is(err, tunnel.ErrInstallRunning) {
		t.Errorf("a second download at once: %v", err)
	}
	release()
	if in := waitInstall(t, h); in.State != tunnel.InstallInstalled || in.Version != "2026.9.0" || in.Done != in.Total {
		t.Fatalf("install %+v", in)
	}
	st := waitTunnel(t, h, tunnel.StateOnline)
	if !strings.HasSuffix(st.URL, ".trycloudflare.com") || h.Services().Reach.CloudflaredMissing() {
		t.Errorf("after the install: %+v", st)
	}
	if b := h.Services().Reach.Cloudflared(); b.Path != filepath.Join(h.Services().Info.DataDir, "bin", "cloudflared") || !strings.HasPrefix(b.Version, "cloudflared version") {
		t.Errorf("binary %+v", b)
	}
}

func TestATamperedCloudflaredIsRefusedAndNothingInstalled(t *testing.T) {
	gh := releasesOf(t, "2026.9.0")
	gh.SetFault(tunneltest.WrongDigest)
	t.Setenv("PATH", t.TempDir())
	h := startHub(t, func(o *Options) { o.Tunnel.Mode, o.ReleasesAPI = tunnel.Quick, gh.URL })
	if err := h.Services().Reach.InstallCloudflared(""); err != nil {
		t.Fatal(err)
	}
	in := waitInstall(t, h)
	if in.State != tunnel.InstallFailed || !strings.Contains(in.Error, "is not the file Cloudflare released") {
		t.Errorf("install %+v", in)
	}
	if left, _ := os.ReadDir(filepath.Join(h.Services().Info.DataDir, "bin")); len(left) > 0 {
		t.Errorf("left in bin: %v", left)
	}
	if st := h.Services().Reach.Status(); st.State != tunnel.StateFailed || !h.Services().Reach.CloudflaredMissing() {
		t.Errorf("tunnel %+v", st)
	}
	if !strings.Contains(strings.Join(h.Services().Reach.Log(), "\n"), "was not installed") {
		t.Error("the refusal is not in the tunnel log")
	}
}

func TestANewerCloudflaredIsOfferedNeverInstalledUnasked(t *testing.T) {
	gh := releasesOf(t, "2026.11.0")
	bin := fakeCloudflared(t) // reports 2026.8.2
	h := startHub(t, func(o *Options) {
		o.Tunnel = tunnel.Settings{Mode: tunnel.Quick, Cloudflared: bin}
		o.ReleasesAPI, o.UpdateCheckEvery = gh.URL, 24*time.Hour
	})
	testutil.Eventually(t, "the update to be known", func() bool { return h.Services().Reach.Cloudflared().UpdateAvailable })
	if b := h.Services().Reach.Cloudflared(); b.Latest != "2026.11.0" || b.Path != bin || b.Warning != "" {
		t.Errorf("binary %+v", b)
	}
	for _, p := range gh.Requests() {
		if strings.Contains(p, "/download/") {
			t.Errorf("downloaded %s without being asked", p)
		}
	}
	// Updating replaces nothing of the user's: the new one goes to the data dir and wins.
	if err := h.Services().Reach.InstallCloudflared(""); err != nil {
		t.Fatal(err)
	}
	if in := waitInstall(t, h); in.State != tunnel.InstallInstalled {
		t.Fatalf("install %+v", in)
	}
	testutil.Eventually(t, "the tunnel to use the new binary", func() bool {
		return h.Services().Reach.Cloudflared().Path == filepath.Join(h.Services().Info.DataDir, "bin", "cloudflared")
	})
	if _, err := os.Stat(bin); err != nil {
		t.Errorf("the user's cloudflared is gone: %v", err)
	}
}

func TestAnOldCloudflaredIsSaidToBeOld(t *testing.T) {
	t.Setenv("FAKE_CLOUDFLARED_VERSION", "2025.6.1")
	bin := fakeCloudflared(t)
	h := startHub(t, func(o *Options) {
		o.Tunnel = tunnel.Settings{Mode: tunnel.Quick, Cloudflared: bin}
		o.Clock = clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	})
	if w := h.Services().Reach.Cloudflared().Warning; !strings.Contains(w, "cloudflared 2025.6.1 is more than a year old") {
		t.Errorf("warning %q", w)
	}
}

func TestTunnelSettingsAreRememberedAndTheTokenSealed(t *testing.T) {
	bin := fakeCloudflared(t)
	dir := t.TempDir()
	token := tunneltest.Token()
	start := func() *Hub {
		return startHub(t, func(o *Options) { o.DataDir, o.Listen, o.Tunnel.Cloudflared = dir, "127.0.0.1:0", bin })
	}
	h := start()
	if st := h.Services().Reach.Status(); st.Mode != tunnel.Off {
		t.Fatalf("serve's default: %+v", st)
	}
	// The dashboard routes hooks.example.com to this receiver.
	ingress := filepath.Join(t.TempDir(), "ingress.json")
	os.WriteFile(ingress, []byte(`[{"hostname":"hooks.example.com","service":"`+h.Services().Info.ReceiverURL+`"},{"service":"http_status:404"}]`), 0o600)
	t.Setenv("FAKE_CLOUDFLARED_INGRESS", ingress)
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{Mode: ptr(tunnel.Token), Token: &token}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the dashboard's hostname", func() bool { return h.Services().Reach.PublicURL() == "https://hooks.example.com" })
	if o, has := h.Services().Reach.Settings(); o.Mode != tunnel.Token || !has || o.Token != "" {
		t.Errorf("settings %+v, has token %v", o, has)
	}
	h.Stop(context.Background())
	assertNotInDir(t, dir, token)

	// A restart with no tunnel flags comes back the same way, token and all.
	h = start()
	if o, has := h.Services().Reach.Settings(); o.Mode != tunnel.Token || !has {
		t.Errorf("after restart: %+v, has token %v", o, has)
	}
	testutil.Eventually(t, "the hostname after restart", func() bool { return h.Services().Reach.PublicURL() == "https://hooks.example.com" })
	// Removing the token is possible, but a named tunnel then lacks it.
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{Mode: ptr(tunnel.Off), Token: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if _, has := h.Services().Reach.Settings(); has {
		t.Error("the token is still there")
	}
}

// assertNotInDir fails when any file under dir contains secret.
func assertNotInDir(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
			t.Errorf("%s holds the secret in clear", p)
		}
		return nil
	})
}

func TestTunnelThroughTheAPI(t *testing.T) {
	gh := releasesOf(t, "2026.9.0")
	t.Setenv("PATH", t.TempDir())
	h := startHub(t, func(o *Options) { o.ReleasesAPI = gh.URL })
	c := newAPIClient(t, h)
	var set map[string]any
	if code := c.do("GET", "/api/v1/tunnel", "", &set); code != 200 || set["mode"] != "off" || set["public_url"] != nil || set["has_token"] != false {
		t.Fatalf("GET %d %v", code, set)
	}
	token := tunneltest.Token()
	if code := c.do("PATCH", "/api/v1/tunnel", `{"mode":"token","token":"`+token+`","public_url":"hooks.example.com"}`, &set); code != 200 ||
		set["mode"] != "token" || set["public_url"] != "https://hooks.example.com" || set["has_token"] != true {
		t.Fatalf("PATCH %d %v", code, set)
	}
	var raw json.RawMessage
	c.do("GET", "/api/v1/tunnel", "", &raw)
	if strings.Contains(string(raw), token) {
		t.Error("the token came back")
	}
	var fail map[string]string
	if code := c.do("PATCH", "/api/v1/tunnel", `{"mode":"warp"}`, &fail); code != 400 || fail["field"] != "mode" {
		t.Errorf("bad mode: %d %v", code, fail)
	}
	if code := c.do("PATCH", "/api/v1/tunnel", `{"public_url":"ftp://x"}`, &fail); code != 400 || fail["field"] != "public_url" {
		t.Errorf("bad URL: %d %v", code, fail)
	}
	// No cloudflared here: the named tunnel says so, and the API installs one.
	var status struct {
		Tunnel struct {
			State   string
			Error   string
			Install struct {
				State   string
				Done    int64
				Total   int64
				Version *string
				Error   *string
			}
			Cloudflared *struct{ Path, Version string }
		}
	}
	c.do("GET", "/api/v1/status", "", &status)
	if status.Tunnel.State != "failed" || !strings.Contains(status.Tunnel.Error, "cloudflared is not installed") || status.Tunnel.Install.State != "idle" {
		t.Errorf("status %+v", status.Tunnel)
	}
	if code := c.do("POST", "/api/v1/tunnel/cloudflared/install", "", nil); code != 202 {
		t.Fatalf("install answered %d", code)
	}
	testutil.Eventually(t, "the install to show in status", func() bool {
		c.do("GET", "/api/v1/status", "", &status)
		return status.Tunnel.Install.State == "installed"
	})
	if in := status.Tunnel.Install; in.Version == nil || *in.Version != "2026.9.0" || in.Done != in.Total || in.Total == 0 || in.Error != nil {
		t.Errorf("install %+v", in)
	}
	testutil.Eventually(t, "the named tunnel online", func() bool {
		c.do("GET", "/api/v1/status", "", &status)
		return status.Tunnel.State == "online" && status.Tunnel.Cloudflared != nil
	})
	if code := c.do("POST", "/api/v1/tunnel/cloudflared/install", `{"version":"bogus!"}`, &fail); code != 400 || fail["field"] != "version" {
		t.Errorf("install of a malformed version: %d %v", code, fail)
	}
	if code := c.do("POST", "/api/v1/tunnel/cloudflared/install", `{"version":"2019.1.0"}`, nil); code != 202 {
		t.Errorf("install of a version answered %d", code)
	}
	testutil.Eventually(t, "the unknown version to fail", func() bool {
		c.do("GET", "/api/v1/status", "", &status)
		return status.Tunnel.Install.State == "failed"
	})
	if e := status.Tunnel.Install.Error; e == nil || !strings.Contains(*e, "no such cloudflared release") {
		t.Errorf("error %v", e)
	}
}
