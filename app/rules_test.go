package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// fireEvent reshapes a GitHub push into Home Assistant's fire_event command.
const fireEvent = `{"type": "fire_event", "data": {"event_type": "github_push",` +
	` "event_data": {"repo": body.repository.full_name, "commits": size(body.commits)}}}`

// Only GitHub pushes to main are forwarded, reshaped into fire_event, signed as sent; the other
// events get no delivery at all.
func TestAFilteredTransformedTargetSendsOnlyWhatItsRulesSay(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "GitHub", nil)
	lt := newLocalTarget(t, 200)
	target := map[string]any{"url": lt.URL, "sign": map[string]string{"scheme": "github", "secret": "s3cret"},
		"when":      `headers["x-github-event"] == "push" && body.ref == "refs/heads/main"`,
		"transform": map[string]any{"body": fireEvent, "headers": map[string]string{"X-Repo": `body.repository.full_name`}}}
	b, _ := json.Marshal(target)
	var created struct {
		ID        string
		When      *string
		Transform *struct{ Body string }
	}
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", string(b), &created); code != 201 || created.When == nil || created.Transform == nil {
		t.Fatalf("create target: %d %+v", code, created)
	}
	url := h.Services().Endpoints.URL(ep.ID)
	for _, w := range []struct{ event, ref string }{{"push", "main"}, {"push", "develop"}, {"issues", "main"}, {"push", "main"}} {
		body := fmt.Sprintf(`{"ref":"refs/heads/%s","repository":{"full_name":"me/app"},"commits":[{"id":"a"},{"id":"b"}]}`, w.ref)
		post(t, url, []byte(body), "X-GitHub-Event", w.event)
	}
	testutil.Eventually(t, "two pushes to main delivered", func() bool { return len(lt.got()) == 2 })
	want := `{"data":{"event_data":{"commits":2,"repo":"me/app"},"event_type":"github_push"},"type":"fire_event"}`
	lt.mu.Lock()
	body, head := lt.bodies[0], lt.heads[0]
	lt.mu.Unlock()
	if body != want || head.Get("Content-Type") != "application/json" || head.Get("X-Repo") != "me/app" {
		t.Errorf("sent %s with %v, want %s", body, head, want)
	}
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(body))
	if head.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("the signature is not of the body sent: %s", head.Get("X-Hub-Signature-256"))
	}
	var list struct{ Deliveries []deliveryJSON }
	c.do("GET", "/api/v1/deliveries?target="+created.ID, "", &list)
	if len(list.Deliveries) != 2 {
		t.Errorf("%d deliveries, want 2: the filtered events get none", len(list.Deliveries))
	}
}

// A rule that fails on one event (a missing field, a hostile body that costs too much) fails that
// delivery once, with the rule's reason, and leaves the target healthy for the next.
func TestARuleThatFailsOnAnEventFailsThatDeliveryAlone(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "alarm", nil)
	lt := newLocalTarget(t, 200)
	target := map[string]any{"url": lt.URL, "max_retries": 3,
		"transform": map[string]any{"body": `{"zone": body.alarm.zone, "near": body.items.filter(i, body.items.exists(j, j.n == i.n + 1)).size()}`}}
	b, _ := json.Marshal(target)
	var created struct{ ID string }
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", string(b), &created); code != 201 {
		t.Fatalf("create target: %d", code)
	}
	url := h.Services().Endpoints.URL(ep.ID)
	post(t, url, []byte(`{"other":true}`)) // no alarm: a missing field
	var hostile strings.Builder
	hostile.WriteString(`{"alarm":{"zone":1},"items":[`)
	for i := 0; hostile.Len() < 5<<20; i++ {
		if i > 0 {
			hostile.WriteByte(',')
		}
		hostile.WriteString(`{"n":1}`)
	}
	hostile.WriteString(`]}`)
	post(t, url, []byte(hostile.String()))
	post(t, url, []byte(`{"alarm":{"zone":3},"items":[{"n":1},{"n":2}]}`))
	testutil.Eventually(t, "the good event delivered", func() bool { return len(lt.got()) == 1 })
	if got := lt.got()[0]; got != `{"near":1,"zone":3}` {
		t.Errorf("sent %s", got)
	}
	var list struct {
		Deliveries []struct {
			deliveryJSON
			Error *string
		}
	}
	c.do("GET", "/api/v1/deliveries?target="+created.ID, "", &list)
	reasons := map[string]bool{}
	for _, d := range list.Deliveries {
		if d.Status == "failed" && d.Attempt == 1 && d.Error != nil {
			switch {
			case strings.Contains(*d.Error, "no such key"):
				reasons["missing"] = true
			case strings.Contains(*d.Error, "costs more than its limit"):
				reasons["cost"] = true
			}
		}
	}
	if len(list.Deliveries) != 3 || !reasons["missing"] || !reasons["cost"] {
		t.Errorf("deliveries %+v", list.Deliveries)
	}
	var tg struct {
		State    string
		Failures int `json:"consecutive_failures"`
	}
	c.do("GET", "/api/v1/targets/"+created.ID, "", &tg)
	if tg.State != "active" || tg.Failures != 0 {
		t.Errorf("the target took the rule's failures as its own: %+v", tg)
	}
}

// A rule with a typo is refused when saved, with where and why.
func TestAWrongRuleIsRefusedWhenSaved(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "typo", nil)
	var fail map[string]string
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", `{"url":"http://127.0.0.1:9","when":"type == \"push\" && bdy.ref == \"x\""}`, &fail); code != 400 ||
		fail["field"] != "when" || !strings.Contains(fail["error"], "1:19") || !strings.Contains(fail["error"], "bdy") {
		t.Errorf("a typo: %d %v", code, fail)
	}
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", `{"url":"http://127.0.0.1:9","transform":{"body":"{\"a\": }"}}`, &fail); code != 400 || fail["field"] != "transform.body" {
		t.Errorf("a broken transform: %d %v", code, fail)
	}
}

// statuses posts n webhooks, one at a time, and returns the statuses answered.
func statuses(t *testing.T, url string, n int) []int {
	var out []int
	for i := range n {
		resp, _ := post(t, url, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		out = append(out, resp.StatusCode)
	}
	return out
}

// Failure simulation is a rule: one request in ten answered 503 with Retry-After, the same draws
// for the same seed; after 30 requests, 410. Every request is stored, the answered ones marked.
// A provider that retries on 503 gets every webhook through.
func TestResponseRulesSimulateAFlakyReceiverReproducibly(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	rules := `{"response_seed": 42, "response_rules": [
		{"when": "count > 30", "status": 410, "body": "'{\"error\":\"gone\"}'"},
		{"when": "rand() < 0.1", "status": 503, "headers": {"Retry-After": "1"}, "body": "{\"error\": \"busy\", \"request\": count}"}]}`
	var eps [2]struct{ ID, URL string }
	for i := range eps {
		if code := c.do("POST", "/api/v1/endpoints", `{"name":"flaky"}`, &eps[i]); code != 201 {
			t.Fatal(code)
		}
		var got struct {
			ResponseRules []map[string]any `json:"response_rules"`
		}
		if code := c.do("PATCH", "/api/v1/endpoints/"+eps[i].ID, rules, &got); code != 200 || len(got.ResponseRules) != 2 {
			t.Fatalf("set rules: %d %+v", code, got)
		}
	}
	a, b := statuses(t, eps[0].URL, 30), statuses(t, eps[1].URL, 30)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the same seed drew differently:\n%v\n%v", a, b)
	}
	busy := 0
	for _, s := range a {
		if s == 503 {
			busy++
		}
	}
	if busy == 0 || busy > 9 {
		t.Errorf("%d of 30 answered 503 with rand() < 0.1: %v", busy, a)
	}
	resp, body := post(t, eps[0].URL, []byte(`{}`))
	if resp.StatusCode != 410 || body != `{"error":"gone"}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("request 31: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	var page struct {
		Events []struct {
			ResponseStatus int     `json:"response_status"`
			AnsweredBy     *string `json:"answered_by"`
		}
	}
	c.do("GET", "/api/v1/events?limit=1000&endpoint="+eps[0].ID, "", &page)
	marked := 0
	for _, ev := range page.Events {
		if ev.AnsweredBy != nil && strings.HasPrefix(*ev.AnsweredBy, "rule 2: rand()") && ev.ResponseStatus == 503 {
			marked++
		}
	}
	if len(page.Events) != 31 || marked != busy {
		t.Errorf("%d events stored (want 31), %d marked as answered 503 by rule 2 (want %d)", len(page.Events), marked, busy)
	}

	// A provider that retries after a 503 gets all its webhooks through the flaky endpoint.
	var third struct{ ID, URL string }
	c.do("POST", "/api/v1/endpoints", `{"name":"flaky for a provider"}`, &third)
	c.do("PATCH", "/api/v1/endpoints/"+third.ID, `{"response_seed": 7, "response_rules": [{"when": "rand() < 0.1", "status": 503, "headers": {"Retry-After": "0"}}]}`, nil)
	tries := 0
	for i := range 40 {
		for try := 1; ; try++ {
			tries++
			resp, _ := post(t, third.URL, []byte(fmt.Sprintf(`{"alarm":%d}`, i)))
			if resp.StatusCode == 200 {
				break
			}
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "0" || try == 5 {
				t.Fatalf("webhook %d, try %d: %d", i, try, resp.StatusCode)
			}
		}
	}
	if tries == 40 {
		t.Errorf("no retry needed in 40 webhooks at one in ten")
	}
	t.Logf("40 webhooks took %d tries", tries)
}

// A response rule that fails on a request (here: no such field) falls back to the endpoint's own
// response; a wrong one is refused when saved, with where.
func TestAFailingResponseRuleFallsBackToTheEndpointsResponse(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	var ep struct{ ID, URL string }
	c.do("POST", "/api/v1/endpoints", `{"name":"answers"}`, &ep)
	var fail map[string]string
	if code := c.do("PATCH", "/api/v1/endpoints/"+ep.ID, `{"response_rules":[{"when":"body.x >","status":500}]}`, &fail); code != 400 || fail["field"] != "response_rules[0].when" {
		t.Errorf("a broken rule: %d %v", code, fail)
	}
	if code := c.do("PATCH", "/api/v1/endpoints/"+ep.ID, `{"response_rules":[{"when":"body.alarm.zone == 1","status":202,"body":"{\"zone\": body.alarm.zone}"}]}`, nil); code != 200 {
		t.Fatal(code)
	}
	if resp, body := post(t, ep.URL, []byte(`{"alarm":{"zone":1}}`)); resp.StatusCode != 202 || body != `{"zone":1}` {
		t.Errorf("a matching request: %d %s", resp.StatusCode, body)
	}
	if resp, body := post(t, ep.URL, []byte(`{"other":1}`)); resp.StatusCode != 200 || body != `{"ok":true}` {
		t.Errorf("a request the rule fails on: %d %s, want the endpoint's own 200", resp.StatusCode, body)
	}
}

// The payloads' shape is learnt as events are stored, and a provider that changes its payload
// is noticed: a field that every event had goes missing.
func TestAnEndpointsPayloadShapeIsLearntAndItsChangeNoticed(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "sensors", nil)
	url := h.Services().Endpoints.URL(ep.ID)
	for i := range 25 {
		post(t, url, []byte(fmt.Sprintf(`{"type":"reading","device":{"id":"d%d","online":true},"temp":%d.5}`, i, i)))
	}
	changes := h.Services().Changes.Follow(16)
	defer changes.Close()
	post(t, url, []byte(`{"type":"reading","device":{"id":"d9"},"temp":1.5}`))
	var shape struct {
		Types []struct {
			Events int64
			Fields []struct {
				Path    string
				Types   map[string]int64
				Present int64
			}
		}
		Drifts []struct{ Kind, Path string }
	}
	testutil.Eventually(t, "the change noticed", func() bool {
		c.do("GET", "/api/v1/endpoints/"+ep.ID+"/shape", "", &shape)
		return len(shape.Drifts) > 0
	})
	if len(shape.Types) != 1 || shape.Types[0].Events != 26 || shape.Drifts[0].Kind != "field_missing" || shape.Drifts[0].Path != "body.device.online" {
		t.Errorf("shape %+v", shape)
	}
	for _, f := range shape.Types[0].Fields {
		if f.Path == "body.temp" && (f.Present != 26 || f.Types["number"] != 26) {
			t.Errorf("body.temp: %+v", f)
		}
	}
	testutil.Eventually(t, "the change announced", func() bool {
		vs, _, _ := changes.Drain()
		return slices.Contains(vs, hook.ShapesChanged)
	})
	// A deleted endpoint's shapes are forgotten: its paths no longer count against the bound.
	if err := h.Services().Endpoints.Delete(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.Services().Shapes.Of(ep.ID); len(got.Shapes) != 0 {
		t.Errorf("a deleted endpoint's shapes are kept: %+v", got.Shapes)
	}
}

// Response rules are tried through the API on the endpoint's stored events before they are set.
func TestResponseRulesAreTriedThroughTheAPI(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "provider", nil)
	for i := range 10 {
		post(t, h.Services().Endpoints.URL(ep.ID), []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	var out struct {
		Results []struct {
			EventID    int64   `json:"event_id"`
			AnsweredBy *string `json:"answered_by"`
			Status     *int
			Output     *string
		}
	}
	body := `{"endpoint":"` + ep.ID + `","response_rules":[{"when":"count > 5","status":410,"body":"{\"n\": body.n}"}]}`
	if code := c.do("POST", "/api/v1/rules/try", body, &out); code != 200 || len(out.Results) != 10 {
		t.Fatalf("try: %d %+v", code, out)
	}
	for i, r := range out.Results { // newest first: the last five came after count 5
		gone := i < 5
		if gone != (r.AnsweredBy != nil && r.Status != nil && *r.Status == 410) || gone && *r.Output != fmt.Sprintf(`{"n":%d}`, 9-i) {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	var fail map[string]string
	if code := c.do("POST", "/api/v1/rules/try", `{"endpoint":"`+ep.ID+`","response_rules":[{"when":"count >","status":410}]}`, &fail); code != 400 || fail["field"] != "response_rules[0].when" {
		t.Errorf("a broken rule: %d %v", code, fail)
	}
	if n := len(h.Services().Endpoints.List()[0].Settings.Responses); n != 0 {
		t.Errorf("trying saved %d rules", n)
	}
}
