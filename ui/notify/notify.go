// Package notify decides which events deserve a desktop notification and keeps a burst from
// becoming hundreds of them: the first is shown at once, the rest of a burst become one summary.
package notify

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Notifier sends at most one notification per Window; what arrives in between is summarised at
// the end of the window. It uses a timer only while a summary is pending: nothing ticks when
// nothing happens.
type Notifier struct {
	// Send shows a notification. It is called from the Notifier's own goroutines.
	Send   func(title, body string)
	Window time.Duration // default 10 s
	Clock  clock.Clock   // default the system clock

	mu       sync.Mutex
	lastSent time.Time
	pending  map[string]int // endpoint name → events waiting for the summary
	alerts   int            // how many of them are alerts
	timer    clock.Timer
}

// Wants reports whether ev on ep should be notified: accepted events, filtered by the endpoint's
// notify setting.
func Wants(ep hook.Endpoint, ev hook.Event) (want, alert bool) {
	if ev.Status != hook.Accepted {
		return false, false
	}
	alert = ep.Settings.IsAlert(ev.Type)
	switch ep.Settings.NotifyOn {
	case hook.NotifyEvery:
		return true, alert
	case hook.NotifyAlerts:
		return alert, alert
	}
	return false, false
}

// Observe considers one new event and notifies, now or in the next summary, if it should.
// It returns whether the event was an alert the user wants to hear about.
func (n *Notifier) Observe(ep hook.Endpoint, ev hook.Event) bool {
	want, alert := Wants(ep, ev)
	if !want {
		return false
	}
	window := n.Window
	if window <= 0 {
		window = 10 * time.Second
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := clock.Or(n.Clock).Now()
	if n.timer == nil && now.Sub(n.lastSent) >= window {
		n.lastSent = now
		title, body := single(ep, ev, alert)
		go n.Send(title, body)
		return alert
	}
	if n.pending == nil {
		n.pending = map[string]int{}
	}
	n.pending[ep.Name]++
	if alert {
		n.alerts++
	}
	if n.timer == nil {
		n.timer = clock.Or(n.Clock).AfterFunc(window-now.Sub(n.lastSent), n.flush)
	}
	return alert
}

func (n *Notifier) flush() {
	n.mu.Lock()
	pending, alerts := n.pending, n.alerts
	n.pending, n.alerts, n.timer = nil, 0, nil
	n.lastSent = clock.Or(n.Clock).Now()
	n.mu.Unlock()
	total := 0
	names := make([]string, 0, len(pending))
	for name, c := range pending {
		total += c
		names = append(names, name)
	}
	if total == 0 {
		return
	}
	sort.Slice(names, func(i, j int) bool {
		return pending[names[i]] > pending[names[j]] || pending[names[i]] == pending[names[j]] && names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for i, name := range names {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more endpoints", len(names)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%d on %s", pending[name], name))
	}
	title := fmt.Sprintf("%d more webhooks", total)
	if alerts > 0 {
		title = fmt.Sprintf("%d more webhooks, %d alerts", total, alerts)
	}
	n.Send(title, strings.Join(parts, ", "))
}

// Stop cancels a pending summary.
func (n *Notifier) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.timer != nil {
		n.timer.Stop()
		n.timer = nil
	}
}

func single(ep hook.Endpoint, ev hook.Event, alert bool) (string, string) {
	title := "Webhook on " + ep.Name
	if ev.Type != "" {
		title = ev.Type + " on " + ep.Name
	}
	if alert {
		title = "Alert: " + title
	}
	return title, fmt.Sprintf("%s, %d bytes, at %s", ev.Method, ev.Size, ev.ReceivedAt.Local().Format("15:04:05"))
}
