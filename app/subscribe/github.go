package subscribe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// github is a repository webhook (GitHub REST: /repos/{owner}/{repo}/hooks). Hooktray makes the
// secret and keeps it as the endpoint's github verification secret.
type github struct{}

func (github) Name() string           { return "github" }
func (github) DefaultBaseURL() string { return "https://api.github.com" }
func (github) HTTPSOnly() bool        { return true }
func (github) Fields() []Field {
	return []Field{
		{Key: "token", Label: "Token", Help: "a fine-grained token with the repository's Webhooks: read and write permission (github.com → Settings → Developer settings)", Kind: Text, Secret: true, Required: true},
		{Key: "repository", Label: "Repository", Help: "owner/name", Kind: Text, Required: true},
		{Key: "events", Label: "Events", Help: `push, pull_request, … or "*" for all`, Kind: List, Default: []any{"*"}},
	}
}

func (github) headers(c Call) http.Header {
	return http.Header{"Authorization": {"Bearer " + c.Settings.String("token")}, "Accept": {"application/vnd.github+json"},
		"X-Github-Api-Version": {"2022-11-28"}}
}

func (github) hooks(c Call) (string, error) {
	owner, name, ok := strings.Cut(c.Settings.String("repository"), "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("repository %q is not owner/name", c.Settings.String("repository"))
	}
	return c.BaseURL + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/hooks", nil
}

func explainGitHub(status int, body []byte) string {
	switch status {
	case http.StatusUnauthorized:
		return "GitHub refused the token (401): it may have expired"
	case http.StatusForbidden, http.StatusNotFound:
		return fmt.Sprintf("GitHub answered %d: the token cannot manage this repository's webhooks, or the repository does not exist", status)
	case http.StatusUnprocessableEntity:
		return "GitHub refused the webhook (422): " + firstLine(string(body))
	}
	return ""
}

type githubHook struct {
	ID     int64 `json:"id"`
	Config struct {
		URL string `json:"url"`
	} `json:"config"`
}

// Find looks for the hook Hooktray made (by id), else one already pointing at the URL it last
// registered.
func (g github) Find(ctx context.Context, c Call) (Registration, bool, error) {
	base, err := g.hooks(c)
	if err != nil {
		return Registration{}, false, err
	}
	var hooks []githubHook
	if err := doJSON(ctx, c.Client, http.MethodGet, base+"?per_page=100", g.headers(c), nil, &hooks, explainGitHub); err != nil {
		return Registration{}, false, err
	}
	for _, h := range hooks {
		id := strconv.FormatInt(h.ID, 10)
		if (c.RemoteID != "" && id == c.RemoteID) || (c.RemoteID == "" && c.RegisteredAt != "" && h.Config.URL == c.RegisteredAt) {
			return Registration{RemoteID: id, URL: h.Config.URL}, true, nil
		}
	}
	return Registration{}, false, nil
}

func (g github) body(c Call, to, secret string) map[string]any {
	config := map[string]any{"url": to, "content_type": "json", "insecure_ssl": "0"}
	if secret != "" {
		config["secret"] = secret
	}
	return map[string]any{"name": "web", "active": true, "events": c.Settings.List("events"), "config": config}
}

func (g github) Create(ctx context.Context, c Call, to string) (Result, error) {
	base, err := g.hooks(c)
	if err != nil {
		return Result{}, err
	}
	secret := c.NewSecret()
	var h githubHook
	if err := doJSON(ctx, c.Client, http.MethodPost, base, g.headers(c), g.body(c, to, secret), &h, explainGitHub); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: strconv.FormatInt(h.ID, 10), URL: to, Secret: secret, Scheme: "github"}, nil
}

// Update points the hook at the URL with a new secret (GitHub never returns the old one).
func (g github) Update(ctx context.Context, c Call, reg Registration, to string) (Result, error) {
	base, err := g.hooks(c)
	if err != nil {
		return Result{}, err
	}
	secret := c.NewSecret()
	if err := doJSON(ctx, c.Client, http.MethodPatch, base+"/"+url.PathEscape(reg.RemoteID), g.headers(c), g.body(c, to, secret), nil, explainGitHub); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: reg.RemoteID, URL: to, Secret: secret, Scheme: "github"}, nil
}

func (g github) Delete(ctx context.Context, c Call, reg Registration) error {
	base, err := g.hooks(c)
	if err != nil {
		return err
	}
	err = doJSON(ctx, c.Client, http.MethodDelete, base+"/"+url.PathEscape(reg.RemoteID), g.headers(c), nil, nil, explainGitHub)
	if pe, ok := err.(*ProviderError); ok && pe.Status == http.StatusNotFound {
		return nil // already gone
	}
	return err
}
