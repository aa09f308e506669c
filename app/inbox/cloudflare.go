package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/edge"
)

// DefaultCloudflareAPI is Cloudflare's API; CloudflareAPIEnv overrides it (a local stand-in).
const (
	DefaultCloudflareAPI = "https://api.cloudflare.com/client/v4"
	CloudflareAPIEnv     = "HOOKTRAY_CLOUDFLARE_API"
)

// DefaultWorkersDev is where a Worker's workers.dev address is; WorkersDevEnv overrides it (the
// stand-in's edge). {script} and {subdomain} are replaced.
const (
	DefaultWorkersDev = "https://{script}.{subdomain}.workers.dev"
	WorkersDevEnv     = "HOOKTRAY_WORKERS_DEV"
)

// workersDev is the script's workers.dev base URL after the template.
func workersDev(template, script, subdomain string) string {
	return strings.TrimRight(strings.NewReplacer("{script}", script, "{subdomain}", subdomain).Replace(template), "/")
}

// cloudflare talks to Cloudflare's API with the user's token, for the calls the set-up makes.
type cloudflare struct {
	base   string
	token  string
	client *http.Client
}

// envelope is every answer of Cloudflare's API.
type envelope struct {
	Success bool              `json:"success"`
	Errors  []cloudflareError `json:"errors"`
	Result  json.RawMessage   `json:"result"`
}

type cloudflareError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// APIError is Cloudflare refusing a call, put in a sentence, with its own words beside it.
type APIError struct {
	Status  int
	Code    int
	Message string // what it means and what to do
	Said    string // what Cloudflare said
}

func (e *APIError) Error() string {
	if e.Said == "" {
		return e.Message
	}
	return fmt.Sprintf("%s (Cloudflare said: %q)", e.Message, e.Said)
}

// call sends a request and decodes the result into out.
func (c cloudflare) call(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return netmsg.Wrap("Cloudflare's API", err)
	}
	defer resp.Body.Close()
	var env envelope
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err := json.Unmarshal(b, &env); err != nil {
		return &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("Cloudflare's API answered %s with something that is not its JSON", resp.Status)}
	}
	if !env.Success || resp.StatusCode/100 != 2 {
		return explain(resp.StatusCode, env.Errors, path)
	}
	if out != nil && len(env.Result) > 0 {
		return json.Unmarshal(env.Result, out)
	}
	return nil
}

// explain says what Cloudflare's refusal means for the set-up.
func explain(status int, errs []cloudflareError, path string) error {
	e := &APIError{Status: status}
	if len(errs) > 0 {
		e.Code, e.Said = errs[0].Code, errs[0].Message
	}
	said := strings.ToLower(e.Said)
	switch {
	case e.Code == 9109 || e.Code == 6003 || e.Code == 6111 || strings.Contains(said, "invalid access token") || strings.Contains(said, "invalid api token"):
		e.Message = "Cloudflare does not know this API token: copy it again (My Profile → API Tokens)"
	case status == http.StatusForbidden || e.Code == 10000 || strings.Contains(said, "authentication error"):
		e.Message = "the API token may not do this: give it the permission Workers Scripts: Edit on this account"
	case e.Code == 10007 && strings.HasSuffix(path, "/workers/subdomain"): // as wrangler reads it
		e.Message = "the account has no workers.dev subdomain yet: open Workers & Pages in the Cloudflare dashboard once, and choose one"
	case status == http.StatusNotFound || e.Code == 7003 || e.Code == 7000:
		e.Message = "Cloudflare has no such account, or the token cannot see it: check the account id (the dashboard's URL holds it)"
	case strings.Contains(said, "limit") || strings.Contains(said, "exceeded") || e.Code == 10037:
		e.Message = "the account's plan does not allow another Worker or Durable Object class: remove one, or raise the plan"
	default:
		e.Message = fmt.Sprintf("Cloudflare refused the set-up (%d)", status)
	}
	return e
}

// subdomain is the account's workers.dev subdomain.
func (c cloudflare) subdomain(ctx context.Context, account string) (string, error) {
	var r struct {
		Subdomain string `json:"subdomain"`
	}
	if err := c.call(ctx, http.MethodGet, "/accounts/"+url.PathEscape(account)+"/workers/subdomain", "", nil, &r); err != nil {
		return "", err
	}
	if r.Subdomain == "" {
		return "", explain(http.StatusNotFound, []cloudflareError{{Code: 10007}}, "/workers/subdomain")
	}
	return r.Subdomain, nil
}

// uploadMetadata is the multipart upload's metadata part: the module, the Durable Object and its
// SQLite migration, and the inbox secret as a secret binding.
type uploadMetadata struct {
	MainModule        string          `json:"main_module"`
	CompatibilityDate string          `json:"compatibility_date"`
	Bindings          []binding       `json:"bindings"`
	Migrations        *migrationsPart `json:"migrations,omitempty"`
}

type binding struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	ClassName string `json:"class_name,omitempty"`
	Text      string `json:"text,omitempty"`
}

type migrationsPart struct {
	NewTag           string   `json:"new_tag"`
	NewSqliteClasses []string `json:"new_sqlite_classes,omitempty"`
}

// upload puts the Worker on the account under script, with the inbox secret bound; first (no
// migration applied yet) it creates the Durable Object class with SQLite storage. Later uploads
// carry no migration: the class, and what it stored, stay as they are.
func (c cloudflare) upload(ctx context.Context, account, script, secret string, first bool) error {
	meta := uploadMetadata{
		MainModule: edge.Module, CompatibilityDate: edge.CompatibilityDate,
		Bindings: []binding{
			{Type: "durable_object_namespace", Name: edge.Binding, ClassName: edge.Class},
			{Type: "secret_text", Name: edge.SecretBinding, Text: secret},
		},
	}
	if first {
		meta.Migrations = &migrationsPart{NewTag: "v1", NewSqliteClasses: []string{edge.Class}}
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	mh := textproto.MIMEHeader{}
	mh.Set("Content-Disposition", `form-data; name="metadata"`)
	mh.Set("Content-Type", "application/json")
	part, _ := w.CreatePart(mh)
	json.NewEncoder(part).Encode(meta)
	fh := textproto.MIMEHeader{}
	fh.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, edge.Module, edge.Module))
	fh.Set("Content-Type", "application/javascript+module")
	part, _ = w.CreatePart(fh)
	part.Write(edge.Script)
	w.Close()
	path := "/accounts/" + url.PathEscape(account) + "/workers/scripts/" + url.PathEscape(script)
	return c.call(ctx, http.MethodPut, path, w.FormDataContentType(), &buf, nil)
}

// enableWorkersDev turns on the script's workers.dev route.
func (c cloudflare) enableWorkersDev(ctx context.Context, account, script string) error {
	path := "/accounts/" + url.PathEscape(account) + "/workers/scripts/" + url.PathEscape(script) + "/subdomain"
	return c.call(ctx, http.MethodPost, path, "application/json", strings.NewReader(`{"enabled":true,"previews_enabled":false}`), nil)
}

// exists reports whether the script is on the account (to know whether its migration ran).
func (c cloudflare) exists(ctx context.Context, account, script string) (bool, error) {
	var list []struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodGet, "/accounts/"+url.PathEscape(account)+"/workers/scripts", "", nil, &list); err != nil {
		return false, err
	}
	for _, s := range list {
		if s.ID == script {
			return true, nil
		}
	}
	return false, nil
}

// remove deletes the script, with its Durable Object and what it stored.
func (c cloudflare) remove(ctx context.Context, account, script string) error {
	path := "/accounts/" + url.PathEscape(account) + "/workers/scripts/" + url.PathEscape(script) + "?force=true"
	return c.call(ctx, http.MethodDelete, path, "", nil, nil)
}
