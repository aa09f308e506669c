package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// ProbePrefix starts the reachability probe's path: ProbePrefix + a secret only this process
// knows. Anything else under it is 404 like every unknown path.
const ProbePrefix = "/hooktray-probe/"

// ProbeNonceHeader carries the prober's nonce; the receiver answers with its HMAC under the
// probe secret, so the prober knows the answer came from this Hooktray and not from a proxy page.
const ProbeNonceHeader = "X-Hooktray-Probe"

// ProbeAnswer is the HMAC-SHA256 of nonce under secret, hex encoded.
func ProbeAnswer(secret, nonce string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// serveProbe answers a probe whose path carries the secret; false when it is not one.
func (r *Receiver) serveProbe(w http.ResponseWriter, req *http.Request) bool {
	if r.opts.ProbeSecret == "" {
		return false
	}
	rest, ok := strings.CutPrefix(req.URL.EscapedPath(), ProbePrefix)
	if !ok || !hmac.Equal([]byte(rest), []byte(r.opts.ProbeSecret)) {
		return false
	}
	nonce := req.Header.Get(ProbeNonceHeader)
	if nonce == "" || len(nonce) > 128 {
		return false
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(ProbeAnswer(r.opts.ProbeSecret, nonce)))
	return true
}
