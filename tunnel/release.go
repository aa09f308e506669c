package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/clock"
)

// DefaultReleasesAPI is GitHub's REST API, where cloudflared's releases are published.
const DefaultReleasesAPI = "https://api.github.com"

// ReleasesAPIEnv overrides DefaultReleasesAPI (a mirror, or a local stand-in in tests).
const ReleasesAPIEnv = "HOOKTRAY_RELEASES_API"

// cloudflaredRepo is the repository whose releases are looked up.
const cloudflaredRepo = "cloudflare/cloudflared"

// Release is one cloudflared release as GitHub's Releases API describes it.
type Release struct {
	Version   string // the tag, e.g. 2026.8.2
	Published time.Time
	Assets    []Asset
}

// Asset is one file of a release. Since June 2025 GitHub computes a SHA-256 of every uploaded
// asset and reports it as Digest ("sha256:<hex>"): that is what a download is checked against.
type Asset struct {
	Name   string
	Size   int64
	Digest string
	URL    string
}

// Releases looks up cloudflared releases through GitHub's Releases API (or a mirror of it).
type Releases struct {
	API    string       // base URL; "" means DefaultReleasesAPI
	Client *http.Client // nil: a client with a 30 s timeout
	Clock  clock.Clock  // to say when a rate limit ends; nil: the system clock
}

// RateLimitError is GitHub declining to answer more requests from this address for now.
type RateLimitError struct {
	Until time.Time // zero when GitHub did not say
}

func (e *RateLimitError) Error() string {
	if e.Until.IsZero() {
		return "GitHub is limiting requests from this network for now; try again in an hour"
	}
	return "GitHub is limiting requests from this network; try again after " + e.Until.Local().Format("15:04")
}

// Latest is the newest cloudflared release.
func (r Releases) Latest(ctx context.Context) (Release, error) {
	return r.get(ctx, "/repos/"+cloudflaredRepo+"/releases/latest")
}

// Tagged is the release of one version, e.g. 2026.8.2.
func (r Releases) Tagged(ctx context.Context, version string) (Release, error) {
	return r.get(ctx, "/repos/"+cloudflaredRepo+"/releases/tags/"+url.PathEscape(version))
}

// releaseJSON is the part of GitHub's release object Hooktray reads.
type releaseJSON struct {
	TagName     string    `json:"tag_name"`
	PublishedAt time.Time `json:"published_at"`
	Assets      []struct {
		Name               string `json:"name"`
		Size               int64  `json:"size"`
		Digest             string `json:"digest"`
		BrowserDownloadURL string `json:"browser_download_url"`
	} `json:"assets"`
}

func (r Releases) get(ctx context.Context, path string) (Release, error) {
	base := strings.TrimRight(r.API, "/")
	if base == "" {
		base = DefaultReleasesAPI
	}
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return Release{}, fmt.Errorf("look up cloudflared's releases: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := client.Do(req)
	if err != nil {
		return Release{}, fmt.Errorf("cannot reach %s to look up cloudflared's releases (is this computer online?): %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusForbidden && (resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != ""):
		return Release{}, &RateLimitError{Until: rateLimitEnd(resp.Header, clock.Or(r.Clock).Now())}
	case resp.StatusCode == http.StatusNotFound:
		return Release{}, fmt.Errorf("%s has no such cloudflared release (%s)", req.URL.Host, path)
	case resp.StatusCode != http.StatusOK:
		return Release{}, fmt.Errorf("%s answered %s when asked for cloudflared's releases", req.URL.Host, resp.Status)
	}
	var rj releaseJSON
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&rj); err != nil {
		return Release{}, fmt.Errorf("read cloudflared's release from %s: %w", req.URL.Host, err)
	}
	if rj.TagName == "" {
		return Release{}, fmt.Errorf("the release %s described has no version", req.URL.Host)
	}
	rel := Release{Version: rj.TagName, Published: rj.PublishedAt}
	for _, a := range rj.Assets {
		rel.Assets = append(rel.Assets, Asset{Name: a.Name, Size: a.Size, Digest: a.Digest, URL: a.BrowserDownloadURL})
	}
	return rel, nil
}

// rateLimitEnd reads when GitHub's limit ends: Retry-After (seconds), else X-RateLimit-Reset
// (Unix time); zero when neither says.
func rateLimitEnd(h http.Header, now time.Time) time.Time {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		return time.Unix(s, 0)
	}
	return time.Time{}
}

// Platform is this build's OS and architecture as cloudflared's asset names spell them.
func Platform() string { return runtime.GOOS + "-" + runtime.GOARCH }

// AssetName is the release file cloudflared publishes for platform, or "" when there is none.
func AssetName(platform string) string {
	switch platform {
	case "linux-amd64", "linux-arm64", "linux-arm", "linux-386":
		return "cloudflared-" + platform
	case "windows-amd64", "windows-386":
		return "cloudflared-" + platform + ".exe"
	case "darwin-amd64", "darwin-arm64":
		return "cloudflared-" + platform + ".tgz"
	}
	return ""
}

// ErrNoAsset means a release has no build for this platform.
var ErrNoAsset = errors.New("no cloudflared build for this computer")

// AssetFor picks platform's file from the release.
func (rel Release) AssetFor(platform string) (Asset, error) {
	name := AssetName(platform)
	for _, a := range rel.Assets {
		if name != "" && a.Name == name {
			return a, nil
		}
	}
	return Asset{}, fmt.Errorf("%w: cloudflared %s has no file for %s; install cloudflared from Cloudflare's packages instead", ErrNoAsset, rel.Version, platform)
}
