package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/export"
)

// mcpBodyCap is the most of an event's body get_event returns.
const mcpBodyCap = 64 << 10

// mcpServe runs `hooktray mcp`: a Model Context Protocol server on standard input and output
// over the running instance's history, through its admin API. It replays only with
// --allow-replay, and masks credentials and signatures as exports do.
func (c *command) mcpServe(ctx context.Context, args []string) error {
	fs := c.flags("mcp", "mcp [--allow-replay]   (an MCP server on standard input and output)")
	allowReplay := fs.Bool("allow-replay", false, "offer the replay_event tool, which sends an event to its targets again")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "hooktray", Version: c.env.Version}, nil)
	t := mcpTools{cl: cl}
	mcp.AddTool(s, &mcp.Tool{Name: "list_endpoints", Description: "The webhook endpoints Hooktray receives on: id, name, URLs, verification, state."}, t.listEndpoints)
	mcp.AddTool(s, &mcp.Tool{Name: "search_events", Description: "Search the webhook history, newest first: every word of query in the method, path, query, headers or body; optionally one endpoint (id or name)."}, t.searchEvents)
	mcp.AddTool(s, &mcp.Tool{Name: "get_event", Description: "One stored webhook with its headers (credentials and signatures masked) and body (at most 64 KiB)."}, t.getEvent)
	mcp.AddTool(s, &mcp.Tool{Name: "list_deliveries", Description: "Forwarding deliveries, newest first, optionally of one event or one target: status, attempts, answers, errors."}, t.listDeliveries)
	mcp.AddTool(s, &mcp.Tool{Name: "list_targets", Description: "The forwarding targets, optionally of one endpoint: kind, where, rules, state."}, t.listTargets)
	if *allowReplay {
		mcp.AddTool(s, &mcp.Tool{Name: "replay_event", Description: "Send a stored event to its endpoint's forwarding targets again (new deliveries)."}, t.replayEvent)
	}
	return s.Run(ctx, &mcp.StdioTransport{})
}

type mcpTools struct{ cl *client }

// call calls the API and hands its JSON back as the tool's output.
func (t mcpTools) call(ctx context.Context, method, path string, body any) (any, error) {
	var raw []byte
	if err := t.cl.do(ctx, method, path, body, nil, &raw); err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(raw, &out)
}

type noInput struct{}

func (t mcpTools) listEndpoints(ctx context.Context, _ *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, any, error) {
	out, err := t.call(ctx, http.MethodGet, "/api/v1/endpoints", nil)
	return nil, out, err
}

type searchInput struct {
	Query    string `json:"query,omitempty" jsonschema:"words to find; empty lists the newest events"`
	Endpoint string `json:"endpoint,omitempty" jsonschema:"an endpoint's id or name"`
	Limit    int    `json:"limit,omitempty" jsonschema:"how many events, at most 100 (default 20)"`
}

func (t mcpTools) searchEvents(ctx context.Context, _ *mcp.CallToolRequest, in searchInput) (*mcp.CallToolResult, any, error) {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(min(max(in.Limit, 1), 100)))
	if in.Limit == 0 {
		q.Set("limit", "20")
	}
	if in.Query != "" {
		q.Set("q", in.Query)
	}
	if in.Endpoint != "" {
		ep, err := t.cl.resolveEndpoint(ctx, in.Endpoint)
		if err != nil {
			return nil, nil, err
		}
		q.Set("endpoint", ep.ID)
	}
	out, err := t.call(ctx, http.MethodGet, "/api/v1/events?"+q.Encode(), nil)
	return nil, out, err
}

type eventInput struct {
	ID int64 `json:"id" jsonschema:"the event's id"`
}

func (t mcpTools) getEvent(ctx context.Context, _ *mcp.CallToolRequest, in eventInput) (*mcp.CallToolResult, any, error) {
	var ev apijson.Event
	if err := t.cl.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/events/%d", in.ID), nil, &ev, nil); err != nil {
		return nil, nil, err
	}
	var own string // the endpoint's own signature or shared-secret header, masked too
	var ep apijson.Endpoint
	if t.cl.do(ctx, http.MethodGet, "/api/v1/endpoints/"+url.PathEscape(ev.EndpointID), nil, &ep, nil) == nil {
		own = ep.Verify.Header
	}
	for name, values := range ev.Headers {
		if export.Sensitive(name) || own != "" && http.CanonicalHeaderKey(own) == http.CanonicalHeaderKey(name) {
			for i := range values {
				values[i] = export.Masked
			}
		}
	}
	if b := ev.Body; b != nil && len(*b) > mcpBodyCap {
		capped := (*b)[:mcpBodyCap] + fmt.Sprintf("… [%d bytes more not shown]", len(*b)-mcpBodyCap)
		ev.Body = &capped
	}
	return nil, ev, nil
}

type deliveriesInput struct {
	Event  int64  `json:"event,omitempty" jsonschema:"only this event's deliveries"`
	Target string `json:"target,omitempty" jsonschema:"only this target's deliveries"`
	Status string `json:"status,omitempty" jsonschema:"pending, success, failed, retrying or dead_letter"`
	Limit  int    `json:"limit,omitempty" jsonschema:"how many, at most 100 (default 20)"`
}

func (t mcpTools) listDeliveries(ctx context.Context, _ *mcp.CallToolRequest, in deliveriesInput) (*mcp.CallToolResult, any, error) {
	q := url.Values{}
	q.Set("limit", "20")
	if in.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(in.Limit, 100)))
	}
	if in.Event > 0 {
		q.Set("event", strconv.FormatInt(in.Event, 10))
	}
	if in.Target != "" {
		q.Set("target", in.Target)
	}
	if in.Status != "" {
		q.Set("status", in.Status)
	}
	out, err := t.call(ctx, http.MethodGet, "/api/v1/deliveries?"+q.Encode(), nil)
	return nil, out, err
}

type targetsInput struct {
	Endpoint string `json:"endpoint,omitempty" jsonschema:"an endpoint's id or name"`
}

func (t mcpTools) listTargets(ctx context.Context, _ *mcp.CallToolRequest, in targetsInput) (*mcp.CallToolResult, any, error) {
	var ids []string
	if in.Endpoint != "" {
		ep, err := t.cl.resolveEndpoint(ctx, in.Endpoint)
		if err != nil {
			return nil, nil, err
		}
		ids = []string{ep.ID}
	} else {
		var list apijson.EndpointList
		if err := t.cl.do(ctx, http.MethodGet, "/api/v1/endpoints", nil, &list, nil); err != nil {
			return nil, nil, err
		}
		for _, ep := range list.Endpoints {
			ids = append(ids, ep.ID)
		}
	}
	all := apijson.TargetList{Targets: []apijson.Target{}}
	for _, id := range ids {
		var l apijson.TargetList
		if err := t.cl.do(ctx, http.MethodGet, "/api/v1/endpoints/"+url.PathEscape(id)+"/targets", nil, &l, nil); err != nil {
			return nil, nil, err
		}
		all.Targets = append(all.Targets, l.Targets...)
	}
	return nil, all, nil
}

func (t mcpTools) replayEvent(ctx context.Context, _ *mcp.CallToolRequest, in eventInput) (*mcp.CallToolResult, any, error) {
	out, err := t.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/events/%d/replay", in.ID), map[string]any{})
	return nil, out, err
}
