package forms

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

func wantField(t *testing.T, what string, fe *hook.FieldError, field string) {
	t.Helper()
	if fe == nil || fe.Field != field {
		t.Errorf("%s: got %v, want an error about %s", what, fe, field)
	}
}

func TestEndpointFormGivesTheChangeItHolds(t *testing.T) {
	test.NewTempApp(t)
	f := NewEndpoint(nil)
	f.Name.SetText("  Alarm ")
	f.Status.SetText("202")
	f.Limit.SetText("0.5")
	f.AlertTypes.SetText("ALERT, , ANOMALY")
	f.RouteBy.SetSelected(routeKeyPath)
	f.RouteValue.SetText("body.device_id")
	f.Scheme.SetSelected(hook.SchemeStripe.Title())
	f.VerifyMode.SetSelected(string(hook.VerifyAnnotate))
	f.Secret.SetText("whsec_x")
	var submitted *hook.EndpointChange
	f.OnSubmit = func(c hook.EndpointChange) { submitted = &c }
	test.Tap(f.Save)
	if submitted == nil {
		t.Fatal("Save did not submit a valid form")
	}
	c := *submitted
	ep := hook.NewEndpoint("")
	if err := c.Apply(&ep); err != nil {
		t.Fatal(err)
	}
	if ep.Name != "Alarm" || ep.ResponseStatus != 202 || ep.BodyLimit != 512<<10 || !slices.Equal(ep.Settings.AlertTypes, []string{"ALERT", "ANOMALY"}) ||
		ep.Settings.Route.KeyPath != "body.device_id" || ep.VerifyScheme != hook.SchemeStripe || ep.VerifyMode != hook.VerifyAnnotate {
		t.Errorf("the change made %+v", ep)
	}
	if c.Secret == nil || *c.Secret != "whsec_x" {
		t.Errorf("secret %v", c.Secret)
	}
}

func TestEndpointFormNamesTheFieldThatIsWrong(t *testing.T) {
	test.NewTempApp(t)
	for _, tc := range []struct {
		name  string
		fill  func(f *Endpoint)
		field string
	}{
		{"no name", func(f *Endpoint) {}, "name"},
		{"a status that is not one", func(f *Endpoint) { f.Name.SetText("a"); f.Status.SetText("20x") }, "response_status"},
		{"a status out of range", func(f *Endpoint) { f.Name.SetText("a"); f.Status.SetText("700") }, "response_status"},
		{"a body limit of nothing", func(f *Endpoint) { f.Name.SetText("a"); f.Limit.SetText("0") }, "body_limit"},
		{"a key path that does not parse", func(f *Endpoint) {
			f.Name.SetText("a")
			f.RouteBy.SetSelected(routeKeyPath)
			f.RouteValue.SetText("body..x[")
		}, "route.key_path"},
		{"hmac without its header", func(f *Endpoint) { f.Name.SetText("a"); f.Scheme.SetSelected(hook.SchemeHMAC.Title()) }, "verify.header"},
		{"an alert type too long", func(f *Endpoint) { f.Name.SetText("a"); f.AlertTypes.SetText(strings.Repeat("x", 101)) }, "alert_types"},
		{"empty alert types between commas", func(f *Endpoint) { f.Name.SetText("a"); f.AlertTypes.SetText("ALERT,, ,") }, ""},
	} {
		f := NewEndpoint(nil)
		tc.fill(f)
		submitted := false
		f.OnSubmit = func(hook.EndpointChange) { submitted = true }
		_, fe := f.Change()
		if tc.field == "" {
			if fe != nil {
				t.Errorf("%s: %v", tc.name, fe)
			}
			continue
		}
		wantField(t, tc.name, fe, tc.field)
		f.submit()
		if submitted {
			t.Errorf("%s: submitted", tc.name)
		}
	}
}

func TestEndpointFormKeepsWhatItWasNotAskedToChange(t *testing.T) {
	test.NewTempApp(t)
	ep := hook.NewEndpoint("")
	ep.ID, ep.Name, ep.ResponseStatus, ep.Notes = "ep1", "Door", 204, "front door"
	ep.VerifyScheme, ep.VerifyMode, ep.Settings.Verify.Header = hook.SchemeHMAC, hook.VerifyEnforce, "X-Sig"
	ep.Settings.Keys, ep.Settings.Route.QueryParam = []string{"door"}, "homey"
	c, fe := NewEndpoint(&ep).Change()
	if fe != nil {
		t.Fatal(fe)
	}
	got := ep
	if err := c.Apply(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ep) {
		t.Errorf("an untouched form changed the endpoint:\n got %+v\nwant %+v", got, ep)
	}
	if c.Secret != nil {
		t.Error("an untouched secret field gave a secret")
	}
}

func TestEndpointFormShowsTheServicesFieldErrors(t *testing.T) {
	test.NewTempApp(t)
	f := NewEndpoint(nil)
	if !f.ShowError(&hook.FieldError{Field: "route.query_param", Message: "no"}) {
		t.Error("an error about the route found no field")
	}
	if f.ShowError(&hook.FieldError{Field: "enabled", Message: "no"}) {
		t.Error("an error about a field the form has not was taken")
	}
}

func endpoints() []hook.Endpoint {
	a, b := hook.NewEndpoint(""), hook.NewEndpoint("")
	a.ID, a.Name, b.ID, b.Name = "a1", "Alarm", "d1", "Door"
	return []hook.Endpoint{a, b}
}

func TestTargetFormForAnHTTPTarget(t *testing.T) {
	test.NewTempApp(t)
	f := NewTarget(endpoints(), "d1", nil)
	test.WidgetRenderer(f)
	f.URL.SetText(" http://127.0.0.1:3000/hook ")
	f.Headers.SetText("Authorization: Bearer x\n\nX-A: 1")
	f.Sign.SetSelected(hook.SchemeGitHub.Title())
	f.SignSecret.SetText("s3")
	f.Types.SetText("alarm.*, door")
	f.Timeout.SetText("2.5")
	f.Retries.SetText("1")
	id, c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	if id != "d1" || *c.Kind != hook.TargetHTTP || *c.URL != "http://127.0.0.1:3000/hook" || *c.TimeoutMS != 2500 || *c.MaxRetries != 1 ||
		!reflect.DeepEqual(c.Headers, map[string]string{"Authorization": "Bearer x", "X-A": "1"}) ||
		!slices.Equal(c.EventTypes, []string{"alarm.*", "door"}) || c.Sign.Scheme != "github" || *c.Sign.Secret != "s3" {
		t.Errorf("change %s %+v", id, c)
	}
	for _, tc := range []struct {
		name  string
		fill  func()
		field string
	}{
		{"a header line without a colon", func() { f.Headers.SetText("Authorization Bearer") }, "headers"},
		{"a relative URL", func() { f.Headers.SetText(""); f.URL.SetText("/hook") }, "url"},
		{"a timeout that is not a number", func() { f.URL.SetText("http://x"); f.Timeout.SetText("soon") }, "timeout_ms"},
		{"a timeout past the longest", func() { f.Timeout.SetText("601") }, "timeout_ms"},
		{"retries out of range", func() { f.Timeout.SetText("1"); f.Retries.SetText("-1") }, "max_retries"},
		{"a rate out of range", func() { f.Retries.SetText("1"); f.Rate.SetText("1000000") }, "rate_limit_per_minute"},
	} {
		tc.fill()
		_, _, fe := f.Change()
		wantField(t, tc.name, fe, tc.field)
	}
}

func TestTargetFormSignsUpWithHomeAssistant(t *testing.T) {
	test.NewTempApp(t)
	f := NewTarget(endpoints(), "", nil)
	test.WidgetRenderer(f)
	_, _, fe := f.Change()
	wantField(t, "no endpoint chosen", fe, "endpoint_id")
	f.Endpoint.SetSelected("Alarm")
	f.Kind.SetSelected(targetModes()[1].label) // registers itself
	f.HAInstance.SetText("http://homeassistant.local:8123")
	_, _, fe = f.Change()
	wantField(t, "no access token", fe, "home_assistant.access_token")
	f.Token.SetText(" llat ")
	id, c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	if ha := c.HomeAssistant; id != "a1" || ha == nil || !ha.Register || *ha.AccessToken != "llat" || ha.InstanceURL != "http://homeassistant.local:8123" {
		t.Errorf("change %s %+v", id, c.HomeAssistant)
	}

	// Edited later without a new token, on the same instance: the registration stays as it is.
	reg := hook.NewTarget("a1", hook.TargetHomeAssistant)
	reg.HomeAssistant = &hook.HomeAssistantTarget{WebhookID: "w1", InstanceURL: "http://ha:8123", Encrypt: true, Registered: true}
	g := NewTarget(endpoints(), "a1", &reg)
	_, c, fe = g.Change()
	if fe != nil || c.HomeAssistant.Register || c.HomeAssistant.WebhookID != "w1" {
		t.Errorf("an untouched registration: %v %+v", fe, c.HomeAssistant)
	}
	g.HAInstance.SetText("http://ha.lan:8123")
	if _, c, fe = g.Change(); fe != nil || !c.HomeAssistant.Register || *c.HomeAssistant.AccessToken != "" {
		t.Errorf("a new instance registers again with the kept token: %v %+v", fe, c.HomeAssistant)
	}
}

func TestTargetFormRunsAProgram(t *testing.T) {
	test.NewTempApp(t)
	f := NewTarget(endpoints(), "a1", nil)
	f.Kind.SetSelected("Program")
	_, _, fe := f.Change()
	wantField(t, "no program", fe, "command.argv")
	f.Argv.SetText("/usr/local/bin/lamp\n --on \n")
	_, c, fe := f.Change()
	if fe != nil || !slices.Equal(c.Command.Argv, []string{"/usr/local/bin/lamp", "--on"}) || *c.Kind != hook.TargetCommand {
		t.Errorf("%v %+v", fe, c.Command)
	}
}

func diagralFields(provider string) ([]hook.ProviderField, string, error) {
	p := subscribe.Providers()[provider]
	return p.Fields(), p.DefaultBaseURL(), nil
}

func TestSubscriptionFormGivesTheProvidersSettings(t *testing.T) {
	test.NewTempApp(t)
	f := NewSubscription(endpoints(), "a1", nil, nil, []string{"diagral"}, diagralFields)
	test.WidgetRenderer(f)
	f.byField["settings.serial_id"].SetText(" 123 ")
	f.byField["settings.api_key"].SetText("key")
	f.SetValue("secret_key", "made from the account")
	c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	want := map[string]any{"serial_id": "123", "api_key": "key", "secret_key": "made from the account",
		"subscribe_alert": true, "subscribe_anomaly": true, "subscribe_state": true}
	if *c.EndpointID != "a1" || *c.Provider != "diagral" || !reflect.DeepEqual(c.Settings, want) {
		t.Errorf("change %v %v %v", *c.EndpointID, *c.Provider, c.Settings)
	}

	stored := hook.Subscription{ID: "s1", EndpointID: "a1", Provider: "diagral", Settings: map[string]any{"serial_id": "123"}}
	g := NewSubscription(endpoints(), "a1", &stored, []string{"api_key", "secret_key"}, []string{"diagral"}, diagralFields)
	test.WidgetRenderer(g)
	c, fe = g.Change()
	if fe != nil || c.EndpointID != nil || c.Provider != nil || c.Settings["api_key"] != nil || c.Settings["serial_id"] != "123" {
		t.Errorf("an untouched subscription: %v %+v", fe, c)
	}
}

func TestSubscriptionFormNamesASettingThatIsNotANumber(t *testing.T) {
	test.NewTempApp(t)
	f := NewSubscription(endpoints(), "a1", nil, nil, []string{"device-platform-v2"}, diagralFields)
	test.WidgetRenderer(f)
	f.byField["settings.device_ids"].SetText("1, two")
	_, fe := f.Change()
	wantField(t, "a list of numbers with a word in it", fe, "settings.device_ids")
	f.byField["settings.device_ids"].SetText("1, 2")
	f.byField["settings.organization_id"].SetText("many")
	_, fe = f.Change()
	wantField(t, "a number that is not one", fe, "settings.organization_id")
	f.byField["settings.organization_id"].SetText("7")
	c, fe := f.Change()
	if fe != nil || !reflect.DeepEqual(c.Settings["device_ids"], []any{1.0, 2.0}) || c.Settings["organization_id"] != 7.0 {
		t.Errorf("%v %v", fe, c.Settings)
	}
}

func TestTunnelFormChecksAsTheServiceWill(t *testing.T) {
	test.NewTempApp(t)
	f := NewTunnel(tunnel.Settings{Mode: tunnel.Quick}, false)
	if c, fe := f.Change(); fe != nil || *c.Mode != tunnel.Quick || c.Token != nil {
		t.Errorf("untouched: %v %+v", fe, c)
	}
	f.Mode.SetSelected(tunnelLabels[tunnel.External])
	_, fe := f.Change()
	wantField(t, "an own URL not given", fe, "public_url")
	f.URL.SetText("ftp://example.com")
	_, fe = f.Change()
	wantField(t, "not http(s)", fe, "public_url")
	f.Mode.SetSelected(tunnelLabels[tunnel.Token])
	f.URL.SetText("hooks.example.com")
	_, fe = f.Change()
	wantField(t, "a named tunnel without a token", fe, "token")
	if !f.ShowError(fe) {
		t.Error("the token's error found no field")
	}
	if _, fe = NewTunnel(tunnel.Settings{Mode: tunnel.Token, PublicURL: "https://h.example.com"}, true).Change(); fe != nil {
		t.Errorf("a stored token counts: %v", fe)
	}
	f.Token.SetText("eyJ")
	if c, fe := f.Change(); fe != nil || *c.Token != "eyJ" {
		t.Errorf("%v %+v", fe, c)
	}
}

func TestReplayFormGivesTheEditOnlyWhenSomethingChanged(t *testing.T) {
	test.NewTempApp(t)
	ev := hook.Event{ID: 7, Method: "POST", Header: map[string][]string{"X-A": {"1"}, "Content-Type": {"application/json"}}, Body: []byte(`{"a":1}`)}
	targets := []hook.Target{{ID: "t1"}, {ID: "t2"}}
	f := NewReplay(ev, targets, func(t hook.Target) string { return t.ID })
	test.WidgetRenderer(f)
	chosen, edit, fe := f.Change()
	if fe != nil || !slices.Equal(chosen, []string{"t1", "t2"}) || edit != nil {
		t.Errorf("untouched: %v %v %+v", fe, chosen, edit)
	}
	f.To[0].SetChecked(false)
	f.Method.SetText(" put ")
	f.Body.SetText(`{"a":2}`)
	f.Headers.SetText("X-A: 1\nX-A: 2")
	chosen, edit, fe = f.Change()
	if fe != nil || !slices.Equal(chosen, []string{"t2"}) || edit == nil || *edit.Method != "PUT" || string(edit.Body) != `{"a":2}` ||
		!slices.Equal(edit.Headers["X-A"], []string{"1", "2"}) {
		t.Errorf("edited: %v %v %+v", fe, chosen, edit)
	}
	f.Headers.SetText("no colon here")
	_, _, fe = f.Change()
	wantField(t, "a header line without a colon", fe, "headers")
	f.To[1].SetChecked(false)
	_, _, fe = f.Change()
	wantField(t, "no target", fe, "targets")

	bin := NewReplay(hook.Event{Method: "POST", Body: []byte{0xff, 0xfe}}, targets, func(t hook.Target) string { return t.ID })
	if _, edit, _ := bin.Change(); edit != nil {
		t.Errorf("a binary body was edited: %+v", edit)
	}
}

// The target form's rules: checked as typed and before saving (with where), into the change,
// and tried through OnTry with what the fields hold.
func TestTargetFormRulesAreCheckedAndTried(t *testing.T) {
	test.NewTempApp(t)
	env, err := rules.New()
	if err != nil {
		t.Fatal(err)
	}
	f := NewTarget(endpoints(), "d1", nil)
	f.SetRuleChecker(env.CheckField)
	test.WidgetRenderer(f)
	f.URL.SetText("http://127.0.0.1:3000/hook")
	f.When.SetText(`type == "push" && bdy.ref == "x"`)
	_, _, fe := f.Change()
	wantField(t, "a typo in the condition", fe, "when")
	if fe != nil && !strings.Contains(fe.Message, "1:19") {
		t.Errorf("the typo's message %q does not say where", fe.Message)
	}
	f.When.SetText(`body.ref == "refs/heads/main"`)
	f.Transform.SetText(`{"branch": body.ref}`)
	f.TransformHeaders.SetText("X-Repo: body.repository.full_name")
	_, c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	if *c.When != `body.ref == "refs/heads/main"` || c.Transform.Body != `{"branch": body.ref}` || c.Transform.Headers["X-Repo"] != "body.repository.full_name" {
		t.Errorf("change %+v %+v", *c.When, c.Transform)
	}
	var tried rules.Trial
	var on string
	f.OnTry = func(endpointID string, tr rules.Trial) { on, tried = endpointID, tr }
	test.Tap(f.Try)
	if on != "d1" || tried.When != `body.ref == "refs/heads/main"` || tried.Transform.Body != `{"branch": body.ref}` || !f.Try.Disabled() {
		t.Errorf("tried %s %+v", on, tried)
	}
	f.ShowTrial([]rules.TrialResult{{EventID: 3, Matched: true, Output: &rules.Output{Body: []byte(`{"branch":"refs/heads/main"}`)}}, {EventID: 2}, {EventID: 1, Error: "no such key: ref"}}, nil)
	if got := f.Trial.Text; !strings.Contains(got, "Of the last 3 events, 1 would be sent, 1 not, and the rules fail on 1") ||
		!strings.Contains(got, `#3 sends {"branch":"refs/heads/main"}`) || !strings.Contains(got, "#1: the rules fail: no such key") || f.Try.Disabled() {
		t.Errorf("trial shown as %q", got)
	}
	f.When.SetText(`type == "push" &&`)
	f.insert(f.When, "body.ref") // a path chosen from Fields…
	if f.When.Text != `type == "push" && body.ref` {
		t.Errorf("inserted: %q", f.When.Text)
	}
	f.When.SetText("")
	f.Transform.SetText("")
	f.TransformHeaders.SetText("")
	if _, c, _ := f.Change(); *c.When != "" || !c.Transform.Empty() {
		t.Errorf("emptied rules: %+v", c)
	}
}

// An endpoint's response rules are edited one JSON object a line; a wrong one is refused with
// where, before it is saved.
func TestEndpointFormResponseRules(t *testing.T) {
	test.NewTempApp(t)
	env, _ := rules.New()
	ep := hook.NewEndpoint("flaky")
	ep.Settings.Responses = []hook.ResponseRule{{When: "count > 100", Status: 410}}
	f := NewEndpoint(&ep)
	f.SetRuleChecker(env.CheckField)
	test.WidgetRenderer(f)
	if f.Responses.Text != `{"when":"count > 100","status":410}` {
		t.Errorf("shown as %q", f.Responses.Text)
	}
	f.Responses.SetText(f.Responses.Text + "\n" + `{"when": "rand() < 0.1", "status": 503, "headers": {"Retry-After": "30"}, "delay_ms": 200}`)
	c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	if rs := *c.ResponseRules; len(rs) != 2 || rs[1].Status != 503 || rs[1].Headers["Retry-After"] != "30" || rs[1].DelayMS != 200 {
		t.Errorf("rules %+v", rs)
	}
	for _, bad := range []string{`{"when": "rand() <", "status": 503}`, `{"when": "true", "status": 99}`, `{"when": "true", "stat": 503}`} {
		f.Responses.SetText(bad)
		_, fe := f.Change()
		if fe == nil || !strings.HasPrefix(fe.Field, "response_rules") {
			t.Errorf("%s: %v", bad, fe)
		}
	}
}

func TestEndpointFormTriesItsResponseRules(t *testing.T) {
	test.NewTempApp(t)
	ep := hook.NewEndpoint("flaky")
	f := NewEndpoint(&ep)
	test.WidgetRenderer(f)
	var tried []hook.ResponseRule
	f.OnTryResponses = func(rs []hook.ResponseRule) { tried = rs }
	f.Responses.SetText(`{"when": "rand() < 0.1", "status": 503}`)
	test.Tap(f.TryResponses)
	if len(tried) != 1 || tried[0].Status != 503 || !f.TryResponses.Disabled() {
		t.Fatalf("tried %+v", tried)
	}
	f.ShowResponseTrial([]rules.TrialResult{{EventID: 2, Answer: &rules.Answer{Rule: "rule 1: rand() < 0.1", Status: 503}}, {EventID: 1, Answer: &rules.Answer{}}}, nil)
	if got := f.ResponseTrial.Text; !strings.Contains(got, "1 answered by rule 1: rand() < 0.1 (503)") || !strings.Contains(got, "1 by the endpoint's own response") {
		t.Errorf("shown %q", got)
	}
}

func TestTargetFormForAnMQTTBroker(t *testing.T) {
	test.NewTempApp(t)
	f := NewTarget(endpoints(), "d1", nil)
	test.WidgetRenderer(f)
	for _, m := range targetModes() {
		if m.kind == hook.TargetMQTT {
			f.Kind.SetSelected(m.label)
		}
	}
	f.Broker.SetText("mqtt://127.0.0.1:1883")
	f.Topic.SetText("home/{endpoint}/{type}")
	f.QoS.SetSelected(qosChoices[2])
	f.Retain.SetChecked(true)
	f.MQTTUser.SetText("hooktray")
	f.MQTTPassword.SetText("s3")
	_, c, fe := f.Change()
	if fe != nil {
		t.Fatal(fe)
	}
	if m := c.MQTT; *c.Kind != hook.TargetMQTT || m == nil || m.Broker != "mqtt://127.0.0.1:1883" || m.Topic != "home/{endpoint}/{type}" ||
		m.QoS != 2 || !m.Retain || m.Username != "hooktray" || *m.Password != "s3" {
		t.Errorf("change %+v", c.MQTT)
	}
	f.Topic.SetText("home/#")
	_, _, fe = f.Change()
	wantField(t, "a wildcard in the topic", fe, "mqtt.topic")
	f.Topic.SetText("home/x")
	f.Broker.SetText("http://broker")
	_, _, fe = f.Change()
	wantField(t, "an HTTP URL as the broker", fe, "mqtt.broker")
}
