package hook

import (
	"fmt"
	"strings"
)

// Scheme names how a provider signs (or encrypts) what it sends; the same names are used by the
// API's "verify.scheme" and the CLI's --verify.
type Scheme string

// The schemes an endpoint can verify with.
const (
	SchemeNone             Scheme = ""
	SchemeHomecast         Scheme = "homecast"
	SchemeStripe           Scheme = "stripe"
	SchemeStandardWebhooks Scheme = "standard-webhooks"
	SchemeGitHub           Scheme = "github"
	SchemeShopify          Scheme = "shopify"
	SchemeSlack            Scheme = "slack"
	SchemeHMAC             Scheme = "hmac"          // any header, prefix, algorithm and encoding
	SchemeSharedSecret     Scheme = "shared-secret" // a header carrying the secret itself
	SchemeMobileApp        Scheme = "ha-mobile-app" // Home Assistant mobile_app encryption
)

// Schemes lists every scheme, in the order pickers show them.
var Schemes = []Scheme{SchemeHomecast, SchemeStripe, SchemeStandardWebhooks, SchemeGitHub, SchemeShopify,
	SchemeSlack, SchemeHMAC, SchemeSharedSecret, SchemeMobileApp}

// ParseScheme checks a scheme name ("" is no scheme).
func ParseScheme(s string) (Scheme, error) {
	if s == "" {
		return SchemeNone, nil
	}
	for _, k := range Schemes {
		if string(k) == s {
			return k, nil
		}
	}
	return SchemeNone, fmt.Errorf("unknown scheme %q: must be one of %s", s, SchemeList())
}

// SchemeList is the schemes' names joined for messages and help texts.
func SchemeList() string {
	names := make([]string, len(Schemes))
	for i, s := range Schemes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// HeaderNamed reports whether the scheme needs the name of the header that carries its signature.
func (s Scheme) HeaderNamed() bool { return s == SchemeHMAC || s == SchemeSharedSecret }

// VerifyMode says what a failed check does.
type VerifyMode string

// Verify modes.
const (
	VerifyOff      VerifyMode = "off"      // nothing is checked
	VerifyAnnotate VerifyMode = "annotate" // accepted and marked
	VerifyEnforce  VerifyMode = "enforce"  // answered 401 and kept with the reason
)

// schemeTitles name the schemes as people know them.
var schemeTitles = map[Scheme]string{
	SchemeNone: "None", SchemeHomecast: "Homecast", SchemeStripe: "Stripe", SchemeStandardWebhooks: "Standard Webhooks",
	SchemeGitHub: "GitHub", SchemeShopify: "Shopify", SchemeSlack: "Slack", SchemeHMAC: "HMAC in a header you name",
	SchemeSharedSecret: "Shared secret in a header", SchemeMobileApp: "Home Assistant mobile app (encrypted)",
}

// Title is the scheme's name as people know it ("GitHub" for github).
func (s Scheme) Title() string {
	if t, ok := schemeTitles[s]; ok {
		return t
	}
	return string(s)
}

// VerifyModes are the verify modes, in the order forms offer them.
var VerifyModes = []VerifyMode{VerifyEnforce, VerifyAnnotate, VerifyOff}

// ParseVerifyMode checks a mode name.
func ParseVerifyMode(s string) (VerifyMode, error) {
	switch m := VerifyMode(s); m {
	case VerifyOff, VerifyAnnotate, VerifyEnforce:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q: must be off, annotate or enforce", s)
}

// Checks reports whether requests are checked in this mode.
func (m VerifyMode) Checks() bool { return m == VerifyAnnotate || m == VerifyEnforce }

// VerifyResult is the verdict recorded with an event.
type VerifyResult string

// Verdicts.
const (
	ResultOK      VerifyResult = "ok"
	ResultFailed  VerifyResult = "failed"
	ResultSkipped VerifyResult = "skipped" // the endpoint verifies nothing
)

// ParseVerifyResult reads a stored verdict; anything unknown is skipped.
func ParseVerifyResult(s string) VerifyResult {
	switch r := VerifyResult(s); r {
	case ResultOK, ResultFailed:
		return r
	}
	return ResultSkipped
}
