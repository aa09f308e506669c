package tunnel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDownload(t *testing.T) {
	good, _ := os.ReadFile(fake) // any binary will do; the fake cloudflared is at hand
	sum := sha256.Sum256(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/2026.8.2/good":
			w.Header().Set("Content-Length", strconv.Itoa(len(good)))
			w.Write(good)
		case "/2026.8.2/truncated":
			w.Header().Set("Content-Length", strconv.Itoa(len(good)))
			w.Write(good[:len(good)/2]) // the connection ends early
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rel := Release{Version: "2026.8.2", URL: srv.URL + "/{version}/{asset}", Assets: map[string]Asset{
		"good":        {Name: "good", SHA256: hex.EncodeToString(sum[:])},
		"bad-sum":     {Name: "good", SHA256: strings.Repeat("0", 64)},
		"truncated":   {Name: "truncated", SHA256: hex.EncodeToString(sum[:])},
		"no-sum":      {Name: "good"},
		"not-on-site": {Name: "missing", SHA256: hex.EncodeToString(sum[:])},
	}}
	for _, tc := range []struct{ platform, want string }{
		{"bad-sum", "SHA-256"},
		{"truncated", "nothing was installed"},
		{"no-sum", "no checksum is recorded"},
		{"not-on-site", "404"},
		{"plan9-mips", "no build for"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Download(context.Background(), srv.Client(), rel, tc.platform, dir, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "bin", binaryName())); !os.IsNotExist(err) {
				t.Error("a binary was installed anyway")
			}
		})
	}
	t.Run("good file", func(t *testing.T) {
		dir := t.TempDir()
		var last, total int64
		path, err := Download(context.Background(), srv.Client(), rel, "good", dir, func(d, tot int64) { last, total = d, tot })
		if err != nil {
			t.Fatal(err)
		}
		if last != int64(len(good)) || total != int64(len(good)) {
			t.Errorf("progress ended at %d of %d", last, total)
		}
		if found, err := FindCloudflared("", dir); err != nil || found != path {
			t.Errorf("installed at %s, found %q (%v)", path, found, err)
		}
		if v, err := Version(context.Background(), path); err != nil || !strings.Contains(v, "cloudflared") {
			t.Errorf("the installed binary does not run: %q %v", v, err)
		}
	})
}

func TestPinnedReleaseIsReadable(t *testing.T) {
	rel, err := PinnedRelease()
	if err != nil || rel.Version == "" || rel.Assets["linux-amd64"].Name != "cloudflared-linux-amd64" {
		t.Errorf("pinned release %+v, %v", rel, err)
	}
}
