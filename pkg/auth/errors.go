package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// ReauthorizeError means the stored grant can no longer be used: the
// administrator must run `elentra-teams authorize` again (exit 4).
type ReauthorizeError struct {
	Code    string // the OAuth error, e.g. invalid_grant
	AADSTS  int    // the first AADSTS code, 0 when none was given
	Meaning string // what it means, in words an admin can act on
	Fix     string // what to do; empty means run authorize again
}

func (e *ReauthorizeError) Error() string {
	s := "Microsoft refused the stored sign-in"
	if e.AADSTS != 0 {
		s += fmt.Sprintf(" (AADSTS%d)", e.AADSTS)
	} else if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Meaning != "" {
		s += ": " + e.Meaning
	}
	if e.Fix != "" {
		return s + "; " + e.Fix
	}
	return s + "; run 'elentra-teams authorize' as Elentra's administrator"
}

// NotAuthorizedError means no token is stored yet (exit 4).
type NotAuthorizedError struct{ Name string }

func (e *NotAuthorizedError) Error() string {
	return "not authorized: no Microsoft token is stored; run 'elentra-teams authorize' as Elentra's administrator"
}

// NeedsAuthorize reports whether err holds a sign-in that cannot be used:
// none is stored (*NotAuthorizedError), Microsoft refused the stored one
// (*ReauthorizeError), or it cannot be decrypted with this key
// (ErrUndecryptable). Nothing can be done until authorize runs again.
func NeedsAuthorize(err error) bool {
	var (
		na *NotAuthorizedError
		re *ReauthorizeError
	)
	return errors.As(err, &na) || errors.As(err, &re) || errors.Is(err, ErrUndecryptable)
}

// aadstsMeanings says what the AADSTS codes a refresh can meet mean.
var aadstsMeanings = map[int]string{
	70008:   "the refresh token expired or was revoked",
	700082:  "the refresh token expired after 90 days without use",
	700084:  "the refresh token's fixed lifetime ended",
	70043:   "a Conditional Access sign-in frequency policy requires signing in again",
	65001:   "consent to the application was withdrawn or never given",
	54005:   "the authorization code was already redeemed",
	50173:   "the account's password changed or its sessions were revoked",
	50076:   "multi-factor authentication is now required",
	50079:   "multi-factor authentication registration is required",
	7000215: "the client secret is wrong",
	7000222: "the client secret has expired",
	90002:   "the tenant was not found",
	700016:  "the application was not found in the tenant",
	700027:  "the client assertion's signature was refused",
	700024:  "the client assertion is outside its validity window",
}

// aadstsFixes are the codes whose fix is in the configuration, not a new sign-in.
var aadstsFixes = map[int]string{
	7000215: "set microsoft.client_secret to the secret's Value (not its ID)",
	7000222: "create a new client secret in the app registration and set microsoft.client_secret",
	90002:   "check microsoft.tenant_id",
	700016:  "check microsoft.client_id and microsoft.tenant_id",
	700027:  "upload the certificate of microsoft.client_certificate_file to the app registration (Certificates & secrets)",
	700024:  "check this machine's clock",
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// tokenErrorBody is the identity platform's error JSON.
type tokenErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
}

// TokenTimeout bounds one request to the token endpoint: connecting,
// sending, and reading the whole answer. Microsoft answers in well under a
// second; an endpoint that says nothing for this long is not going to.
const TokenTimeout = 30 * time.Second

// Bounds of what a token endpoint's answer may put in an error.
const (
	maxErrorCode        = 64
	maxErrorDescription = 200
)

// TokenEndpointError is a token request that failed without Microsoft
// refusing the grant: the endpoint answered an error an administrator does
// not fix by signing in again (a 5xx, a proxy's page, invalid_request), or it
// could not be reached, or it did not answer within the timeout. It keeps
// only what is safe to print and store: the status, the OAuth error, the
// AADSTS number and a short error_description with anything that looks like
// a credential taken out. Never the response body: a proxy's error page may
// echo the request, client secret and refresh token included.
type TokenEndpointError struct {
	Endpoint    string        // the token URL
	Status      int           // the HTTP status; 0 when no answer came
	Code        string        // the OAuth error, e.g. invalid_request
	AADSTS      int           // the first AADSTS code, 0 when none was given
	Description string        // the error_description's first sentence(s), bounded
	Timeout     time.Duration // set when no answer came within it
	Err         error         // the transport's error when no answer came
}

func (e *TokenEndpointError) Error() string {
	where := "the token endpoint"
	if e.Endpoint != "" {
		where += " " + e.Endpoint
	}
	switch {
	case e.Timeout > 0:
		return fmt.Sprintf("%s did not answer within %s; check that this machine reaches %s (firewall, proxy: HTTPS_PROXY), then run again",
			where, e.Timeout, hostOf(e.Endpoint))
	case e.Status == 0:
		msg := "cannot reach " + where
		if e.Err != nil {
			msg += ": " + transportText(e.Err)
		}
		if !errors.Is(e.Err, context.Canceled) {
			msg += "; check that this machine reaches " + hostOf(e.Endpoint) + " (firewall, proxy: HTTPS_PROXY)"
		}
		return msg
	}
	s := fmt.Sprintf("%s answered %d %s", where, e.Status, http.StatusText(e.Status))
	switch {
	case e.Code != "" && e.AADSTS != 0:
		s += fmt.Sprintf(" (%s, AADSTS%d)", e.Code, e.AADSTS)
	case e.Code != "":
		s += " (" + e.Code + ")"
	case e.AADSTS != 0:
		s += fmt.Sprintf(" (AADSTS%d)", e.AADSTS)
	default:
		s += " without an OAuth error (a proxy's or server's own page?)"
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Unwrap gives the transport's error (a cancelled context, a refused
// connection), never an answer's body.
func (e *TokenEndpointError) Unwrap() error { return e.Err }

// Transient reports whether the same request may well succeed later: no
// answer, 429, a 5xx, or temporarily_unavailable.
func (e *TokenEndpointError) Transient() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Code == "temporarily_unavailable"
}

// transportText is a transport error without the "Post \"URL\":" prefix
// net/http adds (the endpoint is said already).
func transportText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return boundText(err.Error(), maxErrorDescription)
}

func hostOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "the token endpoint's host"
	}
	return u.Host
}

// ClassifyTokenError turns an error from a token request into a
// *ReauthorizeError when the grant is gone (invalid_grant, and the client
// errors an admin must fix in the registration), and any other answer of
// the endpoint into a *TokenEndpointError, so that the answer's body (which
// x/oauth2's RetrieveError carries and prints) goes no further. Errors that
// are not an answer (a network failure) are returned as they are.
func ClassifyTokenError(err error) error {
	return classifyTokenError(err, "")
}

// tokenRequestError is what a token request's failure becomes: a
// *ReauthorizeError or a *TokenEndpointError naming the endpoint, with the
// given secrets (the client secret, the refresh token, the code) blanked
// from whatever the answer said. timeout is the request's bound, to tell a
// request that got no answer in time.
func tokenRequestError(err error, endpoint string, timeout time.Duration, secrets ...string) error {
	ce := classifyTokenError(err, endpoint, secrets...)
	var (
		re *ReauthorizeError
		te *TokenEndpointError
	)
	if errors.As(ce, &re) || errors.As(ce, &te) {
		return ce
	}
	te = &TokenEndpointError{Endpoint: endpoint, Err: err}
	if isTimeout(err) {
		te.Timeout = timeout
		if te.Timeout <= 0 {
			te.Timeout = TokenTimeout
		}
	}
	return te
}

// isTimeout: the request got no answer in time (the client's Timeout or a
// deadline), as opposed to a cancelled context.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func classifyTokenError(err error, endpoint string, secrets ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	var body tokenErrorBody
	_ = json.Unmarshal(re.Body, &body)
	code := re.ErrorCode
	if code == "" {
		code = body.Error
	}
	desc := re.ErrorDescription
	if desc == "" {
		desc = body.ErrorDescription
	}
	aadsts := 0
	if len(body.ErrorCodes) > 0 && body.ErrorCodes[0] > 0 {
		aadsts = body.ErrorCodes[0]
	} else if m := aadstsRE.FindStringSubmatch(desc); m != nil {
		aadsts, _ = strconv.Atoi(m[1])
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
		if endpoint == "" && re.Response.Request != nil && re.Response.Request.URL != nil {
			u := *re.Response.Request.URL
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			endpoint = u.String()
		}
	}
	switch code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "interaction_required", "consent_required":
	default:
		return &TokenEndpointError{Endpoint: endpoint, Status: status, Code: safeCode(code), AADSTS: aadsts,
			Description: safeDescription(desc, secrets...)}
	}
	meaning := aadstsMeanings[aadsts]
	if meaning == "" {
		switch code {
		case "invalid_client":
			meaning = "the application's credentials were refused"
		case "interaction_required", "consent_required":
			meaning = "Microsoft requires the administrator to sign in again"
		default:
			meaning = "the grant is no longer valid"
		}
	}
	fix := aadstsFixes[aadsts]
	if fix == "" && code == "invalid_client" {
		fix = "check microsoft.client_id and microsoft.client_secret"
	}
	return &ReauthorizeError{Code: code, AADSTS: aadsts, Meaning: meaning, Fix: fix}
}

// safeCode keeps an OAuth error code only when it looks like one.
func safeCode(code string) string {
	if code == "" || len(code) > maxErrorCode {
		return ""
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return ""
		}
	}
	return code
}

// credentialRE finds what looks like a credential in text an endpoint sent
// back: form or JSON pairs naming one, and JWTs.
var credentialRE = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(client_secret|refresh_token|access_token|id_token|code_verifier|client_assertion|assertion|password)("?\s*[=:]\s*"?)[^&\s"',;<>]*`),
	regexp.MustCompile(`(?i)\b(code)(=)[^&\s"',;<>]*`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*`),
}

// safeDescription makes an error_description fit for a terminal, a report
// and a database row: the secrets given and anything that looks like a
// credential blanked, Microsoft's trace and correlation ids dropped, one
// line of printable text, at most maxErrorDescription characters.
func safeDescription(desc string, secrets ...string) string {
	desc = redact(desc, secrets...)
	for _, re := range credentialRE[:2] {
		desc = re.ReplaceAllString(desc, "${1}${2}[redacted]")
	}
	desc = credentialRE[2].ReplaceAllString(desc, "[redacted]")
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i] // Microsoft puts the trace and correlation ids on the next lines
	}
	if i := strings.Index(desc, " Trace ID:"); i > 0 {
		desc = desc[:i]
	}
	return boundText(desc, maxErrorDescription)
}

// redact blanks each secret (and its URL-encoded form) in s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

// boundText keeps s on one line of printable characters and at most n
// runes, marking a cut with "…".
func boundText(s string, n int) string {
	var b strings.Builder
	count := 0
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			if count+1 >= n {
				return b.String() + "…"
			}
			b.WriteByte(' ')
			count++
			space = false
		}
		if count >= n {
			return b.String() + "…"
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}
