package hook

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
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
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		switch {
		case name == "":
			return &FieldError{Field: "name", Message: "a name is required"}
		case utf8.RuneCountInString(name) > 100:
			return &FieldError{Field: "name", Message: "at most 100 characters"}
		case strings.ContainsFunc(name, unicode.IsControl):
			// A name is printed by the CLI and shown in the tray: a control character in it could
			// rewrite the user's terminal.
			return &FieldError{Field: "name", Message: "must not contain control characters (such as newlines or escapes)"}
		}
		e.Name = name
	}
	if c.Enabled != nil {
		e.Enabled = *c.Enabled
	}
	if c.ResponseStatus != nil {
		if s := *c.ResponseStatus; s < 200 || s > 599 {
			return &FieldError{Field: "response_status", Message: "must be an HTTP status from 200 to 599"}
		}
		e.ResponseStatus = *c.ResponseStatus
	}
	if c.ResponseBody != nil {
		if len(*c.ResponseBody) > 64<<10 {
			return &FieldError{Field: "response_body", Message: "at most 64 KiB"}
		}
		e.ResponseBody = []byte(*c.ResponseBody)
	}
	if c.ResponseContentType != nil {
		ct := strings.TrimSpace(*c.ResponseContentType)
		if ct == "" || strings.ContainsAny(ct, "\r\n") {
			return &FieldError{Field: "response_content_type", Message: "must be a content type such as application/json"}
		}
		e.ResponseContentType = ct
	}
	if c.BodyLimit != nil {
		if l := *c.BodyLimit; l < 1 || l > MaxBodyLimit {
			return &FieldError{Field: "body_limit", Message: fmt.Sprintf("must be between 1 byte and %d bytes (1 GiB)", MaxBodyLimit)}
		}
		e.BodyLimit = *c.BodyLimit
	}
	if c.Notes != nil {
		if len(*c.Notes) > 10000 {
			return &FieldError{Field: "notes", Message: "at most 10,000 bytes"}
		}
		e.Notes = *c.Notes
	}
	if c.NotifyOn != nil {
		switch *c.NotifyOn {
		case NotifyEvery, NotifyAlerts, NotifyNever:
			e.Settings.NotifyOn = *c.NotifyOn
		default:
			return &FieldError{Field: "notify_on", Message: "must be every, alerts or never"}
		}
	}
	if c.AlertTypes != nil {
		var types []string
		for _, t := range *c.AlertTypes {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				continue
			case len(t) > 100 || strings.ContainsAny(t, ","):
				return &FieldError{Field: "alert_types", Message: "each type is a word of at most 100 characters, without commas"}
			}
			types = append(types, t)
		}
		if len(types) > 50 {
			return &FieldError{Field: "alert_types", Message: "at most 50 types"}
		}
		e.Settings.AlertTypes = types
	}
	if v := c.Verify; v != nil {
		if err := v.apply(e); err != nil {
			return err
		}
	}
	if c.Route != nil {
		// The key path's syntax is checked by the hub (app/route), which owns the language.
		e.Settings.Route = RouteSettings{KeyPath: strings.TrimSpace(c.Route.KeyPath), QueryParam: strings.TrimSpace(c.Route.QueryParam)}
	}
	if c.Keys != nil {
		var keys []string
		for _, k := range *c.Keys {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
		e.Settings.Keys = keys
	}
	if c.TypePath != nil {
		e.Settings.TypePath = strings.TrimSpace(*c.TypePath) // syntax checked by the hub
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
