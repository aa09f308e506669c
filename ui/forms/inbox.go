package forms

import (
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/hook"
)

// The two ways to an always-on inbox.
const (
	inboxSetUp = "Set it up on my Cloudflare account"
	inboxUse   = "Use an inbox that already runs"
)

// InboxChange is what the inbox form asks for: a set-up on the user's Cloudflare account, or
// the use of an inbox that runs (one deployed with wrangler, or the local one).
type InboxChange struct {
	Setup *inbox.SetupRequest
	Use   *InboxUse
}

// InboxUse is an inbox that runs: its base URL and its secret.
type InboxUse struct {
	URL, Secret string
	Cap         inbox.Cap
}

// Inbox is the always-on inbox's set-up form.
type Inbox struct {
	widget.BaseWidget
	frame
	OnSubmit func(InboxChange)
	OnCancel func()

	// The fields, for tests to fill.
	Way                    *widget.RadioGroup
	Account, Token, Script *Input
	URL, Secret            *Input
	MaxRequests, MaxMiB    *Input
	step                   *widget.Label
	progress               *widget.ProgressBarInfinite
}

// NewInbox returns the form with the defaults filled in.
func NewInbox() *Inbox {
	f := &Inbox{}
	f.frame = newFrame("Set up", f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	f.Account = f.entry("account", "", "32 hexadecimal characters, from the dashboard's URL", optional(plainRule(inbox.CheckAccount)))
	f.Token = f.password("token", "an API token with Workers Scripts: Edit")
	f.Script = f.entry("script", inbox.DefaultScript, "", plainRule(inbox.CheckScript))
	f.URL = f.entry("url", "", "https://hooktray-inbox.you.workers.dev", optional(plainRule(inbox.CheckURL)))
	f.Secret = f.password("secret", "the Worker's HOOKTRAY_INBOX_SECRET")
	f.MaxRequests = f.entry("max_requests", strconv.FormatInt(inbox.DefaultCap.Requests, 10), "", positiveNumber)
	f.MaxMiB = f.entry("max_bytes", strconv.FormatInt(inbox.DefaultCap.Bytes>>20, 10), "", positiveNumber)
	f.step = widget.NewLabel("")
	f.step.Wrapping = fyne.TextWrapWord
	f.progress = widget.NewProgressBarInfinite()
	f.progress.Stop()
	f.progress.Hide()
	f.Way = widget.NewRadioGroup([]string{inboxSetUp, inboxUse}, func(string) { f.arrange() })
	f.Way.Required = true
	f.Way.SetSelected(inboxSetUp)
	f.ExtendBaseWidget(f)
	return f
}

// plainRule is rule saying a field error's message alone (the entry shows which field it is).
func plainRule(rule func(string) error) func(string) error {
	return func(s string) error {
		err := rule(s)
		var fe *hook.FieldError
		if errors.As(err, &fe) {
			return errors.New(fe.Message)
		}
		return err
	}
}

func positiveNumber(s string) error {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil || n <= 0 {
		return errors.New("a whole number above 0")
	}
	return nil
}

// Focus is the field to type in first.
func (f *Inbox) Focus() fyne.Focusable { return f.Account }

// arrange shows the fields of the way chosen.
func (f *Inbox) arrange() {
	limits := []*widget.FormItem{{Text: "Keep at most", Widget: container.NewGridWithColumns(2,
		container.NewBorder(nil, nil, nil, widget.NewLabel("requests"), f.MaxRequests),
		container.NewBorder(nil, nil, nil, widget.NewLabel("MiB of bodies"), f.MaxMiB)),
		HintText: "past either, the inbox answers 507 and keeps nothing"}}
	if f.Way.Selected == inboxUse {
		f.Save.SetText("Connect")
		f.Form.Items = append([]*widget.FormItem{
			{Text: "Inbox URL", Widget: f.URL, HintText: "where the Worker answers: workers.dev, your own route, or http://127.0.0.1:PORT"},
			{Text: "Inbox secret", Widget: f.Secret, HintText: "stored encrypted, never shown again"},
		}, limits...)
	} else {
		f.Save.SetText("Set up")
		f.Form.Items = append([]*widget.FormItem{
			{Text: "Account id", Widget: f.Account, HintText: "the dashboard shows it in Workers & Pages, and in its URL"},
			{Text: "API token", Widget: f.Token, HintText: "made in My Profile, API Tokens, from the template Edit Cloudflare Workers; stored encrypted"},
			{Text: "Worker name", Widget: f.Script, HintText: "the inbox's URL becomes https://NAME.your-subdomain.workers.dev"},
		}, limits...)
	}
	f.Form.Refresh()
}

// CreateRenderer lays the form out: the choice, its fields, the set-up's progress, the buttons.
func (f *Inbox) CreateRenderer() fyne.WidgetRenderer {
	f.arrange()
	intro := widget.NewLabel("Webhooks sent while this computer sleeps wait in a Worker on your own Cloudflare account, " +
		"at a URL that never changes; Hooktray takes them in order when it is back. Nothing goes through a server of ours.")
	intro.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(intro, f.Way)
	body := container.NewVBox(f.Form, f.progress, f.step)
	return renderer(f.frame.layoutBody(body, top, nil, true))
}

// SetStep shows the set-up's step while it runs ("" when it ended).
func (f *Inbox) SetStep(text string) {
	f.step.SetText(text)
	if text == "" {
		f.progress.Stop()
		f.progress.Hide()
		return
	}
	f.progress.Show()
	f.progress.Start()
}

func (f *Inbox) submit() {
	c, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(c)
	}
}

// Change is what the form holds, or the first field that is wrong.
func (f *Inbox) Change() (InboxChange, *hook.FieldError) {
	limit, fe := f.limit()
	if fe != nil {
		return InboxChange{}, fe
	}
	if f.Way.Selected == inboxUse {
		u := &InboxUse{URL: strings.TrimSpace(f.URL.Text), Secret: strings.TrimSpace(f.Secret.Text), Cap: limit}
		return InboxChange{Use: u}, fieldError("url", inbox.CheckUse(u.URL, u.Secret))
	}
	r := &inbox.SetupRequest{Token: f.Token.Text, Account: f.Account.Text, Script: f.Script.Text, Cap: limit}
	return InboxChange{Setup: r}, fieldError("account", r.Check())
}

// limit is the cap the fields give.
func (f *Inbox) limit() (inbox.Cap, *hook.FieldError) {
	n, err := strconv.ParseInt(strings.TrimSpace(f.MaxRequests.Text), 10, 64)
	if err != nil || n <= 0 {
		return inbox.Cap{}, &hook.FieldError{Field: "max_requests", Message: "the most requests to keep is a whole number above 0"}
	}
	mib, err := strconv.ParseInt(strings.TrimSpace(f.MaxMiB.Text), 10, 64)
	if err != nil || mib <= 0 {
		return inbox.Cap{}, &hook.FieldError{Field: "max_bytes", Message: "the most MiB to keep is a whole number above 0"}
	}
	return inbox.Cap{Requests: n, Bytes: mib << 20}, nil
}
