package forms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
)

// ProviderFields describes a provider's settings and its default API address
// (subscribe.Service.Fields).
type ProviderFields func(provider string) ([]hook.ProviderField, string, error)

// Subscription is the subscription form: a new registration of an endpoint's URL at a provider,
// or the settings of one. The provider's fields come from the core; secret ones are masked
// entries that are never filled in.
type Subscription struct {
	widget.BaseWidget
	frame
	// OnSubmit receives the change when Save is pressed and every field holds.
	OnSubmit func(hook.SubscriptionChange)
	OnCancel func()
	// OnCreateKey, when set before the form is shown, offers to create Diagral's API key from
	// the user's account; it is given the API address and serial typed so far. The controller
	// puts the keys it gets in with SetValue.
	OnCreateKey func(baseURL, serial string)

	existing   *hook.Subscription
	secretsSet []string // the secret settings the subscription has stored
	endpoints  []hook.Endpoint
	fields     ProviderFields
	Endpoint   *widget.Select // for tests to fill, as Provider
	Provider   *widget.Select
	providers  []string // their names, in the order of Provider's titles
	createKey  *fyne.Container
	values     map[string]func() (any, error) // each field's value; nil when not given
}

// NewSubscription returns the form for a new subscription of endpointID (s nil) or for s, whose
// stored secret settings are secretsSet; providers are the names offered.
func NewSubscription(endpoints []hook.Endpoint, endpointID string, s *hook.Subscription, secretsSet, providers []string, fields ProviderFields) *Subscription {
	f := &Subscription{existing: s, secretsSet: secretsSet, endpoints: endpoints, fields: fields}
	f.frame = newFrame("Save and register", f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	var names []string
	for _, ep := range endpoints {
		names = append(names, ep.Name)
	}
	f.Endpoint = widget.NewSelect(names, nil)
	for _, ep := range endpoints {
		if ep.ID == endpointID {
			f.Endpoint.SetSelected(ep.Name)
		}
	}
	f.providers = providers
	var titles []string
	for _, p := range providers {
		titles = append(titles, subscribe.ProviderTitle(p))
	}
	f.Provider = widget.NewSelect(titles, nil)
	if len(providers) > 0 {
		f.Provider.SetSelected(titles[0])
	}
	if s != nil {
		f.Provider.SetSelected(subscribe.ProviderTitle(s.Provider))
		f.Endpoint.Disable()
		f.Provider.Disable()
	}
	f.Provider.OnChanged = func(string) { f.arrange() }
	f.createKey = container.NewHBox(widget.NewButtonWithIcon("Create the API key from my Diagral account…", theme.LoginIcon(), func() {
		if f.OnCreateKey != nil {
			f.OnCreateKey(f.text("base_url"), f.text("serial_id"))
		}
	}))
	f.ExtendBaseWidget(f)
	return f
}

// arrange shows the chosen provider's fields.
func (f *Subscription) arrange() {
	f.Form.Items = []*widget.FormItem{{Text: "Endpoint", Widget: f.Endpoint}, {Text: "Provider", Widget: f.Provider}}
	f.values = map[string]func() (any, error){}
	for k := range f.byField {
		delete(f.byField, k)
	}
	fields, base, err := f.fields(f.provider())
	if err == nil {
		fields = append(fields, hook.ProviderField{Key: "base_url", Label: "API address", Help: "default: " + orNone(base), Kind: hook.FieldText})
		for _, pf := range fields {
			f.Form.Items = append(f.Form.Items, f.item(pf))
		}
	}
	f.createKey.Hidden = f.provider() != "diagral" || f.OnCreateKey == nil
	f.Form.Refresh()
	f.createKey.Refresh()
}

// item is one provider field's row.
func (f *Subscription) item(pf hook.ProviderField) *widget.FormItem {
	var cur any
	if f.existing != nil {
		cur = f.existing.Settings[pf.Key]
	}
	if cur == nil {
		cur = pf.Default
	}
	item := &widget.FormItem{Text: pf.Label, HintText: pf.Help}
	switch {
	case pf.Kind == hook.FieldBool:
		c := widget.NewCheck("", nil)
		b, _ := cur.(bool)
		c.SetChecked(b)
		item.Widget = c
		f.values[pf.Key] = func() (any, error) { return c.Checked, nil }
	case pf.Secret:
		e := f.password("settings."+pf.Key, "")
		e.SetPlaceHolder("required")
		for _, k := range f.secretsSet {
			if k == pf.Key {
				e.SetPlaceHolder("stored (sealed); type to replace")
			}
		}
		item.Widget = e
		f.values[pf.Key] = func() (any, error) { return orNil(e.Text), nil }
		f.byField["settings."+pf.Key] = e
	default:
		kind := pf.Kind
		e := f.entry("settings."+pf.Key, SettingText(cur), "", func(s string) error { _, err := parseSetting(kind, s); return err })
		e.MultiLine = kind == hook.FieldText && strings.Contains(pf.Key, "body")
		item.Widget = e
		f.values[pf.Key] = func() (any, error) { return parseSetting(kind, e.Text) }
	}
	return item
}

// provider is the name of the provider chosen.
func (f *Subscription) provider() string {
	for i, t := range f.Provider.Options {
		if t == f.Provider.Selected && i < len(f.providers) {
			return f.providers[i]
		}
	}
	return ""
}

// SetValue puts a value in a field the user did not type (a key created from the account).
func (f *Subscription) SetValue(key string, v any) {
	f.values[key] = func() (any, error) { return v, nil }
}

// text is a field's value as text ("" when not given or not text).
func (f *Subscription) text(key string) string {
	if get, ok := f.values[key]; ok {
		v, _ := get()
		s, _ := v.(string)
		return s
	}
	return ""
}

// CreateRenderer lays the provider's fields out.
func (f *Subscription) CreateRenderer() fyne.WidgetRenderer {
	f.arrange()
	return renderer(f.frame.layout(nil, []fyne.CanvasObject{f.createKey}, true))
}

func (f *Subscription) submit() {
	c, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(c)
	}
}

// Change is what the form holds: for a new subscription its endpoint, provider and settings, for
// one that exists its settings; or the first field that is wrong. Settings left empty are not
// given (a stored secret stays).
func (f *Subscription) Change() (hook.SubscriptionChange, *hook.FieldError) {
	settings := map[string]any{}
	for k, get := range f.values {
		v, err := get()
		if err != nil {
			return hook.SubscriptionChange{}, fieldError("settings."+k, err)
		}
		if v != nil {
			settings[k] = v
		}
	}
	c := hook.SubscriptionChange{Settings: settings}
	if f.existing != nil {
		return c, nil
	}
	for _, ep := range f.endpoints {
		if ep.Name == f.Endpoint.Selected {
			id := ep.ID
			c.EndpointID = &id
		}
	}
	if c.EndpointID == nil {
		return c, &hook.FieldError{Field: "endpoint_id", Message: "choose the endpoint whose URL to register"}
	}
	provider := f.provider()
	c.Provider = &provider
	return c, nil
}

func orNone(s string) string {
	if s == "" {
		return "none: give it"
	}
	return s
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SettingText writes a setting's value as a person reads it: lists as "a, b".
func SettingText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		var parts []string
		for _, p := range x {
			parts = append(parts, SettingText(p))
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// parseSetting reads an entry back by the field's kind; empty is nil (not given).
func parseSetting(kind hook.FieldKind, text string) (any, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	switch kind {
	case hook.FieldNumber:
		n, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, errors.New("a number")
		}
		return n, nil
	case hook.FieldList:
		var out []any
		for _, p := range splitList(text) {
			out = append(out, p)
		}
		return out, nil
	case hook.FieldNumbers:
		var out []any
		for _, p := range splitList(text) {
			n, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number: give numbers separated by commas", p)
			}
			out = append(out, n)
		}
		return out, nil
	}
	return text, nil
}
