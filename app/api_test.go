package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/internal/testutil"
)

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func newAPIClient(t *testing.T, h *Hub) *apiClient {
	tok, err := instance.ReadToken(h.Services().Info.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: h.Services().Info.APIURL, token: tok}
}

func (c *apiClient) do(method, path, body string, out any) int {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func TestAPIRefusesWithoutTokenOrLoopbackHost(t *testing.T) {
	h := startHub(t, nil)
	tok, _ := instance.ReadToken(h.Services().Info.DataDir)
	port := h.Services().Info.APIURL[strings.LastIndex(h.Services().Info.APIURL, ":")+1:]
	for _, tc := range []struct {
		name, host, auth string
		want             int
	}{
		{"no token", "", "", 401},
		{"wrong token", "", "Bearer " + strings.Repeat("0", len(tok)), 401},
		{"token without Bearer", "", tok, 401},
		{"right token", "", "Bearer " + tok, 200},
		{"localhost host", "localhost:" + port, "Bearer " + tok, 200},
		{"rebound DNS name", "evil.example.com:" + port, "Bearer " + tok, 403},
		{"loopback on another port", "127.0.0.1:1", "Bearer " + tok, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, h.Services().Info.APIURL+"/api/v1/status", nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e apijson.Error
			json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != 200 && e.Error == "" {
				t.Error("error answer without an error message")
			}
		})
	}
}

func TestAPIEndpointsAndEvents(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)

	var st apijson.Status
	if c.do("GET", "/api/v1/status", "", &st) != 200 || st.Tunnel.State != "off" || st.PublicURL != nil || st.Receiver != h.Services().Info.ReceiverURL {
		t.Fatalf("status %+v", st)
	}
	var ep apijson.Endpoint
	if code := c.do("POST", "/api/v1/endpoints", `{"name":"demo"}`, &ep); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if ep.URL != h.Services().Endpoints.URL(ep.ID) || !ep.Enabled || ep.Verify.Mode != "off" || ep.PublicURL != nil {
		t.Errorf("created %+v", ep)
	}
	var e apijson.Error
	if code := c.do("POST", "/api/v1/endpoints", `{"name":""}`, &e); code != 400 || e.Field != "name" {
		t.Errorf("empty name: %d %+v", code, e)
	}
	if code := c.do("POST", "/api/v1/endpoints", `{"name":"x","nmae":"typo"}`, &e); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	if code := c.do("POST", "/api/v1/endpoints", `{"name":`, &e); code != 400 {
		t.Errorf("broken JSON: %d", code)
	}
	if code := c.do("PATCH", "/api/v1/endpoints/"+ep.ID, `{"enabled":false}`, &ep); code != 200 || ep.Enabled {
		t.Errorf("pause: %d %+v", code, ep)
	}
	if resp, _ := post(t, ep.URL, []byte("x")); resp.StatusCode != 503 {
		t.Errorf("paused endpoint answered %d", resp.StatusCode)
	}
	c.do("PATCH", "/api/v1/endpoints/"+ep.ID, `{"enabled":true}`, &ep)
	for i := range 5 {
		post(t, ep.URL+fmt.Sprintf("?n=%d", i), []byte(fmt.Sprintf(`{"word":"needle%d"}`, i)))
	}
	post(t, ep.URL, []byte{0xff, 0xfe})

	var list apijson.EventList
	if c.do("GET", "/api/v1/events?limit=3&endpoint="+ep.ID, "", &list) != 200 || len(list.Events) != 3 || list.Next == nil {
		t.Fatalf("first page: %+v", list)
	}
	if list.Events[0].Body == nil || list.Events[0].BodyEncoding != "base64" || *list.Events[0].Body != "//4=" {
		t.Errorf("binary body in JSON: %+v", list.Events[0])
	}
	if _, err := time.Parse(time.RFC3339Nano, list.Events[0].ReceivedAt); err != nil || !strings.HasSuffix(list.Events[0].ReceivedAt, "Z") {
		t.Errorf("received_at %q", list.Events[0].ReceivedAt)
	}
	var page2 apijson.EventList
	c.do("GET", "/api/v1/events?limit=3&before="+*list.Next, "", &page2)
	if len(page2.Events) != 3 || page2.Events[0].ID >= list.Events[2].ID {
		t.Errorf("second page %+v", page2.Events)
	}
	if c.do("GET", "/api/v1/events?limit=5000", "", &list) != 200 || len(list.Events) != 7 {
		t.Errorf("limit above 1000 is clamped, not an error: %d events", len(list.Events))
	}
	if code := c.do("GET", "/api/v1/events?limit=abc", "", &e); code != 400 {
		t.Errorf("limit=abc: %d", code)
	}
	var one apijson.Event
	if c.do("GET", fmt.Sprintf("/api/v1/events/%d", page2.Events[0].ID), "", &one) != 200 || one.Headers["User-Agent"] == nil {
		t.Errorf("one event: %+v", one)
	}
	for _, bad := range []string{"999999", "abc", "-1", "1%27%20OR%201=1"} {
		if code := c.do("GET", "/api/v1/events/"+bad, "", &e); code != 404 {
			t.Errorf("event %s: %d", bad, code)
		}
	}

	// Search: wait for the background indexer.
	testutil.Eventually(t, "the indexer to make the event searchable", func() bool {
		c.do("GET", "/api/v1/events?q=needle3", "", &list)
		return len(list.Events) == 1
	})
	if len(list.Events) != 1 || !strings.Contains(*list.Events[0].Body, "needle3") {
		t.Fatalf("search: %+v", list.Events)
	}
	for _, q := range []string{`"`, `needle3" OR "1`, `') OR 1=1 --`, `NEAR(`, `*`, `col:value`, `AND OR NOT`} {
		if code := c.do("GET", "/api/v1/events?q="+url.QueryEscape(q), "", &list); code != 200 {
			t.Errorf("search %q: %d", q, code)
		}
	}
	if code := c.do("DELETE", "/api/v1/endpoints/"+ep.ID, "", nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code := c.do("GET", "/api/v1/endpoints/"+ep.ID, "", &e); code != 404 {
		t.Errorf("get deleted: %d", code)
	}
	if resp, _ := post(t, ep.URL, []byte("x")); resp.StatusCode != 410 {
		t.Errorf("deleted endpoint answered %d", resp.StatusCode)
	}
}

func TestAPIStreamsNewEvents(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "stream", nil)
	other := createEndpoint(t, h, "other", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/events/stream?endpoint="+ep.ID, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	post(t, h.Services().Endpoints.URL(other.ID), []byte(`{"skip":true}`))
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"stream":true}`))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev apijson.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.EndpointID != ep.ID || ev.Status != "accepted" || ev.Size != 15 {
			t.Fatalf("streamed %+v", ev)
		}
		return
	}
	t.Fatalf("stream ended: %v", sc.Err())
}

func TestSecondLaunchAsksTheRunningInstanceToShowItsWindow(t *testing.T) {
	shown := make(chan struct{}, 1)
	h := startHub(t, func(o *Options) { o.ShowWindow = func() { shown <- struct{}{} } })
	if err := instance.AskToShow(context.Background(), h.Services().Info.DataDir); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shown:
	case <-time.After(5 * time.Second):
		t.Fatal("the window was not asked to show")
	}
	headless := startHub(t, nil)
	if err := instance.AskToShow(context.Background(), headless.DataDir()); err == nil || !strings.Contains(err.Error(), "headless") {
		t.Errorf("asking a headless instance: %v", err)
	}
}

func TestAPIKeepsNonUTF8HeadersAndQueryExact(t *testing.T) {
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "bytes", nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.Services().Info.ReceiverURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook/%s?name=caf\xe9 HTTP/1.1\r\nHost: x\r\nX-Latin1: caf\xe9\r\nX-Plain: ok\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", ep.ID)
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("request answered %v %v", resp, err)
	}
	var list apijson.EventList
	c.do("GET", "/api/v1/events?limit=1", "", &list)
	var ev apijson.Event
	if len(list.Events) != 1 || c.do("GET", fmt.Sprintf("/api/v1/events/%d", list.Events[0].ID), "", &ev) != 200 {
		t.Fatalf("no event: %+v", list)
	}
	if ev.QueryEncoding != "base64" || ev.DecodeQuery() != "name=caf\xe9" {
		t.Errorf("query %q (%s), want the exact bytes in base64", ev.Query, ev.QueryEncoding)
	}
	if ev.HeaderEncoding["X-Latin1"] != "base64" || ev.DecodeHeaders()["X-Latin1"][0] != "caf\xe9" {
		t.Errorf("header X-Latin1 %q (%v), want the exact bytes in base64", ev.Headers["X-Latin1"], ev.HeaderEncoding)
	}
	if _, marked := ev.HeaderEncoding["X-Plain"]; marked || ev.Headers["X-Plain"][0] != "ok" {
		t.Errorf("a UTF-8 header was encoded: %v %v", ev.Headers["X-Plain"], ev.HeaderEncoding)
	}
}
