package hook

import (
	"fmt"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status says what the receiver did with a request.
type Status int

const (
	// Accepted requests were stored with their body and acknowledged with the endpoint's response.
	Accepted Status = 0
	// Rejected requests were refused (paused endpoint, oversized body, bad signature); their body is
	// not kept.
	Rejected Status = 1
	// Duplicate requests repeated a delivery id already accepted; acknowledged, not a new event.
	Duplicate Status = 2
)

// String is the status as the API and CLI spell it.
func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, bool) {
	switch s {
	case "accepted":
		return Accepted, true
	case "rejected":
		return Rejected, true
	case "duplicate":
		return Duplicate, true
	}
	return 0, false
}

// Verification is the signature verdict recorded with an event.
type Verification struct {
	Scheme Scheme // SchemeNone when the endpoint verifies nothing
	Result VerifyResult
	Reason string // a sentence when failed
}

// Event is one received HTTP request. ID is assigned when it is committed.
type Event struct {
	ID         int64
	EndpointID string
	ReceivedAt time.Time
	Status     Status
	Method     string
	Path       string
	Query      string // raw query string, without '?'
	Header     http.Header
	Body       []byte // nil when not kept
	// BodyFile, while an event is on its way into the history, holds a body too large for
	// memory: the receiver spooled it to this file, and the importer stores it from there in
	// parts. Body is nil meanwhile. Events read from the history never have one.
	BodyFile       string
	Size           int64
	RemoteAddr     string
	ClientIP       string
	DeliveryID     string
	DuplicateOf    int64
	Reason         string
	ResponseStatus int
	Type           string
	Verification   Verification
	Decrypted      []byte
	// Forward lists the targets an accepted event is to be delivered to; its deliveries are
	// stored in the same transaction as the event, so an acknowledged event always has them.
	Forward []string
	// Queued are the ids of the deliveries stored for Forward, in its order: set by the store
	// when it commits the event, so the delivery workers can be handed them at once.
	Queued []int64
	// AnsweredBy names the endpoint's response rule that answered the request ("" for the
	// endpoint's own response), e.g. "rule 2: rand() < 0.1".
	AnsweredBy string
	// InboxSeq is the always-on inbox's sequence for an event that came through it (0 for one
	// that came to the receiver); its ReceivedAt is then when it reached the inbox.
	InboxSeq int64
	// Preview is the beginning of the body on one line (PreviewOf), kept in summaries, which
	// carry no body, so that a list can tell events apart.
	Preview string
}

// previewBytes is how much of a body a preview is made from.
const previewBytes = 160

// PreviewOf is the beginning of a body on one line: runs of white space as one space, control
// characters and invalid UTF-8 left out.
func PreviewOf(body []byte) string {
	body = body[:min(len(body), previewBytes)]
	out := make([]rune, 0, len(body))
	space := false
	for len(body) > 0 {
		r, n := utf8.DecodeRune(body)
		body = body[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
			continue // invalid, or cut off at the end
		case unicode.IsSpace(r):
			space = len(out) > 0
			continue
		case unicode.IsControl(r):
			continue
		}
		if space {
			out, space = append(out, ' '), false
		}
		out = append(out, r)
	}
	return string(out)
}

// BodyKept reports whether the body was stored (rejected requests keep none).
func (e *Event) BodyKept() bool { return e.Body != nil || e.BodyFile != "" }

// EventQuery selects a page of history, newest first.
type EventQuery struct {
	EndpointID string // "" for all endpoints
	Text       string // full-text search (see SearchExpr); "" for no search
	Status     *Status
	Method     string
	Type       string
	Before     int64 // only ids below this (the previous page's cursor); 0 for the newest
	Limit      int   // clamped to 1..1000; 0 means 100
	// WithBody loads bodies and headers; pages for lists can leave them out.
	WithBody bool
}

// MaxPage is the largest page ListEvents returns.
const MaxPage = 1000

// Page is a slice of history and the cursor for the next (older) one, 0 when there is none.
type Page struct {
	Events []Event
	Next   int64
}

// RequestTarget is the path and query as on a request line: /webhook/ID?a=1.
func RequestTarget(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// Bytes is a size, shown in B, KiB, MiB or GiB.
type Bytes int64

func (n Bytes) String() string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
