package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel/tunneltest"
)

// tunnelStatus is the tunnel part of GET /api/v1/status.
type tunnelStatus struct {
	Mode, State string
	URL, Error  *string
	Install     struct {
		State   string
		Version *string
		Error   *string
	}
}

func (s *server) tunnel() (tunnelStatus, *string) {
	s.t.Helper()
	var st struct {
		PublicURL *string `json:"public_url"`
		Tunnel    tunnelStatus
	}
	_, b := s.call("GET", "/api/v1/status", nil)
	if err := json.Unmarshal(b, &st); err != nil {
		s.t.Fatalf("status %s: %v", b, err)
	}
	return st.Tunnel, st.PublicURL
}

// TestDownloadCloudflaredAsANewUserWould: a computer without cloudflared, a quick tunnel asked
// for, GitHub's Releases API stood in for locally. The tampered release is refused with a
// sentence and installs nothing; the real one is installed and the tunnel comes up by itself.
func TestDownloadCloudflaredAsANewUserWould(t *testing.T) {
	b, err := os.ReadFile(fakeCloudflared)
	if err != nil {
		t.Fatal(err)
	}
	gh := tunneltest.NewReleases(b, "2026.8.2") // the version the stand-in reports
	defer gh.Close()
	t.Setenv("HOOKTRAY_RELEASES_API", gh.URL)
	t.Setenv("PATH", t.TempDir()) // no cloudflared anywhere: not on PATH, not next to hooktray
	alone := filepath.Join(t.TempDir(), "hooktray")
	if err := os.Link(binary, alone); err != nil {
		t.Fatal(err)
	}
	defer func(b string) { binary = b }(binary)
	binary = alone
	dir := t.TempDir()
	s := startServe(t, dir, "--tunnel", "quick")
	if st, _ := s.tunnel(); st.State != "failed" || st.Error == nil || !strings.Contains(*st.Error, "cloudflared is not installed") {
		t.Fatalf("before: %+v", st)
	}

	gh.SetFault(tunneltest.WrongDigest)
	r := hooktray(t, dir, "tunnel", "install-cloudflared")
	if r.code != 1 || !strings.Contains(r.stderr, "cloudflared was not installed: cloudflared-linux-amd64 is not the file Cloudflare released") {
		t.Errorf("tampered: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "bin")); len(left) > 0 {
		t.Errorf("left in bin: %v", left)
	}

	gh.SetFault(tunneltest.AllWell)
	r = hooktray(t, dir, "tunnel", "install-cloudflared")
	if r.code != 0 || !strings.Contains(r.stdout, "Installed cloudflared 2026.8.2, checked against the release's SHA-256") {
		t.Fatalf("install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	testutil.Eventually(t, "the quick tunnel online", func() bool {
		st, public := s.tunnel()
		return st.State == "online" && public != nil && strings.HasSuffix(*public, ".trycloudflare.com")
	})
	r = hooktray(t, dir, "tunnel", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "cloudflared  2026.8.2 at "+filepath.Join(dir, "bin", "cloudflared")) ||
		strings.Contains(r.stdout, "available") {
		t.Errorf("tunnel status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestServeWithOnlyATokenReachesOnlineWithTheDashboardsHostname: `hooktray serve --tunnel token`
// given only the token (in the environment) finds its public URL in the tunnel's configuration.
func TestServeWithOnlyATokenReachesOnlineWithTheDashboardsHostname(t *testing.T) {
	dir := t.TempDir()
	token := tunneltest.Token()
	t.Setenv("HOOKTRAY_TUNNEL_TOKEN", token)
	// The dashboard sends the hostname to the default receiver address; the test's receiver is on
	// another port, so the file is written once that port is known.
	ingress := filepath.Join(t.TempDir(), "ingress.json")
	os.WriteFile(ingress, []byte(`[{"service":"http_status:404"}]`), 0o600)
	t.Setenv("FAKE_CLOUDFLARED_INGRESS", ingress)
	s := startServe(t, dir, "--tunnel", "token", "--cloudflared", fakeCloudflared)
	testutil.Eventually(t, "a sentence about the missing hostname", func() bool {
		st, _ := s.tunnel()
		return st.State == "online" && st.Error != nil && strings.Contains(*st.Error, "no public hostname")
	})
	os.WriteFile(ingress, []byte(`[{"hostname":"hooks.example.com","service":"`+s.receiver+`"},{"service":"http_status:404"}]`), 0o600)
	testutil.Eventually(t, "the dashboard's hostname as the public URL", func() bool {
		st, public := s.tunnel()
		return st.State == "online" && st.Error == nil && public != nil && *public == "https://hooks.example.com"
	})
	testutil.Eventually(t, "runtime.json to follow", func() bool {
		var rt struct {
			PublicURL *string `json:"public_url"`
		}
		b, _ := os.ReadFile(filepath.Join(dir, "runtime.json"))
		return json.Unmarshal(b, &rt) == nil && rt.PublicURL != nil && *rt.PublicURL == "https://hooks.example.com"
	})
	if strings.Contains(s.stderr.String(), token) {
		t.Error("the token is in serve's log")
	}
}

// TestTunnelSetFromTheCommandLine changes the running instance's tunnel, token from stdin.
func TestTunnelSetFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	ingress := filepath.Join(t.TempDir(), "ingress.json")
	t.Setenv("FAKE_CLOUDFLARED_INGRESS", ingress)
	s := startServe(t, dir, "--cloudflared", fakeCloudflared)
	os.WriteFile(ingress, []byte(`[{"hostname":"hooks.example.com","service":"`+s.receiver+`"}]`), 0o600)
	token := tunneltest.Token()
	if r := hooktray(t, dir, "tunnel", "set", "--mode", "token", token); r.code != 2 || !strings.Contains(r.stderr, "--token-stdin") {
		t.Errorf("a token as an argument: exit %d %s", r.code, r.stderr)
	}
	r := hooktrayStdin(t, dir, token+"\n", "tunnel", "set", "--mode", "token", "--token-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "token (named Cloudflare tunnel); applied") {
		t.Fatalf("set: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	testutil.Eventually(t, "the named tunnel online", func() bool {
		_, public := s.tunnel()
		return public != nil && *public == "https://hooks.example.com"
	})
	r = hooktray(t, dir, "tunnel", "status", "--json")
	var st tunnelStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Mode != "token" || st.State != "online" {
		t.Errorf("status --json: %v %+v\n%s", err, st, r.stdout)
	}
	r = hooktray(t, dir, "tunnel", "status")
	if !strings.Contains(r.stdout, "Token") || !strings.Contains(r.stdout, "stored (sealed)") || strings.Contains(r.stdout, token) {
		t.Errorf("status:\n%s", r.stdout)
	}
	if r := hooktray(t, dir, "tunnel", "set", "--mode", "warp"); r.code != 1 || !strings.Contains(r.stderr, "unknown tunnel mode") {
		t.Errorf("bad mode: exit %d %s", r.code, r.stderr)
	}
	// After a restart without tunnel flags, the same tunnel comes back.
	if code, _ := s.stop(); code != 0 {
		t.Fatalf("stop: %d", code)
	}
	s = startServe(t, dir, "--cloudflared", fakeCloudflared)
	os.WriteFile(ingress, []byte(`[{"hostname":"hooks.example.com","service":"`+s.receiver+`"}]`), 0o600)
	testutil.Eventually(t, "the named tunnel online after a restart", func() bool {
		_, public := s.tunnel()
		return public != nil && *public == "https://hooks.example.com"
	})
}

func hooktrayStdin(t *testing.T, dataDir, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--data-dir", dataDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}
