package tunnel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/tunnel/tunneltest"
)

// install is what the app does: look up the release, pick this platform's file, fetch and check
// it, then put it in place.
func install(t *testing.T, gh *tunneltest.Releases, platform, dir string, progress func(done, total int64)) (string, error) {
	t.Helper()
	rel, err := Releases{API: gh.URL}.Latest(context.Background())
	if err != nil {
		return "", err
	}
	asset, err := rel.AssetFor(platform)
	if err != nil {
		return "", err
	}
	staged, err := Fetch(context.Background(), gh.Client(), asset, dir, progress)
	if err != nil {
		return "", err
	}
	return staged.Install()
}

func TestDownloadRefusesEveryFileItCannotTrust(t *testing.T) {
	binary, err := os.ReadFile(fake)
	if err != nil {
		t.Fatal(err)
	}
	gh := tunneltest.NewReleases(binary, "2026.9.0")
	defer gh.Close()
	for _, tc := range []struct {
		fault    tunneltest.Fault
		platform string
		want     string
	}{
		{tunneltest.WrongDigest, "linux-amd64", "is not the file Cloudflare released"},
		{tunneltest.NoDigest, "linux-amd64", "publishes no SHA-256"},
		{tunneltest.WrongSize, "linux-amd64", "got "},
		{tunneltest.Truncated, "linux-amd64", "nothing was installed"},
		{tunneltest.Missing, "linux-amd64", "404 Not Found"},
		{tunneltest.RateLimited, "linux-amd64", "GitHub is limiting requests from this network; try again after"},
		{tunneltest.NoAsset, "linux-amd64", "has no file for linux-amd64"},
		{tunneltest.AllWell, "plan9-mips", "has no file for plan9-mips"},
		{tunneltest.EmptyTgz, "darwin-arm64", "the archive holds no cloudflared program"},
	} {
		t.Run(string(tc.fault)+"/"+tc.platform, func(t *testing.T) {
			gh.SetFault(tc.fault)
			dir := t.TempDir()
			_, err := install(t, gh, tc.platform, dir, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			left, _ := os.ReadDir(filepath.Join(dir, "bin"))
			if len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
	gh.SetFault(tunneltest.RateLimited)
	_, err = Releases{API: gh.URL}.Latest(context.Background())
	var limited *RateLimitError
	if !errors.As(err, &limited) || time.Until(limited.Until) < 39*time.Minute || time.Until(limited.Until) > 41*time.Minute {
		t.Errorf("rate limit: %v (until %v)", err, limited)
	}
}

func TestDownloadInstallsACheckedCloudflared(t *testing.T) {
	binary, err := os.ReadFile(fake)
	if err != nil {
		t.Fatal(err)
	}
	gh := tunneltest.NewReleases(binary, "2026.9.0")
	defer gh.Close()
	for _, platform := range []string{"linux-amd64", "darwin-arm64"} { // a plain file, and the macOS archive
		t.Run(platform, func(t *testing.T) {
			dir := t.TempDir()
			var last, total int64
			path, err := install(t, gh, platform, dir, func(d, tot int64) { last, total = d, tot })
			if err != nil {
				t.Fatal(err)
			}
			if last == 0 || last != total {
				t.Errorf("progress ended at %d of %d", last, total)
			}
			if found, err := FindCloudflared("", dir); err != nil || found != path {
				t.Errorf("installed at %s, found %q (%v)", path, found, err)
			}
			if v, err := CheckBinary(context.Background(), path); err != nil || !strings.HasPrefix(v, "cloudflared version") {
				t.Errorf("the installed binary does not run: %q %v", v, err)
			}
			if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 1 {
				t.Errorf("the bin folder holds %v, want only cloudflared", left)
			}
		})
	}
	rel, err := Releases{API: gh.URL}.Tagged(context.Background(), "2026.7.1")
	if err != nil || rel.Version != "2026.7.1" || !strings.Contains(gh.Requests()[len(gh.Requests())-1], "/releases/tags/2026.7.1") {
		t.Errorf("pinned version: %+v, %v", rel.Version, err)
	}
}

func TestDownloadRefusesAFileThatIsNotCloudflared(t *testing.T) {
	gh := tunneltest.NewReleases([]byte("#!/bin/sh\necho hello\n"), "2026.9.0")
	defer gh.Close()
	dir := t.TempDir()
	if _, err := install(t, gh, "linux-amd64", dir, nil); err == nil || !strings.Contains(err.Error(), "does not run here") {
		t.Fatalf("err = %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "bin")); len(left) > 0 {
		t.Errorf("files left behind: %v", left)
	}
}

func TestVersions(t *testing.T) {
	v, err := ParseVersion("cloudflared version 2025.11.1 (built 2025-11-07-1200 UTC)")
	if err != nil || v != (Version{2025, 11, 1}) {
		t.Fatalf("%v %v", v, err)
	}
	if w, _ := ParseVersion("2025.9.0"); !w.Less(v) || v.Less(w) {
		t.Error("order")
	}
	if !v.OlderThanAYear(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)) || v.OlderThanAYear(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Error("age")
	}
	for _, bad := range []string{"", "2025.13.1", "latest", "cloudflared version DEV"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestTooManyRequestsSaysWhenToTryAgain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	_, err := Releases{API: srv.URL, Clock: clock.NewFake(now)}.Latest(context.Background())
	var limited *RateLimitError
	if !errors.As(err, &limited) || !limited.Until.Equal(now.Add(2*time.Minute)) || !strings.Contains(err.Error(), "try again after") {
		t.Errorf("%v (%+v)", err, limited)
	}
}
