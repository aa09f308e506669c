// Package hatest is a stand-in for a Home Assistant instance's mobile_app integration, behaving as
// homeassistant/components/mobile_app does (webhook.py, http_api.py, helpers.py, read in December
// 2026), quirks included: a message whose shape its schema refuses, an unknown command, a command
// whose data fails its schema, or a payload that does not decrypt is logged and answered 200 with
// "{}" — the sender cannot tell it was dropped. So tests assert on what the stand-in did (the
// events it fired), never on the 200.
//
// It serves the registration API (POST /api/mobile_app/registrations, a long-lived access token
// required) and each registration's webhook at the instance URL, at a remote UI URL (/remote) and
// at a cloudhook (/cloudhook/ID), each of which can be made to hang or fail.
package hatest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"golang.org/x/crypto/nacl/secretbox"
)

// Token is the long-lived access token the stand-in accepts.
const Token = "ha-long-lived-access-token-for-tests"

// Behaviour is how one of the instance's URLs answers.
type Behaviour int

// Behaviours.
const (
	Serve Behaviour = iota // handle the webhook as Home Assistant does
	Hang                   // accept the connection and never answer
	Fail                   // answer 500
)

// Fired is an event the stand-in fired on its bus (fire_event).
type Fired struct {
	WebhookID string
	EventType string
	EventData map[string]any
	Via       string // "instance", "remote" or "cloudhook"
}

// Command is any other command the stand-in carried out.
type Command struct {
	WebhookID string
	Type      string
	Data      any
}

// Registration is what the stand-in keeps of a registered device.
type Registration struct {
	WebhookID          string
	Secret             string
	SupportsEncryption bool
	DeviceName         string
	AppID              string
	Request            map[string]any // the registration as sent
}

// Server is a running stand-in.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	regs     map[string]*Registration
	deleted  map[string]bool
	fired    []Fired
	commands []Command
	logs     []string
	requests map[string]int // by URL kind
	// Cloud and RemoteUI say whether registrations get a cloudhook URL and a remote UI URL
	// (a Home Assistant Cloud subscription); how those and the instance URL answer.
	cloud, remoteUI          bool
	cloudhook, remote, local Behaviour
	release                  chan struct{}
}

// New starts a stand-in; cloud gives registrations a cloudhook and a remote UI URL.
func New(cloud bool) *Server {
	s := &Server{regs: map[string]*Registration{}, deleted: map[string]bool{}, requests: map[string]int{},
		cloud: cloud, remoteUI: cloud, release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close ends hanging answers and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.Server.Close()
}

// Set makes the cloudhook, the remote UI and the instance URL answer as given.
func (s *Server) Set(cloudhook, remote, instance Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cloudhook, s.remote, s.local = cloudhook, remote, instance
}

// Register adds a registration directly, as if a device had registered, and returns it.
func (s *Server) Register(encrypt bool) Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Registration{WebhookID: randomHex(32), SupportsEncryption: encrypt, DeviceName: "test device"}
	if encrypt {
		r.Secret = randomHex(32)
	}
	s.regs[r.WebhookID] = r
	return *r
}

// Delete removes a registration, as deleting the integration's device does: its webhook answers
// 410 from then on.
func (s *Server) Delete(webhookID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.regs, webhookID)
	s.deleted[webhookID] = true
}

// CloudhookURL and RemoteUIURL are the URLs registrations get with a cloud subscription.
func (s *Server) CloudhookURL(webhookID string) string { return s.URL + "/cloudhook/" + webhookID }

// RemoteUIURL is the remote UI's base URL.
func (s *Server) RemoteUIURL() string { return s.URL + "/remote" }

// Fired returns the events fired so far, oldest first.
func (s *Server) Fired() []Fired {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fired(nil), s.fired...)
}

// Commands returns the other commands carried out, oldest first.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.commands...)
}

// Logs returns what Home Assistant would have logged.
func (s *Server) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logs...)
}

// Registrations returns the registrations made, by webhook id.
func (s *Server) Registrations() map[string]Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Registration{}
	for id, r := range s.regs {
		out[id] = *r
	}
	return out
}

// Requests counts the webhook requests each URL got ("cloudhook", "remote", "instance").
func (s *Server) Requests(via string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[via]
}

func (s *Server) logf(format string, a ...any) {
	s.logs = append(s.logs, fmt.Sprintf(format, a...))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/mobile_app/registrations" && r.Method == http.MethodPost:
		s.registration(w, r)
	case strings.HasPrefix(p, "/api/webhook/"):
		s.webhookVia(w, r, "instance", strings.TrimPrefix(p, "/api/webhook/"))
	case strings.HasPrefix(p, "/remote/api/webhook/"):
		s.webhookVia(w, r, "remote", strings.TrimPrefix(p, "/remote/api/webhook/"))
	case strings.HasPrefix(p, "/cloudhook/"):
		s.webhookVia(w, r, "cloudhook", strings.TrimPrefix(p, "/cloudhook/"))
	default:
		http.NotFound(w, r)
	}
}

// registration is http_api.py's RegistrationsView: the schema, then 201 with the webhook id, the
// secret (when the device supports encryption) and the cloud URLs (when there is a subscription).
func (s *Server) registration(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+Token {
		http.Error(w, "401: Unauthorized", http.StatusUnauthorized)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Invalid JSON."})
		return
	}
	if msg := checkRegistration(req); msg != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Message format incorrect: " + msg})
		return
	}
	enc, _ := req["supports_encryption"].(bool)
	s.mu.Lock()
	reg := &Registration{WebhookID: randomHex(32), SupportsEncryption: enc, Request: req}
	reg.DeviceName, _ = req["device_name"].(string)
	reg.AppID, _ = req["app_id"].(string)
	if enc {
		reg.Secret = randomHex(32) // secrets.token_hex(SecretBox.KEY_SIZE)
	}
	s.regs[reg.WebhookID] = reg
	cloud, remote := s.cloud, s.remoteUI
	s.mu.Unlock()
	ans := map[string]any{"webhook_id": reg.WebhookID, "secret": nil, "cloudhook_url": nil, "remote_ui_url": nil}
	if enc {
		ans["secret"] = reg.Secret
	}
	if cloud {
		ans["cloudhook_url"] = s.CloudhookURL(reg.WebhookID)
	}
	if remote {
		ans["remote_ui_url"] = s.RemoteUIURL()
	}
	writeJSON(w, http.StatusCreated, ans)
}

// checkRegistration is REGISTRATION_SCHEMA: the required keys as strings, no unknown key.
func checkRegistration(req map[string]any) string {
	known := map[string]bool{"app_data": true, "app_id": true, "app_name": true, "app_version": true, "device_id": true,
		"device_name": true, "manufacturer": true, "model": true, "os_name": true, "os_version": true, "supports_encryption": true}
	for _, k := range []string{"app_id", "app_name", "app_version", "device_name", "manufacturer", "model", "os_name"} {
		if v, ok := req[k].(string); !ok || v == "" {
			return fmt.Sprintf("required key not provided @ data['%s']", k)
		}
	}
	for k, v := range req {
		if !known[k] {
			return fmt.Sprintf("extra keys not allowed @ data['%s']", k)
		}
		if k == "supports_encryption" {
			if _, ok := v.(bool); !ok {
				return "expected boolean @ data['supports_encryption']"
			}
		}
	}
	return ""
}

// webhookVia answers on one of the instance's URLs as it is set to.
func (s *Server) webhookVia(w http.ResponseWriter, r *http.Request, via, id string) {
	s.mu.Lock()
	s.requests[via]++
	b := map[string]Behaviour{"instance": s.local, "remote": s.remote, "cloudhook": s.cloudhook}[via]
	release := s.release
	s.mu.Unlock()
	switch b {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return
	case Fail:
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.handle(w, r, via, id)
}

// okay is helpers.py's empty_okay_response: 200 with "{}".
func okay(w http.ResponseWriter, status int) { writeJSON(w, status, map[string]any{}) }

// handle is webhook.py's handle_webhook.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, via, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted[id] {
		w.WriteHeader(http.StatusGone)
		return
	}
	reg := s.regs[id]
	if reg == nil {
		s.logf("Received message for unregistered webhook %s", id)
		w.WriteHeader(http.StatusOK)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&req); err != nil {
		s.logf("Received invalid JSON from mobile_app device: %s", reg.DeviceName)
		okay(w, http.StatusBadRequest)
		return
	}
	if _, enc := req["encrypted"]; !enc && reg.SupportsEncryption {
		s.logf("Refusing to accept unencrypted webhook from %s", reg.DeviceName)
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false,
			"error": map[string]string{"code": "encryption_required", "message": "Encryption required"}})
		return
	}
	if msg := checkPayload(req); msg != "" {
		s.logf("Received invalid webhook from %s with payload: %s", reg.DeviceName, msg)
		okay(w, http.StatusOK)
		return
	}
	typ := req["type"].(string)
	var payload any = map[string]any{}
	if _, enc := req["encrypted"]; enc {
		data, err := decrypt(reg.Secret, req["encrypted_data"])
		if err != nil {
			s.logf("Ignoring encrypted payload because unable to decrypt")
			okay(w, http.StatusOK)
			return
		}
		payload = data
	} else if d, ok := req["data"]; ok {
		payload = d
	}
	if !knownCommand(typ) {
		s.logf("Received invalid webhook from %s of type: %s", reg.DeviceName, typ)
		okay(w, http.StatusOK)
		return
	}
	if typ == "fire_event" {
		s.fireEvent(w, id, via, payload)
		return
	}
	s.commands = append(s.commands, Command{WebhookID: id, Type: typ, Data: payload})
	okay(w, http.StatusOK)
}

// fireEvent is webhook_fire_event with its schema: event_type a string, event_data an optional
// object, nothing else.
func (s *Server) fireEvent(w http.ResponseWriter, id, via string, payload any) {
	data, ok := payload.(map[string]any)
	typ, isString := data["event_type"].(string)
	eventData, dataOK := data["event_data"].(map[string]any)
	if _, given := data["event_data"]; !given {
		eventData, dataOK = map[string]any{}, true
	}
	extra := ""
	for k := range data {
		if k != "event_type" && k != "event_data" {
			extra = k
		}
	}
	switch {
	case !ok || !isString:
		s.logf("Received invalid webhook payload: required key not provided @ data['event_type']")
	case !dataOK:
		s.logf("Received invalid webhook payload: expected dict for dictionary value @ data['event_data']")
	case extra != "":
		s.logf("Received invalid webhook payload: extra keys not allowed @ data['%s']", extra)
	default:
		s.fired = append(s.fired, Fired{WebhookID: id, EventType: typ, EventData: eventData, Via: via})
	}
	okay(w, http.StatusOK)
}

// checkPayload is WEBHOOK_PAYLOAD_SCHEMA: {type, data?} or {type, encrypted: true,
// encrypted_data?}, with no other key.
func checkPayload(req map[string]any) string {
	if _, ok := req["type"].(string); !ok {
		return "required key not provided @ data['type']"
	}
	if _, enc := req["encrypted"]; enc {
		if req["encrypted"] != true {
			return "value must be one of [True] for dictionary value @ data['encrypted']"
		}
		for k := range req {
			if k != "type" && k != "encrypted" && k != "encrypted_data" {
				return fmt.Sprintf("extra keys not allowed @ data['%s']", k)
			}
		}
		if v, ok := req["encrypted_data"]; ok {
			if _, isString := v.(string); !isString {
				return "expected str for dictionary value @ data['encrypted_data']"
			}
		}
		return ""
	}
	for k, v := range req {
		switch k {
		case "type":
		case "data":
			switch v.(type) {
			case map[string]any, []any:
			default:
				return "expected dict for dictionary value @ data['data']"
			}
		default:
			return fmt.Sprintf("extra keys not allowed @ data['%s']", k)
		}
	}
	return ""
}

func knownCommand(typ string) bool {
	switch typ {
	case "call_service", "fire_event", "conversation_process", "stream_camera", "render_template",
		"update_location", "update_registration", "enable_encryption", "register_sensor",
		"update_sensor_states", "get_zones", "get_config", "scan_tag",
		"mobile_app_live_activity_token", "mobile_app_live_activity_dismissed":
		return true
	}
	return false
}

// decrypt is decrypt_payload, then decrypt_payload_legacy: secretbox under the hex-decoded
// secret, then under its first 32 bytes of text; the plaintext is the command's data as JSON.
func decrypt(secret string, v any) (any, error) {
	enc, _ := v.(string)
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) < 24+secretbox.Overhead {
		return nil, fmt.Errorf("not a secretbox")
	}
	var nonce [24]byte
	copy(nonce[:], raw[:24])
	var keys [][32]byte
	if b, err := hex.DecodeString(secret); err == nil && len(b) == 32 {
		keys = append(keys, [32]byte(b))
	}
	var legacy [32]byte
	copy(legacy[:], secret)
	keys = append(keys, legacy)
	for _, k := range keys {
		if plain, ok := secretbox.Open(nil, raw[24:], &nonce, &k); ok {
			var data any
			if err := json.Unmarshal(plain, &data); err != nil {
				return nil, fmt.Errorf("invalid JSON in encrypted payload")
			}
			return data, nil
		}
	}
	return nil, fmt.Errorf("unable to decrypt")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
