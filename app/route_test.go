package app

import (
	"context"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/hook"
)

func TestRouterDispatchesByKeyPathAndQuery(t *testing.T) {
	h := startHub(t, nil)
	router := createEndpoint(t, h, "homey cloud", func(c *hook.EndpointChange) {
		c.Route = &hook.RouteSettings{KeyPath: "headers['X-Device-Id']", QueryParam: "homey"}
	})
	kitchen := createEndpoint(t, h, "kitchen", func(c *hook.EndpointChange) { c.Keys = &[]string{"aaabbbccc"} })
	hall := createEndpoint(t, h, "hall", func(c *hook.EndpointChange) { c.Keys = &[]string{"ddd", "eee"} })

	count := func(id string) int {
		h.Services().History.Settle(context.Background()) // as the admin API does before a read
		page, _ := h.Services().History.Events(context.Background(), hook.EventQuery{EndpointID: id, Limit: 100})
		return len(page.Events)
	}
	if resp, _ := post(t, h.Services().Endpoints.URL(router.ID), []byte(`{"turned_on":true}`), "X-Device-Id", "aaabbbccc"); resp.StatusCode != 200 {
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if count(kitchen.ID) != 1 || count(hall.ID) != 0 {
		t.Errorf("by header: kitchen %d, hall %d", count(kitchen.ID), count(hall.ID))
	}
	post(t, h.Services().Endpoints.URL(router.ID)+"?homey=eee", []byte(`{}`))
	if count(hall.ID) != 1 {
		t.Errorf("by query: hall %d", count(hall.ID))
	}
	post(t, h.Services().Endpoints.URL(router.ID), []byte(`{}`), "X-Device-Id", "nobody")
	ev := newest(t, h)
	if ev.EndpointID != router.ID || !strings.Contains(ev.Reason, `none has the key "nobody"`) {
		t.Errorf("unmatched: %+v", ev)
	}
	name := "bad"
	_, err := h.Services().Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name, Route: &hook.RouteSettings{KeyPath: "body.a()"}})
	if fe, ok := err.(*hook.FieldError); !ok || fe.Field != "route.key_path" {
		t.Errorf("bad key path: %v", err)
	}
}

func TestEndpointNamesWhereTheTypeIs(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "diagral", func(c *hook.EndpointChange) {
		p := "body.event.kind"
		c.TypePath = &p
	})
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"type":"ignored","event":{"kind":"ANOMALY"}}`))
	if ev := newest(t, h); ev.Type != "ANOMALY" {
		t.Errorf("type %q", ev.Type)
	}
	name, bad := "x", "body..x"
	if _, err := h.Services().Endpoints.Create(context.Background(), hook.EndpointChange{Name: &name, TypePath: &bad}); err == nil {
		t.Error("a bad type path was saved")
	}
}
