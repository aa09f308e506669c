package inbox

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// SetupRequest is what setting the inbox up on the user's Cloudflare account needs.
type SetupRequest struct {
	Token   string // an API token with Workers Scripts: Edit; kept sealed, to remove the inbox later
	Account string // the account id
	Script  string // the Worker's name (default hooktray-inbox)
	Cap     Cap
}

var (
	accountID  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	scriptName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// DefaultScript is the inbox Worker's name unless the user gives another.
const DefaultScript = "hooktray-inbox"

// Check tidies the request's fields and checks each.
func (r *SetupRequest) Check() error {
	r.Token, r.Account, r.Script = strings.TrimSpace(r.Token), strings.ToLower(strings.TrimSpace(r.Account)), strings.TrimSpace(r.Script)
	if r.Script == "" {
		r.Script = DefaultScript
	}
	if err := CheckAccount(r.Account); err != nil { // in the order the form asks
		return err
	}
	if r.Token == "" {
		return &hook.FieldError{Field: "token", Message: "give a Cloudflare API token with the permission Workers Scripts: Edit"}
	}
	return CheckScript(r.Script)
}

// CheckAccount checks a Cloudflare account id.
func CheckAccount(s string) error {
	if !accountID.MatchString(strings.ToLower(strings.TrimSpace(s))) {
		return &hook.FieldError{Field: "account", Message: "the account id is 32 hexadecimal characters (the dashboard's URL and the Workers overview show it)"}
	}
	return nil
}

// CheckScript checks a Worker's name.
func CheckScript(s string) error {
	if !scriptName.MatchString(strings.TrimSpace(s)) {
		return &hook.FieldError{Field: "script", Message: "a Worker's name is lower-case letters, digits and dashes"}
	}
	return nil
}

// Setup puts the inbox on the user's Cloudflare account: it uploads the Worker with a fresh
// secret, turns its workers.dev route on, keeps the token sealed, and connects. Its steps are
// in Status().Step while it runs.
func (s *Service) Setup(ctx context.Context, r SetupRequest) error {
	if err := r.Check(); err != nil {
		return err
	}
	defer s.setStatus(func(st *Status) { st.Step = "" })
	cf := cloudflare{base: s.opts.CloudflareAPI, token: r.Token, client: s.opts.Client}
	step := func(text string) { s.setStatus(func(st *Status) { st.Step = text }) }
	step("Looking up the account's workers.dev subdomain…")
	sub, err := cf.subdomain(ctx, r.Account)
	if err != nil {
		return err
	}
	there, err := cf.exists(ctx, r.Account, r.Script)
	if err != nil {
		return err
	}
	secret := newSecret()
	step("Uploading the inbox Worker…")
	if err := cf.upload(ctx, r.Account, r.Script, secret, !there); err != nil {
		return err
	}
	step("Turning its workers.dev address on…")
	if err := cf.enableWorkersDev(ctx, r.Account, r.Script); err != nil {
		return err
	}
	if err := s.secrets.Put(ctx, secretCFToken, r.Token); err != nil {
		return err
	}
	base := workersDev(s.opts.WorkersDev, r.Script, sub)
	step("Checking that the inbox answers…")
	if err := s.waitAnswers(ctx, base, secret); err != nil {
		return err
	}
	return s.keep(ctx, Settings{URL: base, Account: r.Account, Script: r.Script, Cap: r.Cap}, secret)
}

// waitAnswers waits for a new Worker to answer (a workers.dev address takes a moment).
func (s *Service) waitAnswers(ctx context.Context, base, secret string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		err := s.checkSecret(ctx, base, secret)
		var fe *hook.FieldError
		if err == nil || errors.As(err, &fe) && fe.Field == "secret" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-s.opts.Clock.After(2 * time.Second):
		}
	}
}

// drainWait bounds how long Remove waits for the inbox to be drained.
const drainWait = 2 * time.Minute

// Remove stops using the inbox. It drains it first (refusing while it still holds requests it
// could not hand over), then, for an inbox Hooktray set up, deletes the Worker and what it stored.
func (s *Service) Remove(ctx context.Context) error {
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	if st.URL == "" {
		return ErrNoInbox
	}
	if err := s.drained(ctx); err != nil {
		return err
	}
	if st.Account != "" {
		token, _, err := s.secrets.Get(ctx, secretCFToken)
		if err != nil || token == "" {
			return &hook.FieldError{Field: "token", Message: "the Cloudflare token kept at set-up cannot be read: remove the Worker " + st.Script + " in the dashboard"}
		}
		if err := (cloudflare{base: s.opts.CloudflareAPI, token: token, client: s.opts.Client}).remove(ctx, st.Account, st.Script); err != nil {
			return err
		}
	}
	s.stopLoop()
	s.secrets.Delete(ctx, secretInbox)
	s.secrets.Delete(ctx, secretCFToken)
	if err := s.opts.Store.PutSetting(ctx, settingInbox, `{"url":""}`); err != nil {
		return err
	}
	s.opts.Log.Info("always-on inbox removed", "url", st.URL)
	s.apply(Settings{})
	return nil
}

// drained waits until the inbox holds nothing Hooktray has not taken.
func (s *Service) drained(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, drainWait)
	defer cancel()
	sub := s.opts.Changes.Follow(16)
	defer sub.Close()
	for {
		if st := s.Status(); st.Connected && st.CaughtUp {
			return nil
		}
		if _, err := sub.Next(ctx); err != nil {
			st := s.Status()
			return &hook.FieldError{Field: "inbox", Message: "the inbox still holds " + plural(st.Waiting) + " Hooktray could not take yet: connect it first (" + orConnected(st) + ")"}
		}
	}
}

func plural(n int64) string {
	if n == 1 {
		return "1 request"
	}
	return strconv.FormatInt(n, 10) + " requests"
}

func orConnected(st Status) string {
	if st.Error != "" {
		return st.Error
	}
	return "it is not connected"
}
