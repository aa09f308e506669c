package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/reach"
	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/assets"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// tray is the system tray icon and menu. The menu is rebuilt from the hub's state whenever that
// changes; menuModel is what tests exercise (the tray itself is not in the test driver).
type tray struct {
	u     *UI
	desk  desktop.App // nil where the driver has no tray
	icon  string      // the name of the icon last set, so it is only replaced when the state changes
	shown string      // the menu last set, as menuText
}

func newTray(u *UI) *tray {
	t := &tray{u: u}
	t.desk, _ = u.app.(desktop.App)
	return t
}

// refresh rebuilds the menu and picks the icon. Call it on the UI goroutine.
func (t *tray) refresh() {
	if t.desk == nil {
		return
	}
	// Most refreshes (a new event) change nothing the tray shows: the menu is handed to the
	// system tray only when it reads differently.
	if m := t.menuModel(); menuText(m) != t.shown {
		t.shown = menuText(m)
		t.desk.SetSystemTrayMenu(m)
	}
	if name, icon := t.iconFor(); name != t.icon {
		t.icon = name
		t.desk.SetSystemTrayIcon(fyne.NewStaticResource("tray-"+name+".png", icon))
	}
}

// reachability is how webhooks can reach Hooktray now: it picks the tray icon and the status bar's
// colour, and statusLine says it in words.
type reachability int

const (
	reachLocal      reachability = iota // no public URL: local only
	reachConnecting                     // a tunnel is starting or reconnecting
	reachChecking                       // public URL, reachability not known yet
	reachOnline                         // public URL, and a probe came back through it
	reachSilent                         // public URL, but probes do not come back: the failure people miss
	reachFailed                         // the tunnel failed
)

// trouble reports whether the user should look: the tunnel failed, or the public URL is silent.
func (r reachability) trouble() bool { return r == reachSilent || r == reachFailed }

// currentReach works out reachability from the tunnel's status and last probe.
func currentReach(c *reach.Service) reachability {
	st := c.Status()
	if url := c.PublicURL(); url != "" {
		r := c.Reachability()
		switch {
		case r.Checked.IsZero() || r.URL != url:
			return reachChecking
		case r.Reachable:
			return reachOnline
		}
		return reachSilent
	}
	switch st.State {
	case tunnel.StateFailed:
		return reachFailed
	case tunnel.StateStarting, tunnel.StateReconnecting:
		return reachConnecting
	}
	return reachLocal
}

// iconFor is the tray icon for the current state: unseen alerts first, then tunnel trouble, then
// online or local only.
func (t *tray) iconFor() (string, []byte) {
	r := currentReach(t.u.svc.Reach)
	switch {
	case t.u.unread.Load() > 0:
		return "alert", assets.TrayAlert
	case r.trouble():
		return "error", assets.TrayError
	case r == reachOnline || r == reachChecking:
		return "online", assets.TrayOnline
	}
	return "offline", assets.TrayOffline
}

// statusLine says where webhooks can reach Hooktray.
func statusLine(u *UI) string {
	if u.svc.Reach.Status().Mode == tunnel.Inbox {
		return inboxLine(u.svc.Inbox.Status())
	}
	switch r := currentReach(u.svc.Reach); r {
	case reachChecking:
		return "Checking the public URL: " + u.svc.Reach.PublicURL()
	case reachOnline:
		return fmt.Sprintf("Reachable (%d ms): %s", u.svc.Reach.Reachability().RTT.Milliseconds(), u.svc.Reach.PublicURL())
	case reachSilent:
		return "Public URL not reachable: " + u.svc.Reach.PublicURL()
	case reachFailed:
		if u.svc.Reach.CloudflaredMissing() {
			return "Local only (cloudflared is not installed): " + u.svc.Info.ReceiverURL
		}
		return "Local only (the tunnel failed): " + u.svc.Info.ReceiverURL
	case reachConnecting:
		return "Connecting tunnel… local: " + u.svc.Info.ReceiverURL
	}
	return "Local only: " + u.svc.Info.ReceiverURL
}

// menuModel builds the tray menu: the status, one checkable item per endpoint that pauses or
// resumes it, Copy URL, Pause all, Open and Quit.
func (t *tray) menuModel() *fyne.Menu {
	u := t.u
	status := fyne.NewMenuItem(statusLine(u), nil)
	status.Disabled = true
	items := []*fyne.MenuItem{status}
	if n := u.unread.Load(); n > 0 {
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("%d new alerts — show", n), u.ShowWindow))
	}
	subItems, trouble := t.subscriptionItems()
	items = append(append(items, trouble...), t.forwardingItems()...)
	items = append(append(items, fyne.NewMenuItemSeparator()), t.endpointItems()...)
	if len(subItems) > 0 {
		subs := fyne.NewMenuItem("Subscriptions", nil)
		subs.ChildMenu = fyne.NewMenu("", subItems...)
		items = append(items, subs)
	}
	quit := fyne.NewMenuItem("Quit", func() { u.app.Quit() })
	quit.IsQuit = true
	items = append(items, fyne.NewMenuItemSeparator())
	if u.svc.Reach.PublicURL() != "" {
		items = append(items, fyne.NewMenuItem("Check public URL now", u.svc.Reach.ProbeNow))
	}
	if st := u.svc.Reach.Status(); st.Mode == tunnel.Quick || st.Mode == tunnel.Token {
		items = append(items, fyne.NewMenuItem("Tunnel log…", u.showTunnelLog))
	}
	items = append(items, fyne.NewMenuItem("Open Hooktray", u.ShowWindow), quit)
	return fyne.NewMenu("Hooktray", items...)
}

// subscriptionItems are a register or unregister item per subscription, and a line about the
// failed ones if any.
func (t *tray) subscriptionItems() (actions, trouble []*fyne.MenuItem) {
	u, failed := t.u, 0
	for _, s := range u.svc.Subscriptions.List("") {
		if s.Status == hook.SubscriptionFailed {
			failed++
		}
		id, label := s.ID, u.endpoints.name(s.EndpointID)+": "+subscribe.ProviderTitle(s.Provider)
		action := fyne.NewMenuItem("Register "+label, func() { u.subscriptionAction(id, u.svc.Subscriptions.Register) })
		if s.Status == hook.SubscriptionRegistered {
			action = fyne.NewMenuItem("Unregister "+label, func() { u.subscriptionAction(id, u.svc.Subscriptions.Unregister) })
		}
		actions = append(actions, action)
	}
	if failed > 0 {
		trouble = append(trouble, fyne.NewMenuItem(fmt.Sprintf("Subscriptions: %d failed — show", failed), func() { u.showSubscriptions("") }))
	}
	return actions, trouble
}

// forwardingItems say how many targets deliver nothing now, and offer to register again the Home
// Assistant registrations that were deleted.
func (t *tray) forwardingItems() []*fyne.MenuItem {
	u, stuck := t.u, 0
	var again, items []*fyne.MenuItem
	for _, t := range u.svc.Forwarding.AllTargets() {
		if t.State != hook.TargetActive {
			stuck++
		}
		if registrationGone(t) {
			id := t.ID
			again = append(again, fyne.NewMenuItem("Register "+u.endpoints.name(t.EndpointID)+" with Home Assistant again", func() { u.reregister(id) }))
		}
	}
	if stuck > 0 {
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("Forwarding: %d target(s) paused or disabled — show", stuck), func() { u.showForwarding("") }))
	}
	return append(items, again...)
}

// endpointItems toggle each endpoint, copy their URLs, and pause or resume them all.
func (t *tray) endpointItems() []*fyne.MenuItem {
	u := t.u
	endpoints := u.svc.Endpoints.List()
	if len(endpoints) == 0 {
		none := fyne.NewMenuItem("No endpoints yet", nil)
		none.Disabled = true
		return []*fyne.MenuItem{none}
	}
	var items, copyItems []*fyne.MenuItem
	allPaused := true
	for _, ep := range endpoints {
		id, enabled, name := ep.ID, ep.Enabled, ep.Name
		item := fyne.NewMenuItem(name, func() { u.setEnabled(id, !enabled) })
		item.Checked = enabled
		items = append(items, item)
		allPaused = allPaused && !enabled
		copyItems = append(copyItems, fyne.NewMenuItem(name, func() { u.copyText("URL of "+name, u.bestURL(id)) }))
	}
	copyURL := fyne.NewMenuItem("Copy URL", nil)
	copyURL.ChildMenu = fyne.NewMenu("", copyItems...)
	pause := fyne.NewMenuItem("Pause all", func() { u.setAllEnabled(false) })
	if allPaused {
		pause = fyne.NewMenuItem("Resume all", func() { u.setAllEnabled(true) })
	}
	return append(items, fyne.NewMenuItemSeparator(), copyURL, pause)
}

// menuText is what a menu says: its items' labels and states, one a line.
func menuText(m *fyne.Menu) string {
	var b strings.Builder
	for _, it := range m.Items {
		fmt.Fprintf(&b, "%s|%v|%v|%v\n", it.Label, it.Checked, it.Disabled, it.IsSeparator)
	}
	return b.String()
}

// subscriptionAction registers or unregisters a subscription from the tray, in the background.
func (u *UI) subscriptionAction(id string, do func(ctx context.Context, id string) (hook.Subscription, error)) {
	u.background(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := do(ctx, id)
		return err
	}, func() { u.say("Subscription updated"); u.tray.refresh() })
}

// inboxLine says how the always-on inbox is doing: connected, taking what waits, or keeping
// webhooks while Hooktray cannot take them.
func inboxLine(st inbox.Status) string {
	switch {
	case st.Connected && st.Waiting > 0:
		return fmt.Sprintf("Always-on inbox: taking %s that waited…", plural(st.Waiting, "request", "requests"))
	case st.Connected:
		return "Always-on inbox: " + st.URL
	case st.Error == "":
		return "Connecting to the always-on inbox… " + st.URL
	case st.Waiting > 0:
		return fmt.Sprintf("Always-on inbox keeps %s; not connected: %s", plural(st.Waiting, "request", "requests"), st.Error)
	}
	return "Always-on inbox keeps webhooks; not connected: " + st.Error
}
