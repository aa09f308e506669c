package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

// optionalInt is an integer flag that can tell "not given" from any value, 0 included; its help
// shows the default the usage text gives, not a sentinel.
type optionalInt struct {
	n   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

func (o *optionalInt) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	o.n, o.set = n, true
	return nil
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (c *command) targets(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("targets: expected list, add, rm, resume or reregister")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list", "ls":
		return c.targetsList(ctx, rest)
	case "add":
		return c.targetsAdd(ctx, rest)
	case "rm", "delete":
		return c.targetAction(ctx, "rm", rest, http.MethodDelete, "")
	case "resume":
		return c.targetAction(ctx, "resume", rest, http.MethodPost, "/resume")
	case "reregister":
		return c.targetAction(ctx, "reregister", rest, http.MethodPost, "/reregister")
	default:
		return usagef("targets: unknown subcommand %q (want list, add, rm, resume or reregister)", sub)
	}
}

func (c *command) targetsList(ctx context.Context, args []string) error {
	fs := c.flags("targets list", "targets list [--endpoint ID|NAME] [--json]")
	endpoint := fs.String("endpoint", "", "only this endpoint's targets")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var eps []apijson.Endpoint
	if *endpoint != "" {
		e, err := cl.resolveEndpoint(ctx, *endpoint)
		if err != nil {
			return err
		}
		eps = []apijson.Endpoint{e}
	} else {
		var list apijson.EndpointList
		if err := cl.do(ctx, http.MethodGet, "/api/v1/endpoints", nil, &list, nil); err != nil {
			return err
		}
		eps = list.Endpoints
	}
	all := apijson.TargetList{Targets: []apijson.Target{}}
	names := map[string]string{}
	for _, e := range eps {
		var list apijson.TargetList
		var raw []byte
		if err := cl.do(ctx, http.MethodGet, "/api/v1/endpoints/"+pathEscape(e.ID)+"/targets", nil, &list, &raw); err != nil {
			return err
		}
		if *asJSON && *endpoint != "" {
			c.printRaw(raw)
			return nil
		}
		all.Targets = append(all.Targets, list.Targets...)
		names[e.ID] = e.Name
	}
	if *asJSON {
		return c.printJSON(all)
	}
	if len(all.Targets) == 0 {
		fmt.Fprintln(c.env.Stdout, "No forwarding targets. Add one with: hooktray targets add --endpoint NAME --url http://127.0.0.1:8123/…")
		return nil
	}
	w := tabwriter.NewWriter(c.text(c.env.Stdout), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tENDPOINT\tKIND\tSTATE\tTO")
	for _, t := range all.Targets {
		state := t.State
		if !t.Enabled && t.State == "active" {
			state = "off"
		}
		if t.StateReason != nil {
			state += ": " + *t.StateReason
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, names[t.EndpointID], t.Kind, state, targetWhere(t))
	}
	return w.Flush()
}

func targetWhere(t apijson.Target) string {
	switch {
	case t.URL != nil:
		return *t.URL
	case t.HomeAssistant != nil:
		return "webhook " + t.HomeAssistant.WebhookID
	case t.Command != nil:
		return strings.Join(t.Command.Argv, " ")
	case t.MQTT != nil:
		return t.MQTT.Broker + " " + t.MQTT.Topic
	}
	return ""
}

// targetsAdd adds an HTTP, MQTT or Home Assistant target. Command targets run programs, so only the
// app and the admin API configure them.
func (c *command) targetsAdd(ctx context.Context, args []string) error {
	fs := c.flags("targets add", "targets add --endpoint ID|NAME (--url URL | --mqtt-url URL [--topic T] [--qos N] | --ha-register URL | --ha-webhook-id ID --ha-instance-url URL …) [flags]")
	endpoint := fs.String("endpoint", "", "the endpoint whose events to forward (required)")
	tf := newTargetFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("targets add: unexpected argument %q", pos[0])
	}
	if *endpoint == "" {
		return usagef("targets add: --endpoint is required")
	}
	ch, err := tf.change()
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	e, err := cl.resolveEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	var t apijson.Target
	var raw []byte
	if err := cl.do(ctx, http.MethodPost, "/api/v1/endpoints/"+pathEscape(e.ID)+"/targets", ch, &t, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "Forwarding %s's events to %s (target %s).\n", e.Name, targetWhere(t), t.ID)
	return nil
}

// targetFlags are the flags of targets add: where the target sends, and how.
type targetFlags struct {
	to, method, sign, when, transform          *string
	headers, types, transformHeaders           stringList
	timeout                                    *time.Duration
	retries                                    optionalInt
	rate                                       *int
	haRegister, haID, haCloud, haRemote, haURL *string
	haEncrypt                                  *bool
	mqttURL, topic, mqttUser, mqttClientID     *string
	qos                                        *int
	retain, discovery                          *bool
}

func newTargetFlags(fs *flagSet) *targetFlags {
	f := &targetFlags{}
	f.to = fs.String("url", "", "forward to this URL (an HTTP target)")
	f.method = fs.String("method", "", "send with this method (default: the original's)")
	fs.Var(&f.headers, "header", "add this header, Name: value (repeatable)")
	fs.Var(&f.types, "event-type", `forward only events of this type (repeatable; default "*")`)
	f.timeout = fs.Duration("timeout", 0, "give up on an attempt after this long (default 30s)")
	fs.Var(&f.retries, "max-retries", "`n` retries after the first attempt (default 3)")
	f.rate = fs.Int("rate-limit", 0, "at most this many deliveries per minute (default: no limit)")
	f.when = fs.String("when", "", `forward only events for which this rule (CEL) is true, e.g. 'body.ref == "refs/heads/main"'`)
	f.transform = fs.String("transform", "", "send what this rule (CEL) makes instead of the body: a map or a list as JSON, a string as text")
	fs.Var(&f.transformHeaders, "transform-header", "add this header, Name: rule (CEL, a string) (repeatable)")
	f.sign = fs.String("sign", "", "re-sign with this scheme (its secret is read from HOOKTRAY_TARGET_SECRET)")
	f.haRegister = fs.String("ha-register", "", "Home Assistant: register Hooktray with the instance at this URL (a long-lived access token in HOOKTRAY_TARGET_SECRET)")
	f.haID = fs.String("ha-webhook-id", "", "Home Assistant: the mobile_app registration's webhook id")
	f.haCloud = fs.String("ha-cloudhook-url", "", "Home Assistant: the cloudhook URL, tried first")
	f.haRemote = fs.String("ha-remote-ui-url", "", "Home Assistant: the remote UI URL, tried second")
	f.haURL = fs.String("ha-instance-url", "", "Home Assistant: the instance URL, tried last")
	f.haEncrypt = fs.Bool("ha-encrypt", false, "Home Assistant: encrypt with the registration secret (from HOOKTRAY_TARGET_SECRET)")
	f.mqttURL = fs.String("mqtt-url", "", "publish to this MQTT broker (mqtt://, mqtts://, ws://, wss://HOST:PORT); the password from HOOKTRAY_TARGET_SECRET")
	f.topic = fs.String("topic", "", "MQTT: the topic, with {endpoint}, {endpoint_id} and {type} (default "+hook.DefaultMQTTTopic+")")
	f.qos = fs.Int("qos", 1, "MQTT: 0 at most once, 1 at least once, 2 exactly once")
	f.retain = fs.Bool("retain", false, "MQTT: the broker keeps the last message of each topic")
	f.discovery = fs.Bool("ha-discovery", false, "MQTT: announce the endpoint to Home Assistant as an event entity (MQTT discovery)")
	f.mqttUser = fs.String("mqtt-user", "", "MQTT: the username")
	f.mqttClientID = fs.String("mqtt-client-id", "", "MQTT: the client id (default hooktray-<target id>)")
	return f
}

// change is the target the flags describe; the secrets come from HOOKTRAY_TARGET_SECRET, never
// the command line.
func (f *targetFlags) change() (hook.TargetChange, error) {
	ch, err := f.where()
	if err != nil {
		return ch, err
	}
	if *f.method != "" {
		ch.Method = f.method
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return ch, usagef("targets add: --header %q is not Name: value", h)
		}
		if ch.Headers == nil {
			ch.Headers = map[string]string{}
		}
		ch.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(f.types) > 0 {
		ch.EventTypes = f.types
	}
	if *f.when != "" {
		ch.When = f.when
	}
	if tr, err := f.transformOf(); err != nil || tr != nil {
		ch.Transform = tr
		if err != nil {
			return ch, err
		}
	}
	if *f.timeout != 0 {
		ms := f.timeout.Milliseconds()
		ch.TimeoutMS = &ms
	}
	if f.retries.set {
		ch.MaxRetries = &f.retries.n
	}
	if *f.rate != 0 {
		ch.RateLimitPerMinute = f.rate
	}
	if *f.sign != "" {
		secret := os.Getenv("HOOKTRAY_TARGET_SECRET")
		if secret == "" {
			return ch, usagef("targets add: --sign needs the target's secret in HOOKTRAY_TARGET_SECRET (never on the command line)")
		}
		ch.Sign = &hook.SignChange{Scheme: *f.sign, Secret: &secret}
	}
	return ch, nil
}

// transformOf is the transform the flags give (nil: none).
func (f *targetFlags) transformOf() (*hook.Transform, error) {
	if *f.transform == "" && len(f.transformHeaders) == 0 {
		return nil, nil
	}
	tr := &hook.Transform{Body: *f.transform}
	for _, h := range f.transformHeaders {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, usagef("targets add: --transform-header %q is not Name: rule", h)
		}
		if tr.Headers == nil {
			tr.Headers = map[string]string{}
		}
		tr.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return tr, nil
}

// where is where the target sends: a URL, a Home Assistant instance to register with, or a
// registration given by hand.
func (f *targetFlags) where() (hook.TargetChange, error) {
	var ch hook.TargetChange
	ha := hook.TargetHomeAssistant
	switch {
	case *f.mqttURL != "" && (*f.to != "" || *f.haID != "" || *f.haRegister != ""),
		*f.to != "" && (*f.haID != "" || *f.haRegister != ""), *f.haID != "" && *f.haRegister != "":
		return ch, usagef("targets add: give one of --url, --mqtt-url, --ha-register and --ha-webhook-id")
	case *f.mqttURL != "":
		mq := hook.TargetMQTT
		ch.Kind = &mq
		ch.MQTT = &hook.MQTTChange{MQTTTarget: hook.MQTTTarget{Broker: *f.mqttURL, Topic: *f.topic, QoS: *f.qos,
			Retain: *f.retain, Username: *f.mqttUser, ClientID: *f.mqttClientID, Discovery: *f.discovery}}
		if secret := os.Getenv("HOOKTRAY_TARGET_SECRET"); secret != "" {
			ch.MQTT.Password = &secret
		}
	case *f.haRegister != "":
		token := os.Getenv("HOOKTRAY_TARGET_SECRET")
		if token == "" {
			return ch, usagef("targets add: --ha-register needs a long-lived access token in HOOKTRAY_TARGET_SECRET (Home Assistant: your profile → Security → Long-lived access tokens)")
		}
		ch.Kind = &ha
		ch.HomeAssistant = &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{InstanceURL: *f.haRegister},
			Register: true, AccessToken: &token}
	case *f.haID != "":
		ch.Kind = &ha
		ch.HomeAssistant = &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{WebhookID: *f.haID, CloudhookURL: *f.haCloud,
			RemoteUIURL: *f.haRemote, InstanceURL: *f.haURL, Encrypt: *f.haEncrypt}}
		if *f.haEncrypt {
			secret := os.Getenv("HOOKTRAY_TARGET_SECRET")
			if secret == "" {
				return ch, usagef("targets add: --ha-encrypt needs the registration secret in HOOKTRAY_TARGET_SECRET")
			}
			ch.HomeAssistant.Secret = &secret
		}
	case *f.to != "":
		ch.URL = f.to
	default:
		return ch, usagef("targets add: give --url, --mqtt-url, --ha-register with the Home Assistant URL, or --ha-webhook-id with its URLs")
	}
	return ch, nil
}

func (c *command) targetAction(ctx context.Context, sub string, args []string, method, suffix string) error {
	var t apijson.Target
	id, asJSON, raw, err := c.idCall(ctx, "targets "+sub, "target id", args, method,
		func(id string) string { return "/api/v1/targets/" + pathEscape(id) + suffix }, &t)
	if err != nil {
		return err
	}
	switch {
	case asJSON && len(raw) > 0:
		c.printRaw(raw)
	case asJSON:
		c.printRaw([]byte(`{"deleted":"` + id + `"}`))
	case sub == "rm":
		fmt.Fprintf(c.env.Stdout, "Removed target %s; its deliveries still to make ended as failed.\n", id)
	case sub == "reregister":
		fmt.Fprintf(c.env.Stdout, "Registered again with Home Assistant (webhook %s); target %s is %s and its deliveries go again now.\n",
			t.HomeAssistant.WebhookID, id, t.State)
	default:
		fmt.Fprintf(c.env.Stdout, "Target %s is %s; its deliveries go again now.\n", id, t.State)
	}
	return nil
}

func (c *command) deliveries(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("deliveries: expected list, retry or retry-all")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list", "ls":
		return c.deliveriesList(ctx, rest)
	case "retry":
		return c.deliveryRetry(ctx, rest)
	case "retry-all":
		return c.deliveriesRetryAll(ctx, rest)
	default:
		return usagef("deliveries: unknown subcommand %q (want list, retry or retry-all)", sub)
	}
}

func (c *command) deliveriesList(ctx context.Context, args []string) error {
	fs := c.flags("deliveries list", "deliveries list [--event ID] [--target TID] [--status S] [--limit N] [--before CURSOR] [--json]")
	event := fs.String("event", "", "only this event's deliveries")
	target := fs.String("target", "", "only this target's deliveries")
	status := fs.String("status", "", "pending, success, failed, retrying or dead_letter")
	limit := fs.Int("limit", 0, "how many (default 100, at most 1000)")
	before := fs.String("before", "", "the cursor of the previous page")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("deliveries list: unexpected argument %q", pos[0])
	}
	if *status != "" {
		if _, err := hook.ParseDeliveryStatus(*status); err != nil {
			return usagef("deliveries list: --status: %v", err)
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"event": *event, "target": *target, "status": *status, "before": *before} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var list apijson.DeliveryList
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/deliveries?"+q.Encode(), nil, &list, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	if len(list.Deliveries) == 0 {
		fmt.Fprintln(c.env.Stdout, "No deliveries.")
		return nil
	}
	// Errors quote what targets answered: escaped on a terminal.
	w := tabwriter.NewWriter(c.text(c.env.Stdout), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEVENT\tTARGET\tSTATUS\tATTEMPTS\tANSWER\tNEXT / ERROR")
	for _, d := range list.Deliveries {
		answer := "-"
		if d.ResponseStatus != nil && d.LatencyMS != nil {
			answer = fmt.Sprintf("%d in %d ms", *d.ResponseStatus, *d.LatencyMS)
		}
		note := ""
		if d.NextAt != nil && d.Status == "retrying" {
			note = "next at " + d.NextAt.Local().Format(time.TimeOnly)
		}
		if d.Error != nil {
			note = strings.TrimSpace(note + " " + *d.Error)
		}
		fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.EventID, d.TargetID, d.Status, d.Attempt, answer, note)
	}
	if list.Next != nil {
		fmt.Fprintf(w, "(more: --before %s)\n", *list.Next)
	}
	return w.Flush()
}

func (c *command) deliveryRetry(ctx context.Context, args []string) error {
	var d apijson.Delivery
	_, asJSON, raw, err := c.idCall(ctx, "deliveries retry", "delivery id", args, http.MethodPost,
		func(id string) string { return "/api/v1/deliveries/" + pathEscape(id) + "/retry" }, &d)
	if err != nil {
		return err
	}
	if asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "Delivery %d is due again (same id, attempts counted afresh).\n", d.ID)
	return nil
}

func (c *command) deliveriesRetryAll(ctx context.Context, args []string) error {
	fs := c.flags("deliveries retry-all", "deliveries retry-all --target TID [--status dead_letter|failed] [--json]")
	target := fs.String("target", "", "the target whose deliveries to retry (required)")
	status := fs.String("status", "dead_letter", "which ones: dead_letter or failed")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *target == "" {
		return usagef("deliveries retry-all: give --target TID")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var ans apijson.RetryAnswer
	var raw []byte
	if err := cl.do(ctx, http.MethodPost, "/api/v1/deliveries/retry", apijson.RetryRequest{Target: *target, Status: *status}, &ans, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "%d deliveries are due again, in their original order.\n", ans.Retried)
	return nil
}
