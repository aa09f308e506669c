// Package ui is Hooktray's desktop app: the main window (endpoints, live event log, event detail),
// the forms and the tray menu. It is given the core's services (core.Services) and follows their
// two feeds: History.Follow for new events, Changes.Follow for the rest. Calls that touch the disk
// run off the UI goroutine; their results come back through fyne.Do.
package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/assets"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/autostart"
	"github.com/hooktray/hooktray/ui/notify"
)

// AppID is the app's reverse-DNS id (FyneApp.toml), under which Fyne keeps its preferences.
const AppID = "io.hooktray.app"

// refreshEvery bounds how often live events redraw the window: at most four times a second,
// whatever the rate, so a stream of hundreds of webhooks a second costs what four redraws cost
// and leaves scrolling and typing smooth.
const refreshEvery = 250 * time.Millisecond

// Launch starts the core for the desktop app and returns its services and how to stop it;
// showWindow is what a second launch of Hooktray asks the running one to do, hideWindow closes the
// window to the tray (both reachable through the admin API). main supplies it (app.Start).
type Launch func(ctx context.Context, showWindow, hideWindow func()) (svc *core.Services, stop func(context.Context) error, err error)

// Run starts the core with start and the desktop app, and returns when the user quits. t are the
// tunnel settings from the command line; without any, those saved in the app are used. If another
// instance runs on the same data dir, it asks that one to show its window and returns nil. With
// startHidden the app starts in the tray only.
func Run(ctx context.Context, start Launch, startHidden bool) error {
	// Before anything starts, so an early SIGINT still ends in a clean stop.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	var u atomic.Pointer[UI]
	showWindow := func() {
		if ui := u.Load(); ui != nil {
			ui.do(ui.ShowWindow)
		}
	}
	hideWindow := func() {
		if ui := u.Load(); ui != nil {
			ui.do(ui.HideWindow)
		}
	}
	a := fyneapp.NewWithID(AppID)
	a.Settings().SetTheme(newAppTheme())
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	svc, stop, err := start(ctx, showWindow, hideWindow)
	if running := (*instance.ErrRunning)(nil); errors.As(err, &running) {
		fmt.Fprintln(os.Stderr, instance.HandOver(ctx, running.Dir))
		return nil
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w. Quit the program that uses it, or start Hooktray with another address (hooktray --listen 127.0.0.1:0)", err)
		}
		if errors.Is(err, hook.ErrDamaged) {
			err = fmt.Errorf("%w. Move the file aside to start a new history, or run 'hooktray db recover' to copy what can be read into a new file", err)
		}
		if !startHidden {
			showStartError(a, err) // a double-clicked app has no terminal to print to
		}
		return err
	}
	ui := New(svc, a)
	if os.Getenv("HOOKTRAY_TRACE_UI") != "" {
		ui.trace = os.Stderr
	}
	u.Store(ui)
	if e := svc.Endpoints.SecretsError(); e != "" {
		ui.do(func() { ui.showError(errors.New(e)) })
	}

	go func() {
		select {
		case <-sig:
			ui.do(a.Quit)
		case <-ctx.Done():
			ui.do(a.Quit)
		}
	}()

	ui.Start()
	if !startHidden {
		ui.ShowWindow()
	}
	a.Run()
	ui.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), instance.ShutdownGrace)
	defer cancel()
	return stop(sctx)
}

// UI is the desktop app's state: one main window, the tray and the live update loop.
type UI struct {
	svc *core.Services
	app fyne.App
	win fyne.Window
	// do runs a function on the UI goroutine: fyne.Do, or the test's own UI loop.
	do func(func())
	// marked is the event marked for comparison with the next one compared (nil: none).
	marked *hook.Event

	endpoints *endpointList
	log       *eventLog
	detail    *eventDetail
	status    *statusBar
	installer *installer
	// forwarding is the Forwarding window while it is open.
	forwarding *forwardingView
	// subscriptions is the Subscriptions window while it is open.
	subscriptions *subscriptionsView
	// inbox is the always-on inbox's dialog while it is open.
	inbox *inboxView
	// gone holds the targets already reported disabled (410 Gone), so each is told once.
	gone map[string]bool
	tray *tray

	content fyne.CanvasObject // the window's content, kept while the window is closed
	// endpointsPane folds away at narrow widths (fitEndpoints) or when the user hides it;
	// endpointsChoice is the user's choice, if made (nil: follow the width).
	endpointsPane   *fyne.Container
	splits          [2]*container.Split // endpoints | (log | detail)
	endpointsChoice *bool
	keeper          fyne.Window // never shown: keeps the app alive while the main window is closed
	closed          bool        // the main window was closed (destroyed) and must be made anew
	size            fyne.Size   // the main window's size, kept across closing
	notifier        *notify.Notifier
	trace           io.Writer    // where UI timings go when HOOKTRAY_TRACE_UI is set (bench/gui), else nil
	visible         atomic.Bool  // the window is shown (nothing redraws while hidden)
	unread          atomic.Int32 // alerts since the window was last shown

	stop       context.CancelFunc
	wg         sync.WaitGroup
	timerMu    sync.Mutex
	tickerStop chan struct{} // relative times ("2 min ago") tick only while the window is visible
}

// New builds the window and tray for the services in the Fyne app a. Call Start to follow them.
func New(svc *core.Services, a fyne.App) *UI { return newUI(svc, a, fyne.Do) }

func newUI(svc *core.Services, a fyne.App, do func(func())) *UI {
	u := &UI{svc: svc, app: a, do: do}
	// A window that is never shown keeps the app running while the main window is closed (Fyne
	// quits when its last window goes), and dialogs raised then have somewhere to wait.
	u.keeper = a.NewWindow("Hooktray (tray)")
	u.notifier = &notify.Notifier{Send: func(title, body string) {
		a.SendNotification(fyne.NewNotification(title, body))
	}}
	u.detail = newEventDetail(u)
	u.log = newEventLog(u)
	u.endpoints = newEndpointList(u)
	u.installer = &installer{u: u}
	u.status = newStatusBar(u)
	u.tray = newTray(u)
	// The panes know nothing of each other; what one does that concerns another is wired here.
	u.endpoints.OnSelected = u.log.setEndpoint
	u.endpoints.OnAdd = func() { u.editEndpoint(nil) }
	u.endpoints.OnEdit = func(ep hook.Endpoint) { u.editEndpoint(&ep) }
	u.log.OnSelected = u.detail.show
	u.log.OnCreateEndpoint = func() { u.editEndpoint(nil) }
	u.log.NameOf = u.endpoints.name
	u.detail.NameOf = u.endpoints.name
	u.detail.OnDeleted = func(int64) {
		u.log.clearSelection()
		u.log.reload()
	}

	split := container.NewHSplit(pane(u.log.content), pane(u.detail.content))
	split.Offset = 0.58
	u.endpointsPane = container.NewStack(pane(u.endpoints.content))
	main := container.NewHSplit(u.endpointsPane, split)
	main.Offset = 0.2
	u.splits = [2]*container.Split{main, split}
	u.endpoints.OnHide = func() { u.setEndpointsShown(false) }
	u.log.OnShowEndpoints = func() { u.setEndpointsShown(true) }
	u.content = container.NewBorder(nil, u.status.content, nil, nil, container.New(&responsive{u: u}, main))
	u.size = fyne.NewSize(1280, 780)
	u.makeWindow()
	u.tray.refresh()
	u.endpoints.reload()
	return u
}

// makeWindow creates the main window around the content: at start, and each time it is shown
// after being closed (a closed window is destroyed, and what the system holds for it with it).
func (u *UI) makeWindow() {
	u.win = u.app.NewWindow("Hooktray")
	u.win.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	u.win.SetContent(u.content)
	u.win.Resize(u.size)
	u.win.SetMainMenu(u.mainMenu())
	u.addShortcuts(u.win.Canvas())
	// Closing the window keeps Hooktray receiving in the tray; Quit is in the tray and the menu.
	u.win.SetCloseIntercept(u.HideWindow)
	if desk, ok := u.app.(desktop.App); ok {
		desk.SetSystemTrayWindow(u.win)
	}
}

// showEvent brings the main window up on one event: selected in the log, shown in the detail.
func (u *UI) showEvent(id int64) {
	u.ShowWindow()
	u.log.selected = id
	u.log.list.Refresh()
	u.detail.show(id)
	u.win.RequestFocus()
}

// fitEndpoints folds the endpoints pane away below collapseBelow, unless the user chose; it runs
// in the layout, on the UI goroutine.
func (u *UI) fitEndpoints(width float32) {
	shown := width >= collapseBelow
	if u.endpointsChoice != nil {
		shown = *u.endpointsChoice
	}
	u.endpointsPane.Hidden = !shown
	u.log.showEndpoints.Hidden = shown
}

// setEndpointsShown shows or hides the endpoints pane, whatever the width, from now on.
func (u *UI) setEndpointsShown(shown bool) {
	u.endpointsChoice = &shown
	u.content.Refresh()
}

// ShowWindow shows and focuses the main window and catches it up with what happened while it was
// hidden. Call it on the UI goroutine.
func (u *UI) ShowWindow() {
	wasHidden := !u.visible.Swap(true)
	u.unread.Store(0)
	if wasHidden && u.closed {
		u.closed = false
		u.makeWindow()
	}
	u.win.Show()
	u.win.RequestFocus()
	if wasHidden {
		// Brought up to date from the database in one go; the selection and the scroll position
		// were kept.
		u.endpoints.reload()
		u.log.reload()
		if id := u.log.selected; id != 0 {
			u.detail.show(id)
		}
		u.tray.refresh()
		u.startTicker()
	}
}

// HideWindow closes the main window to the tray. Call it on the UI goroutine. From now on new
// events update only what the tray shows; what the window held is let go, and the memory it used
// is handed back to the system once it is collected.
func (u *UI) HideWindow() {
	if !u.visible.Swap(false) {
		u.win.Hide()
		return
	}
	u.stopTicker()
	u.log.release()
	u.detail.release()
	// The window goes, with its renderers, text, images and the system's drawing surface; it is
	// made anew, around the same content, when shown again.
	u.size = u.win.Canvas().Size()
	u.win.SetContent(canvas.NewRectangle(color.Transparent))
	u.win.Close()
	u.win, u.closed = u.keeper, true
	// Once the window is gone (the driver frees it on its own thread), hand the memory back.
	time.AfterFunc(2*time.Second, func() {
		if !u.visible.Load() {
			u.svc.History.ReleaseMemory(context.Background())
			debug.FreeOSMemory()
			trimNative()
		}
	})
}

// Start follows the hub: new events (batched, at most every refreshEvery) and changes.
func (u *UI) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	u.stop = cancel
	u.wg.Add(2)
	go u.followEvents(ctx)
	go u.followChanges(ctx)
	if u.trace != nil {
		u.wg.Add(1)
		go u.probeStalls(ctx)
	}
}

// probeStalls, for the desktop benchmark, asks the UI goroutine for a no-op every 20 ms and
// reports each time it took longer than 50 ms to come round: the window did not respond meanwhile.
func (u *UI) probeStalls(ctx context.Context) {
	defer u.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		asked, ran := time.Now(), make(chan struct{})
		u.do(func() { close(ran) })
		select {
		case <-ran:
		case <-ctx.Done():
			return
		}
		if d := time.Since(asked); d > 50*time.Millisecond {
			fmt.Fprintf(u.trace, "ui: stall %d %d\n", d.Milliseconds(), time.Now().UnixNano())
		}
	}
}

// Stop ends the goroutines Start began.
func (u *UI) Stop() {
	if u.stop != nil {
		u.stop()
	}
	u.wg.Wait()
	u.notifier.Stop()
	u.stopTicker()
}

// followEvents reads the live feed. Every event is considered for notifications and the unread
// count at once; the window, when visible, is redrawn with the events of the last refreshEvery at
// most ten times a second. Nothing runs when nothing arrives.
func (u *UI) followEvents(ctx context.Context) {
	defer u.wg.Done()
	sub := u.svc.History.Follow(4096)
	defer sub.Close()
	var batch []hook.Event
	missed := false
	trayUnread := int32(-1) // the unread count the tray last showed while the window was closed
	var flush <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Ready():
			evs, n, _ := sub.Drain()
			for _, ev := range evs {
				u.consider(ev)
			}
			batch, missed = append(batch, evs...), missed || n > 0
			if flush == nil {
				flush = time.After(refreshEvery)
			}
		case <-flush:
			flush = nil
			evs, reload := batch, missed
			batch, missed = nil, false
			if !u.visible.Load() {
				// Closed: nothing to draw; the window catches up when it is shown. The tray
				// changes only with the unread alerts.
				if n := u.unread.Load(); n != trayUnread {
					trayUnread = n
					u.do(u.tray.refresh)
				}
				continue
			}
			trayUnread = -1
			u.do(func() {
				if reload {
					u.log.reload()
				} else {
					u.log.prepend(evs)
				}
				u.endpoints.refreshActivity()
				u.tray.refresh()
			})
		}
	}
}

// consider notifies about an event if its endpoint wants that, and counts unseen alerts.
func (u *UI) consider(ev hook.Event) {
	ep, err := u.svc.Endpoints.Get(ev.EndpointID)
	if err != nil {
		return
	}
	if alert := u.notifier.Observe(ep, ev); alert && !u.visible.Load() {
		u.unread.Add(1)
	}
}

// followChanges redraws what depends on endpoints and the tunnel when they change, wherever the
// change came from (this window, the CLI, the API).
func (u *UI) followChanges(ctx context.Context) {
	defer u.wg.Done()
	sub := u.svc.Changes.Follow(16)
	defer sub.Close()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		change := m.Event
		u.do(func() {
			switch change {
			case hook.EndpointsChanged:
				u.endpoints.reload()
				u.log.endpointsChanged()
			case hook.HistoryChanged:
				if u.visible.Load() {
					u.log.reload()
					u.endpoints.refreshActivity()
				}
			case hook.TargetsChanged, hook.DeliveriesChanged:
				if change == hook.TargetsChanged {
					u.endpoints.list.Refresh()
					u.notifyGoneTargets()
				}
				if u.forwarding != nil {
					u.forwarding.reload()
				}
				if u.detail != nil {
					u.detail.deliveriesChanged()
				}
			case hook.SubscriptionsChanged:
				if u.subscriptions != nil {
					u.subscriptions.reload()
				}
			case hook.InboxChanged:
				if u.inbox != nil {
					u.inbox.refresh()
				}
			case hook.ShapesChanged:
				u.say("A provider changed its payloads: the Shape tab of its events says how")
			case hook.StorageChanged:
				if e := u.svc.Health.StorageError(); e != "" {
					u.showError(fmt.Errorf("%s. Quit Hooktray, then run 'hooktray db recover' to copy what can be read into a new file", e))
				}
			}
			u.status.refresh()
			u.tray.refresh()
		})
	}
}

// showAbout says which Hooktray this is and where its data lives.
func (u *UI) showAbout() {
	text := fmt.Sprintf("Hooktray %s\n\nWebhooks on your computer: every request kept before it is acknowledged, "+
		"shown live, verified, forwarded.\n\nReceiver: %s\nData: %s\nSecrets key: %s\n\nhttps://github.com/hooktray/hooktray",
		u.svc.Info.Version, u.svc.Info.ReceiverURL, u.svc.Info.DataDir, u.svc.Endpoints.SecretsStorage())
	u.inform(u.win, "About Hooktray", text)
}

// loginItem is the File menu's "Start at login" check, read and written off the UI goroutine.
func (u *UI) loginItem() *fyne.MenuItem {
	item := fyne.NewMenuItem("Start at login", nil)
	entry, err := autostart.Current()
	if err != nil {
		item.Disabled = true
		return item
	}
	refresh := func(on bool) {
		item.Checked = on
		if u.win != nil && u.win.MainMenu() != nil {
			u.win.MainMenu().Refresh()
		}
	}
	go func() {
		on, _ := entry.Enabled()
		u.do(func() { refresh(on) })
	}()
	item.Action = func() {
		want := !item.Checked
		u.background(func() error {
			if want {
				return entry.Enable()
			}
			return entry.Disable()
		}, func() {
			refresh(want)
			if want {
				u.say("Hooktray starts at login, in the tray")
			} else {
				u.say("Hooktray no longer starts at login")
			}
		})
	}
	return item
}

// notifyGoneTargets tells the user, once per target, that a target answered 410 Gone and was
// disabled: a Home Assistant integration deleted at its side must be registered again.
func (u *UI) notifyGoneTargets() {
	if u.gone == nil {
		u.gone = map[string]bool{}
	}
	for _, t := range u.svc.Forwarding.AllTargets() {
		if t.State != hook.TargetDisabled || !strings.Contains(t.StateReason, "410") {
			delete(u.gone, t.ID)
			continue
		}
		if u.gone[t.ID] {
			continue
		}
		u.gone[t.ID] = true
		title := "Forwarding stopped: " + targetWhere(t)
		body := "It answered 410 Gone and no longer accepts these webhooks."
		if t.Kind == hook.TargetHomeAssistant {
			body = "Home Assistant says the integration was deleted (410 Gone): register Hooktray again in Home Assistant, then update the target."
		}
		u.app.SendNotification(fyne.NewNotification(title, body))
	}
}

// startTicker refreshes relative times twice a minute while the window is visible.
func (u *UI) startTicker() {
	u.timerMu.Lock()
	defer u.timerMu.Unlock()
	if u.tickerStop != nil {
		return
	}
	stop := make(chan struct{})
	u.tickerStop = stop
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				u.do(u.endpoints.refreshActivity)
			}
		}
	}()
}

func (u *UI) stopTicker() {
	u.timerMu.Lock()
	defer u.timerMu.Unlock()
	if u.tickerStop != nil {
		close(u.tickerStop)
		u.tickerStop = nil
	}
}

// background runs fn off the UI goroutine and then done on it; errors are shown in a dialog.
func (u *UI) background(fn func() error, done func()) {
	go func() {
		err := fn()
		u.do(func() {
			if err != nil {
				u.showError(err)
				return
			}
			if done != nil {
				done()
			}
		})
	}()
}

// copyText puts text on the clipboard and says so in the status bar.
func (u *UI) copyText(what, text string) {
	u.app.Clipboard().SetContent(text)
	u.say("Copied " + what)
}

// showStartError shows why Hooktray could not start in a window of its own, until it is closed.
func showStartError(a fyne.App, err error) {
	w := a.NewWindow("Hooktray could not start")
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	quit := widget.NewButton("Quit", a.Quit)
	quit.Importance = widget.HighImportance
	w.SetContent(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), quit), nil, nil, msg))
	w.Resize(fyne.NewSize(560, 220))
	w.SetOnClosed(a.Quit)
	w.Show()
	a.Run()
}

// say confirms something briefly in the status bar.
func (u *UI) say(msg string) { u.status.flash(msg) }
