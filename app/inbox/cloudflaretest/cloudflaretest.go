// Package cloudflaretest stands in for the part of Cloudflare's API the inbox's set-up calls, as
// its documentation describes it (the {success, errors, messages, result} envelope, the multipart
// Worker upload with its metadata part, the workers.dev subdomain), and runs what was uploaded:
// the uploaded module, with its secret binding, under workerd (scripts/edge-local.sh), so that
// the inbox a set-up made is a real one.
package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Script is a Worker the stand-in holds.
type Script struct {
	Name       string
	Module     []byte          // the main module's bytes
	Metadata   json.RawMessage // the metadata part, as uploaded
	Secret     string          // the secret_text binding HOOKTRAY_INBOX_SECRET
	Migrated   bool            // the new_sqlite_classes migration ran
	Tag        string          // the migration tag it is at
	Uploads    int             // how many times it was uploaded
	WorkersDev bool            // its workers.dev route is on
	port       int
	cmd        *exec.Cmd
}

// API is the stand-in: Cloudflare's API, and the workers.dev edge in front of what was uploaded.
type API struct {
	*httptest.Server                  // the API
	Edge             *httptest.Server // workers.dev: a script's requests, by the Host's first label
	Token            string           // the only token it knows, with Workers Scripts: Edit
	ReadOnly         string           // a token it knows, without that permission
	Account          string
	Subdomain        string // "" for an account that has not chosen its workers.dev subdomain yet
	repo             string
	dir              string // each script's Durable Object storage, kept across uploads as Cloudflare does

	mu      sync.Mutex
	scripts map[string]*Script
}

// Config says where the stand-in listens ("" is any free loopback port) and keeps its state.
type Config struct {
	Repo       string // the repository's root (for scripts/edge-local.sh)
	Dir        string // where uploaded scripts run and store
	APIListen  string
	EdgeListen string
}

// Start starts the stand-in for one account; Close ends it and every script it runs.
func Start(c Config) (*API, error) {
	a := &API{Token: "cf-token-" + strconv.Itoa(os.Getpid()), ReadOnly: "cf-read-only", Account: strings.Repeat("ab", 16),
		Subdomain: "you", repo: c.Repo, dir: c.Dir, scripts: map[string]*Script{}}
	api, err := serveOn(c.APIListen, http.HandlerFunc(a.serve))
	if err != nil {
		return nil, err
	}
	edge, err := serveOn(c.EdgeListen, http.HandlerFunc(a.edge))
	if err != nil {
		api.Close()
		return nil, err
	}
	a.Server, a.Edge = api, edge
	return a, nil
}

func serveOn(addr string, h http.Handler) (*httptest.Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	return s, nil
}

// New starts the stand-in for a test, ended with it.
func New(t *testing.T, repo string) *API {
	t.Helper()
	a, err := Start(Config{Repo: repo, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// Close ends the stand-in and the scripts it runs.
func (a *API) Close() {
	a.Server.Close()
	a.Edge.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.scripts {
		s.stop()
	}
}

// edge passes a request on to the script it is for: the Host's first label names it
// (SCRIPT.SUBDOMAIN.workers.dev); on a bare address, the only script there is.
func (a *API) edge(w http.ResponseWriter, r *http.Request) {
	name, _, _ := strings.Cut(r.Host, ".")
	a.mu.Lock()
	s, ok := a.scripts[name]
	if !ok && len(a.scripts) == 1 {
		for _, only := range a.scripts {
			s, ok = only, true
		}
	}
	var port int
	if ok && s.WorkersDev {
		port = s.port
	}
	a.mu.Unlock()
	if port == 0 {
		http.Error(w, "There is nothing here yet", http.StatusNotFound)
		return
	}
	target, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(port))
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

// Get returns the script by name, if uploaded.
func (a *API) Get(name string) (Script, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.scripts[name]
	if !ok {
		return Script{}, false
	}
	return *s, true
}

// SetSubdomain changes the account's workers.dev subdomain ("": none chosen yet).
func (a *API) SetSubdomain(sub string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Subdomain = sub
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func reply(w http.ResponseWriter, status int, result any, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if errs == nil {
		errs = []apiError{}
	}
	json.NewEncoder(w).Encode(map[string]any{"success": status/100 == 2, "errors": errs, "messages": []any{}, "result": result})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch token {
	case a.Token:
	case a.ReadOnly:
		if r.Method != http.MethodGet {
			reply(w, http.StatusForbidden, nil, apiError{10000, "Authentication error"})
			return
		}
	default:
		reply(w, http.StatusBadRequest, nil, apiError{6003, "Invalid request headers"}, apiError{6111, "Invalid format for Authorization header"})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "accounts" || parts[2] != "workers" {
		reply(w, http.StatusNotFound, nil, apiError{7003, "Could not route to " + r.URL.Path + ", perhaps your object identifier is invalid?"})
		return
	}
	if parts[1] != a.Account {
		reply(w, http.StatusNotFound, nil, apiError{7003, "Could not route to " + r.URL.Path + ", perhaps your object identifier is invalid?"})
		return
	}
	switch rest := strings.Join(parts[3:], "/"); {
	case rest == "subdomain" && r.Method == http.MethodGet:
		a.mu.Lock()
		sub := a.Subdomain
		a.mu.Unlock()
		if sub == "" {
			reply(w, 404, nil, apiError{10007, "workers.api.error.subdomain_not_found"})
			return
		}
		reply(w, 200, map[string]string{"subdomain": sub})
	case rest == "scripts" && r.Method == http.MethodGet:
		a.list(w)
	case len(parts) == 5 && parts[3] == "scripts" && r.Method == http.MethodPut:
		a.upload(w, r, parts[4])
	case len(parts) == 6 && parts[3] == "scripts" && parts[5] == "subdomain" && r.Method == http.MethodPost:
		a.enable(w, r, parts[4])
	case len(parts) == 5 && parts[3] == "scripts" && r.Method == http.MethodDelete:
		a.remove(w, parts[4])
	default:
		reply(w, http.StatusNotFound, nil, apiError{7000, "No route for that URI"})
	}
}

func (a *API) list(w http.ResponseWriter) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []map[string]string{}
	for name := range a.scripts {
		out = append(out, map[string]string{"id": name})
	}
	reply(w, 200, out)
}

// metadata is the upload's metadata part as far as the stand-in checks it.
type metadata struct {
	MainModule        string `json:"main_module"`
	CompatibilityDate string `json:"compatibility_date"`
	Bindings          []struct {
		Type      string `json:"type"`
		Name      string `json:"name"`
		ClassName string `json:"class_name"`
		Text      string `json:"text"`
	} `json:"bindings"`
	Migrations *struct {
		NewTag           string   `json:"new_tag"`
		OldTag           string   `json:"old_tag"`
		NewSqliteClasses []string `json:"new_sqlite_classes"`
	} `json:"migrations"`
}

// upload takes a multipart module upload, checks it as Cloudflare does (the main module among
// the parts, each Durable Object class migrated before it is bound), and runs it.
func (a *API) upload(w http.ResponseWriter, r *http.Request, name string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		reply(w, 400, nil, apiError{10021, "Uploaded script must be multipart/form-data"})
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	files := map[string][]byte{}
	var raw []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			reply(w, 400, nil, apiError{10021, "malformed multipart body"})
			return
		}
		b, _ := io.ReadAll(p)
		if p.FormName() == "metadata" {
			raw = b
			continue
		}
		files[p.FileName()] = b
	}
	var meta metadata
	if err := json.Unmarshal(raw, &meta); err != nil || meta.MainModule == "" {
		reply(w, 400, nil, apiError{10021, "metadata is missing main_module"})
		return
	}
	module, ok := files[meta.MainModule]
	if !ok {
		reply(w, 400, nil, apiError{10021, "No such module: " + meta.MainModule})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.scripts[name]
	s := &Script{Name: name, Module: module, Metadata: raw, Uploads: 1}
	if old != nil {
		s.Migrated, s.Tag, s.Uploads = old.Migrated, old.Tag, old.Uploads+1
	}
	var newClasses []string
	if m := meta.Migrations; m != nil {
		// A migration names the tag it starts from; a class is created once.
		if m.OldTag != s.Tag {
			reply(w, 400, nil, apiError{10079, fmt.Sprintf("Migration tag precondition failed; current tag is '%s'", s.Tag)})
			return
		}
		if s.Migrated && len(m.NewSqliteClasses) > 0 {
			reply(w, 400, nil, apiError{10074, fmt.Sprintf("Cannot apply new-sqlite-class migration to class '%s' that already exists", m.NewSqliteClasses[0])})
			return
		}
		newClasses, s.Tag = m.NewSqliteClasses, m.NewTag
	}
	for _, b := range meta.Bindings {
		switch b.Type {
		case "secret_text":
			s.Secret = b.Text
		case "durable_object_namespace":
			migrated := s.Migrated
			for _, c := range newClasses {
				migrated = migrated || c == b.ClassName
			}
			if !migrated {
				reply(w, 400, nil, apiError{10074, fmt.Sprintf("Cannot create binding for class '%s' that is not exported or not migrated", b.ClassName)})
				return
			}
			s.Migrated = true
		}
	}
	if old != nil {
		old.stop()
	}
	if err := s.run(a.repo, filepath.Join(a.dir, name)); err != nil {
		reply(w, 500, nil, apiError{10002, err.Error()})
		return
	}
	a.scripts[name] = s
	reply(w, 200, map[string]any{"id": name, "etag": "x", "startup_time_ms": 1})
}

func (a *API) enable(w http.ResponseWriter, r *http.Request, name string) {
	var body struct {
		Enabled bool `json:"enabled"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.scripts[name]
	if !ok {
		reply(w, 404, nil, apiError{10007, "This Worker does not exist on your account."})
		return
	}
	s.WorkersDev = body.Enabled
	reply(w, 200, map[string]bool{"enabled": body.Enabled, "previews_enabled": false})
}

func (a *API) remove(w http.ResponseWriter, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.scripts[name]
	if !ok {
		reply(w, 404, nil, apiError{10007, "This Worker does not exist on your account."})
		return
	}
	s.stop()
	delete(a.scripts, name)
	os.RemoveAll(filepath.Join(a.dir, name)) // a deleted Worker's Durable Objects go with it
	reply(w, 200, nil)
}

// run runs the uploaded module under workerd on a free port, its storage in dir.
func (s *Script) run(repo, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, "uploaded.js")
	if err := os.WriteFile(path, s.Module, 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.cmd = exec.Command(filepath.Join(repo, "scripts", "edge-local.sh"), strconv.Itoa(s.port), filepath.Join(dir, "state"))
	s.cmd.Env = append(os.Environ(), "HOOKTRAY_INBOX_SECRET="+s.Secret, "HOOKTRAY_EDGE_SCRIPT="+path)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("the uploaded Worker did not start")
}

func (s *Script) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}
