package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/inbox/cloudflaretest"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
)

// The inbox's set-up against a stand-in of Cloudflare's API that runs what was uploaded to it
// under workerd: the set-up is right when the Worker it uploaded keeps webhooks and hands them over.

func cloudflareAPI(t *testing.T) *cloudflaretest.API {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("the inbox's tests run the Worker under workerd, installed with npm: install Node's npm (scripts/setup-debian.sh does)")
	}
	root, _ := filepath.Abs("..")
	return cloudflaretest.New(t, root)
}

func hubOnCloudflare(t *testing.T, api *cloudflaretest.API, dir string) *Hub {
	return startHub(t, func(o *Options) {
		o.DataDir, o.CloudflareAPI, o.InboxWorkersDev = dir, api.URL, api.Edge.URL
	})
}

func TestAnInboxSetUpOnCloudflareKeepsWebhooksAtOneURL(t *testing.T) {
	api := cloudflareAPI(t)
	dir := t.TempDir()
	h := hubOnCloudflare(t, api, dir)
	ctx := context.Background()
	ep := createEndpoint(t, h, "alarm", nil)
	svc := h.Services()

	if err := svc.Inbox.Setup(ctx, inbox.SetupRequest{Token: api.Token, Account: api.Account}); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	script, ok := api.Get("hooktray-inbox")
	if !ok || !script.Migrated || script.Tag != "v1" || !script.WorkersDev || len(script.Secret) < 40 {
		t.Fatalf("on the account: %+v (ok %v)", script, ok)
	}
	var meta struct {
		MainModule        string `json:"main_module"`
		CompatibilityDate string `json:"compatibility_date"`
	}
	json.Unmarshal(script.Metadata, &meta)
	if meta.MainModule != "inbox.js" || meta.CompatibilityDate == "" {
		t.Fatalf("metadata %s", script.Metadata)
	}
	base := api.Edge.URL
	testutil.Eventually(t, "the inbox to be connected", func() bool { return svc.Inbox.Status().Connected })
	if got := svc.Endpoints.PublicURL(ep.ID); got != base+"/webhook/"+ep.ID {
		t.Fatalf("public URL %q, want the inbox's %q", got, base+"/webhook/"+ep.ID)
	}
	if st := svc.Reach.Status(); st.Mode != tunnel.Inbox {
		t.Fatalf("reachability %+v", st)
	}

	// What reaches the Worker while connected is in the history at once, as through the inbox.
	resp, err := http.Post(base+"/webhook/"+ep.ID, "application/json", strings.NewReader(`{"alarm":"ALERT"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sent to the inbox: %v %v", resp, err)
	}
	resp.Body.Close()
	ev := waitEvent(t, h, ep.ID)
	if ev.InboxSeq != 1 || string(ev.Body) != `{"alarm":"ALERT"}` {
		t.Fatalf("event %+v", ev)
	}

	// The token and the inbox secret are sealed at rest: neither is in the database's file.
	svc.Inbox.Stop()
	for _, name := range []string{"hooktray.db", "hooktray.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, []byte(api.Token)) || bytes.Contains(b, []byte(script.Secret)) {
			t.Fatalf("%s holds the token or the secret in the clear", name)
		}
	}
	svc.Inbox.Start(ctx)

	// Setting up again keeps the class and what it stored: no second migration.
	if err := svc.Inbox.Setup(ctx, inbox.SetupRequest{Token: api.Token, Account: api.Account}); err != nil {
		t.Fatalf("Setup again: %v", err)
	}
	if again, _ := api.Get("hooktray-inbox"); again.Uploads != 2 || again.Tag != "v1" || bytes.Contains(again.Metadata, []byte("new_sqlite_classes")) {
		t.Fatalf("second upload: %+v %s", again, again.Metadata)
	}

	testutil.Eventually(t, "the inbox to be caught up", func() bool { st := svc.Inbox.Status(); return st.Connected && st.CaughtUp })
	if err := svc.Inbox.Remove(ctx); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok := api.Get("hooktray-inbox"); ok {
		t.Fatal("the Worker is still on the account after Remove")
	}
	if st := svc.Inbox.Status(); st.Configured {
		t.Fatalf("after Remove: %+v", st)
	}
	testutil.Eventually(t, "the public URL to go with the inbox", func() bool { return svc.Endpoints.PublicURL(ep.ID) == "" })
}

// waitEvent waits for the endpoint's newest event.
func waitEvent(t *testing.T, h *Hub, endpointID string) hook.Event {
	t.Helper()
	var ev hook.Event
	testutil.Eventually(t, "the event in the history", func() bool {
		h.Services().History.Settle(context.Background()) // as the admin API does before a read
		page, err := h.Services().History.Events(context.Background(), hook.EventQuery{EndpointID: endpointID, Limit: 1})
		if err != nil || len(page.Events) == 0 {
			return false
		}
		ev, err = h.Services().History.Event(context.Background(), page.Events[0].ID)
		return err == nil
	})
	return ev
}

func TestCloudflaresRefusalsBecomeSentencesAndKeepNothing(t *testing.T) {
	api := cloudflareAPI(t)
	h := hubOnCloudflare(t, api, t.TempDir())
	svc := h.Services()
	for _, c := range []struct {
		name, token, account, want string
	}{
		{"unknown token", "not-a-token", api.Account, "Cloudflare does not know this API token"},
		{"read-only token", api.ReadOnly, api.Account, "give it the permission Workers Scripts: Edit"},
		{"unknown account", api.Token, strings.Repeat("0", 32), "Cloudflare has no such account"},
		{"account id that is not one", api.Token, "my-account", "32 hexadecimal characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := svc.Inbox.Setup(context.Background(), inbox.SetupRequest{Token: c.token, Account: c.account})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			var ae *inbox.APIError
			if errors.As(err, &ae) && strings.Contains(err.Error(), c.token) {
				t.Fatalf("the sentence repeats the token: %v", err)
			}
			if st := svc.Inbox.Status(); st.Configured || st.Step != "" {
				t.Fatalf("after a refusal: %+v", st)
			}
		})
	}
	if _, ok := api.Get("hooktray-inbox"); ok {
		t.Fatal("a refused set-up left a Worker on the account")
	}
	api.SetSubdomain("")
	err := svc.Inbox.Setup(context.Background(), inbox.SetupRequest{Token: api.Token, Account: api.Account})
	if err == nil || !strings.Contains(err.Error(), "no workers.dev subdomain yet") {
		t.Fatalf("without a subdomain: %v", err)
	}
}
