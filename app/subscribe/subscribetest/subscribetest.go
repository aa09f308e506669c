// Package subscribetest serves local stand-ins for the providers Hooktray registers webhooks with, as
// their documentation describes the requests and answers: the Diagral cloud (signed requests, one
// subscription per system), a device platform's POST /v2/webhooks (seed 002, with its 400 and
// 401), Homecast's GraphQL mutations (seed 003), GitHub's repository hooks and Stripe's webhook
// endpoints. Tests and manual tries point the providers' base URLs at it.
package subscribetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials the stand-ins accept.
const (
	DiagralEmail    = "owner@example.com"
	DiagralPassword = "correct horse battery staple"
	DiagralSerial   = "27458196034A82"
	DiagralKey      = "diagral-api-key"
	DiagralSecret   = "diagral-secret-key"
	Token           = "stand-in-token" // device platform, Homecast, GitHub, Stripe
	SecretHmac      = "bSxyOp4vaSNpvyUMfrA98WsOqRSlzBBB"
	HomecastRaw     = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	StripeSecret    = "whsec_stripestandinsecret"
)

// Server is every stand-in on one local HTTP server.
type Server struct {
	*httptest.Server
	mu sync.Mutex
	// Diagral: the system's one subscription ("" when none).
	DiagralURL string
	// DiagralStaleReads makes that many reads of the subscription answer that there is none,
	// whatever there is: a read that lags behind a write (or another client registering at the
	// same moment).
	DiagralStaleReads int
	// DevicePlatform: webhooks created, by id.
	DeviceHooks map[int]string
	// Homecast: webhooks by id.
	HomecastHooks map[string]string
	// GitHub: hooks by id, with their secret.
	GitHubHooks  map[int64]string
	GitHubSecret map[int64]string
	// Stripe: endpoints by id.
	StripeHooks map[string]string
	// OnTest is called with the webhook's URL when Homecast is asked for a test delivery (the
	// test sends it, signed, as Homecast would).
	OnTest func(url string)
	// Requests counts requests by "METHOD path".
	Requests map[string]int
	// Hang makes every answer wait this long (a provider that hangs).
	Hang time.Duration
	// Fail answers every request with this status (0: normal).
	Fail int
	next int
	quit chan struct{} // closed by Close: hanging answers end
}

// Close ends hanging answers and stops the server.
func (s *Server) Close() {
	close(s.quit)
	s.Server.Close()
}

// New starts the stand-ins.
func New() *Server {
	s := &Server{DeviceHooks: map[int]string{}, HomecastHooks: map[string]string{}, GitHubHooks: map[int64]string{},
		GitHubSecret: map[int64]string{}, StripeHooks: map[string]string{}, Requests: map[string]int{}, quit: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Count returns how many requests "METHOD path-prefix" got.
func (s *Server) Count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.Requests {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// State is what the stand-in holds at one moment, copied, for a test to read while it serves.
type State struct {
	DiagralURL    string
	DeviceHooks   map[int]string
	HomecastHooks map[string]string
	GitHubHooks   map[int64]string
	GitHubSecret  map[int64]string
	StripeHooks   map[string]string
	Requests      map[string]int
}

// State copies what the stand-in holds, under its lock.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		DiagralURL:    s.DiagralURL,
		DeviceHooks:   maps.Clone(s.DeviceHooks),
		HomecastHooks: maps.Clone(s.HomecastHooks),
		GitHubHooks:   maps.Clone(s.GitHubHooks),
		GitHubSecret:  maps.Clone(s.GitHubSecret),
		StripeHooks:   maps.Clone(s.StripeHooks),
		Requests:      maps.Clone(s.Requests),
	}
}

// Set runs f with the stand-ins' state locked.
func (s *Server) Set(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.Requests[r.Method+" "+r.URL.Path]++
	hang, fail := s.Hang, s.Fail
	s.mu.Unlock()
	if hang > 0 {
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
	if fail != 0 {
		writeJSON(w, fail, map[string]string{"detail": "stand-in failure"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body)) // for the handlers that read it themselves
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/diagral/"):
		s.diagral(w, r, strings.TrimPrefix(p, "/diagral"))
	case p == "/devices/v2/webhooks":
		s.devicePlatform(w, r, body)
	case p == "/homecast/graphql":
		s.homecast(w, r, body)
	case strings.HasPrefix(p, "/github/"):
		s.github(w, r, strings.TrimPrefix(p, "/github"), body)
	case strings.HasPrefix(p, "/stripe/"):
		s.stripe(w, r, strings.TrimPrefix(p, "/stripe"))
	default:
		http.NotFound(w, r)
	}
}

// Base URLs of each stand-in, for the subscriptions' base_url.
func (s *Server) DiagralURLBase() string  { return s.URL + "/diagral" }
func (s *Server) DevicesURLBase() string  { return s.URL + "/devices" }
func (s *Server) HomecastURLBase() string { return s.URL + "/homecast/graphql" }
func (s *Server) GitHubURLBase() string   { return s.URL + "/github" }
func (s *Server) StripeURLBase() string   { return s.URL + "/stripe" }

// diagral checks the signature (X-HMAC over "<ts>.<serial>.<key>" with the secret key, timestamp
// within 5 minutes) and keeps one subscription per system.
func (s *Server) diagral(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/users/authenticate/login":
		var in struct{ Username, Password string }
		json.NewDecoder(r.Body).Decode(&in)
		if r.URL.Query().Get("vendor") != "DIAGRAL" || in.Username != DiagralEmail || in.Password != DiagralPassword {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid credentials"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"access_token": "access-" + DiagralEmail})
		return
	case "/users/api_key":
		var in struct {
			Serial string `json:"serial_id"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("Authorization") != "Bearer access-"+DiagralEmail || in.Serial != DiagralSerial {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Not authenticated"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"api_key": DiagralKey, "secret_key": DiagralSecret})
		return
	}
	ts, key, sig := r.Header.Get("X-Timestamp"), r.Header.Get("X-Apikey"), r.Header.Get("X-Hmac")
	m := hmac.New(sha256.New, []byte(DiagralSecret))
	m.Write([]byte(ts + "." + DiagralSerial + "." + DiagralKey))
	t, _ := strconv.ParseInt(ts, 10, 64)
	if key != DiagralKey || !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(m.Sum(nil)))) || time.Since(time.Unix(t, 0)).Abs() > 5*time.Minute {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid API key or signature"})
		return
	}
	if p != "/webhooks/"+DiagralSerial+"/subscription" {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var in struct {
		URL string `json:"webhook_url"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	switch r.Method {
	case http.MethodGet:
		stale := s.DiagralStaleReads > 0
		if stale {
			s.DiagralStaleReads--
		}
		if s.DiagralURL == "" || stale {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "There is no subscription for " + DiagralSerial})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"transmitter_id": "T-" + DiagralSerial, "webhook_url": s.DiagralURL,
			"subscriptions": map[string]bool{"anomaly": true, "alert": true, "state": true}})
	case http.MethodPost:
		if s.DiagralURL != "" {
			writeJSON(w, http.StatusConflict, map[string]string{"detail": "Subscription already exists"})
			return
		}
		s.DiagralURL = in.URL
		writeJSON(w, http.StatusOK, map[string]string{"status": "created"})
	case http.MethodPut:
		s.DiagralURL = in.URL
		writeJSON(w, http.StatusOK, map[string]string{"status": "updated"})
	case http.MethodDelete:
		s.DiagralURL = ""
		writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
	}
}

func bearer(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+Token }

// devicePlatform follows seed 002: 401 for a bad token, 400 WebhookUnsupportedProtocol for http.
func (s *Server) devicePlatform(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !bearer(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid authentication token"})
		return
	}
	var in struct {
		OrganizationID int64    `json:"organizationId"`
		WebhookURL     string   `json:"webhookUrl"`
		Topics         []string `json:"topics"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.OrganizationID == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "InvalidRequest"})
		return
	}
	if !strings.HasPrefix(in.WebhookURL, "https://") {
		// Seed 002's example answer, word for word.
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Unsupported protocol: We only support https for now.",
			"code": "WebhookUnsupportedProtocol", "errorMessage": "Unsupported protocol: We only support https for now.",
			"errorCode": "WebhookUnsupportedProtocol"})
		return
	}
	s.mu.Lock()
	s.next++
	id := s.next
	s.DeviceHooks[id] = in.WebhookURL
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "secretHmac": SecretHmac})
}

// homecast answers createWebhook, updateWebhook and deleteWebhook (seed 003).
func (s *Server) homecast(w http.ResponseWriter, r *http.Request, body []byte) {
	if !bearer(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]string{{"message": "unauthenticated"}}})
		return
	}
	var in struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	json.Unmarshal(body, &in)
	s.mu.Lock()
	defer s.mu.Unlock()
	str := func(k string) string { v, _ := in.Variables[k].(string); return v }
	switch {
	case strings.Contains(in.Query, "createWebhook("):
		if !strings.HasPrefix(str("url"), "https://") {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{{"message": "url must be HTTPS"}}})
			return
		}
		s.next++
		id := fmt.Sprintf("wh_%d", s.next)
		s.HomecastHooks[id] = str("url")
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"createWebhook": map[string]any{"success": true,
			"webhook": map[string]string{"id": id, "name": str("name"), "rawSecret": HomecastRaw}}}})
	case strings.Contains(in.Query, "updateWebhook("):
		_, ok := s.HomecastHooks[str("webhookId")]
		if ok {
			s.HomecastHooks[str("webhookId")] = str("url")
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"updateWebhook": map[string]bool{"success": ok}}})
	case strings.Contains(in.Query, "rotateWebhookSecret("):
		_, ok := s.HomecastHooks[str("webhookId")]
		s.next++
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"rotateWebhookSecret": map[string]any{"success": ok,
			"webhook": map[string]string{"id": str("webhookId"), "rawSecret": fmt.Sprintf("%s_r%d", HomecastRaw, s.next)}}}})
	case strings.Contains(in.Query, "testWebhook("):
		target, ok := s.HomecastHooks[str("webhookId")]
		if ok && s.OnTest != nil {
			go s.OnTest(target)
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"testWebhook": map[string]bool{"success": ok}}})
	case strings.Contains(in.Query, "deleteWebhook("):
		delete(s.HomecastHooks, str("webhookId"))
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"deleteWebhook": map[string]bool{"success": true}}})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{{"message": "unknown operation"}}})
	}
}

// github serves /repos/{owner}/{repo}/hooks[/{id}].
func (s *Server) github(w http.ResponseWriter, r *http.Request, p string, body []byte) {
	if !bearer(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 4 || parts[0] != "repos" || parts[3] != "hooks" {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type cfg struct {
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
		Secret      string `json:"secret,omitempty"`
	}
	var in struct {
		Events []string `json:"events"`
		Config cfg      `json:"config"`
	}
	json.Unmarshal(body, &in)
	hook := func(id int64) map[string]any {
		return map[string]any{"id": id, "name": "web", "active": true, "config": map[string]string{"url": s.GitHubHooks[id], "content_type": "json", "secret": "********"}}
	}
	if len(parts) == 4 {
		switch r.Method {
		case http.MethodGet:
			list := []map[string]any{}
			for id := range s.GitHubHooks {
				list = append(list, hook(id))
			}
			writeJSON(w, http.StatusOK, list)
		case http.MethodPost:
			if in.Config.URL == "" || in.Config.ContentType != "json" {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
				return
			}
			s.next++
			id := int64(s.next)
			s.GitHubHooks[id], s.GitHubSecret[id] = in.Config.URL, in.Config.Secret
			writeJSON(w, http.StatusCreated, hook(id))
		}
		return
	}
	id, _ := strconv.ParseInt(parts[4], 10, 64)
	if _, ok := s.GitHubHooks[id]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	switch r.Method {
	case http.MethodPatch:
		s.GitHubHooks[id] = in.Config.URL
		if in.Config.Secret != "" {
			s.GitHubSecret[id] = in.Config.Secret
		}
		writeJSON(w, http.StatusOK, hook(id))
	case http.MethodDelete:
		delete(s.GitHubHooks, id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// stripe serves /v1/webhook_endpoints[/{id}], form-encoded.
func (s *Server) stripe(w http.ResponseWriter, r *http.Request, p string) {
	if !bearer(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"message": "Invalid API Key provided"}})
		return
	}
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.TrimPrefix(p, "/v1/webhook_endpoints/")
	switch {
	case p == "/v1/webhook_endpoints" && r.Method == http.MethodPost:
		s.next++
		id := fmt.Sprintf("we_%d", s.next)
		s.StripeHooks[id] = r.PostForm.Get("url")
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "webhook_endpoint", "url": s.StripeHooks[id],
			"enabled_events": r.PostForm["enabled_events[]"], "secret": StripeSecret})
	case strings.HasPrefix(p, "/v1/webhook_endpoints/"):
		if _, ok := s.StripeHooks[id]; !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"message": "No such webhook endpoint"}})
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "url": s.StripeHooks[id]})
		case http.MethodPost:
			if u := r.PostForm.Get("url"); u != "" {
				s.StripeHooks[id] = u
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "url": s.StripeHooks[id]})
		case http.MethodDelete:
			delete(s.StripeHooks, id)
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
		}
	default:
		http.NotFound(w, r)
	}
}
