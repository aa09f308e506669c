package notify

import (
	"strings"
	"sync"
	"testing"
	"time"

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
	var mu sync.Mutex
	var sent []string
	n := &Notifier{Window: 200 * time.Millisecond, Send: func(title, body string) {
		mu.Lock()
		sent = append(sent, title+" | "+body)
		mu.Unlock()
	}}
	alarm, door := hook.NewEndpoint("alarm"), hook.NewEndpoint("door")
	alarm.Settings.NotifyOn, door.Settings.NotifyOn = hook.NotifyEvery, hook.NotifyEvery
	for i := range 300 {
		ep := alarm
		if i%3 == 0 {
			ep = door
		}
		n.Observe(ep, hook.Event{Status: hook.Accepted, Type: "ALERT", Method: "POST", ReceivedAt: time.Now()})
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 {
		t.Fatalf("%d notifications for a burst of 300, want 2: %q", len(sent), sent)
	}
	if !strings.HasPrefix(sent[0], "Alert: ALERT on door") {
		t.Errorf("first: %q", sent[0])
	}
	if sent[1] != "299 more webhooks, 299 alerts | 200 on alarm, 99 on door" {
		t.Errorf("summary: %q", sent[1])
	}
}
