package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hooktray/hooktray/internal/testutil"
)

// An MCP client (the SDK's own) drives `hooktray mcp` over stdio as an assistant would: it lists
// the tools, searches the history, reads an event with its credentials masked, and cannot replay
// without --allow-replay.
func TestAnMCPClientReadsTheHistory(t *testing.T) {
	dir := t.TempDir()
	startServe(t, dir)
	if r := hooktray(t, dir, "endpoints", "add", "--name", "alarm"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var ep struct{ URL string }
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "alarm", "--json").stdout), &ep)
	req, _ := http.NewRequest(http.MethodPost, ep.URL, strings.NewReader(`{"zone":"garage","state":"ALERT"}`))
	req.Header.Set("Authorization", "Bearer provider-token")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	postJSON(ep.URL, `{"zone":"hall","state":"OK"}`)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	session := func(args ...string) *mcp.ClientSession {
		t.Helper()
		client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
		cmd := exec.Command(binary, append([]string{"--data-dir", dir, "mcp"}, args...)...)
		s, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatalf("connect to hooktray mcp: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := session()
	tools, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if strings.Join(names, " ") != "get_event list_deliveries list_endpoints list_targets search_events" {
		t.Errorf("tools without --allow-replay: %v", names)
	}
	text := func(res *mcp.CallToolResult) string {
		var sb strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				sb.WriteString(tc.Text)
			}
		}
		return sb.String()
	}
	var found struct {
		Events []struct{ ID int64 }
	}
	testutil.Eventually(t, "the search to find the garage alert (the index follows the history)", func() bool {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "search_events", Arguments: map[string]any{"query": "garage", "endpoint": "alarm"}})
		if err != nil || res.IsError {
			t.Fatalf("search_events: %v %+v", err, res)
		}
		json.Unmarshal([]byte(text(res)), &found)
		return len(found.Events) == 1
	})
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "get_event", Arguments: map[string]any{"id": found.Events[0].ID}})
	if err != nil || res.IsError {
		t.Fatalf("get_event: %v", err)
	}
	if got := text(res); strings.Contains(got, "provider-token") || !strings.Contains(got, "masked by Hooktray") || !strings.Contains(got, `garage`) {
		t.Errorf("get_event: %s", got)
	}
	if res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "replay_event", Arguments: map[string]any{"id": found.Events[0].ID}}); err == nil && !res.IsError {
		t.Error("replay_event ran without --allow-replay")
	}
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer target.Close()
	if r := hooktray(t, dir, "targets", "add", "--endpoint", "alarm", "--url", target.URL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	s2 := session("--allow-replay")
	if res, err := s2.CallTool(ctx, &mcp.CallToolParams{Name: "replay_event", Arguments: map[string]any{"id": found.Events[0].ID}}); err != nil || res.IsError {
		t.Errorf("replay_event with --allow-replay: %v %+v", err, res)
	}
}
