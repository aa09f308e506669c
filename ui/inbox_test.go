package ui

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/inbox/cloudflaretest"
)

// The always-on inbox set up as a new user would: from the File menu's dialog, against the
// stand-in of Cloudflare's API, which runs the uploaded Worker under workerd.
func TestTheInboxIsSetUpFromTheWindowAndSaysWhereEventsCameFrom(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("the inbox's tests run the Worker under workerd, installed with npm: install Node's npm (scripts/setup-debian.sh does)")
	}
	root, _ := filepath.Abs("..")
	api := cloudflaretest.New(t, root)
	u, svc := newTestUI(t, func(o *app.Options) { o.CloudflareAPI, o.InboxWorkersDev = api.URL, api.Edge.URL })
	ep := mustCreate(t, svc, "alarm")

	onUI(u.showInbox)
	var f *inboxView
	onUI(func() {
		f = u.inbox
	})
	if f == nil || f.setup == nil {
		t.Fatal("File → Always-on inbox… shows no set-up form")
	}
	onUI(func() {
		test.Type(f.setup.Account, "not an id")
		test.Tap(f.setup.Save)
	})
	onUI(func() {
		if _, fe := f.setup.Change(); svc.Inbox.Status().Configured || fe == nil || fe.Field != "account" {
			t.Errorf("a bad account id was taken: %+v, %v", svc.Inbox.Status(), fe)
		}
		f.setup.Account.SetText(api.Account)
		test.Type(f.setup.Token, api.Token)
		test.Tap(f.setup.Save)
	})
	eventually(t, "the status in place of the form", func() bool { return u.inbox != nil && u.inbox.status != nil })
	eventually(t, "the inbox connected, said in the dialog and the status bar", func() bool {
		text := formText(u.inbox.status)
		return strings.Contains(text, "Connection: Connected") && strings.HasPrefix(u.status.reach.Text, "Always-on inbox: ")
	})
	onUI(func() {
		text := formText(u.inbox.status)
		if !strings.Contains(text, "Runs as: the Worker hooktray-inbox on the Cloudflare account "+api.Account) {
			t.Errorf("status:\n%s", text)
		}
		if !strings.Contains(statusLine(u), api.Edge.URL) {
			t.Errorf("tray status line %q", statusLine(u))
		}
	})
	if got := svc.Endpoints.PublicURL(ep.ID); got != api.Edge.URL+"/webhook/"+ep.ID {
		t.Fatalf("the endpoint's public URL is %q, not the inbox's", got)
	}

	send(t, svc.Endpoints.PublicURL(ep.ID), `{"alarm":"ALERT"}`, "Content-Type", "application/json")
	eventually(t, "the event in the log", func() bool { return len(u.log.events) == 1 })
	onUI(func() { u.log.list.Select(0) })
	eventually(t, "the detail", func() bool { return u.detail.ev != nil })
	onUI(func() {
		if text := formText(u.detail.overview); !strings.Contains(text, "Came through: the always-on inbox, which kept it as number 1") {
			t.Errorf("overview:\n%s", text)
		}
	})
}
