package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

func newEnv(t testing.TB) *Env {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func push(branch string) *hook.Event {
	return &hook.Event{
		EndpointID: "ep1", Method: "POST", Path: "/webhook/ep1", Type: "push",
		Query:        "homey=lamp",
		Header:       map[string][]string{"X-Github-Event": {"push"}, "Content-Type": {"application/json"}},
		Body:         []byte(`{"ref":"refs/heads/` + branch + `","repository":{"full_name":"me/app"},"commits":[{"id":"a1"},{"id":"b2"}],"temp":31.5}`),
		ReceivedAt:   time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		Verification: hook.Verification{Result: hook.ResultOK},
	}
}

func TestAFilterSeesTheRequestAndTheEvent(t *testing.T) {
	e := newEnv(t)
	for src, want := range map[string]bool{
		`type == "push" && body.ref == "refs/heads/main"`: true,
		`headers["x-github-event"] == "push"`:             true,
		`query.homey == "lamp" && method == "POST"`:       true,
		`body.temp > 30`: true,
		`size(body.commits) == 2 && verification == "ok"`: true,
		`received > timestamp("2026-01-01T00:00:00Z")`:    true,
		`text.contains("me/app") && endpoint == "GitHub"`: true,
		`has(body.deleted) && body.deleted`:               false,
		`body.ref.endsWith("/develop")`:                   false,
	} {
		p, err := e.Compile(Filter, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := p.Match(&Input{Event: push("main"), Endpoint: "GitHub"})
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", src, got, err, want)
		}
	}
}

func TestATransformReshapesTheBody(t *testing.T) {
	e := newEnv(t)
	p, err := e.Compile(Value, `{"type": "fire_event", "data": {"event_type": "github_push", "event_data": {"repo": body.repository.full_name, "commits": size(body.commits)}}}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Produce(&Input{Event: push("main")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out.Body); got != `{"data":{"event_data":{"commits":2,"repo":"me/app"},"event_type":"github_push"},"type":"fire_event"}` || out.ContentType != "application/json" {
		t.Errorf("got %s (%s)", got, out.ContentType)
	}
	p, _ = e.Compile(Value, `"pushed to " + body.ref.split("/")[2]`)
	if out, err := p.Produce(&Input{Event: push("main")}); err != nil || string(out.Body) != "pushed to main" || !strings.HasPrefix(out.ContentType, "text/plain") {
		t.Errorf("a string: %q %v", out.Body, err)
	}
}

func TestAWrongRuleIsRefusedWithItsPosition(t *testing.T) {
	e := newEnv(t)
	for src, want := range map[string]string{
		`type == "push" && bdy.ref == "x"`: "at 1:19: undeclared reference to 'bdy'",
		`type == `:                         "at 1:9:",
		`size(body.commits)`:               "must be true or false, and this gives a int",
		`_random < 0.5`:                    "use rand()",
		``:                                 "empty",
	} {
		_, err := e.Compile(Filter, src)
		var re *Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if err := e.CheckField("when", Filter, `bdy`); err == nil || !strings.Contains(err.Error(), "1:1") {
		t.Errorf("CheckField: %v", err)
	}
}

func TestARuleThatFailsAtRunTimeSaysWhyAndStops(t *testing.T) {
	e := newEnv(t)
	p, _ := e.Compile(Filter, `body.missing.deeper == 1`)
	if _, err := p.Match(&Input{Event: push("main")}); err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Errorf("a missing field: %v", err)
	}
	// A hostile 5 MiB body: a rule that walks it runs out of cost instead of running on.
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 5<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"n":1}`)
	}
	b.WriteString(`]}`)
	ev := push("main")
	ev.Body = []byte(b.String())
	p, _ = e.Compile(Filter, `body.items.all(i, body.items.exists(j, j.n == i.n + 1))`)
	start := time.Now()
	_, err := p.Match(&Input{Event: ev})
	var re *RunError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "costs more than its limit") {
		t.Errorf("a quadratic walk of 5 MiB: %v", err)
	}
	t.Logf("stopped after %s", time.Since(start))
	p, _ = e.Compile(Value, `body.items.map(i, i)`) // the whole body back: over the output cap or the cost
	if _, err := p.Produce(&Input{Event: ev}); err == nil {
		t.Errorf("a 5 MiB output was made")
	}
}

func TestRandIsTheRequestsSeededDraw(t *testing.T) {
	e := newEnv(t)
	p, err := e.Compile(Filter, `rand() < 0.1 && count > 2`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r     float64
		count int64
		want  bool
	}{{0.05, 3, true}, {0.05, 2, false}, {0.5, 3, false}} {
		if got, err := p.Match(&Input{Event: push("main"), Random: c.r, Count: c.count}); err != nil || got != c.want {
			t.Errorf("rand %v count %d: %v %v", c.r, c.count, got, err)
		}
	}
}

// Response rules tried on stored events: as if they came again in their order, count their
// place and rand() the seed's draws, the same draws the receiver makes.
func TestResponseRulesAreTriedInTheEventsOrder(t *testing.T) {
	e := newEnv(t)
	var evs []hook.Event // newest first, as the history gives them
	for i := 5; i >= 1; i-- {
		ev := push("main")
		ev.ID = int64(i)
		evs = append(evs, *ev)
	}
	rs := []hook.ResponseRule{{When: "count > 3", Status: 410, Body: `"gone"`}, {When: "rand() < 0.5", Status: 503}}
	got, err := e.TryResponses(rs, 42, evs, "GitHub")
	if err != nil {
		t.Fatal(err)
	}
	draws := Draws(42)
	for n := range 5 { // oldest (id 1) first
		r := got[len(got)-1-n]
		d := draws.Float64()
		want := ""
		switch {
		case n+1 > 3:
			want = "rule 1: count > 3"
		case d < 0.5:
			want = "rule 2: rand() < 0.5"
		}
		if r.EventID != int64(n+1) || r.Answer.Rule != want {
			t.Errorf("event %d (draw %.2f): answered by %q, want %q", r.EventID, d, r.Answer.Rule, want)
		}
	}
	if got[0].Answer.Status != 410 || string(got[0].Answer.Body.Body) != "gone" {
		t.Errorf("the newest: %+v", got[0].Answer)
	}
	if _, err := e.TryResponses([]hook.ResponseRule{{When: "count >", Status: 503}}, 0, evs, ""); err == nil {
		t.Error("a broken rule was tried")
	}
}
