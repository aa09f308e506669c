package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hooktray/hooktray/internal/testutil"
)

// localTarget is a local HTTP server that records what it gets and answers status (settable).
type localTarget struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	bodies []string
	heads  []http.Header
	method []string
}

func newLocalTarget(t *testing.T, status int) *localTarget {
	lt := &localTarget{status: status}
	lt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lt.mu.Lock()
		lt.bodies, lt.heads, lt.method = append(lt.bodies, string(b)), append(lt.heads, r.Header), append(lt.method, r.Method)
		st := lt.status
		lt.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(lt.Close)
	return lt
}

func (lt *localTarget) got() []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return append([]string(nil), lt.bodies...)
}

type deliveryJSON struct {
	ID             int64
	EventID        int64  `json:"event_id"`
	TargetID       string `json:"target_id"`
	Status         string
	Attempt        int
	ResponseStatus *int `json:"response_status"`
	Edited         bool
}

func TestForwardingThroughTheAPI(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "to forward", nil)
	lt := newLocalTarget(t, 200)
	var target struct {
		ID, State string
		Headers   map[string]string
		Retry     []float64 `json:"retry_schedule_s"`
		Timeout   int64     `json:"timeout_ms"`
		Sign      *struct{ Scheme string }
		Method    *string
	}
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets",
		`{"url":"`+lt.URL+`","headers":{"X-To":"lamp"},"sign":{"scheme":"github","secret":"s3cret"}}`, &target); code != 201 {
		t.Fatalf("create target: %d %+v", code, target)
	}
	if target.State != "active" || fmt.Sprint(target.Retry) != "[1 2 4 8 16]" || target.Timeout != 30000 || target.Sign.Scheme != "github" || target.Method != nil {
		t.Errorf("target %+v", target)
	}
	var raw json.RawMessage
	c.do("GET", "/api/v1/targets/"+target.ID, "", &raw)
	if strings.Contains(string(raw), "s3cret") {
		t.Error("the signing secret came back")
	}
	var fail map[string]string
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", `{"url":"ftp://x"}`, &fail); code != 400 || fail["field"] != "url" {
		t.Errorf("bad URL: %d %v", code, fail)
	}
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/targets", `{"url":"`+lt.URL+`","sign":{"scheme":"github"}}`, &fail); code != 400 || fail["field"] != "sign.secret" {
		t.Errorf("sign without secret: %d %v", code, fail)
	}

	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"n":1}`))
	ev := newest(t, h)
	var list struct{ Deliveries []deliveryJSON }
	testutil.Eventually(t, "the delivery to succeed", func() bool {
		c.do("GET", fmt.Sprintf("/api/v1/deliveries?event=%d", ev.ID), "", &list)
		return len(list.Deliveries) == 1 && list.Deliveries[0].Status == "success"
	})
	lt.mu.Lock()
	head := lt.heads[0]
	lt.mu.Unlock()
	if head.Get("X-To") != "lamp" || !strings.HasPrefix(head.Get("X-Hub-Signature-256"), "sha256=") || head.Get("X-Hooktray-Delivery") != fmt.Sprint(list.Deliveries[0].ID) {
		t.Errorf("forwarded headers %v", head)
	}

	// Replay, edited, to the endpoint's targets: a new delivery carrying the edit.
	var replayed struct{ Deliveries []deliveryJSON }
	if code := c.do("POST", fmt.Sprintf("/api/v1/events/%d/replay", ev.ID), `{"method":"PUT","body":"{\"n\":2}"}`, &replayed); code != 200 ||
		len(replayed.Deliveries) != 1 || !replayed.Deliveries[0].Edited {
		t.Fatalf("replay: %d %+v", code, replayed)
	}
	testutil.Eventually(t, "the edited replay to arrive", func() bool { b := lt.got(); return len(b) == 2 && b[1] == `{"n":2}` })
	if lt.method[1] != "PUT" {
		t.Errorf("method %s", lt.method[1])
	}

	// A target that is down: dead letters (no retries), then Retry all once it is back.
	if code := c.do("PATCH", "/api/v1/targets/"+target.ID, `{"max_retries":0,"sign":null}`, &target); code != 200 || target.Sign != nil {
		t.Fatalf("patch: %d %+v", code, target)
	}
	lt.mu.Lock()
	lt.status = 503
	lt.mu.Unlock()
	for i := range 3 {
		post(t, h.Services().Endpoints.URL(ep.ID), []byte(fmt.Sprintf(`{"dead":%d}`, i)))
	}
	testutil.Eventually(t, "three dead letters", func() bool {
		c.do("GET", "/api/v1/deliveries?status=dead_letter&target="+target.ID, "", &list)
		return len(list.Deliveries) == 3
	})
	lt.mu.Lock()
	lt.status = 200
	lt.mu.Unlock()
	var retried struct{ Retried int64 }
	if code := c.do("POST", "/api/v1/deliveries/retry", `{"target":"`+target.ID+`","status":"dead_letter"}`, &retried); code != 200 || retried.Retried != 3 {
		t.Fatalf("retry all: %d %+v", code, retried)
	}
	testutil.Eventually(t, "the dead letters delivered, in order", func() bool {
		b := lt.got()
		return len(b) == 8 && b[5] == `{"dead":0}` && b[6] == `{"dead":1}` && b[7] == `{"dead":2}`
	})
	if code := c.do("GET", "/api/v1/deliveries?status=bogus", "", &fail); code != 400 || fail["field"] != "status" {
		t.Errorf("bad status: %d %v", code, fail)
	}

	// The endpoint's test reports its deliveries.
	var tested struct {
		Type       *string
		SentTo     string `json:"sent_to"`
		Deliveries []deliveryJSON
	}
	if code := c.do("POST", "/api/v1/endpoints/"+ep.ID+"/test", "", &tested); code != 200 || tested.SentTo != h.Services().Endpoints.URL(ep.ID) || len(tested.Deliveries) != 1 {
		t.Errorf("test: %d %+v", code, tested)
	}
	if code := c.do("DELETE", "/api/v1/targets/"+target.ID, "", nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	var targets struct{ Targets []any }
	c.do("GET", "/api/v1/endpoints/"+ep.ID+"/targets", "", &targets)
	if len(targets.Targets) != 0 {
		t.Errorf("targets after delete: %v", targets)
	}
}
