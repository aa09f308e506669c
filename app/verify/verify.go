// Package verify checks webhook signatures the way each provider signs them, over the raw body,
// in constant time, accepting any of several signatures in a header and any of several secrets
// (rotation). The scheme is always the endpoint's explicit choice, never guessed from a secret:
// the same whsec_ prefix means different key handling in different schemes.
package verify

import (
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// DefaultWindow is how old (or how far in the future) a signed timestamp may be.
const DefaultWindow = 300 * time.Second

// Config is an endpoint's verification settings.
type Config struct {
	Scheme hook.Scheme
	Window time.Duration // for schemes that sign a timestamp; 0 means DefaultWindow
	// Generic HMAC: the header, an optional prefix before the signature ("sha256="), the
	// algorithm (sha1, sha256, sha512) and the encoding (hex, base64).
	Header, Prefix, Algorithm, Encoding string
}

// Request is what is verified: the headers and the exact body bytes received, and now.
type Request struct {
	Header http.Header
	Body   []byte
	Now    time.Time
	// BodyFile, when set, holds the body instead of Body: one too large for memory, spooled to
	// a file as it arrived. It is read once per secret.
	BodyFile string
}

// mac is the HMAC under key of prefix followed by the body. A spooled body that cannot be read
// gives a MAC that matches nothing.
func (r Request) mac(h func() hash.Hash, key []byte, prefix string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(prefix))
	if r.BodyFile == "" {
		m.Write(r.Body)
		return m.Sum(nil)
	}
	f, err := os.Open(r.BodyFile)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := io.Copy(m, f); err != nil {
		return nil
	}
	return m.Sum(nil)
}

// Result is a verdict with its reason as a sentence ("no X-Hub-Signature-256 header").
type Result struct {
	OK     bool
	Reason string
}

func fail(format string, a ...any) Result { return Result{Reason: fmt.Sprintf(format, a...)} }

// Check verifies r under cfg with any of secrets.
func Check(cfg Config, secrets []string, r Request) Result {
	if len(secrets) == 0 {
		return fail("the endpoint has no secret to verify with")
	}
	window := cfg.Window
	if window <= 0 {
		window = DefaultWindow
	}
	switch cfg.Scheme {
	case hook.SchemeHomecast:
		return timestamped(r, window, secrets, "X-Homecast-Signature", func(s string) []byte { return []byte(s) })
	case hook.SchemeStripe:
		return timestamped(r, window, secrets, "Stripe-Signature", func(s string) []byte { return []byte(s) })
	case hook.SchemeStandardWebhooks:
		return standardWebhooks(r, window, secrets)
	case hook.SchemeGitHub:
		return bodyHMAC(r, secrets, "X-Hub-Signature-256", "sha256=", sha256.New, hex.EncodeToString)
	case hook.SchemeShopify:
		return bodyHMAC(r, secrets, "X-Shopify-Hmac-Sha256", "", sha256.New, base64.StdEncoding.EncodeToString)
	case hook.SchemeSlack:
		return slack(r, window, secrets)
	case hook.SchemeHMAC:
		return generic(cfg, r, secrets)
	case hook.SchemeSharedSecret:
		return shared(cfg, r, secrets)
	}
	return fail("unknown signature scheme %q", cfg.Scheme)
}

// anyMatch compares every candidate with every expected value in constant time each.
func anyMatch(candidates, expected []string) bool {
	ok := 0
	for _, c := range candidates {
		for _, e := range expected {
			ok |= subtle.ConstantTimeCompare([]byte(c), []byte(e))
		}
	}
	return ok == 1
}

func noMatch(n int) Result {
	if n == 1 {
		return fail("signature does not match the secret")
	}
	return fail("signature does not match any of %d secrets", n)
}

// checkTime enforces the timestamp window.
func checkTime(ts string, now time.Time, window time.Duration) (Result, bool) {
	t, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fail("timestamp %q is not a number of seconds", ts), false
	}
	age := now.Sub(time.Unix(t, 0))
	if math.Abs(age.Seconds()) > window.Seconds() {
		if age < 0 {
			return fail("timestamp is %d s in the future (window %d s)", int64(-age.Seconds()), int64(window.Seconds())), false
		}
		return fail("timestamp is %d s old (window %d s)", int64(age.Seconds()), int64(window.Seconds())), false
	}
	return Result{}, true
}

// ParsePairs reads "t=1,v1=ab,v1=cd" into its keys and values, in order.
func ParsePairs(s string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k != "" {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// timestamped is Stripe's and Homecast's t=…,v1=… over "{t}.{body}", keyed by the secret string.
func timestamped(r Request, window time.Duration, secrets []string, header string, key func(string) []byte) Result {
	v := r.Header.Get(header)
	if v == "" {
		return fail("no %s header", header)
	}
	pairs := ParsePairs(v)
	ts, sigs := pairs["t"], pairs["v1"]
	if len(ts) != 1 || len(sigs) == 0 {
		return fail("%s header has no t= and v1= parts", header)
	}
	if res, ok := checkTime(ts[0], r.Now, window); !ok {
		return res
	}
	var expected []string
	for _, s := range secrets {
		expected = append(expected, hex.EncodeToString(r.mac(sha256.New, key(s), ts[0]+".")))
	}
	if anyMatch(lower(sigs), expected) {
		return Result{OK: true}
	}
	return noMatch(len(secrets))
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// standardWebhooks signs "{id}.{timestamp}.{body}" with the base64-decoded secret after whsec_,
// and sends "v1,<b64>" signatures separated by spaces. Svix uses svix-* header names.
func standardWebhooks(r Request, window time.Duration, secrets []string) Result {
	prefix := "Webhook-"
	if r.Header.Get("Webhook-Signature") == "" && r.Header.Get("Svix-Signature") != "" {
		prefix = "Svix-"
	}
	id, ts, sig := r.Header.Get(prefix+"Id"), r.Header.Get(prefix+"Timestamp"), r.Header.Get(prefix+"Signature")
	switch {
	case sig == "":
		return fail("no webhook-signature header")
	case id == "":
		return fail("no %sid header", strings.ToLower(prefix))
	case ts == "":
		return fail("no %stimestamp header", strings.ToLower(prefix))
	}
	if res, ok := checkTime(ts, r.Now, window); !ok {
		return res
	}
	var candidates []string
	for _, part := range strings.Fields(sig) {
		if v, ok := strings.CutPrefix(part, "v1,"); ok {
			candidates = append(candidates, v)
		}
	}
	if len(candidates) == 0 {
		return fail("signature header has no v1 signature")
	}
	var expected []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue // not a Standard Webhooks secret; it cannot match
		}
		expected = append(expected, base64.StdEncoding.EncodeToString(r.mac(sha256.New, key, id+"."+ts+".")))
	}
	if anyMatch(candidates, expected) {
		return Result{OK: true}
	}
	return noMatch(len(secrets))
}

// bodyHMAC is an HMAC of the body alone with the secret as UTF-8 (GitHub, Shopify).
func bodyHMAC(r Request, secrets []string, header, prefix string, h func() hash.Hash, enc func([]byte) string) Result {
	v := r.Header.Get(header)
	if v == "" {
		return fail("no %s header", header)
	}
	sig, ok := strings.CutPrefix(strings.TrimSpace(v), prefix)
	if !ok {
		return fail("%s header does not start with %q", header, prefix)
	}
	var expected []string
	for _, s := range secrets {
		expected = append(expected, enc(r.mac(h, []byte(s), "")))
	}
	candidates := []string{sig}
	if prefix != "" { // hex signatures compare case-insensitively; base64 ones exactly
		candidates = lower(candidates)
	}
	if anyMatch(candidates, expected) {
		return Result{OK: true}
	}
	return noMatch(len(secrets))
}

// slack signs "v0:{ts}:{body}".
func slack(r Request, window time.Duration, secrets []string) Result {
	sig, ts := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	if sig == "" {
		return fail("no X-Slack-Signature header")
	}
	if ts == "" {
		return fail("no X-Slack-Request-Timestamp header")
	}
	if res, ok := checkTime(ts, r.Now, window); !ok {
		return res
	}
	v, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return fail("X-Slack-Signature does not start with v0=")
	}
	var expected []string
	for _, s := range secrets {
		expected = append(expected, hex.EncodeToString(r.mac(sha256.New, []byte(s), "v0:"+ts+":")))
	}
	if anyMatch([]string{strings.ToLower(v)}, expected) {
		return Result{OK: true}
	}
	return noMatch(len(secrets))
}

// generic is an HMAC of the body with the header, prefix, algorithm and encoding the user chose.
func generic(cfg Config, r Request, secrets []string) Result {
	if cfg.Header == "" {
		return fail("generic HMAC needs the name of the header that carries the signature")
	}
	var h func() hash.Hash
	switch strings.ToLower(cfg.Algorithm) {
	case "sha1":
		h = sha1.New
	case "", "sha256":
		h = sha256.New
	case "sha512":
		h = sha512.New
	default:
		return fail("unknown HMAC algorithm %q (sha1, sha256 or sha512)", cfg.Algorithm)
	}
	enc := hex.EncodeToString
	switch strings.ToLower(cfg.Encoding) {
	case "", "hex":
	case "base64":
		enc = base64.StdEncoding.EncodeToString
	default:
		return fail("unknown signature encoding %q (hex or base64)", cfg.Encoding)
	}
	v := r.Header.Get(cfg.Header)
	if v == "" {
		return fail("no %s header", cfg.Header)
	}
	sig, ok := strings.CutPrefix(strings.TrimSpace(v), cfg.Prefix)
	if !ok {
		return fail("%s header does not start with %q", cfg.Header, cfg.Prefix)
	}
	var expected []string
	for _, s := range secrets {
		expected = append(expected, enc(r.mac(h, []byte(s), "")))
	}
	candidates := []string{sig}
	if strings.ToLower(cfg.Encoding) != "base64" { // hex compares case-insensitively
		candidates = lower(candidates)
	}
	if anyMatch(candidates, expected) {
		return Result{OK: true}
	}
	return noMatch(len(secrets))
}

// shared compares a header that carries the secret itself (a device platform's secretHttp).
func shared(cfg Config, r Request, secrets []string) Result {
	if cfg.Header == "" {
		return fail("shared secret needs the name of the header that carries it")
	}
	v := r.Header.Get(cfg.Header)
	if v == "" {
		return fail("no %s header", cfg.Header)
	}
	if anyMatch([]string{v}, secrets) {
		return Result{OK: true}
	}
	return fail("%s does not match the secret", cfg.Header)
}

// NewSecret returns a strong secret in the format the scheme's providers use: whsec_ + base64
// for Standard Webhooks, whsec_ + 64 hex for Homecast, 64 hex for a Home Assistant mobile_app
// registration, and random URL-safe text for the others.
func NewSecret(scheme hook.Scheme) string {
	b := make([]byte, 32)
	if _, err := cryptorand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	switch scheme {
	case hook.SchemeStandardWebhooks:
		return "whsec_" + base64.StdEncoding.EncodeToString(b[:24])
	case hook.SchemeHomecast:
		return "whsec_" + hex.EncodeToString(b)
	case hook.SchemeMobileApp:
		return hex.EncodeToString(b)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
