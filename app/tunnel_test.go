package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
)

// fakeCloudflared builds the tunnel package's stand-in for cloudflared (the Cloudflare edge
// cannot be reached here).
func fakeCloudflared(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cloudflared")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hooktray/hooktray/tunnel/internal/cloudflaredtest").CombinedOutput(); err != nil {
		t.Fatalf("build fake cloudflared: %v\n%s", err, out)
	}
	return bin
}

func waitTunnel(t *testing.T, h *Hub, want tunnel.State) tunnel.Status {
	t.Helper()
	testutil.Eventually(t, fmt.Sprintf("the tunnel to be %s", want), func() bool { return h.Services().Reach.Status().State == want })
	return h.Services().Reach.Status()
}

func TestQuickTunnelGivesEndpointsAPublicURL(t *testing.T) {
	bin := fakeCloudflared(t)
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{Mode: tunnel.Quick, Cloudflared: bin} })
	changes := h.Services().Changes.Follow(16)
	defer changes.Close()
	ep := createEndpoint(t, h, "public", nil)
	st := waitTunnel(t, h, tunnel.StateOnline)
	if !strings.HasSuffix(st.URL, ".trycloudflare.com") || h.Services().Endpoints.PublicURL(ep.ID) != st.URL+"/webhook/"+ep.ID {
		t.Errorf("status %+v, endpoint public URL %q", st, h.Services().Endpoints.PublicURL(ep.ID))
	}
	// runtime.json follows the status (it is rewritten right after).
	testutil.Eventually(t, "runtime.json to carry the public URL", func() bool {
		rt, err := instance.ReadRuntime(h.Services().Info.DataDir)
		return err == nil && rt.PublicURL != nil && *rt.PublicURL == st.URL
	})
	saw := false
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !saw {
		m, err := changes.Next(ctx)
		if err != nil {
			t.Fatal("no hook.TunnelChanged published")
		}
		saw = m.Event == hook.TunnelChanged
	}
	if !strings.Contains(strings.Join(h.Services().Reach.Log(), "\n"), "Your quick Tunnel has been created") {
		t.Errorf("tunnel log %q", h.Services().Reach.Log())
	}
}

func TestExternalURLTakesPriorityOverAQuickTunnel(t *testing.T) {
	bin := fakeCloudflared(t)
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_CLOUDFLARED_ARGS", args)
	h := startHub(t, func(o *Options) {
		o.Tunnel = tunnel.Settings{Mode: tunnel.Quick, Cloudflared: bin, PublicURL: "https://hooks.example.com/"}
	})
	if st := h.Services().Reach.Status(); st.State != tunnel.StateOnline || st.URL != "https://hooks.example.com" {
		t.Errorf("status %+v", st)
	}
	// The external URL is decided when the hub starts: no cloudflared is looked for or run.
	if bin := h.Services().Reach.Cloudflared(); bin.Path != "" {
		t.Errorf("cloudflared %s was taken into use although an external URL was given", bin.Path)
	}
	if _, err := os.Stat(args); !errors.Is(err, os.ErrNotExist) {
		t.Error("cloudflared was started although an external URL was given")
	}
}

func TestWithoutCloudflaredEverythingWorksLocally(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{Mode: tunnel.Quick} })
	st := h.Services().Reach.Status()
	if st.State != tunnel.StateFailed || !strings.Contains(st.Error, "cloudflared is not installed") || h.Services().Reach.PublicURL() != "" {
		t.Errorf("status %+v", st)
	}
	ep := createEndpoint(t, h, "local", nil)
	if resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}")); resp.StatusCode != 200 {
		t.Errorf("local receiver answered %d", resp.StatusCode)
	}
	c := newAPIClient(t, h)
	var status struct {
		Tunnel struct{ State, Error string }
	}
	c.do("GET", "/api/v1/status", "", &status)
	if status.Tunnel.State != "failed" || status.Tunnel.Error == "" {
		t.Errorf("API status %+v", status)
	}
}

func TestNamedTunnelWithoutTokenSaysWhatIsMissing(t *testing.T) {
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{Mode: tunnel.Token} })
	if st := h.Services().Reach.Status(); st.State != tunnel.StateFailed || !strings.Contains(st.Error, "token") {
		t.Errorf("status %+v", st)
	}
}

func TestSetTunnelSwitchesModes(t *testing.T) {
	bin := fakeCloudflared(t)
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{Mode: tunnel.Off, Cloudflared: bin} })
	if st := h.Services().Reach.Status(); st.State != tunnel.StateOff {
		t.Fatalf("status %+v", st)
	}
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{Mode: ptr(tunnel.Quick)}); err != nil {
		t.Fatal(err)
	}
	quick := waitTunnel(t, h, tunnel.StateOnline)
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{Mode: ptr(tunnel.External), PublicURL: ptr("https://hooks.example.com")}); err != nil {
		t.Fatal(err)
	}
	if st := h.Services().Reach.Status(); st.URL != "https://hooks.example.com" || st.URL == quick.URL {
		t.Errorf("after switching to external: %+v", st)
	}
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{PublicURL: ptr("")}); err == nil {
		t.Error("external without a URL was accepted")
	}
	var fe *hook.FieldError
	if err := h.Services().Reach.SetTunnel(context.Background(), tunnel.SettingsChange{Mode: ptr(tunnel.Token)}); !errors.As(err, &fe) || fe.Field != "token" {
		t.Errorf("a named tunnel without a token: %v", err)
	}
	if o, _ := h.Services().Reach.Settings(); o.Mode != tunnel.External || o.Cloudflared != bin {
		t.Errorf("settings %+v", o)
	}
}
