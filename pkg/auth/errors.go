package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

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

// ClassifyTokenError turns an error from a token request into a
// *ReauthorizeError when the grant is gone (invalid_grant, and the client
// errors an admin must fix in the registration), keeping other errors (a
// network failure, a 5xx) as they are so the run can be retried later.
func ClassifyTokenError(err error) error {
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
	aadsts := 0
	if len(body.ErrorCodes) > 0 {
		aadsts = body.ErrorCodes[0]
	} else if m := aadstsRE.FindStringSubmatch(re.ErrorDescription + body.ErrorDescription); m != nil {
		aadsts, _ = strconv.Atoi(m[1])
	}
	switch code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "interaction_required", "consent_required":
	default:
		return err
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
