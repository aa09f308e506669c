package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/pretty"
	"github.com/hooktray/hooktray/hook"
)

func (c *command) events(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("events: expected list, show, tail, search, replay or diff")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list", "ls":
		return c.eventsList(ctx, "list", args)
	case "search":
		return c.eventsList(ctx, "search", args)
	case "show":
		return c.eventsShow(ctx, args)
	case "tail":
		return c.eventsTail(ctx, args)
	case "replay":
		return c.eventsReplay(ctx, args)
	case "diff":
		return c.eventsDiff(ctx, args)
	}
	return usagef("events: unknown subcommand %q", sub)
}

func (c *command) eventsList(ctx context.Context, sub string, args []string) error {
	synopsis := "events list [--endpoint ID|NAME] [--limit N] [--before CURSOR] [--json]"
	if sub == "search" {
		synopsis = "events search TEXT… [--endpoint ID|NAME] [--limit N] [--json]"
	}
	fs := c.flags("events "+sub, synopsis)
	endpoint := fs.String("endpoint", "", "only this endpoint's events")
	limit := fs.Int("limit", 20, "how many events (at most 1000)")
	before := fs.String("before", "", "older than this cursor (from a previous page)")
	status := fs.String("status", "", "only accepted, rejected or duplicate events")
	query := fs.String("q", "", "full-text search")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	text := *query
	if sub == "search" {
		if len(pos) == 0 && text == "" {
			return usagef("events search: what should I search for?")
		}
		text = strings.TrimSpace(text + " " + strings.Join(pos, " "))
	} else if len(pos) > 0 {
		return usagef("events list: unexpected argument %q (to search, use `hooktray events search %s`)", pos[0], pos[0])
	}
	if *limit < 1 {
		return usagef("--limit must be at least 1")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	names, err := endpointNames(ctx, cl)
	if err != nil {
		return err
	}
	v := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *endpoint != "" {
		e, err := cl.resolveEndpoint(ctx, *endpoint)
		if err != nil {
			return err
		}
		v.Set("endpoint", e.ID)
	}
	for key, value := range map[string]string{"q": text, "before": *before, "status": *status} {
		if value != "" {
			v.Set(key, value)
		}
	}
	var list apijson.EventList
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/events?"+v.Encode(), nil, &list, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	c.writeEventList(list, names, text != "")
	return nil
}

// writeEventList prints a page of events as a table, and how to get the next.
func (c *command) writeEventList(list apijson.EventList, names map[string]string, searched bool) {
	if len(list.Events) == 0 {
		if searched {
			fmt.Fprintln(c.env.Stdout, "No events match.")
		} else {
			fmt.Fprintln(c.env.Stdout, "No events yet.")
		}
		return
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintln(w, "ID\tRECEIVED\tENDPOINT\tMETHOD\tSTATUS\tCODE\tSIZE\tTYPE")
	for _, ev := range list.Events {
		writeEventRow(w, ev, names)
	}
	tw.Flush()
	if list.Next != nil {
		fmt.Fprintf(c.env.Stderr, "More: add --before %s\n", *list.Next)
	}
}

func writeEventRow(w io.Writer, ev apijson.Event, names map[string]string) {
	typ := "-"
	if ev.Type != nil {
		typ = *ev.Type
	}
	status := ev.Status
	if ev.Reason != "" {
		status += " (" + ev.Reason + ")"
	}
	fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", ev.ID, localTime(ev.ReceivedAt), endpointName(names, ev.EndpointID),
		ev.Method, status, ev.ResponseStatus, hook.Bytes(ev.Size).String(), typ)
}

func (c *command) eventsShow(ctx context.Context, args []string) error {
	fs := c.flags("events show", "events show ID [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	id, err := oneArg(pos, "event id")
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var ev apijson.Event
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/events/"+pathEscape(id), nil, &ev, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	names, _ := endpointNames(ctx, cl)
	c.writeEventSummary(ev, names)
	out := c.text(c.env.Stdout)
	fmt.Fprintln(out, "\nHeaders:")
	headers := ev.DecodeHeaders()
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		for _, v := range headers[k] {
			fmt.Fprintf(out, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprintln(out, "\nBody:")
	writeEventBody(out, ev)
	return nil
}

// writeEventSummary prints what an event is, a field a line.
func (c *command) writeEventSummary(ev apijson.Event, names map[string]string) {
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintf(w, "Event\t%d\n", ev.ID)
	fmt.Fprintf(w, "Received\t%s\n", localTime(ev.ReceivedAt))
	fmt.Fprintf(w, "Endpoint\t%s (%s)\n", endpointName(names, ev.EndpointID), ev.EndpointID)
	fmt.Fprintf(w, "Request\t%s %s\n", ev.Method, requestTarget(ev))
	status := ev.Status
	if ev.Reason != "" {
		status += ": " + ev.Reason
	}
	fmt.Fprintf(w, "Status\t%s, answered %d\n", status, ev.ResponseStatus)
	if ev.DuplicateOf != nil {
		fmt.Fprintf(w, "Duplicate of\t%d\n", *ev.DuplicateOf)
	}
	fmt.Fprintf(w, "Client\t%s (peer %s)\n", ev.ClientIP, ev.RemoteAddr)
	fmt.Fprintf(w, "Size\t%s\n", hook.Bytes(ev.Size).String())
	if ev.Type != nil {
		fmt.Fprintf(w, "Type\t%s\n", *ev.Type)
	}
	if ev.Verification.Scheme != "" {
		fmt.Fprintf(w, "Verification\t%s: %s %s\n", ev.Verification.Scheme, ev.Verification.Result, ev.Verification.Reason)
	}
	tw.Flush()
}

// writeEventBody prints an event's body: JSON laid out, binary as a hex dump of its start.
func writeEventBody(out io.Writer, ev apijson.Event) {
	body, err := ev.DecodeBody()
	switch {
	case err != nil:
		fmt.Fprintf(out, "  (undecodable: %v)\n", err)
	case ev.Body == nil:
		fmt.Fprintln(out, "  (not kept: the request was rejected)")
	case len(body) == 0:
		fmt.Fprintln(out, "  (empty)")
	case ev.BodyEncoding == "base64":
		fmt.Fprint(out, hex.Dump(body[:min(len(body), 4096)]))
		if len(body) > 4096 {
			fmt.Fprintf(out, "  … %d more bytes (use --json for all of it)\n", len(body)-4096)
		}
	default:
		laid, err := pretty.JSON(body, pretty.Limits{})
		var limit *pretty.LimitError
		switch {
		case err == nil:
			body = laid
		case errors.As(err, &limit):
			fmt.Fprintf(out, "  (not laid out: %v; shown as sent)\n", limit)
		}
		out.Write(body)
		fmt.Fprintln(out)
	}
}

func requestTarget(ev apijson.Event) string { return hook.RequestTarget(ev.Path, ev.DecodeQuery()) }

func (c *command) eventsReplay(ctx context.Context, args []string) error {
	fs := c.flags("events replay", "events replay ID [--to URL | --target TID …] [--method M] [--body-file F] [--json]")
	to := fs.String("to", "", "send the stored request to this URL once, and show the answer")
	var targets stringList
	fs.Var(&targets, "target", "queue it again for this target of its endpoint (repeatable; default: all of them)")
	method := fs.String("method", "", "send it with this method instead")
	bodyFile := fs.String("body-file", "", "send this file's content as the body instead (- for standard input)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	id, err := oneArg(pos, "event id")
	if err != nil {
		return err
	}
	if *to != "" && len(targets) > 0 {
		return usagef("events replay: --to and --target together; replay to a URL or to targets")
	}
	req := apijson.ReplayRequest{To: *to, Targets: targets}
	if *method != "" {
		req.Method = method
	}
	if *bodyFile != "" {
		var b []byte
		if *bodyFile == "-" && c.env.Stdin != nil {
			b, err = io.ReadAll(io.LimitReader(c.env.Stdin, 64<<20))
		} else {
			b, err = os.ReadFile(*bodyFile)
		}
		if err != nil {
			return fmt.Errorf("events replay: read the body: %w", err)
		}
		body := base64.StdEncoding.EncodeToString(b)
		req.Body, req.BodyEncoding = &body, "base64"
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var raw []byte
	if *to != "" {
		var res apijson.ReplayResult
		if err := cl.do(ctx, http.MethodPost, "/api/v1/events/"+pathEscape(id)+"/replay", req, &res, &raw); err != nil {
			return err
		}
		if *asJSON {
			c.printRaw(raw)
			return nil
		}
		fmt.Fprintf(c.env.Stdout, "Replayed event %s to %s: answered %d in %d ms\n", id, res.To, res.Status, res.DurationMS)
		return nil
	}
	var list apijson.DeliveryList
	if err := cl.do(ctx, http.MethodPost, "/api/v1/events/"+pathEscape(id)+"/replay", req, &list, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	for _, d := range list.Deliveries {
		fmt.Fprintf(c.env.Stdout, "Queued event %s for target %s (delivery %d).\n", id, d.TargetID, d.ID)
	}
	fmt.Fprintf(c.env.Stdout, "Follow them with: hooktray deliveries list --event %s\n", id)
	return nil
}

// eventsTail prints the newest events, then every new one as it arrives, until interrupted.
func (c *command) eventsTail(ctx context.Context, args []string) error {
	fs := c.flags("events tail", "events tail [--endpoint ID|NAME] [-n N] [--json]")
	endpoint := fs.String("endpoint", "", "only this endpoint's events")
	n := fs.Int("n", 10, "how many past events to show first")
	asJSON := fs.Bool("json", false, "print each event as the API's JSON, one per line")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("events tail: unexpected argument %q", pos[0])
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	t := &tail{c: c, cl: cl, asJSON: *asJSON}
	if t.names, err = endpointNames(ctx, cl); err != nil {
		return err
	}
	if *endpoint != "" {
		e, err := cl.resolveEndpoint(ctx, *endpoint)
		if err != nil {
			return err
		}
		t.endpointID = e.ID
	}
	// Open the stream before reading the past, so nothing falls between the two.
	stream, err := t.open(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	t.tw = tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	t.w = c.text(t.tw)
	if err := t.showPast(ctx, *n); err != nil {
		return err
	}
	if !t.asJSON {
		fmt.Fprintln(c.env.Stderr, "Waiting for webhooks… (Ctrl-C to stop)")
	}
	return t.follow(ctx, stream)
}

// tail is events tail at work: the past events, then the live stream.
type tail struct {
	c          *command
	cl         *client
	names      map[string]string // endpoint names by id
	endpointID string            // only this endpoint's events ("" for all)
	asJSON     bool
	tw         *tabwriter.Writer
	w          io.Writer
	lastShown  int64 // the newest event printed: the stream repeats none up to it
}

// open opens the live stream.
func (t *tail) open(ctx context.Context) (io.ReadCloser, error) {
	filter := url.Values{}
	if t.endpointID != "" {
		filter.Set("endpoint", t.endpointID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.cl.base+"/api/v1/events/stream?"+filter.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.cl.token)
	resp, err := t.cl.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open live stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("open live stream: %s", resp.Status)
	}
	return resp.Body, nil
}

func (t *tail) print(ev apijson.Event, raw []byte) {
	if t.asJSON {
		t.c.printRaw(raw)
		return
	}
	writeEventRow(t.w, ev, t.names)
	t.tw.Flush()
}

// showPast prints the last n events, oldest first.
func (t *tail) showPast(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	v := url.Values{"limit": {strconv.Itoa(n)}}
	if t.endpointID != "" {
		v.Set("endpoint", t.endpointID)
	}
	var list apijson.EventList
	if err := t.cl.do(ctx, http.MethodGet, "/api/v1/events?"+v.Encode(), nil, &list, nil); err != nil {
		return err
	}
	for i := len(list.Events) - 1; i >= 0; i-- {
		ev := list.Events[i]
		ev.Headers, ev.Body = nil, nil
		b, _ := json.Marshal(ev)
		t.print(ev, b)
		t.lastShown = max(t.lastShown, ev.ID)
	}
	return nil
}

// follow prints the stream's events as they come, until it or ctx ends.
func (t *tail) follow(ctx context.Context, stream io.Reader) error {
	sc := bufio.NewScanner(stream)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			event = ""
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			t.received(ctx, event, []byte(strings.TrimPrefix(line, "data: ")))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("live stream: %w", err)
	}
	fmt.Fprintln(t.c.env.Stderr, "Hooktray stopped; the live stream ended.")
	return nil
}

// received prints one message of the stream: an event, or how many it missed.
func (t *tail) received(ctx context.Context, event string, data []byte) {
	if event == "missed" {
		var m apijson.Missed
		json.Unmarshal(data, &m)
		fmt.Fprintf(t.c.env.Stderr, "(fell behind and missed %d events; `hooktray events list` shows them)\n", m.Missed)
		return
	}
	var ev apijson.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID <= t.lastShown {
		return
	}
	if _, ok := t.names[ev.EndpointID]; !ok {
		if fresh, err := endpointNames(ctx, t.cl); err == nil {
			t.names = fresh
		}
	}
	t.print(ev, data)
}

func endpointNames(ctx context.Context, cl *client) (map[string]string, error) {
	var list apijson.EndpointList
	if err := cl.do(ctx, http.MethodGet, "/api/v1/endpoints", nil, &list, nil); err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list.Endpoints))
	for _, e := range list.Endpoints {
		names[e.ID] = e.Name
	}
	return names, nil
}

func endpointName(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

func localTime(rfc string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		return rfc
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}
