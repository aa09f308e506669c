package hook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The per-field rules of endpoints and targets. Apply and Validate use them to name the first bad
// field; forms use them to say so next to a field as it is typed.

// CheckName is an endpoint name's rule: it returns the name as kept (trimmed), or why not.
func CheckName(s string) (string, error) {
	name := strings.TrimSpace(s)
	switch {
	case name == "":
		return "", errors.New("a name is required")
	case utf8.RuneCountInString(name) > 100:
		return "", errors.New("at most 100 characters")
	case strings.ContainsFunc(name, unicode.IsControl):
		// A name is printed by the CLI and shown in the tray: a control character in it could
		// rewrite the user's terminal.
		return "", errors.New("must not contain control characters (such as newlines or escapes)")
	}
	return name, nil
}

// CheckResponseStatus is the rule of the status an endpoint answers with.
func CheckResponseStatus(status int) error {
	if status < 200 || status > 599 {
		return errors.New("must be an HTTP status from 200 to 599")
	}
	return nil
}

// CheckResponseBody is the rule of the body an endpoint answers with.
func CheckResponseBody(body string) error {
	if len(body) > 64<<10 {
		return errors.New("at most 64 KiB")
	}
	return nil
}

// CheckContentType is the rule of the content type an endpoint answers with; it returns the
// type as kept (trimmed).
func CheckContentType(s string) (string, error) {
	ct := strings.TrimSpace(s)
	if ct == "" || strings.ContainsAny(ct, "\r\n") {
		return "", errors.New("must be a content type such as application/json")
	}
	return ct, nil
}

// CheckBodyLimit is the rule of an endpoint's body limit, in bytes.
func CheckBodyLimit(limit int64) error {
	if limit < 1 || limit > MaxBodyLimit {
		return fmt.Errorf("must be between 1 byte and %d bytes (1 GiB)", MaxBodyLimit)
	}
	return nil
}

// CheckNotes is the rule of an endpoint's notes.
func CheckNotes(notes string) error {
	if len(notes) > 10000 {
		return errors.New("at most 10,000 bytes")
	}
	return nil
}

// NotifyChoices are the values of an endpoint's notify_on, the default first.
var NotifyChoices = []string{NotifyAlerts, NotifyEvery, NotifyNever}

// CheckNotifyOn is the rule of an endpoint's notify_on.
func CheckNotifyOn(s string) error {
	switch s {
	case NotifyEvery, NotifyAlerts, NotifyNever:
		return nil
	}
	return errors.New("must be every, alerts or never")
}

// CheckAlertTypes is the rule of an endpoint's alert types; it returns them as kept (trimmed,
// empty ones left out).
func CheckAlertTypes(types []string) ([]string, error) {
	var out []string
	for _, t := range types {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			continue
		case len(t) > 100 || strings.ContainsAny(t, ","):
			return nil, errors.New("each type is a word of at most 100 characters, without commas")
		}
		out = append(out, t)
	}
	if len(out) > 50 {
		return nil, errors.New("at most 50 types")
	}
	return out, nil
}

// CleanKeys is an endpoint's router keys as kept: trimmed, empty ones left out.
func CleanKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// CheckTargetURL is the rule of a URL a target delivers to: absolute http(s).
func CheckTargetURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// CheckMethod is the rule of a target's method ("" keeps the original's).
func CheckMethod(m string) error {
	if m != "" && strings.ContainsAny(m, " \t\r\n()<>@,;:\\\"/[]?={}") {
		return fmt.Errorf("%q is not an HTTP method", m)
	}
	return nil
}

// CheckHeader is the rule of a header a target adds.
func CheckHeader(name, value string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n:") || strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("%q is not a valid header", name)
	}
	return nil
}

// CheckTimeout is the rule of a target's timeout per attempt (the message counts milliseconds,
// as timeout_ms does).
func CheckTimeout(d time.Duration) error {
	if d <= 0 || d > MaxTargetTimeout {
		return fmt.Errorf("must be between 1 and %d", MaxTargetTimeout.Milliseconds())
	}
	return nil
}

// CheckMaxRetries is the rule of a target's retries after the first attempt.
func CheckMaxRetries(n int) error {
	if n < 0 || n > maxRetriesLimit {
		return fmt.Errorf("must be between 0 and %d", maxRetriesLimit)
	}
	return nil
}

// CheckRateLimit is the rule of a target's deliveries per minute (0: no limit).
func CheckRateLimit(perMinute int) error {
	if perMinute < 0 || perMinute > maxRateLimitPerMinute {
		return fmt.Errorf("must be between 0 (no limit) and %d", maxRateLimitPerMinute)
	}
	return nil
}
