package forms

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// targetMode is one choice of where a target sends: a kind, and for Home Assistant whether
// Hooktray registers itself or the registration is typed in.
type targetMode struct {
	label    string
	kind     hook.TargetKind
	register bool
}

// targetModes are the choices, one per kind, Home Assistant's two ways apart.
func targetModes() []targetMode {
	var out []targetMode
	for _, k := range hook.TargetKinds {
		switch k {
		case hook.TargetHTTP:
			out = append(out, targetMode{"HTTP URL", k, false})
		case hook.TargetHomeAssistant:
			out = append(out, targetMode{"Home Assistant (this app registers itself)", k, true},
				targetMode{"Home Assistant (webhook id and secret by hand)", k, false})
		case hook.TargetCommand:
			out = append(out, targetMode{"Program", k, false})
		case hook.TargetMQTT:
			out = append(out, targetMode{"MQTT broker", k, false})
		}
	}
	return out
}

// signingSchemes are the schemes a forwarded request can be signed with.
func signingSchemes() []string {
	out := []string{hook.SchemeNone.Title()}
	for _, s := range hook.Schemes {
		if verify.CanSign(s) {
			out = append(out, s.Title())
		}
	}
	return out
}

// Target is the forwarding target form: a new target of an endpoint, or the settings of one.
type Target struct {
	widget.BaseWidget
	frame
	// OnSubmit receives the endpoint and the change when Save is pressed and every field holds.
	OnSubmit func(endpointID string, c hook.TargetChange)
	OnCancel func()

	existing  *hook.Target
	endpoints []hook.Endpoint
	modes     []targetMode

	// The fields, for tests to fill.
	Endpoint, Kind, Sign                                              *widget.Select
	URL, Method, Headers, SignSecret                                  *Input
	HAWebhookID, HACloudhook, HARemoteUI, HAInstance, HASecret, Token *Input
	HAEncrypt                                                         *widget.Check
	Argv, Dir                                                         *Input
	Broker, Topic, MQTTUser, MQTTPassword, ClientID                   *Input
	QoS                                                               *widget.Select
	Retain, Discovery                                                 *widget.Check
	Types, Timeout, Retries, Rate                                     *Input
	ruleFields
}

// NewTarget returns the form for a new target of endpointID (t nil) or for t; endpoints are those
// a new target may belong to.
func NewTarget(endpoints []hook.Endpoint, endpointID string, t *hook.Target) *Target {
	f := &Target{existing: t, endpoints: endpoints, modes: targetModes()}
	f.frame = newFrame("Save", f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	cur := hook.NewTarget(endpointID, hook.TargetHTTP)
	if t != nil {
		cur = *t
	}
	f.makeChoices(cur)
	f.makeHTTPFields(cur)
	f.makeHomeAssistantFields(cur)
	f.makeCommandFields(cur)
	f.makeMQTTFields(cur)
	f.makeDeliveryFields(cur)
	f.ruleFields.make(&f.frame, cur, f.endpointID)
	f.Kind.OnChanged = func(string) { f.arrange() }
	f.ExtendBaseWidget(f)
	return f
}

func (f *Target) makeChoices(cur hook.Target) {
	var names []string
	for _, ep := range f.endpoints {
		names = append(names, ep.Name)
	}
	f.Endpoint = widget.NewSelect(names, nil)
	for _, ep := range f.endpoints {
		if ep.ID == cur.EndpointID {
			f.Endpoint.SetSelected(ep.Name)
		}
	}
	var labels []string
	for _, m := range f.modes {
		labels = append(labels, m.label)
	}
	f.Kind = widget.NewSelect(labels, nil)
	f.Kind.SetSelected(f.modes[0].label)
	if f.existing == nil {
		return
	}
	registered := cur.HomeAssistant != nil && cur.HomeAssistant.Registered
	for _, m := range f.modes {
		if m.kind == cur.Kind && (m.kind != hook.TargetHomeAssistant || m.register == registered) {
			f.Kind.SetSelected(m.label)
		}
	}
	f.Endpoint.Disable()
	f.Kind.Disable()
}

func (f *Target) makeHTTPFields(cur hook.Target) {
	f.URL = f.entry("url", cur.URL, "http://127.0.0.1:3000/webhook", optional(hook.CheckTargetURL))
	f.Method = f.entry("method", cur.Method, "the original's", hook.CheckMethod)
	var hdr []string
	for k, v := range cur.Headers {
		hdr = append(hdr, k+": "+v)
	}
	f.Headers = f.entry("headers", strings.Join(hdr, "\n"), "Authorization: Bearer …", func(s string) error { _, err := parseHeaders(s); return err })
	f.Headers.MultiLine = true
	f.Headers.SetMinRowsVisible(2)
	f.Sign = widget.NewSelect(signingSchemes(), nil)
	f.Sign.SetSelected(hook.SchemeNone.Title())
	if cur.SignScheme != hook.SchemeNone {
		f.Sign.SetSelected(cur.SignScheme.Title())
	}
	f.SignSecret = f.password("sign.secret", "")
	f.SignSecret.SetPlaceHolder("the secret the target checks with (write-only)")
	f.byField["sign.secret"] = f.SignSecret
}

func (f *Target) makeHomeAssistantFields(cur hook.Target) {
	ha := cur.HomeAssistant
	if ha == nil {
		ha = &hook.HomeAssistantTarget{}
	}
	url := optional(hook.CheckTargetURL)
	f.HAWebhookID = f.entry("home_assistant.webhook_id", ha.WebhookID, "from the mobile_app registration", nil)
	f.HACloudhook = f.entry("home_assistant.cloudhook_url", ha.CloudhookURL, "https://hooks.nabu.casa/… (tried first)", url)
	f.HARemoteUI = f.entry("home_assistant.remote_ui_url", ha.RemoteUIURL, "https://….ui.nabu.casa (tried second)", url)
	f.HAInstance = f.entry("home_assistant.instance_url", ha.InstanceURL, "http://homeassistant.local:8123 (tried last)", url)
	f.HAEncrypt = widget.NewCheck("Encrypt with the registration secret", nil)
	f.HAEncrypt.SetChecked(ha.Encrypt)
	f.HASecret = f.password("home_assistant.secret", "")
	f.HASecret.SetPlaceHolder("the registration's secret (write-only)")
	f.byField["home_assistant.secret"] = f.HASecret
	f.Token = f.password("token", "")
	f.Token.SetPlaceHolder("a long-lived access token (write-only)")
	if f.existing != nil {
		f.Token.SetPlaceHolder("kept; give a new one to register again")
	}
	f.byField["home_assistant.access_token"] = f.Token
}

func (f *Target) makeCommandFields(cur hook.Target) {
	cmd := cur.Command
	if cmd == nil {
		cmd = &hook.CommandTarget{}
	}
	f.Argv = f.entry("command.argv", strings.Join(cmd.Argv, "\n"), "/usr/local/bin/lamp\n--on", nil)
	f.Argv.MultiLine = true
	f.Argv.SetMinRowsVisible(2)
	f.Dir = f.entry("command.dir", cmd.Dir, "working folder (optional)", nil)
}

// qosChoices are the MQTT QoS levels, in words.
var qosChoices = []string{"0: at most once", "1: at least once", "2: exactly once"}

func (f *Target) makeMQTTFields(cur hook.Target) {
	m := cur.MQTT
	if m == nil {
		m = &hook.MQTTTarget{Topic: hook.DefaultMQTTTopic, QoS: 1}
	}
	f.Broker = f.entry("mqtt.broker", m.Broker, "mqtt://127.0.0.1:1883", optional(hook.CheckBroker))
	f.Topic = f.entry("mqtt.topic", m.Topic, hook.DefaultMQTTTopic, hook.CheckTopic)
	f.QoS = widget.NewSelect(qosChoices, nil)
	f.QoS.SetSelected(qosChoices[min(max(m.QoS, 0), 2)])
	f.Retain = widget.NewCheck("Retain: the broker keeps each topic's last message", nil)
	f.Retain.SetChecked(m.Retain)
	f.Discovery = widget.NewCheck("Announce to Home Assistant as an event entity (MQTT discovery)", nil)
	f.Discovery.SetChecked(m.Discovery)
	f.MQTTUser = f.entry("mqtt.username", m.Username, "none", nil)
	f.MQTTPassword = f.password("mqtt.password", "the broker's password (write-only)")
	if f.existing != nil {
		f.MQTTPassword.SetPlaceHolder("kept; give a new one to change it")
	}
	f.ClientID = f.entry("mqtt.client_id", m.ClientID, "hooktray-<the target's id>", nil)
}

// mqttChange is the MQTT fields as a change.
func (f *Target) mqttChange() *hook.MQTTChange {
	qos := slices.Index(qosChoices, f.QoS.Selected)
	m := &hook.MQTTChange{MQTTTarget: hook.MQTTTarget{Broker: strings.TrimSpace(f.Broker.Text), Topic: strings.TrimSpace(f.Topic.Text),
		QoS: max(qos, 0), Retain: f.Retain.Checked, Discovery: f.Discovery.Checked, Username: strings.TrimSpace(f.MQTTUser.Text), ClientID: strings.TrimSpace(f.ClientID.Text)}}
	if p := f.MQTTPassword.Text; p != "" {
		m.Password = &p
	}
	return m
}

func (f *Target) makeDeliveryFields(cur hook.Target) {
	f.Types = f.entry("event_types", strings.Join(cur.EventTypes, ", "), "*", nil)
	f.Timeout = f.entry("timeout_ms", strconv.FormatFloat(cur.Timeout.Seconds(), 'f', -1, 64), "30",
		func(s string) error { _, err := parseSeconds(s); return err })
	f.Retries = f.entry("max_retries", strconv.Itoa(cur.MaxRetries), "3", func(s string) error { _, err := parseInt(s, hook.CheckMaxRetries); return err })
	f.Rate = f.entry("rate_limit_per_minute", strconv.Itoa(cur.RateLimitPerMinute), "0", func(s string) error { _, err := parseInt(s, hook.CheckRateLimit); return err })
}

// endpointID is the endpoint the target is (or will be) of; "" until one is chosen.
func (f *Target) endpointID() string {
	if f.existing != nil {
		return f.existing.EndpointID
	}
	for _, ep := range f.endpoints {
		if ep.Name == f.Endpoint.Selected {
			return ep.ID
		}
	}
	return ""
}

// mode is the choice made in the form.
func (f *Target) mode() targetMode {
	for _, m := range f.modes {
		if m.label == f.Kind.Selected {
			return m
		}
	}
	return f.modes[0]
}

// arrange shows the fields of the chosen kind.
func (f *Target) arrange() {
	items := []*widget.FormItem{{Text: "Endpoint", Widget: f.Endpoint}, {Text: "Send to", Widget: f.Kind}}
	switch m := f.mode(); {
	case m.kind == hook.TargetHomeAssistant && m.register:
		items = append(items,
			&widget.FormItem{Text: "Instance URL", Widget: f.HAInstance, HintText: "the address you open Home Assistant at"},
			&widget.FormItem{Text: "Access token", Widget: f.Token, HintText: "Home Assistant: your profile, Security, Long-lived access tokens, Create token. Hooktray registers itself as a device and keeps the token to register again if the device is deleted"})
	case m.kind == hook.TargetHomeAssistant:
		items = append(items, &widget.FormItem{Text: "Webhook id", Widget: f.HAWebhookID}, &widget.FormItem{Text: "Cloudhook URL", Widget: f.HACloudhook},
			&widget.FormItem{Text: "Remote UI URL", Widget: f.HARemoteUI},
			&widget.FormItem{Text: "Instance URL", Widget: f.HAInstance, HintText: "tried in this order; the next after a network error or a 5xx"},
			&widget.FormItem{Text: "", Widget: f.HAEncrypt}, &widget.FormItem{Text: "Secret", Widget: f.HASecret})
	case m.kind == hook.TargetMQTT:
		items = append(items, &widget.FormItem{Text: "Broker", Widget: f.Broker, HintText: "mqtt://, mqtts://, ws:// or wss://, with its port"},
			&widget.FormItem{Text: "Topic", Widget: f.Topic, HintText: "{endpoint}, {endpoint_id} and {type} are filled in, made topic-safe"},
			&widget.FormItem{Text: "QoS", Widget: f.QoS, HintText: "1 and 2: delivered once the broker acknowledged it"},
			&widget.FormItem{Text: "", Widget: f.Retain}, &widget.FormItem{Text: "", Widget: f.Discovery},
			&widget.FormItem{Text: "Username", Widget: f.MQTTUser}, &widget.FormItem{Text: "Password", Widget: f.MQTTPassword},
			&widget.FormItem{Text: "Client id", Widget: f.ClientID})
	case m.kind == hook.TargetCommand:
		items = append(items, &widget.FormItem{Text: "Program", Widget: f.Argv, HintText: "the program and its arguments, one a line; no shell. The body is its input, the request its HOOKTRAY_* environment"},
			&widget.FormItem{Text: "Folder", Widget: f.Dir})
	default:
		items = append(items, &widget.FormItem{Text: "URL", Widget: f.URL, HintText: "the event's query is added to it"},
			&widget.FormItem{Text: "Method", Widget: f.Method}, &widget.FormItem{Text: "Extra headers", Widget: f.Headers, HintText: "one Name: value a line"},
			&widget.FormItem{Text: "Re-sign with", Widget: f.Sign, HintText: "a fresh signature per attempt, so the target's own check passes"},
			&widget.FormItem{Text: "Signing secret", Widget: f.SignSecret})
	}
	items = append(items, &widget.FormItem{Text: "Event types", Widget: f.Types, HintText: "* for all, or a list such as state.changed, alarm.*"})
	f.Form.Items = append(append(items, f.ruleFields.items()...),
		&widget.FormItem{Text: "Timeout (s)", Widget: f.Timeout},
		&widget.FormItem{Text: "Retries", Widget: f.Retries, HintText: "after the first attempt, waiting 1, 2, 4, 8, 16 s; then a dead letter"},
		&widget.FormItem{Text: "Per minute", Widget: f.Rate, HintText: "at most this many deliveries a minute (a burst waits its turn); 0 for no limit"})
	f.Form.Refresh()
}

// CreateRenderer lays the fields of the chosen kind out.
func (f *Target) CreateRenderer() fyne.WidgetRenderer {
	f.arrange()
	return renderer(f.frame.layout(nil, nil, true))
}

func (f *Target) submit() {
	id, c, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(id, c)
	}
}

// Change is what the form holds: the endpoint and the change to make, or the first field that is
// wrong. The change is checked as the delivery service will check it, by applying it to the target
// (a registration only by what registering needs: it gives the rest).
func (f *Target) Change() (endpointID string, c hook.TargetChange, fe *hook.FieldError) {
	scratch := hook.NewTarget("", f.mode().kind)
	if f.existing != nil {
		scratch = *f.existing
	}
	endpointID = f.endpointID()
	if endpointID == "" {
		return "", c, &hook.FieldError{Field: "endpoint_id", Message: "choose the endpoint whose events to forward"}
	}
	c, fe = f.change()
	if fe != nil {
		return endpointID, c, fe
	}
	check := c
	if ha := c.HomeAssistant; ha != nil && ha.Register {
		if err := ha.CheckRegistration(f.existing != nil && f.existing.HomeAssistant != nil && f.existing.HomeAssistant.Registered); err != nil {
			return endpointID, c, fieldError("", err)
		}
		check.HomeAssistant = &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{WebhookID: "(registered)", InstanceURL: ha.InstanceURL}}
	}
	if err := check.Apply(&scratch); err != nil {
		return endpointID, c, fieldError("", err)
	}
	return endpointID, c, nil
}

// change reads the fields into a change.
func (f *Target) change() (hook.TargetChange, *hook.FieldError) {
	m := f.mode()
	c := hook.TargetChange{Kind: &m.kind, EventTypes: splitList(f.Types.Text)}
	if len(c.EventTypes) == 0 {
		c.EventTypes = []string{"*"}
	}
	timeout, err := parseSeconds(f.Timeout.Text)
	if err != nil {
		return c, fieldError("timeout_ms", err)
	}
	retries, err := parseInt(f.Retries.Text, hook.CheckMaxRetries)
	if err != nil {
		return c, fieldError("max_retries", err)
	}
	rate, err := parseInt(f.Rate.Text, hook.CheckRateLimit)
	if err != nil {
		return c, fieldError("rate_limit_per_minute", err)
	}
	ms := timeout.Milliseconds()
	c.TimeoutMS, c.MaxRetries, c.RateLimitPerMinute = &ms, &retries, &rate
	if fe := f.ruleFields.apply(&c); fe != nil {
		return c, fe
	}
	switch {
	case m.kind == hook.TargetHomeAssistant && m.register:
		c.HomeAssistant = f.registration()
	case m.kind == hook.TargetHomeAssistant:
		c.HomeAssistant = f.homeAssistant()
	case m.kind == hook.TargetCommand:
		c.Command = &hook.CommandTarget{Argv: splitLines(f.Argv.Text), Dir: strings.TrimSpace(f.Dir.Text)}
	case m.kind == hook.TargetMQTT:
		c.MQTT = f.mqttChange()
	default:
		return c, f.httpChange(&c)
	}
	return c, nil
}

func (f *Target) httpChange(c *hook.TargetChange) *hook.FieldError {
	url, method := strings.TrimSpace(f.URL.Text), strings.TrimSpace(f.Method.Text)
	headers, err := parseHeaders(f.Headers.Text)
	if err != nil {
		return fieldError("headers", err)
	}
	c.URL, c.Method, c.Headers = &url, &method, headers
	if schemeTitled(f.Sign.Selected) == hook.SchemeNone {
		c.ClearSign = true
		return nil
	}
	c.Sign = &hook.SignChange{Scheme: string(schemeTitled(f.Sign.Selected))}
	if s := f.SignSecret.Text; s != "" {
		c.Sign.Secret = &s
	}
	return nil
}

// registration is the change that registers (again) with the instance: with a new token, or
// when the instance changed; else the registration is kept as it is.
func (f *Target) registration() *hook.HomeAssistantChange {
	token, instance := strings.TrimSpace(f.Token.Text), strings.TrimSpace(f.HAInstance.Text)
	ha := &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{InstanceURL: instance}}
	t := f.existing
	if t != nil && t.HomeAssistant != nil {
		ha.HomeAssistantTarget = *t.HomeAssistant
		ha.InstanceURL = instance
	}
	if t == nil || t.HomeAssistant == nil || token != "" || instance != t.HomeAssistant.InstanceURL {
		ha.Register, ha.AccessToken = true, &token
	}
	return ha
}

func (f *Target) homeAssistant() *hook.HomeAssistantChange {
	ha := &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{
		WebhookID: strings.TrimSpace(f.HAWebhookID.Text), CloudhookURL: strings.TrimSpace(f.HACloudhook.Text),
		RemoteUIURL: strings.TrimSpace(f.HARemoteUI.Text), InstanceURL: strings.TrimSpace(f.HAInstance.Text), Encrypt: f.HAEncrypt.Checked}}
	if s := f.HASecret.Text; s != "" {
		ha.Secret = &s
	}
	return ha
}

// optional is rule for a field that may be left empty.
func optional(rule func(string) error) func(string) error {
	return func(s string) error {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		return rule(s)
	}
}

// parseHeaders reads one "Name: value" a line, each checked by hook's rule.
func parseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range splitLines(s) {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not Name: value", line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if err := hook.CheckHeader(name, value); err != nil {
			return nil, err
		}
		out[name] = value
	}
	return out, nil
}

// parseSeconds reads a timeout in seconds and checks it by hook's rule.
func parseSeconds(s string) (time.Duration, error) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	d := time.Duration(secs * float64(time.Second))
	if err != nil || hook.CheckTimeout(d) != nil {
		return 0, fmt.Errorf("a number of seconds from 0.001 to %d", int(hook.MaxTargetTimeout.Seconds()))
	}
	return d, nil
}

// parseInt reads a whole number and checks it by rule.
func parseInt(s string, rule func(int) error) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("a whole number")
	}
	return n, rule(n)
}
