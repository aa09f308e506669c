// Package tunneltest holds stand-ins for what the tunnel needs from outside and cannot reach from
// here: a named tunnel's token, and GitHub's Releases API serving cloudflared's releases.
package tunneltest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is a well-formed named-tunnel token (base64 of {"a","t","s"}, as the dashboard shows it)
// that no Cloudflare account issued.
func Token() string {
	b, _ := json.Marshal(map[string]string{
		"a": "0123456789abcdef0123456789abcdef",
		"t": "5b7e0c64-1c4d-4c1e-9d1a-2f4e6a8b0c1d",
		"s": base64.StdEncoding.EncodeToString([]byte("a tunnel secret of 32 bytes.....")),
	})
	return base64.StdEncoding.EncodeToString(b)
}

// BuildFakeCloudflared builds the stand-in cloudflared (tunnel/internal/cloudflaredtest) into dir
// and returns its path. moduleRoot is the repository root.
func BuildFakeCloudflared(moduleRoot, dir string) (string, error) {
	name := "cloudflared"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "./tunnel/internal/cloudflaredtest")
	cmd.Dir = moduleRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the fake cloudflared: %v\n%s", err, b)
	}
	return out, nil
}

// Fault is how the stand-in for GitHub misbehaves.
type Fault string

// Faults, each a way a download can go wrong that Hooktray must refuse.
const (
	AllWell     Fault = ""
	WrongDigest Fault = "wrong-digest" // the file is not the one the digest describes (tampered)
	NoDigest    Fault = "no-digest"    // an asset uploaded before GitHub computed digests
	WrongSize   Fault = "wrong-size"   // the JSON's size disagrees with the file
	Truncated   Fault = "truncated"    // the connection ends half-way through the file
	Missing     Fault = "missing"      // the asset's URL answers 404
	RateLimited Fault = "rate-limited" // the API answers 403 with X-RateLimit-Remaining: 0
	NoAsset     Fault = "no-asset"     // the release has no file for this platform
	EmptyTgz    Fault = "empty-tgz"    // the macOS archive holds no cloudflared
	Slow        Fault = "slow"         // the file arrives in small pieces, for watching progress
)

// Releases stands in for GitHub's Releases API and its download host, serving the documented
// JSON (tag_name, published_at, assets with name, size, digest, browser_download_url) for
// cloudflared releases whose files are Binary (e.g. the fake cloudflared). Releases of 2026 exist;
// other tags are 404, as GitHub answers for a tag without a release.
type Releases struct {
	*httptest.Server
	Binary  []byte
	Version string // the latest release's tag

	mu       sync.Mutex
	fault    Fault
	requests []string
	hold     chan struct{} // while set, downloads stop half-way until it is closed
	// files keeps each asset as served, with its SHA-256: packing and hashing a binary of
	// megabytes for every asset of every request took tens of seconds under the race detector.
	files map[fileKey]asset
}

type fileKey struct {
	name  string
	fault Fault
}

type asset struct {
	body   []byte
	digest string
}

// Hold makes downloads stop half-way until the returned function is called, so a test can look
// at a download in progress without racing it.
func (r *Releases) Hold() (release func()) {
	ch := make(chan struct{})
	r.mu.Lock()
	r.hold = ch
	r.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// NewReleases starts the stand-in on a free loopback port; Close it when done.
func NewReleases(binary []byte, version string) *Releases {
	r := &Releases{Binary: binary, Version: version}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// NewReleasesOn starts the stand-in on ln (a fixed address, for trying the app by hand).
func NewReleasesOn(ln net.Listener, binary []byte, version string) *Releases {
	r := &Releases{Binary: binary, Version: version}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.Server.Listener.Close()
	r.Server.Listener = ln
	r.Server.Start()
	return r
}

// SetFault chooses how the next requests misbehave.
func (r *Releases) SetFault(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fault = f
}

// Requests lists the paths asked for so far.
func (r *Releases) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// assetNames are the files of a cloudflared release.
var assetNames = []string{
	"cloudflared-linux-amd64", "cloudflared-linux-arm64", "cloudflared-linux-arm", "cloudflared-linux-386",
	"cloudflared-windows-amd64.exe", "cloudflared-windows-386.exe", "cloudflared-darwin-amd64.tgz", "cloudflared-darwin-arm64.tgz",
	"cloudflared-linux-amd64.deb", "cloudflared-fips-linux-amd64",
}

func (r *Releases) file(name string, f Fault) []byte { return r.asset(name, f).body }

// asset is the file served as name under fault f and its digest, made once.
func (r *Releases) asset(name string, f Fault) asset {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fileKey{name, f}
	if a, ok := r.files[k]; ok {
		return a
	}
	body := r.pack(name, f)
	sum := sha256.Sum256(body)
	a := asset{body: body, digest: "sha256:" + hex.EncodeToString(sum[:])}
	if r.files == nil {
		r.files = map[fileKey]asset{}
	}
	r.files[k] = a
	return a
}

// pack makes the file served as name: the binary itself, or a .tgz holding it.
func (r *Releases) pack(name string, f Fault) []byte {
	if !strings.HasSuffix(name, ".tgz") {
		return r.Binary
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression) // a valid .tgz at the cost of a copy
	tw := tar.NewWriter(zw)
	if f == EmptyTgz {
		tw.WriteHeader(&tar.Header{Name: "README.md", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg})
		tw.Write([]byte("empty"))
	} else {
		tw.WriteHeader(&tar.Header{Name: "cloudflared", Mode: 0o755, Size: int64(len(r.Binary)), Typeflag: tar.TypeReg})
		tw.Write(r.Binary)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func (r *Releases) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	f, hold := r.fault, r.hold
	r.requests = append(r.requests, req.URL.Path)
	r.mu.Unlock()
	const prefix = "/repos/cloudflare/cloudflared/releases/"
	switch {
	case strings.HasPrefix(req.URL.Path, prefix):
		if f == RateLimited {
			w.Header().Set("X-RateLimit-Limit", "60")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(40*time.Minute).Unix(), 10))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
			return
		}
		tag := r.Version
		if t, ok := strings.CutPrefix(req.URL.Path, prefix+"tags/"); ok {
			tag = t
			if !strings.HasPrefix(tag, "2026.") {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name","status":"404"}`)
				return
			}
		} else if req.URL.Path != prefix+"latest" {
			http.NotFound(w, req)
			return
		}
		r.writeRelease(w, tag, f)
	case strings.HasPrefix(req.URL.Path, "/cloudflare/cloudflared/releases/download/"):
		name := filepath.Base(req.URL.Path)
		if f == Missing {
			http.NotFound(w, req)
			return
		}
		body := r.file(name, f)
		if f == WrongDigest {
			body = append([]byte(nil), body...)
			body[len(body)/2] ^= 0xff // same size, other bytes
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		switch {
		case hold != nil:
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			select {
			case <-hold:
				w.Write(body[len(body)/2:])
			case <-req.Context().Done():
			}
		case f == Truncated:
			w.Write(body[:len(body)/2]) // the handler returns: the connection ends short
		case f == Slow:
			for len(body) > 0 {
				n := min(len(body), 256<<10)
				if _, err := w.Write(body[:n]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				body = body[n:]
				time.Sleep(100 * time.Millisecond)
			}
		default:
			w.Write(body)
		}
	default:
		http.NotFound(w, req)
	}
}

func (r *Releases) writeRelease(w http.ResponseWriter, tag string, f Fault) {
	type releaseAsset struct {
		Name               string  `json:"name"`
		ContentType        string  `json:"content_type"`
		State              string  `json:"state"`
		Size               int     `json:"size"`
		Digest             *string `json:"digest"`
		BrowserDownloadURL string  `json:"browser_download_url"`
	}
	var assets []releaseAsset
	for _, name := range assetNames {
		if f == NoAsset && !strings.Contains(name, ".deb") {
			continue
		}
		file := r.asset(name, f)
		body, digest := file.body, file.digest
		a := releaseAsset{Name: name, ContentType: "application/octet-stream", State: "uploaded", Size: len(body), Digest: &digest,
			BrowserDownloadURL: r.URL + "/cloudflare/cloudflared/releases/download/" + tag + "/" + name}
		switch f {
		case NoDigest:
			a.Digest = nil
		case WrongSize:
			a.Size += 1000
		}
		assets = append(assets, a)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{
		"url":          r.URL + "/repos/cloudflare/cloudflared/releases/1",
		"html_url":     "https://github.com/cloudflare/cloudflared/releases/tag/" + tag,
		"tag_name":     tag,
		"name":         tag,
		"draft":        false,
		"prerelease":   false,
		"published_at": "2026-08-20T12:00:00Z",
		"assets":       assets,
	})
}
