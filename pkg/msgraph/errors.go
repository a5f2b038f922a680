package msgraph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrDryRun is matched (errors.Is) by every write refused because the client
// runs in dry-run mode. The refusal happens before anything is sent.
var ErrDryRun = errors.New("dry run: write refused")

// ErrOutcomeUnknown is matched (errors.Is) when a non-idempotent request was
// written to the wire but no usable answer came back (connection reset,
// timeout, gateway error). The object may or may not exist now: the caller
// must look it up instead of repeating the request, or it risks a duplicate.
var ErrOutcomeUnknown = errors.New("outcome unknown: the request may have been applied")

// Error is the one error type for a Graph answer that is not a success: an
// HTTP status with Graph's error body, a per-item error of a bulk call, or a
// failed long-running operation. Callers match on Status and Code, never on
// Message (Graph rewords messages).
type Error struct {
	Status          int    // HTTP status; for a failed async operation the status of the poll (200)
	Code            string // error.code, e.g. Request_ResourceNotFound
	Message         string // error.message, as Graph wrote it
	InnerCode       string // the innermost innerError.code, when Graph nests one
	RequestID       string // request-id of Graph's answer, for a support ticket
	ClientRequestID string // the client-request-id this client sent
	Method          string // HTTP method of the request
	Route           string // request path below /v1.0, without the query
	Details         []ErrorDetail
	Attempts        int // sends of this request, retries included; 0 or 1 means no retry
}

// ErrorDetail is one entry of error.details (directory errors such as
// ObjectConflict carry them).
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

// Error is one line of printable text. What Graph wrote (codes, message,
// request-id) is printed with control characters as spaces and cut to a
// length no real answer reaches, so that a broken or hostile answer can
// neither split the line, write escape sequences to a terminal, nor make an
// error of megabytes.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.Method != "" || e.Route != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, printable(e.Route, maxRouteText))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d", e.Status)
	}
	code := printable(e.Code, maxCodeText)
	switch {
	case code != "":
		if e.Status != 0 {
			b.WriteString(" ")
		}
		b.WriteString(code)
	case e.Status != 0:
		b.WriteString(" " + http.StatusText(e.Status))
	}
	if inner := printable(e.InnerCode, maxCodeText); inner != "" && !strings.EqualFold(e.InnerCode, e.Code) && e.InnerCode != fmt.Sprint(e.Status) {
		fmt.Fprintf(&b, " (%s)", inner)
	}
	if msg := printable(e.Message, maxMessageText); msg != "" {
		b.WriteString(": " + msg)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if id := printable(e.RequestID, maxCodeText); id != "" {
		fmt.Fprintf(&b, " (request-id %s)", id)
	}
	return b.String()
}

// The longest text of Graph's an Error prints, in bytes: a code or an id, a
// message (Graph's run to a few hundred), a route.
const (
	maxCodeText    = 128
	maxMessageText = 1024
	maxRouteText   = 512
)

// printable returns s with each control character, invalid byte or run of
// spaces as one space, trimmed, and cut to at most max bytes (then ending
// in "…").
func printable(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > max {
			return strings.TrimRight(truncateRunes(b.String(), max-len("…")), " ") + "…"
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncateRunes cuts s to at most n bytes without splitting a character.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hasCode reports whether code is the top-level code, the inner code or the
// code of one of the details, compared without regard to case (Graph spells
// the same code itemNotFound and ItemNotFound depending on the workload).
func (e *Error) hasCode(code string) bool {
	if strings.EqualFold(e.Code, code) || strings.EqualFold(e.InnerCode, code) {
		return true
	}
	for _, d := range e.Details {
		if strings.EqualFold(d.Code, code) {
			return true
		}
	}
	return false
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var ge *Error
	if errors.As(err, &ge) {
		return ge, true
	}
	return nil, false
}

// IsNotFound reports a missing object: any 404, or one of the not-found codes
// the directory, Teams and Outlook use (also inside a 207 per-item result).
func IsNotFound(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	if ge.Status == http.StatusNotFound {
		return true
	}
	for _, code := range []string{"ErrorItemNotFound", "Request_ResourceNotFound", "NotFound", "ItemNotFound"} {
		if strings.EqualFold(ge.Code, code) {
			return true
		}
	}
	return false
}

// IsConflict reports that the object already exists: a 409 (a team on a
// group that has one), code Conflict or nameAlreadyExists, or a directory 400
// whose details say ObjectConflict (a mailNickname already taken).
func IsConflict(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	return ge.Status == http.StatusConflict || ge.hasCode("Conflict") ||
		ge.hasCode("nameAlreadyExists") || ge.hasCode("ObjectConflict")
}

// IsThrottled reports a 429, or Graph's throttling codes, that retries did
// not get past.
func IsThrottled(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	return ge.Status == http.StatusTooManyRequests || ge.hasCode("TooManyRequests") ||
		ge.hasCode("activityLimitReached")
}

// HasCode reports whether err is an *Error whose code, inner code or one of
// its details' codes is code (case-insensitive).
func HasCode(err error, code string) bool {
	ge, ok := AsError(err)
	return ok && ge.hasCode(code)
}

// errorBody is Graph's error JSON: {"error":{"code","message","innerError",
// "details"}}. encoding/json matches innerError and innererror alike.
type errorBody struct {
	Error *struct {
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		InnerError json.RawMessage `json:"innerError"`
		Details    []ErrorDetail   `json:"details"`
	} `json:"error"`
}

type innerError struct {
	Code            string          `json:"code"`
	RequestID       string          `json:"request-id"`
	ClientRequestID string          `json:"client-request-id"`
	InnerError      json.RawMessage `json:"innerError"`
}

// decodeError builds an *Error from a status, the response headers (may be
// nil) and the body. A body that is not Graph's error JSON (a proxy's HTML
// page) leaves Code empty; its text is not copied into the message.
func decodeError(status int, header http.Header, body []byte) *Error {
	ge := &Error{Status: status}
	if header != nil {
		ge.RequestID = header.Get("request-id")
		ge.ClientRequestID = header.Get("client-request-id")
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error == nil {
		return ge
	}
	ge.Code = eb.Error.Code
	ge.Message = eb.Error.Message
	ge.Details = eb.Error.Details
	raw := eb.Error.InnerError
	// innerError may nest; the deepest code is the most specific one, the
	// outermost request ids are the ones Graph support asks for.
	for depth := 0; len(raw) > 0 && depth < 8; depth++ {
		var in innerError
		if json.Unmarshal(raw, &in) != nil {
			break
		}
		if in.Code != "" {
			ge.InnerCode = in.Code
		}
		if ge.RequestID == "" {
			ge.RequestID = in.RequestID
		}
		if ge.ClientRequestID == "" {
			ge.ClientRequestID = in.ClientRequestID
		}
		raw = in.InnerError
	}
	return ge
}

// isSuccess reports a 2xx status.
func isSuccess(status int) bool { return status >= 200 && status < 300 }
