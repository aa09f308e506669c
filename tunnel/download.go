package tunnel

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// maxDownload bounds a download: cloudflared is about 40 MB.
const maxDownload = 200 << 20

// InstalledPath is where a downloaded cloudflared lives: the data dir's bin folder.
func InstalledPath(dataDir string) string { return filepath.Join(dataDir, "bin", binaryName()) }

// Staged is a downloaded cloudflared that passed every check and waits to replace the installed
// one (a running cloudflared must stop first on Windows, so replacing is a separate step).
type Staged struct {
	Path    string // the checked binary, next to its destination
	Version string // what it printed for --version
	dest    string
}

// Fetch downloads asset into dataDir/bin, with progress (bytes received and the total) when set,
// and keeps it only when its size and SHA-256 match what the release reports, the macOS archive
// holds cloudflared, and the result runs and says it is cloudflared. Anything else removes the
// download and explains why in a sentence.
func Fetch(ctx context.Context, client *http.Client, asset Asset, dataDir string, progress func(done, total int64)) (*Staged, error) {
	want, err := digestSHA256(asset)
	if err != nil {
		return nil, err
	}
	if asset.Size > maxDownload {
		return nil, fmt.Errorf("%s is said to be %d bytes, far more than cloudflared; not downloaded", asset.Name, asset.Size)
	}
	dest := InstalledPath(dataDir)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("install cloudflared: %w", err)
	}
	download, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return nil, fmt.Errorf("install cloudflared: %w", err)
	}
	defer os.Remove(download.Name())
	defer download.Close()
	if err := fetchTo(ctx, client, asset, download, want, progress); err != nil {
		return nil, err
	}
	bin := download.Name()
	if strings.HasSuffix(asset.Name, ".tgz") {
		if bin, err = unpackTgz(download, filepath.Dir(dest)); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(bin)
		}
	}()
	if err := os.Chmod(bin, 0o755); err != nil {
		return nil, fmt.Errorf("install cloudflared: %w", err)
	}
	if bin == download.Name() {
		// Keep the file past the deferred removal of the download: it is the binary.
		staged := filepath.Join(filepath.Dir(dest), ".staged-"+binaryName())
		download.Close()
		if err := os.Rename(download.Name(), staged); err != nil {
			return nil, fmt.Errorf("install cloudflared: %w", err)
		}
		bin = staged
	}
	version, err := CheckBinary(ctx, bin)
	if err != nil {
		return nil, fmt.Errorf("the downloaded %s does not run here, so it was not installed: %w", asset.Name, err)
	}
	ok = true
	return &Staged{Path: bin, Version: version, dest: dest}, nil
}

// Install puts the staged binary in place of the installed one (atomically) and returns its path.
func (s *Staged) Install() (string, error) {
	if err := os.Rename(s.Path, s.dest); err != nil {
		s.Discard()
		return "", fmt.Errorf("install cloudflared at %s: %w", s.dest, err)
	}
	return s.dest, nil
}

// Discard removes the staged binary.
func (s *Staged) Discard() { os.Remove(s.Path) }

// digestSHA256 is the asset's SHA-256 as GitHub reports it ("sha256:<hex>").
func digestSHA256(a Asset) ([]byte, error) {
	hexSum, ok := strings.CutPrefix(a.Digest, "sha256:")
	sum, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("the release publishes no SHA-256 for %s, so Hooktray cannot check the file and will not install it; "+
			"install cloudflared from Cloudflare's packages instead", a.Name)
	}
	return sum, nil
}

// fetchTo streams the asset into f while hashing it, then compares size and digest.
func fetchTo(ctx context.Context, client *http.Client, asset Asset, f *os.File, want []byte, progress func(done, total int64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, asset.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", asset.Name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot download %s (is this computer online?): %w", asset.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s answered %s; nothing was installed", asset.Name, req.URL.Host, resp.Status)
	}
	total := asset.Size
	if total <= 0 {
		total = resp.ContentLength
	}
	sum := sha256.New()
	var done int64
	chunk := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(chunk)
		if n > 0 {
			if _, err := f.Write(chunk[:n]); err != nil {
				return fmt.Errorf("download %s: %w", asset.Name, err)
			}
			sum.Write(chunk[:n])
			done += int64(n)
			if progress != nil {
				progress(done, total)
			}
			if done > maxDownload || asset.Size > 0 && done > asset.Size {
				return fmt.Errorf("download %s: more bytes arrived than the release's %d; nothing was installed", asset.Name, asset.Size)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("download %s broke off after %d bytes (%v); nothing was installed", asset.Name, done, rerr)
		}
	}
	if asset.Size > 0 && done != asset.Size {
		return fmt.Errorf("download %s: got %d of %d bytes; nothing was installed", asset.Name, done, asset.Size)
	}
	if got := sum.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("%s is not the file Cloudflare released (its SHA-256 is %x, the release says %x); nothing was installed", asset.Name, got, want)
	}
	return nil
}

// unpackTgz writes the cloudflared binary inside the gzipped tar f (the macOS assets) to a new
// file in dir and returns its path.
func unpackTgz(f *os.File, dir string) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("unpack cloudflared: %w", err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("unpack cloudflared: the archive is not gzip (%w); nothing was installed", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", errors.New("the archive holds no cloudflared program; nothing was installed")
		}
		if err != nil {
			return "", fmt.Errorf("unpack cloudflared: %w; nothing was installed", err)
		}
		if filepath.Base(h.Name) != "cloudflared" || h.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.CreateTemp(dir, ".staged-*")
		if err != nil {
			return "", fmt.Errorf("unpack cloudflared: %w", err)
		}
		_, err = io.Copy(out, io.LimitReader(tr, maxDownload))
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out.Name())
			return "", fmt.Errorf("unpack cloudflared: %w; nothing was installed", err)
		}
		return out.Name(), nil
	}
}
