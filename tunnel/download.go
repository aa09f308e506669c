package tunnel

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed cloudflared-release.json
var releaseJSON []byte

// Release names the cloudflared version Hooktray installs and each platform's asset with its
// SHA-256, as kept in the repository (cloudflared-release.json).
type Release struct {
	Version string           `json:"version"`
	URL     string           `json:"url"` // with {version} and {asset}
	Assets  map[string]Asset `json:"assets"`
}

// Asset is one platform's release file.
type Asset struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// PinnedRelease is the release recorded in the repository.
func PinnedRelease() (Release, error) {
	var r Release
	if err := json.Unmarshal(releaseJSON, &r); err != nil {
		return Release{}, fmt.Errorf("read cloudflared-release.json: %w", err)
	}
	return r, nil
}

// Platform is this build's key in Release.Assets, e.g. "linux-amd64".
func Platform() string { return runtime.GOOS + "-" + runtime.GOARCH }

// maxDownload bounds a download: cloudflared is about 40 MB.
const maxDownload = 200 << 20

// Download fetches the release asset for platform, checks its SHA-256 against the release
// record, and installs the binary at dataDir/bin/cloudflared (atomically, mode 0755). progress,
// when set, is called with bytes received and the total (-1 when unknown). Nothing is installed
// unless the whole file arrived and its checksum matches.
func Download(ctx context.Context, client *http.Client, rel Release, platform, dataDir string, progress func(done, total int64)) (string, error) {
	asset, ok := rel.Assets[platform]
	if !ok {
		return "", fmt.Errorf("cloudflared %s has no build for %s; install it from Cloudflare", rel.Version, platform)
	}
	if len(asset.SHA256) != 64 {
		return "", fmt.Errorf("no checksum is recorded for cloudflared %s on %s, so Hooktray will not install it; install cloudflared from Cloudflare instead", rel.Version, platform)
	}
	url := strings.NewReplacer("{version}", rel.Version, "{asset}", asset.Name).Replace(rel.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("download cloudflared: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download cloudflared from %s: %w (is this computer online?)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download cloudflared from %s: the server answered %s", url, resp.Status)
	}
	var buf bytes.Buffer
	sum := sha256.New()
	total := resp.ContentLength
	chunk := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(chunk)
		buf.Write(chunk[:n])
		sum.Write(chunk[:n])
		if progress != nil && n > 0 {
			progress(int64(buf.Len()), total)
		}
		if buf.Len() > maxDownload {
			return "", errors.New("download cloudflared: the file is far larger than cloudflared; not installed")
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("download cloudflared: the download broke off after %d bytes (%v); nothing was installed", buf.Len(), rerr)
		}
	}
	if total >= 0 && int64(buf.Len()) != total {
		return "", fmt.Errorf("download cloudflared: got %d of %d bytes; nothing was installed", buf.Len(), total)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, asset.SHA256) {
		return "", fmt.Errorf("download cloudflared: the file's SHA-256 is %s, not the recorded %s; nothing was installed", got, asset.SHA256)
	}
	bin := buf.Bytes()
	if strings.HasSuffix(asset.Name, ".tgz") {
		if bin, err = extractFromTgz(bin, "cloudflared"); err != nil {
			return "", err
		}
	}
	dest := filepath.Join(dataDir, "bin", binaryName())
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".cloudflared-*")
	if err != nil {
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(bin); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("install cloudflared: %w", err)
	}
	return dest, nil
}

// extractFromTgz returns the file named name from a gzipped tar (the macOS assets).
func extractFromTgz(b []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("unpack cloudflared: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("unpack cloudflared: no %s in the archive (%v)", name, err)
		}
		if filepath.Base(h.Name) == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, maxDownload))
		}
	}
}
