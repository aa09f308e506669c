package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/deliver/hatest"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// Connecting Home Assistant in one step: Hooktray registers itself with the instance (a
// long-lived token), forwards encrypted, and when the registration is deleted (410) registers
// again with the token it kept.
func TestHomeAssistantInOneStep(t *testing.T) {
	ha := hatest.New(false)
	defer ha.Close()
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "doorbell", nil)
	kind := hook.TargetHomeAssistant
	bad := "not-the-token"
	_, err := h.Services().Forwarding.CreateTarget(context.Background(), ep.ID, hook.TargetChange{Kind: &kind, HomeAssistant: &hook.HomeAssistantChange{
		HomeAssistantTarget: hook.HomeAssistantTarget{InstanceURL: ha.URL}, Register: true, AccessToken: &bad}})
	var fe *hook.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "refused the access token") || strings.Contains(fe.Message, bad) {
		t.Fatalf("a wrong token: %v", err)
	}
	token := hatest.Token
	tg, err := h.Services().Forwarding.CreateTarget(context.Background(), ep.ID, hook.TargetChange{Kind: &kind, HomeAssistant: &hook.HomeAssistantChange{
		HomeAssistantTarget: hook.HomeAssistantTarget{InstanceURL: ha.URL}, Register: true, AccessToken: &token}})
	if err != nil {
		t.Fatal(err)
	}
	regs := ha.Registrations()
	reg, ok := regs[tg.HomeAssistant.WebhookID]
	if len(regs) != 1 || !ok || !reg.SupportsEncryption || reg.AppID != "io.hooktray.app" || reg.DeviceName != "Hooktray (doorbell)" {
		t.Fatalf("registrations %+v, target %+v", regs, tg.HomeAssistant)
	}
	if !tg.HomeAssistant.Encrypt || !tg.HomeAssistant.Registered {
		t.Errorf("target %+v", tg.HomeAssistant)
	}
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"button":"pressed"}`))
	testutil.Eventually(t, "Home Assistant to fire the event", func() bool { return len(ha.Fired()) == 1 })

	ha.Delete(tg.HomeAssistant.WebhookID) // the user deleted the device in Home Assistant
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"button":"pressed again"}`))
	testutil.Eventually(t, "the target to be disabled by the 410", func() bool {
		got, _ := h.Services().Forwarding.Target(tg.ID)
		return got.State == hook.TargetDisabled
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	again, err := h.Services().Forwarding.ReregisterTarget(ctx, tg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.HomeAssistant.WebhookID == tg.HomeAssistant.WebhookID || again.State != hook.TargetActive || !again.Enabled {
		t.Fatalf("after registering again: %+v", again)
	}
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"button":"third"}`))
	testutil.Eventually(t, "the event sent while the registration was gone, then the next, to be fired through the new one", func() bool {
		f := ha.Fired()
		return len(f) == 3 && f[1].WebhookID == again.HomeAssistant.WebhookID &&
			strings.Contains(f[1].EventData["body"].(map[string]any)["button"].(string), "again") &&
			f[2].EventData["body"].(map[string]any)["button"] == "third"
	})
}
