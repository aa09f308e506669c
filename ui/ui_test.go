package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/subscribe/subscribetest"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
	"github.com/hooktray/hooktray/tunnel/tunneltest"
	"github.com/hooktray/hooktray/ui/forms"
)

// uiLoop is the UI goroutine of a test: Fyne's test driver runs fyne.Do at once in the calling
// goroutine, so the UI's background work would otherwise touch widgets concurrently.
type uiLoop chan func()

func (l uiLoop) do(fn func()) {
	done := make(chan struct{})
	l <- func() { fn(); close(done) }
	<-done
}

func (l uiLoop) post(fn func()) { go func() { l <- fn }() }

// onUI runs fn on the test's UI goroutine and waits for it.
var onUI func(func())

// newTestUI runs the real hub (SQLite in a temp dir, real listeners) under Fyne's test driver.
func newTestUI(t *testing.T, mods ...func(*app.Options)) (*UI, *core.Services) {
	t.Helper()
	a := test.NewTempApp(t)
	opts := app.Options{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", APIListen: "127.0.0.1:0", Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keyring: noKeychain{},
	}
	for _, mod := range mods {
		mod(&opts)
	}
	hub, err := app.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	loop := make(uiLoop)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case fn := <-loop:
				fn()
			case <-stop:
				return
			}
		}
	}()
	onUI = loop.do
	var u *UI
	onUI(func() {
		u = newUI(hub.Services(), a, loop.post)
		u.Start()
		u.ShowWindow()
	})
	t.Cleanup(func() {
		u.Stop()
		hub.Stop(context.Background())
		close(stop)
		<-stopped // the next test's app must not meet this one's UI work
	})
	return u, hub.Services()
}

// eventually waits for cond, evaluated on the UI goroutine, to hold.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, what, func() bool {
		ok := false
		onUI(func() { ok = cond() })
		return ok
	})
}

func send(t *testing.T, url, body string, hdr ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func mustCreate(t *testing.T, svc *core.Services, name string) hook.Endpoint {
	t.Helper()
	ep, err := svc.Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestCreateEndpointThroughTheForm(t *testing.T) {
	u, svc := newTestUI(t)
	var e *forms.Endpoint
	onUI(func() {
		u.endpoints.OnAdd = func() { e = u.editEndpoint(nil) } // what the window wires, keeping the form
		test.Tap(u.endpoints.add)
	})
	onUI(func() {
		test.Type(e.Status, "x") // "200x": not a status
		test.Tap(e.Save)
		if _, fe := e.Change(); fe == nil || fe.Field != "response_status" {
			t.Errorf("a bad status gave %v", fe)
		}
	})
	if len(svc.Endpoints.List()) != 0 {
		t.Fatal("an endpoint was created from an invalid form")
	}
	onUI(func() {
		if _, fe := e.Change(); fe == nil {
			t.Error("the form accepted an empty name and a bad status")
		}
		e.Status.SetText("202")
		test.Type(e.Name, "Alarm")
		test.Tap(e.Save)
	})
	eventually(t, "the endpoint to exist", func() bool { return len(svc.Endpoints.List()) == 1 })
	ep := svc.Endpoints.List()[0]
	if ep.Name != "Alarm" || ep.ResponseStatus != 202 || !ep.Enabled {
		t.Errorf("created %+v", ep)
	}
	eventually(t, "the endpoint in the list", func() bool {
		return len(u.endpoints.items) == 1 && u.endpoints.selected == ep.ID
	})
}

func TestTrayMenuTogglesEndpoints(t *testing.T) {
	u, svc := newTestUI(t)
	alarm := mustCreate(t, svc, "alarm")
	mustCreate(t, svc, "door")
	item := func(label string) *fyne.MenuItem {
		var found *fyne.MenuItem
		onUI(func() {
			for _, it := range u.tray.menuModel().Items {
				if it.Label == label {
					found = it
				}
			}
		})
		if found == nil {
			t.Fatalf("no tray item %q", label)
		}
		return found
	}
	if it := item("alarm"); !it.Checked {
		t.Fatal("an enabled endpoint is not checked")
	}
	onUI(item("alarm").Action)
	eventually(t, "alarm paused", func() bool { ep, _ := svc.Endpoints.Get(alarm.ID); return !ep.Enabled })
	if it := item("alarm"); it.Checked {
		t.Error("a paused endpoint is still checked")
	}
	resp, err := http.Post(svc.Endpoints.URL(alarm.ID), "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("paused from the tray, the endpoint answered %v %v", resp.StatusCode, err)
	}
	onUI(item("Pause all").Action)
	eventually(t, "everything paused", func() bool {
		for _, ep := range svc.Endpoints.List() {
			if ep.Enabled {
				return false
			}
		}
		return true
	})
	onUI(item("Resume all").Action)
	eventually(t, "everything resumed", func() bool { ep, _ := svc.Endpoints.Get(alarm.ID); return ep.Enabled })
	if status := item(statusLine(u)); !status.Disabled || !strings.HasPrefix(status.Label, "Local only: http://127.0.0.1:") {
		t.Errorf("status line %q", status.Label)
	}
}

func TestNewEventAppearsInTheLogAndTheDetailShowsIt(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "demo")
	send(t, svc.Endpoints.URL(ep.ID)+"?zone=garage", `{"a":1,"type":"ALERT"}`, "Content-Type", "application/json", "X-Custom", "yes")
	eventually(t, "the event in the log", func() bool {
		return len(u.log.events) == 1 && u.log.list.Length() == 1 && u.log.events[0].Type == "ALERT"
	})
	onUI(func() { u.log.list.Select(0) })
	eventually(t, "the detail pane", func() bool { return u.detail.ev != nil })
	onUI(func() {
		headers := map[string]string{}
		for _, h := range u.detail.headers {
			headers[h[0]] = h[1]
		}
		if headers["X-Custom"] != "yes" || headers["Content-Type"] != "application/json" {
			t.Errorf("headers table %v", u.detail.headers)
		}
		if len(u.detail.query) != 1 || u.detail.query[0] != [2]string{"zone", "garage"} {
			t.Errorf("query table %v", u.detail.query)
		}
		if u.detail.body.mode.Selected != viewPretty {
			t.Errorf("body view mode %q", u.detail.body.mode.Selected)
		}
	})
	eventually(t, "the body laid out", func() bool {
		return u.detail.body.code.Text() == "{\n  \"a\": 1,\n  \"type\": \"ALERT\"\n}"
	})
	// A second event arrives while the first is selected: it goes on top, the selection stays.
	send(t, svc.Endpoints.URL(ep.ID), `second`)
	eventually(t, "the second event", func() bool { return len(u.log.events) == 2 })
	onUI(func() {
		if u.log.events[0].Size != 6 || u.detail.ev.Size != 22 {
			t.Errorf("order or selection changed: %+v, shown %d", u.log.events[0], u.detail.ev.Size)
		}
	})
}

func TestSearchNarrowsTheList(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "search")
	send(t, svc.Endpoints.URL(ep.ID), `{"zone":"garage"}`)
	send(t, svc.Endpoints.URL(ep.ID), `{"zone":"kitchen"}`)
	eventually(t, "both events indexed", func() bool {
		n, _ := svc.History.IndexBacklog(context.Background())
		return n == 0 && len(u.log.events) == 2
	})
	onUI(func() { test.Type(u.log.search, "kitchen") })
	eventually(t, "the search result", func() bool { return len(u.log.events) == 1 })
	onUI(func() {
		u.log.search.SetText("")
		u.log.status.SetSelected("rejected")
	})
	eventually(t, "the status filter", func() bool { return len(u.log.events) == 0 && u.log.empty.Visible() })
}

func TestCopyAsCurlIsExactAndRuns(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "curl")
	send(t, svc.Endpoints.URL(ep.ID)+"?q=1", `{"a":"it's"}`, "Content-Type", "application/json", "X-Custom", "yes")
	eventually(t, "the event", func() bool { return len(u.log.events) == 1 })
	onUI(func() { u.log.list.Select(0) })
	eventually(t, "the detail", func() bool { return u.detail.ev != nil })
	var got string
	onUI(func() {
		test.Tap(u.detail.copyCurl)
		got = u.app.Clipboard().Content()
	})
	want := "curl -X 'POST' '" + svc.Endpoints.URL(ep.ID) + "?q=1' \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -H 'User-Agent: Go-http-client/1.1' \\\n" +
		"  -H 'X-Custom: yes' \\\n" +
		"  --data-binary '{\"a\":\"it'\\''s\"}'"
	if got != want {
		t.Fatalf("clipboard:\n%s\nwant:\n%s", got, want)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	if out, err := exec.Command("sh", "-c", got+" -s").CombinedOutput(); err != nil || string(out) != `{"ok":true}` {
		t.Fatalf("running it: %v %s", err, out)
	}
	eventually(t, "the replayed event", func() bool { return len(u.log.events) == 2 })
	svc.History.Settle(context.Background()) // as the admin API does before a read
	page, _ := svc.History.Events(context.Background(), hook.EventQuery{Limit: 2, WithBody: true})
	a, b := page.Events[0], page.Events[1]
	if string(a.Body) != string(b.Body) || a.Query != b.Query || a.Header.Get("X-Custom") != "yes" {
		t.Errorf("the cURL command sent %q ?%s, the original %q ?%s", a.Body, a.Query, b.Body, b.Query)
	}
}

func TestClosingTheWindowKeepsReceiving(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "hidden")
	// The close button runs the close intercept (the test driver's Close skips intercepts).
	onUI(u.HideWindow)
	if u.visible.Load() {
		t.Fatal("the window is still marked visible")
	}
	send(t, svc.Endpoints.URL(ep.ID), `{"type":"ALERT"}`)
	eventually(t, "an unread alert", func() bool { return u.unread.Load() == 1 })
	onUI(u.ShowWindow)
	eventually(t, "the log caught up", func() bool { return len(u.log.events) == 1 && u.unread.Load() == 0 })
}

func TestTrayShowsWhetherThePublicURLIsReachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u, _ := newTestUI(t, func(o *app.Options) {
		o.Listen = addr
		o.Tunnel.PublicURL = "http://" + addr // leads straight back to the receiver
	})
	eventually(t, "a reachable status line", func() bool {
		return strings.HasPrefix(statusLine(u), "Reachable (") && strings.HasSuffix(statusLine(u), addr)
	})
	var labels []string
	onUI(func() {
		for _, it := range u.tray.menuModel().Items {
			labels = append(labels, it.Label)
		}
	})
	if !strings.Contains(strings.Join(labels, "|"), "Check public URL now") {
		t.Errorf("tray items %q", labels)
	}
}

// noKeychain keeps tests away from the developer's keychain.
type noKeychain struct{}

func (noKeychain) Get(string, string) (string, error) { return "", errors.New("no keychain here") }
func (noKeychain) Set(string, string, string) error   { return errors.New("no keychain here") }

func TestEditorSetsUpVerification(t *testing.T) {
	u, svc := newTestUI(t)
	var e *forms.Endpoint
	onUI(func() { e = u.editEndpoint(nil) })
	onUI(func() {
		test.Type(e.Name, "Payments")
		e.Scheme.SetSelected("Stripe")
		e.VerifyMode.SetSelected("enforce")
		test.Type(e.Secret, "whsec_from_the_dashboard")
		test.Tap(e.Save)
	})
	eventually(t, "the endpoint", func() bool { return len(svc.Endpoints.List()) == 1 })
	ep := svc.Endpoints.List()[0]
	if ep.VerifyScheme != "stripe" || ep.VerifyMode != "enforce" {
		t.Errorf("verify %s/%s", ep.VerifyScheme, ep.VerifyMode)
	}
	if s, err := svc.Endpoints.RevealSecret(context.Background(), ep.ID); err != nil || s != "whsec_from_the_dashboard" {
		t.Errorf("secret %q %v", s, err)
	}
}

func TestClosedWindowDoesNoGUIWorkAndCatchesUpInOneGo(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "sensors")
	for range 3 {
		send(t, svc.Endpoints.URL(ep.ID), `{"type":"location"}`)
	}
	eventually(t, "the first events are listed", func() bool { return len(u.log.events) == 3 })
	var selected int64
	var gen int
	onUI(func() {
		selected = u.log.events[1].ID
		u.log.list.Select(1) // the user picks the middle one
		u.HideWindow()
		gen = u.log.gen
	})
	if selected == 0 {
		t.Fatal("nothing selected")
	}

	// A burst while closed: 10,000 alerts.
	const burst = 10_000
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < burst; i += 8 {
				send(t, svc.Endpoints.URL(ep.ID), `{"type":"ALERT"}`)
			}
		}()
	}
	wg.Wait()
	eventually(t, "the UI has seen every alert (the tray counts them)", func() bool { return u.unread.Load() == burst })
	onUI(func() {
		if u.log.events != nil || u.log.gen != gen || len(u.log.pending) != 0 {
			t.Errorf("the closed window's log changed: %d rows, %d pending, %d reloads", len(u.log.events), len(u.log.pending), u.log.gen-gen)
		}
		if u.detail.ev != nil {
			t.Error("the closed window still holds an event's detail")
		}
	})

	onUI(u.ShowWindow)
	eventually(t, "the reopened window has its first page", func() bool { return len(u.log.events) == pageSize })
	onUI(func() {
		if u.log.gen != gen+1 {
			t.Errorf("reopening reloaded the log %d times, want once", u.log.gen-gen)
		}
		if u.log.selected != selected {
			t.Errorf("the selection moved from event %d to %d", selected, u.log.selected)
		}
		for i := 1; i < len(u.log.events); i++ {
			if u.log.events[i].ID >= u.log.events[i-1].ID {
				t.Fatalf("rows %d and %d out of order: %d then %d", i-1, i, u.log.events[i-1].ID, u.log.events[i].ID)
			}
		}
		if u.log.next == 0 {
			t.Error("the older events cannot be paged in")
		}
	})
	svc.History.Settle(context.Background()) // as the admin API does before a read
	page, err := svc.History.Events(context.Background(), hook.EventQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Endpoints.Activity(ep.ID).Events; got != burst+3 || page.Events[0].ID != int64(burst+3) {
		t.Errorf("the endpoint counts %d events, the newest is %d; the database holds %d", got, page.Events[0].ID, burst+3)
	}
	eventually(t, "the selected event's detail is shown again", func() bool { return u.detail.ev != nil && u.detail.ev.ID == selected })
}

// TestDownloadCloudflaredFromTheStatusBar follows the offer a new user sees: the status bar's
// button, the progress dialog fed by the core, and the tunnel coming up once it is installed.
func TestDownloadCloudflaredFromTheStatusBar(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cloudflared")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hooktray/hooktray/tunnel/internal/cloudflaredtest").CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in cloudflared: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	gh := tunneltest.NewReleases(b, "2026.8.2")
	defer gh.Close()
	release := gh.Hold()
	defer release()
	t.Setenv("PATH", t.TempDir())
	u, svc := newTestUI(t, func(o *app.Options) {
		o.Tunnel.Mode, o.ReleasesAPI, o.UpdateCheckEvery = tunnel.Quick, gh.URL, -1
	})
	eventually(t, "the download offer", func() bool { return u.status.download.Visible() && u.status.download.Text == "Install cloudflared…" })
	onUI(u.installer.start)
	eventually(t, "the progress dialog half-way", func() bool {
		return u.installer.progress != nil && u.installer.bar.Value > 0.3 && u.installer.bar.Value < 0.7 &&
			strings.Contains(u.installer.note.Text, "cloudflared 2026.8.2 for "+tunnel.Platform()) && !u.status.download.Visible()
	})
	release()
	eventually(t, "the confirmation", func() bool {
		return !u.installer.watching && strings.Contains(u.status.message.Text, "cloudflared 2026.8.2 installed and checked")
	})
	testutil.Eventually(t, "the tunnel online", func() bool { return svc.Reach.Status().State == tunnel.StateOnline })
	eventually(t, "the offer gone", func() bool { return !u.status.download.Visible() })
}

// TestForwardingWindowRetriesDeadLetters: deliveries to a local server that is down become dead
// letters in the Forwarding window; once it is up, "Retry all dead letters" delivers them, in
// order, and the event's Deliveries tab shows its own.
func TestForwardingWindowRetriesDeadLetters(t *testing.T) {
	u, svc := newTestUI(t)
	var mu sync.Mutex
	status, got := http.StatusServiceUnavailable, []string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusOK {
			got = append(got, string(b))
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	name := "lamp"
	ep, err := svc.Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Forwarding.CreateTarget(context.Background(), ep.ID, hook.TargetChange{URL: &srv.URL, MaxRetries: ptr(0)}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		send(t, svc.Endpoints.URL(ep.ID), fmt.Sprintf(`{"n":%d}`, i))
	}
	onUI(func() { u.showForwarding(ep.ID) })
	eventually(t, "three dead letters in the window", func() bool {
		v := u.forwarding
		if v == nil || len(v.deliveries) != 3 {
			return false
		}
		for _, d := range v.deliveries {
			if d.Status != hook.DeliveryDeadLetter {
				return false
			}
		}
		return strings.Contains(deliveryDetail(v.deliveries[0]), "answered 503")
	})
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	onUI(func() { test.Tap(u.forwarding.retryAll) })
	eventually(t, "all delivered", func() bool {
		v := u.forwarding
		for _, d := range v.deliveries {
			if d.Status != hook.DeliverySuccess {
				return false
			}
		}
		return len(v.deliveries) == 3
	})
	mu.Lock()
	if fmt.Sprint(got) != `[{"n":0} {"n":1} {"n":2}]` {
		t.Errorf("delivered %v, want the order of arrival", got)
	}
	mu.Unlock()
	svc.History.Settle(context.Background()) // as the admin API does before a read
	page, err := svc.History.Events(context.Background(), hook.EventQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	onUI(func() { u.detail.show(page.Events[0].ID) })
	eventually(t, "the event's deliveries", func() bool {
		return len(u.detail.deliveries) == 1 && u.detail.deliveries[0].Status == hook.DeliverySuccess
	})
}
func ptr[T any](v T) *T { return &v }

// TestSubscriptionsWindowShowsTheRegistration: a subscription to a stand-in provider appears
// registered in the Subscriptions window, with its secrets named, never shown.
func TestSubscriptionsWindowShowsTheRegistration(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	u, svc := newTestUI(t, func(o *app.Options) { o.Tunnel.PublicURL = "https://hooks.example.net" })
	name := "alarm"
	ep, err := svc.Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	provider := "diagral"
	if _, err := svc.Subscriptions.Create(context.Background(), hook.SubscriptionChange{EndpointID: &ep.ID, Provider: &provider,
		Settings: map[string]any{"base_url": st.DiagralURLBase(), "serial_id": subscribetest.DiagralSerial, "api_key": subscribetest.DiagralKey,
			"secret_key": subscribetest.DiagralSecret}}); err != nil {
		t.Fatal(err)
	}
	onUI(func() { u.showSubscriptions(ep.ID) })
	eventually(t, "the registration shown", func() bool {
		v := u.subscriptions
		return v != nil && len(v.subs) == 1 && strings.HasPrefix(subscriptionLine(v.subs[0]), "Registered on https://hooks.example.net/webhook/") &&
			strings.Contains(formText(v.detail), "Secrets: API key, Secret key (sealed, never shown)") && !strings.Contains(formText(v.detail), subscribetest.DiagralKey)
	})
}

// formText is what a form of labels shows, "Name: value" a line.
func formText(f *widget.Form) string {
	var b strings.Builder
	for _, it := range f.Items {
		if l, ok := it.Widget.(*widget.Label); ok {
			fmt.Fprintf(&b, "%s: %s\n", it.Text, l.Text)
		}
	}
	return b.String()
}

// A reload's page was read before the live feed added newer rows: they stay on top; rows that
// were there before the reload (and may have been deleted since) come from the page alone.
func TestReloadKeepsRowsTheLiveFeedAddedMeanwhile(t *testing.T) {
	ev := func(id int64, ep string) hook.Event { return hook.Event{ID: id, EndpointID: ep} }
	ids := func(evs []hook.Event) []int64 {
		var out []int64
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	all := func(hook.Event) bool { return true }
	page := hook.Page{Events: []hook.Event{ev(5, "a"), ev(4, "a")}}
	// Shown when the reload began: 6 (deleted since, so not in the page) and 4. Then 8 and 7
	// arrived live while the page was read.
	shown := []hook.Event{ev(8, "a"), ev(7, "b"), ev(6, "a"), ev(4, "a")}
	if got := ids(withLiveRows(shown, 6, page, all)); !slices.Equal(got, []int64{8, 7, 5, 4}) {
		t.Errorf("all endpoints: %v, want [8 7 5 4]", got)
	}
	onlyA := func(e hook.Event) bool { return e.EndpointID == "a" }
	if got := ids(withLiveRows(shown, 6, page, onlyA)); !slices.Equal(got, []int64{8, 5, 4}) {
		t.Errorf("endpoint a: %v, want [8 5 4]", got)
	}
	if got := ids(withLiveRows(nil, 0, page, all)); !slices.Equal(got, []int64{5, 4}) {
		t.Errorf("nothing shown: %v, want the page", got)
	}
}

// Every action of the keyboard list works: the shortcuts, the list's keys, Enter and Esc.
func TestTheKeyboardDoesWhatTheMenusSay(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "keys")
	for i := range 3 {
		send(t, svc.Endpoints.URL(ep.ID), fmt.Sprintf(`{"n":%d}`, i))
	}
	eventually(t, "three events", func() bool { return len(u.log.events) == 3 && u.detail.ev != nil })
	// A shortcut is typed as the menu bar takes it: the menu item that shows it runs.
	shortcut := func(s fyne.Shortcut) {
		t.Helper()
		for _, m := range u.win.MainMenu().Items {
			for _, it := range m.Items {
				if it.Shortcut != nil && it.Shortcut.ShortcutName() == s.ShortcutName() {
					it.Action()
					return
				}
			}
		}
		t.Fatalf("no menu shows %s", s.ShortcutName())
	}
	top := func() fyne.CanvasObject { return u.win.Canvas().Overlays().Top() }
	onUI(func() {
		shortcut(shortcutFind)
		if u.win.Canvas().Focused() != u.log.search {
			t.Errorf("Ctrl+F focused %v", u.win.Canvas().Focused())
		}
		shortcut(shortcutNew)
		if top() == nil {
			t.Fatal("Ctrl+N opened no form")
		}
		// Esc in the focused name field closes the form.
		u.win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if top() != nil {
			t.Error("Esc left the form open")
		}
		// The list: ↓ moves the selection, Enter shows the body, Del asks to delete.
		u.win.Canvas().Focus(u.log.list)
		first := u.log.selected
		u.log.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
		if u.log.selected == first || u.log.selected != u.log.events[1].ID {
			t.Errorf("↓ selected %d (was %d)", u.log.selected, first)
		}
		u.log.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if u.detail.tabs.Selected().Text != "Body" {
			t.Errorf("Enter showed the %s tab", u.detail.tabs.Selected().Text)
		}
	})
	eventually(t, "the second event's detail", func() bool { return u.detail.ev != nil && u.detail.ev.ID == u.log.events[1].ID })
	onUI(func() {
		shortcut(shortcutCurl)
		if clip := u.app.Clipboard().Content(); !strings.HasPrefix(clip, "curl ") || !strings.Contains(clip, `{"n":1}`) {
			t.Errorf("Ctrl+Shift+C copied %q", clip)
		}
		u.log.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
		if top() == nil {
			t.Fatal("Del asked nothing")
		}
		u.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	})
	if n := len(svc.Endpoints.List()); n != 1 {
		t.Errorf("%d endpoints: Esc created one", n)
	}
}

// A burst, a long event and a smaller window move no splitter and never ask for a larger window;
// below 1100 pixels the endpoints pane folds away, and the toggle brings it back.
func TestTheLayoutHoldsStill(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "burst")
	var offsets [2]float64
	onUI(func() {
		u.win.Resize(fyne.NewSize(1280, 780))
		offsets = [2]float64{u.splits[0].Offset, u.splits[1].Offset}
	})
	long := strings.Repeat("a-very-long-path-segment-", 40)
	send(t, svc.Endpoints.URL(ep.ID)+"?"+long, `{"type":"`+long+`"}`)
	for i := range 1000 {
		send(t, svc.Endpoints.URL(ep.ID), fmt.Sprintf(`{"n":%d}`, i))
	}
	eventually(t, "the burst in the log", func() bool { return len(u.log.events)+len(u.log.pending) >= 1001 || u.log.overflow })
	onUI(func() {
		u.log.showPending()
		u.detail.show(u.log.events[len(u.log.events)-1].ID) // the long one
	})
	eventually(t, "the long event shown", func() bool { return u.detail.ev != nil && strings.Contains(u.detail.ev.Query, long) })
	onUI(func() {
		u.win.Resize(fyne.NewSize(1024, 700))
		if min := u.content.MinSize(); min.Width > 1024 || min.Height > 700 {
			t.Errorf("the content asks for %v: the window would grow", min)
		}
		if got := [2]float64{u.splits[0].Offset, u.splits[1].Offset}; got != offsets {
			t.Errorf("splitters moved from %v to %v", offsets, got)
		}
		if size := u.win.Canvas().Size(); size.Width > 1024 {
			t.Errorf("the window is %v", size)
		}
		if u.endpointsPane.Visible() {
			t.Error("at 1024 pixels the endpoints pane is still there")
		}
		u.log.OnShowEndpoints()
		u.content.Refresh()
		if !u.endpointsPane.Visible() {
			t.Error("the toggle did not bring the endpoints pane back")
		}
	})
}
