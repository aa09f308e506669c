package subscribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/template"
)

// restTemplate registers with any REST API from request templates: for create, read, update and
// delete a method, a URL and a JSON body, with {{.URL}}, {{.Secret}}, {{.EndpointName}},
// {{.RemoteID}} and {{.Token}}; JSON paths read the remote id, the registered URL and a returned
// secret from the answers.
type restTemplate struct{}

func (restTemplate) Name() string           { return "http" }
func (restTemplate) DefaultBaseURL() string { return "" }
func (restTemplate) HTTPSOnly() bool        { return false }
func (restTemplate) Fields() []Field {
	return []Field{
		{Key: "token", Label: "Token", Help: "available to the templates as {{.Token}}", Kind: Text, Secret: true},
		{Key: "headers", Label: "Headers", Help: `"Name: value" lines, e.g. Authorization: Bearer {{.Token}}`, Kind: List, Default: []any{}},
		{Key: "create_method", Label: "Create: method", Kind: Text, Default: "POST"},
		{Key: "create_url", Label: "Create: URL", Kind: Text, Required: true},
		{Key: "create_body", Label: "Create: body", Help: `JSON, e.g. {"url": "{{.URL}}"}`, Kind: Text, Default: `{"url":"{{.URL}}"}`},
		{Key: "read_url", Label: "Read: URL", Help: "GET; empty when the API cannot be asked", Kind: Text, Default: ""},
		{Key: "update_method", Label: "Update: method", Kind: Text, Default: "PUT"},
		{Key: "update_url", Label: "Update: URL", Help: "empty: a new URL is created anew", Kind: Text, Default: ""},
		{Key: "update_body", Label: "Update: body", Kind: Text, Default: `{"url":"{{.URL}}"}`},
		{Key: "delete_method", Label: "Delete: method", Kind: Text, Default: "DELETE"},
		{Key: "delete_url", Label: "Delete: URL", Kind: Text, Default: ""},
		{Key: "id_path", Label: "Id path", Help: "where the answer holds the registration's id, e.g. data.id", Kind: Text, Default: "id"},
		{Key: "url_path", Label: "URL path", Help: "where a read answer holds the registered URL", Kind: Text, Default: "url"},
		{Key: "secret_path", Label: "Secret path", Help: "where the create answer holds a signing secret (optional)", Kind: Text, Default: ""},
		{Key: "secret_scheme", Label: "Secret scheme", Help: "the endpoint's verification scheme for that secret", Kind: Text, Default: "hmac"},
		{Key: "one_per_system", Label: "One per system", Help: "the API holds one registration: read it with Read URL, replace it with Update", Kind: Bool, Default: false},
	}
}

type templateData struct {
	URL, Secret, EndpointName, RemoteID, Token string
}

func (restTemplate) render(name, text string, d templateData) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("the %s template: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("the %s template: %w", name, err)
	}
	return b.String(), nil
}

// request renders and sends one templated request, returning the JSON answer.
func (tp restTemplate) request(ctx context.Context, c Call, name, method, urlT, bodyT string, d templateData) (any, error) {
	u, err := tp.render(name+" URL", urlT, d)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{}
	for _, line := range c.Settings.List("headers") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("header %q is not Name: value", line)
		}
		v, err := tp.render("header", strings.TrimSpace(v), d)
		if err != nil {
			return nil, err
		}
		hdr.Set(strings.TrimSpace(k), v)
	}
	var body any
	if bodyT != "" && method != http.MethodGet && method != http.MethodDelete {
		b, err := tp.render(name+" body", bodyT, d)
		if err != nil {
			return nil, err
		}
		if !json.Valid([]byte(b)) {
			return nil, fmt.Errorf("the %s body is not JSON once filled in: %s", name, firstLine(b))
		}
		body = json.RawMessage(b)
	}
	var out any
	err = doJSON(ctx, c.Client, method, u, hdr, body, &out, func(int, []byte) string { return "" })
	return out, err
}

// lookup follows a dot path (data.items.0.id) through decoded JSON.
func lookup(v any, path string) string {
	if path == "" {
		return ""
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%f", x), ".000000")
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (tp restTemplate) data(c Call, to, secret string) templateData {
	return templateData{URL: to, Secret: secret, EndpointName: c.EndpointName, RemoteID: c.RemoteID, Token: c.Settings.String("token")}
}

func (tp restTemplate) Find(ctx context.Context, c Call) (Registration, bool, error) {
	readURL := c.Settings.String("read_url")
	if readURL == "" || (c.RemoteID == "" && !c.Settings.Bool("one_per_system")) {
		if c.RemoteID == "" {
			return Registration{}, false, nil
		}
		return Registration{RemoteID: c.RemoteID, URL: c.RegisteredAt}, true, nil
	}
	out, err := tp.request(ctx, c, "read", http.MethodGet, readURL, "", tp.data(c, "", ""))
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, err
	}
	reg := Registration{RemoteID: lookup(out, c.Settings.String("id_path")), URL: lookup(out, c.Settings.String("url_path"))}
	if reg.RemoteID == "" {
		reg.RemoteID = c.RemoteID
	}
	return reg, reg.URL != "", nil
}

func (tp restTemplate) Create(ctx context.Context, c Call, to string) (Result, error) {
	out, err := tp.request(ctx, c, "create", c.Settings.String("create_method"), c.Settings.String("create_url"),
		c.Settings.String("create_body"), tp.data(c, to, c.NewSecret()))
	if err != nil {
		return Result{}, err
	}
	res := Result{RemoteID: lookup(out, c.Settings.String("id_path")), URL: to}
	if s := lookup(out, c.Settings.String("secret_path")); s != "" {
		res.Secret, res.Scheme = s, c.Settings.String("secret_scheme")
	}
	return res, nil
}

func (tp restTemplate) Update(ctx context.Context, c Call, reg Registration, to string) (Result, error) {
	if c.Settings.String("update_url") == "" {
		return tp.Create(ctx, c, to)
	}
	c.RemoteID = reg.RemoteID
	if _, err := tp.request(ctx, c, "update", c.Settings.String("update_method"), c.Settings.String("update_url"),
		c.Settings.String("update_body"), tp.data(c, to, "")); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: reg.RemoteID, URL: to}, nil
}

func (tp restTemplate) Delete(ctx context.Context, c Call, reg Registration) error {
	if c.Settings.String("delete_url") == "" {
		return nil
	}
	c.RemoteID = reg.RemoteID
	_, err := tp.request(ctx, c, "delete", c.Settings.String("delete_method"), c.Settings.String("delete_url"), "", tp.data(c, reg.URL, ""))
	return err
}
