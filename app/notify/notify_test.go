package notify

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/storage"
)

func TestWants(t *testing.T) {
	ep := storage.NewEndpoint("alarm")
	alert := storage.Event{Status: storage.Accepted, Type: "alert"}
	status := storage.Event{Status: storage.Accepted, Type: "STATUS"}
	rejected := storage.Event{Status: storage.Rejected, Type: "ALERT"}
	for _, tc := range []struct {
		notify string
		ev     storage.Event
		want   bool
	}{
		{storage.NotifyAlerts, alert, true},
		{storage.NotifyAlerts, status, false},
		{storage.NotifyAlerts, rejected, false},
		{storage.NotifyEvery, status, true},
		{storage.NotifyNever, alert, false},
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
	alarm, door := storage.NewEndpoint("alarm"), storage.NewEndpoint("door")
	alarm.Settings.NotifyOn, door.Settings.NotifyOn = storage.NotifyEvery, storage.NotifyEvery
	for i := range 300 {
		ep := alarm
		if i%3 == 0 {
			ep = door
		}
		n.Observe(ep, storage.Event{Status: storage.Accepted, Type: "ALERT", Method: "POST", ReceivedAt: time.Now()})
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
