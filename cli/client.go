package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/instance"
)

// errNoInstance means there is nothing to talk to; the CLI exits 2 with its message.
type errNoInstance struct{ msg string }

func (e *errNoInstance) Error() string { return e.msg }

// apiError is an error answer of the admin API.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Message }

// client talks to the running instance's admin API, found through runtime.json.
type client struct {
	base  string
	token string
	http  *http.Client
}

func connect(dataDir string) (*client, error) {
	rt, err := instance.ReadRuntime(dataDir)
	if errors.Is(err, instance.ErrNotRunning) {
		return nil, &errNoInstance{fmt.Sprintf("no Hooktray is running on data dir %s; start one with `hooktray serve` (or `make run`)", dataDir)}
	}
	if err != nil {
		return nil, &errNoInstance{err.Error()}
	}
	tok, err := instance.ReadToken(dataDir)
	if err != nil {
		return nil, &errNoInstance{fmt.Sprintf("cannot read the API token of the running Hooktray: %v", err)}
	}
	return &client{base: strings.TrimRight(rt.API, "/"), token: tok, http: &http.Client{}}, nil
}

// do sends a request and decodes a 2xx JSON answer into out (when non-nil). raw, when non-nil,
// receives the answer's exact bytes (for --json).
func (c *client) do(ctx context.Context, method, path string, body any, out any, raw *[]byte) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return &errNoInstance{fmt.Sprintf("the Hooktray recorded in runtime.json (%s) is not running; start one with `hooktray serve`", c.base)}
		}
		return fmt.Errorf("reach Hooktray at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e apijson.Error
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return &apiError{Status: resp.StatusCode, Message: e.Error}
		}
		return &apiError{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
	}
	if raw != nil {
		*raw = b
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// resolveEndpoint accepts an endpoint's id or its name (case-insensitive, when unique).
func (c *client) resolveEndpoint(ctx context.Context, idOrName string) (apijson.Endpoint, error) {
	var list apijson.EndpointList
	if err := c.do(ctx, http.MethodGet, "/api/v1/endpoints", nil, &list, nil); err != nil {
		return apijson.Endpoint{}, err
	}
	var byName []apijson.Endpoint
	for _, e := range list.Endpoints {
		if e.ID == idOrName {
			return e, nil
		}
		if strings.EqualFold(e.Name, idOrName) {
			byName = append(byName, e)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return apijson.Endpoint{}, &apiError{Status: 404, Message: fmt.Sprintf("no endpoint with id or name %q (see `hooktray endpoints list`)", idOrName)}
	}
	return apijson.Endpoint{}, &apiError{Status: 409, Message: fmt.Sprintf("%d endpoints are named %q; use the id", len(byName), idOrName)}
}

func pathEscape(s string) string { return url.PathEscape(s) }
