package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

func (c *command) status(ctx context.Context, args []string) error {
	fs := c.flags("status", "status [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("status: unexpected argument %q", pos[0])
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var st apijson.Status
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/status", nil, &st, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintf(w, "Hooktray\t%s\n", st.Version)
	fmt.Fprintf(w, "Receiver\t%s\n", st.Receiver)
	public := "none (local only)"
	if st.PublicURL != nil {
		public = *st.PublicURL
	}
	fmt.Fprintf(w, "Public URL\t%s\n", public)
	if st.StorageError != nil {
		fmt.Fprintf(w, "STORAGE\t%s (run 'hooktray db recover' once Hooktray is stopped)\n", *st.StorageError)
	}
	if st.SecretsError != nil {
		fmt.Fprintf(w, "SECRETS\t%s\n", *st.SecretsError)
	}
	if d := st.JournalDamage; d != nil {
		fmt.Fprintf(w, "JOURNAL\t%s\n", d.Message)
	}
	if len(st.Stopped) > 0 {
		printStopped(ctx, cl, w, st.Stopped)
	}
	if in := st.Inbox; in != nil {
		fmt.Fprintf(w, "Inbox\t%s\n", inboxLine(*in))
	}
	fmt.Fprintf(w, "Tunnel\t%s, %s\n", st.Tunnel.Mode, st.Tunnel.State)
	if st.Tunnel.Error != nil {
		fmt.Fprintf(w, "\t%s\n", *st.Tunnel.Error)
	}
	if st.Tunnel.CloudflaredMissing {
		fmt.Fprintf(w, "\tRun 'hooktray tunnel install-cloudflared' to download it.\n")
	}
	switch r := st.Tunnel.Reachable; {
	case r == nil && st.PublicURL != nil:
		fmt.Fprintf(w, "Reachable\tnot checked yet\n")
	case r != nil && *r && st.Tunnel.RTTMS != nil:
		fmt.Fprintf(w, "Reachable\tyes, a probe came back in %d ms\n", *st.Tunnel.RTTMS)
	case r != nil && !*r && st.Tunnel.ProbeError != nil:
		fmt.Fprintf(w, "Reachable\tNO: %s\n", *st.Tunnel.ProbeError)
	}
	fmt.Fprintf(w, "Data dir\t%s\n", st.DataDir)
	switch st.Secrets {
	case "keychain":
		fmt.Fprintf(w, "Secrets\tencrypted; master key in the OS keychain\n")
	case "file":
		fmt.Fprintf(w, "Secrets\tencrypted; master key in the data dir's master-key file (no keychain available)\n")
	}
	return tw.Flush()
}

func (c *command) endpoints(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("endpoints: expected list, add, set, show, shape, enable, disable, rm, rotate-secret, reveal-secret or test")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list", "ls":
		return c.endpointsList(ctx, args)
	case "add", "create":
		return c.endpointsAdd(ctx, args)
	case "set":
		return c.endpointsSet(ctx, args)
	case "show":
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			var out apijson.Endpoint
			return out, cl.do(ctx, http.MethodGet, "/api/v1/endpoints/"+pathEscape(e.ID), nil, &out, raw)
		})
	case "shape":
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			var out apijson.Shape
			return out, cl.do(ctx, http.MethodGet, "/api/v1/endpoints/"+pathEscape(e.ID)+"/shape", nil, &out, raw)
		})
	case "enable", "disable", "pause", "resume":
		enabled := sub == "enable" || sub == "resume"
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			var out apijson.Endpoint
			return out, cl.do(ctx, http.MethodPatch, "/api/v1/endpoints/"+pathEscape(e.ID),
				hook.EndpointChange{Enabled: &enabled}, &out, raw)
		})
	case "rm", "delete":
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			if err := cl.do(ctx, http.MethodDelete, "/api/v1/endpoints/"+pathEscape(e.ID), nil, nil, nil); err != nil {
				return nil, err
			}
			*raw = []byte(`{"deleted":"` + e.ID + `"}`)
			return fmt.Sprintf("Deleted endpoint %s (%s); its URL now answers 410 Gone, its history stays.", e.Name, e.ID), nil
		})
	case "rotate-secret", "reveal-secret":
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			var ans apijson.SecretAnswer
			if err := cl.do(ctx, http.MethodPost, "/api/v1/endpoints/"+pathEscape(e.ID)+"/"+sub, nil, &ans, raw); err != nil {
				return nil, err
			}
			if sub == "rotate-secret" {
				fmt.Fprintf(c.env.Stderr, "New secret for %s; the previous one stays valid for %s. Give this one to the provider:\n", e.Name, ans.PreviousValidFor)
			}
			return ans.Secret, nil
		})
	case "test":
		return c.endpointAction(ctx, sub, args, func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error) {
			var res apijson.TestResult
			if err := cl.do(ctx, http.MethodPost, "/api/v1/endpoints/"+pathEscape(e.ID)+"/test", nil, &res, raw); err != nil {
				return nil, err
			}
			msg := fmt.Sprintf("Sent a webhook.test event to %s through %s: answered %d in %d ms, stored as event %d (%s).",
				e.Name, res.SentTo, res.ResponseStatus, res.RoundTripMS, res.ID, res.Status)
			if n := len(res.Deliveries); n > 0 {
				msg += fmt.Sprintf(" %d deliveries queued: hooktray deliveries list --event %d", n, res.ID)
			}
			return msg, nil
		})
	}
	return usagef("endpoints: unknown subcommand %q", sub)
}

func (c *command) endpointsList(ctx context.Context, args []string) error {
	fs := c.flags("endpoints list", "endpoints list [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var list apijson.EndpointList
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/endpoints", nil, &list, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	if len(list.Endpoints) == 0 {
		fmt.Fprintln(c.env.Stdout, "No endpoints yet. Create one with: hooktray endpoints add --name NAME")
		return nil
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintln(w, "ID\tNAME\tSTATE\tURL")
	for _, e := range list.Endpoints {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.ID, e.Name, enabledWord(e.Enabled), bestURL(e))
	}
	return tw.Flush()
}

// endpointFlags are the settings flags of endpoints add and endpoints set; change reads the ones
// given into a change (applied over what is there when old is not nil).
func endpointFlags(fs *flagSet) (change func(old *apijson.Endpoint) (hook.EndpointChange, error)) {
	f := &endpointFlagSet{fs: fs}
	f.name = fs.String("name", "", "the endpoint's name")
	f.status = fs.Int("response-status", 0, "HTTP status to answer with (default 200)")
	f.body = fs.String("response-body", "", `body to answer with (default {"ok":true})`)
	f.contentType = fs.String("response-content-type", "", "content type of that body (default application/json)")
	f.limit = fs.Int64("body-limit", 0, "largest accepted body in bytes (default 10 MiB, at most 1 GiB)")
	f.notes = fs.String("notes", "", "notes for yourself")
	f.verify = fs.String("verify", "", "signature scheme: homecast, stripe, standard-webhooks, github, shopify, slack, hmac, shared-secret, ha-mobile-app; none turns it off")
	f.secret = fs.String("secret", "", "the provider's signing secret (generated in the scheme's format when left out; prefer HOOKTRAY_SECRET: flags are visible to other users)")
	f.mode = fs.String("mode", "", "annotate (accept and mark) or enforce (answer 401); default enforce when --verify is given")
	f.header = fs.String("signature-header", "", "hmac and shared-secret: the header that carries the signature or secret")
	f.keyPath = fs.String("route-key-path", "", "make it a router: where the routing value is, as a key path (body.device_id, headers['X-Device-Id']); \"\" stops")
	f.queryParam = fs.String("route-query-param", "", "make it a router on this query parameter first (Homey's ?homey=…); \"\" stops")
	f.keys = fs.String("keys", "", "this endpoint's keys for routers, comma-separated ($key / $keys); \"\" removes them")
	f.typePath = fs.String("type-path", "", "where its providers put the event type, as a key path (body.alarm_type)")
	f.notify = fs.String("notify", "", "desktop notifications: every, alerts or never (default alerts)")
	f.alertTypes = fs.String("alert-types", "", "comma-separated event types that are alerts (default ALERT,ANOMALY)")
	f.responseRules = fs.String("response-rules-file", "", `response rules, a JSON list such as [{"when": "rand() < 0.1", "status": 503}]; "" removes them`)
	f.seed = fs.Int64("response-seed", 0, "seed of the response rules' rand(), so a simulation repeats")
	return f.change
}

// endpointFlagSet are the flags of endpoints add and set; only those given change anything.
type endpointFlagSet struct {
	fs                                                   *flagSet
	name, body, contentType, notes, verify, secret, mode *string
	header, keyPath, queryParam, keys, typePath, notify  *string
	alertTypes, responseRules                            *string
	status                                               *int
	limit, seed                                          *int64
}

// change is the change the given flags make to old (nil for a new endpoint).
func (f *endpointFlagSet) change(old *apijson.Endpoint) (hook.EndpointChange, error) {
	var ch hook.EndpointChange
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if given["verify"] || *f.verify != "" {
		ch.Verify, ch.Secret = f.verifyChange()
	} else if given["mode"] || given["secret"] {
		return ch, usagef("--mode and --secret need --verify SCHEME")
	}
	if given["route-key-path"] || given["route-query-param"] {
		ch.Route = f.routeChange(old, given)
	}
	if given["keys"] {
		k := splitComma(*f.keys)
		ch.Keys = &k
	}
	if given["response-rules-file"] {
		rs, err := readResponseRules(*f.responseRules)
		if err != nil {
			return ch, err
		}
		ch.ResponseRules = &rs
	}
	if given["response-seed"] {
		ch.ResponseSeed = f.seed
	}
	if given["alert-types"] {
		a := splitComma(*f.alertTypes)
		ch.AlertTypes = &a
	}
	for flagName, set := range map[string]func(){
		"name": func() { ch.Name = f.name }, "type-path": func() { ch.TypePath = f.typePath }, "notify": func() { ch.NotifyOn = f.notify },
		"response-status": func() { ch.ResponseStatus = f.status }, "response-body": func() { ch.ResponseBody = f.body },
		"response-content-type": func() { ch.ResponseContentType = f.contentType }, "body-limit": func() { ch.BodyLimit = f.limit },
		"notes": func() { ch.Notes = f.notes },
	} {
		if given[flagName] {
			set()
		}
	}
	return ch, nil
}

// verifyChange is --verify with its mode, header and secret (from HOOKTRAY_SECRET when not given).
func (f *endpointFlagSet) verifyChange() (*hook.VerifyChange, *string) {
	s, m := hook.Scheme(*f.verify), hook.VerifyMode(*f.mode)
	if *f.verify == "none" {
		s, m = hook.SchemeNone, hook.VerifyOff
	}
	if m == "" {
		m = hook.VerifyEnforce
	}
	v := &hook.VerifyChange{Scheme: &s, Mode: &m}
	if *f.header != "" {
		v.Header = f.header
	}
	secret := *f.secret
	if secret == "" {
		secret = os.Getenv("HOOKTRAY_SECRET")
	}
	if secret == "" {
		return v, nil
	}
	return v, &secret
}

// routeChange is the routing the flags give, keeping what of old's they do not change.
func (f *endpointFlagSet) routeChange(old *apijson.Endpoint, given map[string]bool) *hook.RouteSettings {
	r := hook.RouteSettings{}
	if old != nil && old.Route != nil {
		r = hook.RouteSettings{KeyPath: old.Route.KeyPath, QueryParam: old.Route.QueryParam}
	}
	if given["route-key-path"] {
		r.KeyPath = *f.keyPath
	}
	if given["route-query-param"] {
		r.QueryParam = *f.queryParam
	}
	return &r
}

// splitComma is a comma-separated list, without empty items.
func splitComma(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *command) endpointsAdd(ctx context.Context, args []string) error {
	fs := c.flags("endpoints add", "endpoints add --name NAME [flags]")
	change := endpointFlags(fs)
	disabled := fs.Bool("disabled", false, "create it paused")
	var forwards stringList
	fs.Var(&forwards, "forward", "forward every event to this URL (repeatable; see 'hooktray targets add' for more)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("endpoints add: unexpected argument %q (give the name with --name)", pos[0])
	}
	ch, err := change(nil)
	if err != nil {
		return usagef("endpoints add: %v", err)
	}
	if ch.Name == nil || *ch.Name == "" {
		return usagef("endpoints add: --name is required")
	}
	if *disabled {
		f := false
		ch.Enabled = &f
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var e apijson.Endpoint
	var raw []byte
	if err := cl.do(ctx, http.MethodPost, "/api/v1/endpoints", ch, &e, &raw); err != nil {
		return err
	}
	for _, f := range forwards {
		to := f
		if err := cl.do(ctx, http.MethodPost, "/api/v1/endpoints/"+pathEscape(e.ID)+"/targets", hook.TargetChange{URL: &to}, nil, nil); err != nil {
			return fmt.Errorf("endpoint %s was created, but forwarding to %s was not: %w", e.ID, f, err)
		}
		fmt.Fprintf(c.env.Stderr, "Forwarding its events to %s.\n", f)
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	// The URL alone on stdout, so `URL=$(hooktray endpoints add --name x)` works.
	fmt.Fprintf(c.env.Stderr, "Created endpoint %q (id %s). Send webhooks to:\n", e.Name, e.ID)
	fmt.Fprintln(c.env.Stdout, bestURL(e))
	return nil
}

// endpointsSet changes the settings given of an existing endpoint.
func (c *command) endpointsSet(ctx context.Context, args []string) error {
	fs := c.flags("endpoints set", "endpoints set ID|NAME [flags]")
	change := endpointFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	ref, err := oneArg(pos, "endpoint id or name")
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	e, err := cl.resolveEndpoint(ctx, ref)
	if err != nil {
		return err
	}
	ch, err := change(&e)
	if err != nil {
		return usagef("endpoints set: %v", err)
	}
	var out apijson.Endpoint
	var raw []byte
	if err := cl.do(ctx, http.MethodPatch, "/api/v1/endpoints/"+pathEscape(e.ID), ch, &out, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	c.printEndpoint(out)
	return nil
}

// endpointAction runs an action on the endpoint named by the one positional argument and prints
// its result: the API's JSON with --json, else a sentence or the endpoint's details.
func (c *command) endpointAction(ctx context.Context, sub string, args []string,
	action func(cl *client, e apijson.Endpoint, raw *[]byte) (any, error)) error {
	fs := c.flags("endpoints "+sub, "endpoints "+sub+" ID|NAME [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	ref, err := oneArg(pos, "endpoint id or name")
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	e, err := cl.resolveEndpoint(ctx, ref)
	if err != nil {
		return err
	}
	var raw []byte
	out, err := action(cl, e, &raw)
	if err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	switch v := out.(type) {
	case string:
		fmt.Fprintln(c.env.Stdout, v)
	case apijson.Endpoint:
		c.printEndpoint(v)
	case apijson.Shape:
		c.printShape(v)
	}
	return nil
}

// printStopped names the targets that deliver nothing, and why, a line each.
func printStopped(ctx context.Context, cl *client, w io.Writer, stopped []apijson.StoppedTarget) {
	names, _ := endpointNames(ctx, cl)
	for i, t := range stopped {
		label := "Forwarding"
		if i > 0 {
			label = ""
		}
		line := fmt.Sprintf("%s (%s, of %s) is %s", t.ID, t.Kind, endpointName(names, t.EndpointID), t.State)
		if t.Reason != nil {
			line += ": " + *t.Reason
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
}

func (c *command) printEndpoint(e apijson.Endpoint) {
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintf(w, "ID\t%s\n", e.ID)
	fmt.Fprintf(w, "Name\t%s\n", e.Name)
	fmt.Fprintf(w, "State\t%s\n", enabledWord(e.Enabled))
	fmt.Fprintf(w, "Local URL\t%s\n", e.URL)
	if e.PublicURL != nil {
		fmt.Fprintf(w, "Public URL\t%s\n", *e.PublicURL)
	}
	fmt.Fprintf(w, "Response\t%d %s %s\n", e.ResponseStatus, e.ResponseContentType, e.ResponseBody)
	fmt.Fprintf(w, "Body limit\t%d bytes\n", e.BodyLimit)
	for i, r := range e.ResponseRules {
		label := "Response rules"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "%s\t%d. when %s: %d (after %d ms)\n", label, i+1, r.When, r.Status, r.DelayMS)
	}
	verify := "off"
	if e.Verify.Scheme != "" {
		verify = e.Verify.Scheme + " (" + e.Verify.Mode + ")"
	}
	fmt.Fprintf(w, "Verification\t%s\n", verify)
	if r := e.Route; r != nil {
		var by []string
		if r.QueryParam != "" {
			by = append(by, "the query parameter "+r.QueryParam)
		}
		if r.KeyPath != "" {
			by = append(by, "the key path "+r.KeyPath)
		}
		fmt.Fprintf(w, "Routes by\t%s, to the endpoints whose keys hold the value\n", strings.Join(by, ", then "))
	}
	if len(e.Keys) > 0 {
		fmt.Fprintf(w, "Keys\t%s\n", strings.Join(e.Keys, ", "))
	}
	if e.TypePath != "" {
		fmt.Fprintf(w, "Type from\t%s\n", e.TypePath)
	}
	fmt.Fprintf(w, "Notify\t%s (alerts: %s)\n", e.NotifyOn, strings.Join(e.AlertTypes, ", "))
	if e.Notes != "" {
		fmt.Fprintf(w, "Notes\t%s\n", e.Notes)
	}
	fmt.Fprintf(w, "Created\t%s\n", e.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	tw.Flush()
}

func enabledWord(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "paused"
}

// bestURL is the URL to give a provider: the public one when there is one.
func bestURL(e apijson.Endpoint) string {
	if e.PublicURL != nil {
		return *e.PublicURL
	}
	return e.URL
}

// readResponseRules reads a JSON list of response rules from a file ("" for none).
func readResponseRules(path string) ([]hook.ResponseRule, error) {
	rs := []hook.ResponseRule{}
	if path == "" {
		return rs, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--response-rules-file: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, usagef("--response-rules-file %s: not a JSON list of {\"when\", \"status\", \"headers\", \"body\", \"delay_ms\"}: %v", path, err)
	}
	return rs, nil
}
