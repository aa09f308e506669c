// Package tunnel makes the receiver reachable from the Internet and reports how that is going.
package tunnel

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// Mode is how endpoints become public, as the --tunnel flag spells it.
type Mode string

// Modes.
const (
	Off      Mode = "off"      // local only
	Quick    Mode = "quick"    // Cloudflare quick tunnel: no account, new hostname each start
	Token    Mode = "token"    // named Cloudflare tunnel from a dashboard token: stable hostname
	External Mode = "external" // a public base URL the user already has
	// Inbox is the always-on inbox on the user's Cloudflare account (app/inbox): not chosen
	// with --tunnel but by setting the inbox up; it comes after an external URL and before any
	// tunnel.
	Inbox Mode = "inbox"
)

// Modes are the modes, in the order forms offer them.
var Modes = []Mode{Quick, Token, External, Off}

// ParseMode accepts the --tunnel flag's values.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Off, Quick, Token, External:
		return m, nil
	}
	return "", fmt.Errorf("unknown tunnel mode %q (want off, quick, token or external)", s)
}

// State is where a tunnel is in its life.
type State string

// States.
const (
	StateOff          State = "off"
	StateStarting     State = "starting"
	StateOnline       State = "online"
	StateReconnecting State = "reconnecting"
	StateFailed       State = "failed"
)

// Status is a tunnel's mode, state, public base URL (when online) and the last error, as a
// sentence for the user.
type Status struct {
	Mode  Mode
	State State
	URL   string
	Error string
}

// ValidatePublicURL checks an external base URL: absolute https (http is accepted for a reverse
// proxy on a private network), with a host and without query or fragment.
func ValidatePublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("public URL %q must be an absolute https:// URL such as https://hooks.example.com", raw)
	}
	return nil
}

// Reachability is the last probe's verdict on the public URL: a tunnel can be up and still not
// deliver (the most reported failure of webhook tools), so "reachable" means a probe sent to the
// public URL came back from this Hooktray.
type Reachability struct {
	Checked   time.Time // zero: not probed yet
	URL       string    // the public base URL probed
	Reachable bool
	RTT       time.Duration
	Error     string // why not, as a sentence
}

// Settings choose how endpoints become public.
type Settings struct {
	Mode        Mode   // "" means external when PublicURL is set, else off
	Token       string // named tunnel token (mode token)
	PublicURL   string // external base URL (priority over a quick tunnel), or a named tunnel's hostname
	Cloudflared string // path to the cloudflared binary ("" to look for it)
}

// Binary is the cloudflared in use: where it is, what `--version` printed, and what the
// Releases API says of newer releases.
type Binary struct {
	Path            string
	Version         string // first line of `cloudflared --version`
	Latest          string // newest release's version, when known
	UpdateAvailable bool   // Latest is newer than Version
	Warning         string // e.g. more than a year old, as a sentence
}

// InstallState is where a download of cloudflared is.
type InstallState string

// Install states, as the admin API spells them.
const (
	InstallIdle        InstallState = "idle"
	InstallDownloading InstallState = "downloading"
	InstallInstalled   InstallState = "installed"
	InstallFailed      InstallState = "failed"
)

// InstallStatus is the progress and outcome of the last download of cloudflared.
type InstallStatus struct {
	State   InstallState
	Done    int64 // bytes received
	Total   int64 // bytes expected; 0 when not known yet
	Version string
	Error   string
}

// SettingsChange is a change of tunnel settings; nil fields stay as they are. An empty PublicURL
// removes it; an empty Token removes the stored token.
type SettingsChange struct {
	Mode      *Mode
	PublicURL *string
	Token     *string
}

// EffectiveMode is the mode the settings amount to: an empty mode is external with a public URL,
// else off.
func (o Settings) EffectiveMode() Mode {
	if o.Mode != "" {
		return o.Mode
	}
	if o.PublicURL != "" {
		return External
	}
	return Off
}

// Apply applies c to o and checks the result; a bad field gives *hook.FieldError naming it.
func (c SettingsChange) Apply(o *Settings) error {
	if c.Mode != nil {
		if _, err := ParseMode(string(*c.Mode)); err != nil {
			return &hook.FieldError{Field: "mode", Message: err.Error()}
		}
		o.Mode = *c.Mode
	}
	if c.PublicURL != nil {
		o.PublicURL = strings.TrimSpace(*c.PublicURL)
	}
	if c.Token != nil {
		o.Token = strings.TrimSpace(*c.Token)
	}
	if o.Mode == "" {
		o.Mode = o.EffectiveMode()
	}
	if o.PublicURL != "" {
		if o.Mode == Token && !strings.Contains(o.PublicURL, "://") {
			o.PublicURL = "https://" + o.PublicURL // a named tunnel's hostname as the dashboard shows it
		}
		if err := ValidatePublicURL(o.PublicURL); err != nil {
			return &hook.FieldError{Field: "public_url", Message: err.Error()}
		}
	}
	if o.Mode == External && o.PublicURL == "" {
		return &hook.FieldError{Field: "public_url", Message: "give the public URL you already have"}
	}
	if o.Mode == Token && o.Token == "" {
		return &hook.FieldError{Field: "token", Message: "a named tunnel needs its token: copy it from the Cloudflare dashboard (Networks → Tunnels → your tunnel)"}
	}
	return nil
}

// ErrInstallRunning means a download of cloudflared is already under way.
var ErrInstallRunning = errors.New("cloudflared is already being downloaded")

// Number is the release number of the binary ("2026.8.2"), or its version line when that does
// not parse.
func (b Binary) Number() string {
	if v, err := ParseVersion(b.Version); err == nil {
		return v.String()
	}
	return b.Version
}
