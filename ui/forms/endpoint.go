package forms

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// notifyLabels say the notify_on choices in words.
var notifyLabels = map[string]string{hook.NotifyAlerts: "Alerts only", hook.NotifyEvery: "Every event", hook.NotifyNever: "Never"}

// How an endpoint routes (seed 001): not at all, by a key path, or by a query parameter.
const (
	routeNone    = "not a router"
	routeKeyPath = "key path"
	routeQuery   = "query parameter"
)

// Endpoint is the endpoint form: a new endpoint, or the settings of one.
type Endpoint struct {
	widget.BaseWidget
	frame
	// OnSubmit receives the change when Save is pressed and every field holds.
	OnSubmit func(hook.EndpointChange)
	OnCancel func()
	// OnRotate, when set before the form is shown, puts a Rotate button by the secret (an
	// existing endpoint that verifies).
	OnRotate func()
	// Top is shown above the fields, Extra left of Cancel and Save.
	Top   fyne.CanvasObject
	Extra []fyne.CanvasObject

	base     hook.Endpoint // what the change applies to: the endpoint, or a new one's defaults
	existing bool
	advanced *widget.Accordion // a new endpoint's fields besides its name

	// The fields, for tests to fill.
	Name, Status, ContentType, Body, Limit, Notes, AlertTypes *Input
	Responses                                                 *Input
	RouteValue, Keys, Secret, SignatureHeader                 *Input
	NotifyOn, RouteBy, Scheme, VerifyMode                     *widget.Select

	check RuleChecker
	responseTrial
}

// SetRuleChecker makes the form compile the response rules as they are typed and before saving.
func (f *Endpoint) SetRuleChecker(c RuleChecker) { f.check = c }

// NewEndpoint returns the form filled with ep, or with a new endpoint's defaults when ep is nil.
func NewEndpoint(ep *hook.Endpoint) *Endpoint {
	f := &Endpoint{base: hook.NewEndpoint(""), existing: ep != nil}
	if ep != nil {
		f.base = *ep
	}
	label := "Create"
	if f.existing {
		label = "Save"
	}
	f.frame = newFrame(label, f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	f.makeResponseFields()
	f.makeRoutingFields()
	f.makeVerifyFields()
	f.ExtendBaseWidget(f)
	return f
}

// Focus is the field to type in first.
func (f *Endpoint) Focus() fyne.Focusable { return f.Name }

func (f *Endpoint) makeResponseFields() {
	ep := f.base
	f.Name = f.entry("name", ep.Name, "e.g. Alarm, GitHub, Home Assistant", func(s string) error { _, err := hook.CheckName(s); return err })
	f.Status = f.entry("response_status", strconv.Itoa(ep.ResponseStatus), "200", func(s string) error { _, err := parseStatus(s); return err })
	f.ContentType = f.entry("response_content_type", ep.ResponseContentType, "application/json", func(s string) error { _, err := hook.CheckContentType(s); return err })
	f.Body = f.multiLine("response_body", string(ep.ResponseBody), hook.CheckResponseBody)
	f.Limit = f.entry("body_limit", strconv.FormatFloat(float64(ep.BodyLimit)/(1<<20), 'f', -1, 64), "10", func(s string) error { _, err := parseMiB(s); return err })
	f.Notes = f.multiLine("notes", ep.Notes, hook.CheckNotes)
	f.Responses = f.multiLine("response_rules", responseRulesText(ep.Settings.Responses),
		func(s string) error { _, err := parseResponseRules(s, f.check); return err })
	f.responseTrial.make(f)
	f.Responses.SetPlaceHolder(`{"when": "rand() < 0.1", "status": 503, "headers": {"Retry-After": "30"}}`)
	var labels []string
	for _, v := range hook.NotifyChoices {
		labels = append(labels, notifyLabels[v])
	}
	f.NotifyOn = widget.NewSelect(labels, nil)
	f.NotifyOn.SetSelected(notifyLabels[ep.Settings.NotifyOn])
	f.AlertTypes = f.entry("alert_types", strings.Join(ep.Settings.AlertTypes, ", "), "ALERT, ANOMALY",
		func(s string) error { _, err := hook.CheckAlertTypes(splitList(s)); return err })
}

func (f *Endpoint) multiLine(field, text string, rule func(string) error) *Input {
	e := f.entry(field, text, "", rule)
	e.MultiLine, e.Wrapping = true, fyne.TextWrapWord
	e.SetMinRowsVisible(2)
	return e
}

func (f *Endpoint) makeRoutingFields() {
	route := f.base.Settings.Route
	f.RouteBy = widget.NewSelect([]string{routeNone, routeKeyPath, routeQuery}, nil)
	f.RouteValue = f.entry("route.key_path", "", "headers['X-Device-Id'] or body.device_id; or a parameter such as homey", f.checkRoute)
	f.byField["route"], f.byField["route.query_param"] = f.RouteValue, f.RouteValue
	switch {
	case route.KeyPath != "":
		f.RouteBy.SetSelected(routeKeyPath)
		f.RouteValue.SetText(route.KeyPath)
	case route.QueryParam != "":
		f.RouteBy.SetSelected(routeQuery)
		f.RouteValue.SetText(route.QueryParam)
	default:
		f.RouteBy.SetSelected(routeNone)
	}
	f.RouteBy.OnChanged = func(string) { f.RouteValue.Validate() }
	f.Keys = f.entry("keys", strings.Join(f.base.Settings.Keys, ", "), "values a router passes to this endpoint, comma separated", nil)
}

// checkRoute checks a key path as the receiver will read it.
func (f *Endpoint) checkRoute(s string) error {
	if f.RouteBy == nil || f.RouteBy.Selected != routeKeyPath {
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("give the key path the value is read from")
	}
	_, err := keypath.Parse(strings.TrimSpace(s))
	return err
}

func (f *Endpoint) makeVerifyFields() {
	ep := f.base
	schemes := []string{hook.SchemeNone.Title()}
	for _, s := range hook.Schemes {
		schemes = append(schemes, s.Title())
	}
	f.Scheme = widget.NewSelect(schemes, nil)
	f.Scheme.SetSelected(hook.SchemeNone.Title())
	var modes []string
	for _, m := range hook.VerifyModes {
		modes = append(modes, string(m))
	}
	f.VerifyMode = widget.NewSelect(modes, nil)
	f.VerifyMode.SetSelected(string(hook.VerifyEnforce))
	if ep.VerifyScheme != hook.SchemeNone {
		f.Scheme.SetSelected(ep.VerifyScheme.Title())
		if ep.VerifyMode != "" {
			f.VerifyMode.SetSelected(string(ep.VerifyMode))
		}
	}
	f.Secret = f.password("secret", "")
	f.byField["secret"] = f.Secret
	f.Secret.SetPlaceHolder("paste the provider's secret, or Generate")
	if f.existing && ep.VerifyScheme != hook.SchemeNone {
		f.Secret.SetPlaceHolder("set (paste one to replace it)")
	}
	f.SignatureHeader = f.entry("verify.header", ep.Settings.Verify.Header, "hmac / shared-secret: e.g. X-Signature", nil)
}

// ShowSecret shows a secret in clear in the secret field (a generated or rotated one).
func (f *Endpoint) ShowSecret(secret string) {
	f.Secret.SetText(secret)
	f.Secret.Password = false
	f.Secret.Refresh()
}

func (f *Endpoint) generate() {
	if s := schemeTitled(f.Scheme.Selected); s != hook.SchemeNone {
		f.ShowSecret(verify.NewSecret(s))
	}
}

// CreateRenderer lays the fields out; OnRotate, Top and Extra are read here.
func (f *Endpoint) CreateRenderer() fyne.WidgetRenderer {
	buttons := []fyne.CanvasObject{widget.NewButton("Generate", f.generate)}
	if f.OnRotate != nil {
		buttons = append(buttons, widget.NewButton("Rotate", f.OnRotate))
	}
	secretRow := container.NewBorder(nil, nil, nil, container.NewHBox(buttons...), f.Secret)
	rest := []*widget.FormItem{
		{Text: "Answer with", Widget: f.Status, HintText: "HTTP status sent to the provider"},
		widget.NewFormItem("Content type", f.ContentType),
		{Text: "Response body", Widget: f.Body},
		{Text: "Response rules", Widget: f.Responses, HintText: "one a line; the first whose when (CEL, with count and rand()) holds answers instead, after delay_ms; every request is stored first"},
		{Text: "Body limit (MiB)", Widget: f.Limit, HintText: "larger requests are refused with 413"},
		{Text: "Notify on", Widget: f.NotifyOn},
		{Text: "Alert types", Widget: f.AlertTypes, HintText: "event types that count as alerts, comma separated"},
		{Text: "Route by", Widget: container.NewBorder(nil, nil, f.RouteBy, nil, f.RouteValue),
			HintText: "a router passes each request to the endpoints whose keys hold this value"},
		{Text: "Keys", Widget: f.Keys, HintText: "this endpoint's values for routers ($key / $keys)"},
		{Text: "Verify", Widget: container.NewGridWithColumns(2, f.Scheme, f.VerifyMode), HintText: "the provider's signature scheme; enforce answers 401 to a bad signature"},
		{Text: "Secret", Widget: secretRow},
		{Text: "Signature header", Widget: f.SignatureHeader},
		widget.NewFormItem("Notes", f.Notes),
	}
	if f.existing { // an endpoint with events to try its rules on
		rest = slices.Insert(rest, 4, &widget.FormItem{Text: "", Widget: container.NewBorder(nil, nil, container.NewVBox(f.TryResponses), nil, f.ResponseTrial)})
	}
	top := f.Top
	if top == nil {
		top = container.NewHBox()
	}
	name := widget.NewFormItem("Name", f.Name)
	if f.existing {
		f.Form.Items = append([]*widget.FormItem{name}, rest...)
		return renderer(f.layout(top, f.Extra, true))
	}
	// A new endpoint needs a name; the rest has defaults that suit most providers.
	f.Form.Items = []*widget.FormItem{{Text: "Name", Widget: f.Name, HintText: "what sends to it, such as Alarm, GitHub or Home Assistant"}}
	f.advanced = widget.NewAccordion(widget.NewAccordionItem("Advanced: the answer, limits, notifications, routing, signatures", widget.NewForm(rest...)))
	return renderer(f.layoutBody(container.NewVBox(f.Form, f.advanced), top, f.Extra, true))
}

// ShowError puts an error about a field next to it, opening Advanced when the field is there.
func (f *Endpoint) ShowError(fe *hook.FieldError) bool {
	if strings.HasPrefix(fe.Field, "response_rules") {
		fe = &hook.FieldError{Field: "response_rules", Message: fe.Message}
	}
	ok := f.frame.ShowError(fe)
	if ok && f.advanced != nil && fe.Field != "name" {
		f.advanced.Open(0)
	}
	return ok
}

func (f *Endpoint) submit() {
	c, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(c)
	}
}

// Change is what the form holds, as the change to make, or the first field that is wrong. The
// change is checked as the endpoints service will check it: by applying it to the endpoint.
func (f *Endpoint) Change() (hook.EndpointChange, *hook.FieldError) {
	status, err := parseStatus(f.Status.Text)
	if err != nil {
		return hook.EndpointChange{}, fieldError("response_status", err)
	}
	limit, err := parseMiB(f.Limit.Text)
	if err != nil {
		return hook.EndpointChange{}, fieldError("body_limit", err)
	}
	name, ct, body, notes := f.Name.Text, f.ContentType.Text, f.Body.Text, f.Notes.Text
	notify := hook.NotifyAlerts
	for v, label := range notifyLabels {
		if label == f.NotifyOn.Selected {
			notify = v
		}
	}
	types, keys := splitList(f.AlertTypes.Text), splitList(f.Keys.Text)
	c := hook.EndpointChange{Name: &name, ResponseStatus: &status, ResponseContentType: &ct,
		ResponseBody: &body, BodyLimit: &limit, Notes: &notes, NotifyOn: &notify, AlertTypes: &types, Keys: &keys}
	c.Verify, c.Route = f.verifyChange(), f.routeChange()
	responses, err := parseResponseRules(f.Responses.Text, f.check)
	if err != nil {
		return c, fieldError("response_rules", err)
	}
	c.ResponseRules = &responses
	if secret := strings.TrimSpace(f.Secret.Text); secret != "" {
		c.Secret = &secret
	}
	if err := f.checkRoute(f.RouteValue.Text); err != nil {
		return c, fieldError("route.key_path", err)
	}
	scratch := f.base
	if err := c.Apply(&scratch); err != nil {
		return c, fieldError("", err)
	}
	return c, nil
}

func (f *Endpoint) verifyChange() *hook.VerifyChange {
	scheme, mode, header := schemeTitled(f.Scheme.Selected), hook.VerifyMode(f.VerifyMode.Selected), f.SignatureHeader.Text
	if scheme == hook.SchemeNone {
		scheme, mode = hook.SchemeNone, hook.VerifyOff
	}
	return &hook.VerifyChange{Scheme: &scheme, Mode: &mode, Header: &header}
}

func (f *Endpoint) routeChange() *hook.RouteSettings {
	route := hook.RouteSettings{}
	switch f.RouteBy.Selected {
	case routeKeyPath:
		route.KeyPath = strings.TrimSpace(f.RouteValue.Text)
	case routeQuery:
		route.QueryParam = strings.TrimSpace(f.RouteValue.Text)
	}
	return &route
}

// parseStatus reads an HTTP status and checks it by hook's rule.
func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("an HTTP status from 200 to 599")
	}
	return n, hook.CheckResponseStatus(n)
}

// parseMiB reads a size in MiB into bytes and checks it by hook's rule.
func parseMiB(s string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0, errors.New("a size in MiB, such as 10 or 0.5")
	}
	n := int64(f * (1 << 20))
	if hook.CheckBodyLimit(n) != nil {
		return 0, fmt.Errorf("between 1 byte and %d MiB", hook.MaxBodyLimit>>20)
	}
	return n, nil
}

// schemeTitled is the scheme whose title is t (none when no scheme has it).
func schemeTitled(t string) hook.Scheme {
	for _, s := range hook.Schemes {
		if s.Title() == t {
			return s
		}
	}
	return hook.SchemeNone
}
