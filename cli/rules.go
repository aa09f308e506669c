package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

// rules runs `hooktray rules try`.
func (c *command) rules(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "try" {
		return usagef("rules: expected try")
	}
	fs := c.flags("rules try", "rules try --endpoint ID|NAME [--when RULE] [--transform RULE] [--response-rules-file F] [--limit 50] [--json]")
	endpoint := fs.String("endpoint", "", "the endpoint whose last events to try the rules on (required)")
	when := fs.String("when", "", "a condition (CEL): which events it lets through")
	transform := fs.String("transform", "", "a transform (CEL): what it makes of each event's body")
	limit := fs.Int("limit", 50, "how many of the last events (at most 200)")
	responses := fs.String("response-rules-file", "", "try these response rules (a JSON list) instead: which would answer each event")
	seed := fs.Int64("response-seed", 0, "the seed of the response rules' rand()")
	asJSON := fs.Bool("json", false, "print one JSON object per event: event_id, matched, output, error")
	pos, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("rules try: unexpected argument %q", pos[0])
	}
	if *endpoint == "" || *when == "" && *transform == "" && *responses == "" {
		return usagef("rules try: give --endpoint and --when, --transform, both, or --response-rules-file")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ep, err := cl.resolveEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	req := apijson.RuleTrial{Endpoint: ep.ID, Limit: *limit, When: *when}
	if *transform != "" {
		req.Transform = &hook.Transform{Body: *transform}
	}
	if *responses != "" {
		rs, err := readResponseRules(*responses)
		if err != nil {
			return err
		}
		req.ResponseRules, req.ResponseSeed = &rs, *seed
	}
	var out apijson.RuleTrialResults
	if err := cl.do(ctx, http.MethodPost, "/api/v1/rules/try", req, &out, nil); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		for _, r := range out.Results {
			enc.Encode(r)
		}
		return nil
	}
	c.printTrial(c.text(c.env.Stdout), out.Results)
	return nil
}

func (c *command) printTrial(w io.Writer, results []apijson.RuleTrialResult) {
	matched, failed := 0, 0
	for _, r := range results {
		verdict := "no match"
		switch {
		case r.AnsweredBy != nil:
			verdict, matched = fmt.Sprintf("answered %d by %s", *r.Status, *r.AnsweredBy), matched+1
		case r.Error != nil:
			verdict, failed = "ERROR "+*r.Error, failed+1
		case r.Matched:
			verdict, matched = "match", matched+1
		}
		fmt.Fprintf(w, "%6d  %-14s %s\n", r.EventID, orDash(r.Type), verdict)
		if r.Output != nil {
			fmt.Fprintf(w, "        → %s\n", firstLine(*r.Output, 200))
		}
	}
	fmt.Fprintf(w, "%d events: %d matched, %d failed\n", len(results), matched, failed)
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "–"
	}
	return *s
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// eventsDiff prints how event B differs from event A.
func (c *command) eventsDiff(ctx context.Context, args []string) error {
	fs := c.flags("events diff", "events diff A B [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("events diff: expected two event ids")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var d apijson.Diff
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/events/diff?a="+pathEscape(pos[0])+"&b="+pathEscape(pos[1]), nil, &d, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	w := c.text(c.env.Stdout)
	fmt.Fprintf(w, "event %d → event %d\n", d.A, d.B)
	printEntries(w, "Body", d.Body, d.JSON)
	printEntries(w, "Headers", d.Headers, true)
	return nil
}

func printEntries(w io.Writer, title string, es []apijson.DiffEntry, paths bool) {
	if len(es) == 0 {
		fmt.Fprintf(w, "%s: the same\n", title)
		return
	}
	fmt.Fprintf(w, "%s:\n", title)
	for _, e := range es {
		name := e.Path
		if !paths || name == "" {
			name = "(the whole body)"
		}
		switch e.Change {
		case "added":
			fmt.Fprintf(w, "  + %s: %s\n", name, firstLine(*e.B, 200))
		case "removed":
			fmt.Fprintf(w, "  - %s: %s\n", name, firstLine(*e.A, 200))
		default:
			fmt.Fprintf(w, "  ~ %s: %s → %s\n", name, firstLine(*e.A, 100), firstLine(*e.B, 100))
		}
	}
}

// printShape prints what an endpoint's payloads look like, per type, and how they changed.
func (c *command) printShape(s apijson.Shape) {
	w := c.text(c.env.Stdout)
	if len(s.Types) == 0 {
		fmt.Fprintln(w, "No JSON payloads learnt from yet.")
	}
	for _, t := range s.Types {
		fmt.Fprintf(w, "%s (%d events)\n", orDash(t.Type), t.Events)
		for _, f := range t.Fields {
			kinds := make([]string, 0, len(f.Types))
			for k := range f.Types {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			fmt.Fprintf(w, "  %-40s %-16s %3.0f%%\n", f.Path, strings.Join(kinds, "|"), 100*float64(f.Present)/float64(max(1, t.Events)))
		}
	}
	for _, d := range s.Drifts {
		switch d.Kind {
		case "new_type":
			fmt.Fprintf(w, "CHANGED %s: a new type %s (event %d)\n", d.At.Local().Format("2006-01-02 15:04"), orDash(d.Type), d.EventID)
		default:
			fmt.Fprintf(w, "CHANGED %s: %s events lack %s, which all had (event %d)\n", d.At.Local().Format("2006-01-02 15:04"), orDash(d.Type), orDash(d.Path), d.EventID)
		}
	}
	if s.Full {
		fmt.Fprintln(w, "(the bound of 10,000 field paths is reached: new paths are not learnt)")
	}
}
