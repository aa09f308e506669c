package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

func TestWants(t *testing.T) {
	ep := hook.NewEndpoint("alarm")
	alert := hook.Event{Status: hook.Accepted, Type: "alert"}
	status := hook.Event{Status: hook.Accepted, Type: "STATUS"}
	rejected := hook.Event{Status: hook.Rejected, Type: "ALERT"}
	for _, tc := range []struct {
		notify string
		ev     hook.Event
		want   bool
	}{
		{hook.NotifyAlerts, alert, true},
		{hook.NotifyAlerts, status, false},
		{hook.NotifyAlerts, rejected, false},
		{hook.NotifyEvery, status, true},
		{hook.NotifyNever, alert, false},
	} {
		ep.Settings.NotifyOn = tc.notify
		if got, _ := Wants(ep, tc.ev); got != tc.want {
			t.Errorf("notify %s, type %s, status %v: %v", tc.notify, tc.ev.Type, tc.ev.Status, got)
		}
	}
}

func TestABurstBecomesOneSummary(t *testing.T) {
	sent := make(chan string, 10)
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	n := &Notifier{Window: 10 * time.Second, Clock: clk, Send: func(title, body string) { sent <- title + " | " + body }}
	alarm, door := hook.NewEndpoint("alarm"), hook.NewEndpoint("door")
	alarm.Settings.NotifyOn, door.Settings.NotifyOn = hook.NotifyEvery, hook.NotifyEvery
	for i := range 300 {
		ep := alarm
		if i%3 == 0 {
			ep = door
		}
		n.Observe(ep, hook.Event{Status: hook.Accepted, Type: "ALERT", Method: "POST", ReceivedAt: clk.Now()})
	}
	if first := <-sent; !strings.HasPrefix(first, "Alert: ALERT on door") {
		t.Errorf("first: %q", first)
	}
	// The summary is scheduled for the end of the window, and only then sent.
	if p := clk.Pending(); len(p) != 1 || p[0] != 10*time.Second {
		t.Fatalf("pending timers %v, want one summary due in 10 s", p)
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	if p := clk.Pending(); len(p) != 1 {
		t.Fatalf("the summary was due before the window ended (pending %v)", p)
	}
	clk.Advance(time.Nanosecond)
	if summary := <-sent; summary != "299 more webhooks, 299 alerts | 200 on alarm, 99 on door" {
		t.Errorf("summary: %q", summary)
	}
	if p := clk.Pending(); len(p) != 0 {
		t.Errorf("a timer is left after the summary: %v", p)
	}
	// Quiet since: the next one is sent at once, alone.
	clk.Advance(time.Minute)
	n.Observe(alarm, hook.Event{Status: hook.Accepted, Type: "ALERT", Method: "POST", ReceivedAt: clk.Now()})
	if next := <-sent; !strings.HasPrefix(next, "Alert: ALERT on alarm") {
		t.Errorf("after a quiet minute: %q", next)
	}
}
