package verify

import (
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/hooktray/hooktray/hook"
)

// SignatureHeader is where the generic HMAC scheme puts a forwarded request's signature
// ("sha256=<hex>" of the body), for targets that sign with SchemeHMAC.
const SignatureHeader = "X-Hooktray-Signature"

// Sign returns the headers that sign body under scheme with secret at now, as the scheme's
// providers send them, so a forwarded request passes the target's own check; id is the message
// id that Standard Webhooks signs. Check accepts what Sign makes.
func Sign(scheme hook.Scheme, secret string, body []byte, id string, now time.Time) (http.Header, error) {
	h := http.Header{}
	ts := strconv.FormatInt(now.Unix(), 10)
	hexMAC := func(key, msg []byte) string { return hex.EncodeToString(mac(sha256.New, key, msg)) }
	switch scheme {
	case hook.SchemeHomecast, hook.SchemeStripe:
		name := "X-Homecast-Signature"
		if scheme == hook.SchemeStripe {
			name = "Stripe-Signature"
		}
		h.Set(name, "t="+ts+",v1="+hexMAC([]byte(secret), append([]byte(ts+"."), body...)))
	case hook.SchemeStandardWebhooks:
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			return nil, errors.New("a Standard Webhooks secret is whsec_ followed by base64")
		}
		h.Set("Webhook-Id", id)
		h.Set("Webhook-Timestamp", ts)
		h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac(sha256.New, key, append([]byte(id+"."+ts+"."), body...))))
	case hook.SchemeGitHub:
		h.Set("X-Hub-Signature-256", "sha256="+hexMAC([]byte(secret), body))
	case hook.SchemeShopify:
		h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(sha256.New, []byte(secret), body)))
	case hook.SchemeSlack:
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", "v0="+hexMAC([]byte(secret), append([]byte("v0:"+ts+":"), body...)))
	case hook.SchemeHMAC:
		h.Set(SignatureHeader, "sha256="+hexMAC([]byte(secret), body))
	default:
		return nil, fmt.Errorf("%q cannot sign a forwarded request (choose homecast, stripe, standard-webhooks, github, shopify, slack or hmac)", scheme)
	}
	return h, nil
}

// CanSign reports whether Sign supports scheme.
func CanSign(scheme hook.Scheme) bool {
	_, err := Sign(scheme, "whsec_AAAA", nil, "x", time.Unix(0, 0))
	return err == nil
}

// Encrypt seals the data of a mobile_app command (its JSON, {} when there is none) with the
// registration secret as the app does for Home Assistant: libsodium secretbox with a random nonce
// before the box, base64, in {"type":command,"encrypted":true,"encrypted_data":…}. Home
// Assistant reads the outer type as the command and the plaintext as its data
// (mobile_app/webhook.py handle_webhook); Decrypt opens it.
func Encrypt(secret, command string, data []byte) ([]byte, error) {
	key := mobileAppKeys(secret)[0]
	var nonce [24]byte
	if _, err := cryptorand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("encrypt for Home Assistant: %w", err)
	}
	sealed := secretbox.Seal(nonce[:], data, &nonce, &key)
	// Exactly these three keys: Home Assistant's schema refuses any other (a "data": null drops
	// the message without a word).
	return json.Marshal(struct {
		Type          string `json:"type"`
		Encrypted     bool   `json:"encrypted"`
		EncryptedData string `json:"encrypted_data"`
	}{command, true, base64.StdEncoding.EncodeToString(sealed)})
}

func mac(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}
