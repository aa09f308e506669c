package hook

import (
	"strings"
)

// MaxBodyLimit is the largest body limit an endpoint may set.
const MaxBodyLimit = 1 << 30

// FieldError is a validation failure of one endpoint field, for showing next to that field.
type FieldError struct {
	Field   string // JSON name of the field
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// EndpointChange holds endpoint fields to set; nil fields stay as they are (or take their default
// on create).
type EndpointChange struct {
	Name                *string        `json:"name,omitempty"`
	Enabled             *bool          `json:"enabled,omitempty"`
	ResponseStatus      *int           `json:"response_status,omitempty"`
	ResponseBody        *string        `json:"response_body,omitempty"`
	ResponseContentType *string        `json:"response_content_type,omitempty"`
	BodyLimit           *int64         `json:"body_limit,omitempty"`
	Notes               *string        `json:"notes,omitempty"`
	NotifyOn            *string        `json:"notify_on,omitempty"`
	AlertTypes          *[]string      `json:"alert_types,omitempty"`
	Verify              *VerifyChange  `json:"verify,omitempty"`
	Route               *RouteSettings `json:"route,omitempty"` // make this endpoint a router
	Keys                *[]string      `json:"keys,omitempty"`  // this endpoint's keys for routers
	TypePath            *string        `json:"type_path,omitempty"`
	// ResponseRules replaces the response rules ([] removes them); ResponseSeed seeds rand().
	ResponseRules *[]ResponseRule `json:"response_rules,omitempty"`
	ResponseSeed  *int64          `json:"response_seed,omitempty"`
	// Secret sets the endpoint's signing secret. The hub seals it; Apply ignores it, so it never
	// reaches a storage column in clear.
	Secret *string `json:"secret,omitempty"`
}

// VerifyChange sets how an endpoint verifies what arrives.
type VerifyChange struct {
	Scheme        *Scheme     `json:"scheme,omitempty"`
	Mode          *VerifyMode `json:"mode,omitempty"`
	WindowSeconds *int        `json:"window_seconds,omitempty"`
	Header        *string     `json:"header,omitempty"`
	Prefix        *string     `json:"prefix,omitempty"`
	Algorithm     *string     `json:"algorithm,omitempty"`
	Encoding      *string     `json:"encoding,omitempty"`
}

// Apply validates c and sets its fields on e; on error e may be partly changed.
func (c EndpointChange) Apply(e *Endpoint) error {
	if err := c.applyResponse(e); err != nil {
		return err
	}
	if err := c.applySettings(e); err != nil {
		return err
	}
	if v := c.Verify; v != nil {
		if err := v.apply(e); err != nil {
			return err
		}
	}
	if c.Route != nil {
		// The key path's syntax is checked by the endpoints service (app/keypath owns the language).
		e.Settings.Route = RouteSettings{KeyPath: strings.TrimSpace(c.Route.KeyPath), QueryParam: strings.TrimSpace(c.Route.QueryParam)}
	}
	if c.Keys != nil {
		e.Settings.Keys = CleanKeys(*c.Keys)
	}
	if c.TypePath != nil {
		e.Settings.TypePath = strings.TrimSpace(*c.TypePath) // syntax checked by the endpoints service
	}
	if c.ResponseRules != nil {
		if err := CheckResponseRules(*c.ResponseRules); err != nil {
			return err
		}
		e.Settings.Responses = append([]ResponseRule(nil), *c.ResponseRules...)
	}
	if c.ResponseSeed != nil {
		e.Settings.ResponseSeed = *c.ResponseSeed
	}
	return nil
}

// field names err as the field's.
func field(name string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: name, Message: err.Error()}
}

// applyResponse applies the name, the enabled flag and what the endpoint answers with.
func (c EndpointChange) applyResponse(e *Endpoint) error {
	var err error
	if c.Name != nil {
		if e.Name, err = CheckName(*c.Name); err != nil {
			return field("name", err)
		}
	}
	if c.Enabled != nil {
		e.Enabled = *c.Enabled
	}
	if c.ResponseStatus != nil {
		if err := CheckResponseStatus(*c.ResponseStatus); err != nil {
			return field("response_status", err)
		}
		e.ResponseStatus = *c.ResponseStatus
	}
	if c.ResponseBody != nil {
		if err := CheckResponseBody(*c.ResponseBody); err != nil {
			return field("response_body", err)
		}
		e.ResponseBody = []byte(*c.ResponseBody)
	}
	if c.ResponseContentType != nil {
		if e.ResponseContentType, err = CheckContentType(*c.ResponseContentType); err != nil {
			return field("response_content_type", err)
		}
	}
	return nil
}

// applySettings applies the body limit, the notes and what the endpoint notifies of.
func (c EndpointChange) applySettings(e *Endpoint) error {
	if c.BodyLimit != nil {
		if err := CheckBodyLimit(*c.BodyLimit); err != nil {
			return field("body_limit", err)
		}
		e.BodyLimit = *c.BodyLimit
	}
	if c.Notes != nil {
		if err := CheckNotes(*c.Notes); err != nil {
			return field("notes", err)
		}
		e.Notes = *c.Notes
	}
	if c.NotifyOn != nil {
		if err := CheckNotifyOn(*c.NotifyOn); err != nil {
			return field("notify_on", err)
		}
		e.Settings.NotifyOn = *c.NotifyOn
	}
	if c.AlertTypes != nil {
		types, err := CheckAlertTypes(*c.AlertTypes)
		if err != nil {
			return field("alert_types", err)
		}
		e.Settings.AlertTypes = types
	}
	return nil
}

func (v VerifyChange) apply(e *Endpoint) error {
	if v.Scheme != nil {
		s, err := ParseScheme(string(*v.Scheme))
		if err != nil {
			return &FieldError{Field: "verify.scheme", Message: "must be one of " + SchemeList()}
		}
		e.VerifyScheme = s
	}
	if v.Mode != nil {
		m, err := ParseVerifyMode(string(*v.Mode))
		if err != nil {
			return &FieldError{Field: "verify.mode", Message: "must be off, annotate or enforce"}
		}
		e.VerifyMode = m
	}
	vs := &e.Settings.Verify
	if v.WindowSeconds != nil {
		if *v.WindowSeconds < 0 || *v.WindowSeconds > 86400 {
			return &FieldError{Field: "verify.window_seconds", Message: "must be from 0 (the default, 300) to 86400"}
		}
		vs.WindowSeconds = *v.WindowSeconds
	}
	for _, f := range []struct {
		src *string
		dst *string
	}{{v.Header, &vs.Header}, {v.Prefix, &vs.Prefix}, {v.Algorithm, &vs.Algorithm}, {v.Encoding, &vs.Encoding}} {
		if f.src != nil {
			*f.dst = strings.TrimSpace(*f.src)
		}
	}
	if e.VerifyScheme.HeaderNamed() && vs.Header == "" {
		return &FieldError{Field: "verify.header", Message: "name the header that carries the signature"}
	}
	if e.VerifyScheme == SchemeNone && e.VerifyMode != VerifyOff {
		return &FieldError{Field: "verify.scheme", Message: "choose a scheme to verify with"}
	}
	return nil
}
