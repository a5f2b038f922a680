package graphsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func (h *harness) oauthConfig(style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	if scopes == nil {
		scopes = append([]string{"openid"}, guideScopes...)
	}
	return &oauth2.Config{
		ClientID: testClient, ClientSecret: testSecret, RedirectURL: testRedirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   h.srv.URL + "/" + testTenant + "/oauth2/v2.0/authorize",
			TokenURL:  h.srv.URL + "/" + testTenant + "/oauth2/v2.0/token",
			AuthStyle: style,
		},
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorizeCode runs the authorize step and returns the redirect's query.
func (h *harness) authorize(t *testing.T, authURL string) (int, url.Values) {
	t.Helper()
	res, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return res.StatusCode, nil
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	return res.StatusCode, loc.Query()
}

func retrieveError(t *testing.T, err error) (string, []int) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a RetrieveError", err)
	}
	var body struct {
		ErrorCodes []int `json:"error_codes"`
	}
	json.Unmarshal(re.Body, &body)
	return re.ErrorCode, body.ErrorCodes
}

func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		cfg := h.oauthConfig(style)
		verifier := oauth2.GenerateVerifier()
		status, q := h.authorize(t, cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "select_account")))
		if status != http.StatusFound || q.Get("state") != "state-123" || q.Get("code") == "" {
			t.Fatalf("authorize: status %d, query %v", status, q)
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
			t.Fatalf("token = %+v", tok)
		}
		if got := time.Until(tok.Expiry); got < 50*time.Minute || got > 61*time.Minute {
			t.Errorf("expiry in %v, want about an hour", got)
		}
		scope, _ := tok.Extra("scope").(string)
		if strings.Contains(scope, "offline_access") || !strings.Contains(scope, "Team.Create") {
			t.Errorf("scope = %q, want the requested scopes without offline_access", scope)
		}
		if _, isNum := tok.Extra("ext_expires_in").(float64); !isNum {
			t.Errorf("ext_expires_in = %#v, want a JSON number", tok.Extra("ext_expires_in"))
		}
		if idt, _ := tok.Extra("id_token").(string); strings.Count(idt, ".") != 2 {
			t.Errorf("id_token = %q, want a JWT since openid was requested", idt)
		}
		h.token = tok.AccessToken
		me := h.do("GET", "/v1.0/me", nil)
		if me.status != 200 || me.str("id") != adminID {
			t.Fatalf("/me with the new token: %d %s", me.status, me.raw)
		}
	}
}

func TestTokenResponseShape(t *testing.T) {
	h := newHarness(t, Options{})
	cfg := h.oauthConfig(oauth2.AuthStyleInParams, "User.ReadBasic.All", "offline_access")
	_, q := h.authorize(t, cfg.AuthCodeURL("s"))
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {testClient}, "client_secret": {testSecret},
		"code": {q.Get("code")}, "redirect_uri": {testRedirect}}
	res, err := http.PostForm(cfg.Endpoint.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || body["token_type"] != "Bearer" || body["scope"] != "User.ReadBasic.All" {
		t.Fatalf("token response %d %s", res.StatusCode, raw)
	}
	if _, isNum := body["expires_in"].(float64); !isNum {
		t.Errorf("expires_in = %#v, want a JSON number", body["expires_in"])
	}
	if _, has := body["id_token"]; has {
		t.Errorf("id_token present without openid")
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("Cache-Control") == "" {
		t.Errorf("headers = %v", res.Header)
	}
}

func TestAuthorizationCodeErrors(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	cfg := h.oauthConfig(oauth2.AuthStyleInParams)
	verifier := oauth2.GenerateVerifier()
	_, q := h.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	code := q.Get("code")

	_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if e, codes := retrieveError(t, err); e != "invalid_grant" || len(codes) != 1 || codes[0] != 501481 {
		t.Errorf("wrong verifier: %s %v", e, codes)
	}
	_, err = cfg.Exchange(ctx, code)
	if e, codes := retrieveError(t, err); e != "invalid_grant" || codes[0] != 501481 {
		t.Errorf("missing verifier: %s %v", e, codes)
	}
	// A failed PKCE check leaves the code usable, as Entra does.
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("good verifier after a bad one: %v", err)
	}
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if e, codes := retrieveError(t, err); e != "invalid_grant" || codes[0] != 54005 {
		t.Errorf("reused code: %s %v", e, codes)
	}

	_, q = h.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	h.clock.Advance(11 * time.Minute)
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if e, codes := retrieveError(t, err); e != "invalid_grant" || codes[0] != 70008 {
		t.Errorf("expired code: %s %v", e, codes)
	}

	_, q = h.authorize(t, cfg.AuthCodeURL("s"))
	other := *cfg
	other.RedirectURL = "http://127.0.0.1:9999/elsewhere"
	_, err = other.Exchange(ctx, q.Get("code"))
	if e, _ := retrieveError(t, err); e != "invalid_grant" {
		t.Errorf("redirect_uri mismatch: %s", e)
	}
}

func TestWrongClientSecret(t *testing.T) {
	h := newHarness(t, Options{})
	for name, style := range map[string]oauth2.AuthStyle{"body": oauth2.AuthStyleInParams, "basic": oauth2.AuthStyleInHeader} {
		t.Run(name, func(t *testing.T) {
			cfg := h.oauthConfig(style)
			cfg.ClientSecret = "not-the-secret"
			_, q := h.authorize(t, cfg.AuthCodeURL("s"))
			_, err := cfg.Exchange(context.Background(), q.Get("code"))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v", err)
			}
			if re.Response.StatusCode != 401 || re.ErrorCode != "invalid_client" || !strings.HasPrefix(re.ErrorDescription, "AADSTS7000215:") {
				t.Fatalf("got %d %s %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
			}
			var body map[string]any
			json.Unmarshal(re.Body, &body)
			for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
				if _, ok := body[k]; !ok {
					t.Errorf("error JSON lacks %q: %s", k, re.Body)
				}
			}
			if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(7000215) {
				t.Errorf("error_codes = %v", body["error_codes"])
			}
		})
	}
}

func tokenPost(t *testing.T, h *harness, tenant string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(h.srv.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func firstCode(body map[string]any) float64 {
	codes, _ := body["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	f, _ := codes[0].(float64)
	return f
}

func TestRefreshRotationAndExpiry(t *testing.T) {
	h := newHarness(t, Options{})
	_, rt1 := h.sim.IssueToken(adminID, guideScopes)
	refresh := func(rt string) (int, map[string]any) {
		return tokenPost(t, h, testTenant, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {testClient}, "client_secret": {testSecret}})
	}
	status, body := refresh(rt1)
	rt2, _ := body["refresh_token"].(string)
	if status != 200 || rt2 == "" || rt2 == rt1 {
		t.Fatalf("first refresh: %d, new refresh token %q (old %q)", status, rt2, rt1)
	}
	// Microsoft documents that the old refresh token keeps working.
	if status, _ := refresh(rt1); status != 200 {
		t.Errorf("old refresh token after rotation: %d, want 200", status)
	}
	h.sim.ExpireRefreshTokens()
	status, body = refresh(rt2)
	if status != 400 || body["error"] != "invalid_grant" || firstCode(body) != 700082 {
		t.Errorf("expired refresh token: %d %v", status, body)
	}
	if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS700082: The refresh token has expired due to inactivity.") {
		t.Errorf("error_description = %q", d)
	}

	_, rt3 := h.sim.IssueToken(adminID, guideScopes)
	h.sim.RevokeRefreshTokens()
	status, body = refresh(rt3)
	if status != 400 || body["error"] != "invalid_grant" || firstCode(body) != 70008 {
		t.Errorf("revoked refresh token: %d %v", status, body)
	}

	_, rt4 := h.sim.IssueToken(adminID, guideScopes)
	h.clock.Advance(91 * 24 * time.Hour)
	if status, body := refresh(rt4); status != 400 || firstCode(body) != 700082 {
		t.Errorf("refresh token unused for 91 days: %d %v", status, body)
	}
}

func TestClientCredentials(t *testing.T) {
	h := newHarness(t, Options{})
	status, body := tokenPost(t, h, testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient},
		"client_secret": {testSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 || body["scope"] != "https://graph.microsoft.com/.default" {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	if _, has := body["refresh_token"]; has {
		t.Errorf("app-only token came with a refresh token")
	}
	h.token, _ = body["access_token"].(string)
	expectError(t, h.do("GET", "/v1.0/me", nil), 400, "BadRequest")
	expectStatus(t, h.do("GET", "/v1.0/users/"+aliceID, nil), 200)

	status, body = tokenPost(t, h, testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient},
		"client_secret": {testSecret}, "scope": {"https://graph.microsoft.com/User.Read.All"}})
	if status != 400 || body["error"] != "invalid_scope" || firstCode(body) != 1002012 {
		t.Errorf("non-.default scope: %d %v", status, body)
	}
}

func TestTokenEndpointValidation(t *testing.T) {
	h := newHarness(t, Options{})
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient}, "client_secret": {testSecret}, "scope": {".default"}}
	status, body := tokenPost(t, h, "99999999-9999-4999-8999-999999999999", good)
	if status != 400 || body["error"] != "invalid_request" || firstCode(body) != 90002 {
		t.Errorf("wrong tenant: %d %v", status, body)
	}
	unknown := url.Values{"grant_type": {"client_credentials"}, "client_id": {"33333333-3333-4333-8333-333333333333"}, "client_secret": {"x"}, "scope": {".default"}}
	if status, body := tokenPost(t, h, testTenant, unknown); status != 400 || body["error"] != "unauthorized_client" || firstCode(body) != 700016 {
		t.Errorf("unknown client: %d %v", status, body)
	}
	noSecret := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient}, "scope": {".default"}}
	if status, body := tokenPost(t, h, testTenant, noSecret); status != 401 || firstCode(body) != 7000218 {
		t.Errorf("missing secret: %d %v", status, body)
	}
	bogus := url.Values{"grant_type": {"password"}, "client_id": {testClient}, "client_secret": {testSecret}}
	if status, body := tokenPost(t, h, testTenant, bogus); status != 400 || body["error"] != "unsupported_grant_type" {
		t.Errorf("unsupported grant: %d %v", status, body)
	}
	// The token endpoint reads only form bodies: JSON reads as no parameters.
	res, err := http.Post(h.srv.URL+"/"+testTenant+"/oauth2/v2.0/token", "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 400 || firstCode(body) != 900144 {
		t.Errorf("JSON body: %d %v", res.StatusCode, body)
	}
}

func TestAuthorizeValidation(t *testing.T) {
	h := newHarness(t, Options{})
	base := h.srv.URL + "/" + testTenant + "/oauth2/v2.0/authorize?"
	params := func(mod func(url.Values)) string {
		v := url.Values{"client_id": {testClient}, "response_type": {"code"}, "redirect_uri": {testRedirect},
			"scope": {"User.ReadBasic.All offline_access"}, "state": {"xyz"}}
		mod(v)
		return base + v.Encode()
	}
	// Problems that make the redirect untrustworthy show an error page and never redirect.
	for name, mod := range map[string]func(url.Values){
		"unregistered redirect": func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:8400/other") },
		"unknown client":        func(v url.Values) { v.Set("client_id", "33333333-3333-4333-8333-333333333333") },
		"missing client":        func(v url.Values) { v.Del("client_id") },
	} {
		if status, _ := h.authorize(t, params(mod)); status != 400 {
			t.Errorf("%s: status %d, want an error page (400)", name, status)
		}
	}
	// Other problems come back to the app as error redirects with the state.
	for name, tc := range map[string]struct {
		mod  func(url.Values)
		want string
	}{
		"no scope":         {func(v url.Values) { v.Del("scope") }, "invalid_request"},
		"token flow":       {func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		"bad challenge":    {func(v url.Values) { v.Set("code_challenge", "short"); v.Set("code_challenge_method", "S256") }, "invalid_request"},
		"foreign resource": {func(v url.Values) { v.Set("scope", "https://foo.microsoft.com/mail.read") }, "invalid_scope"},
		"bad method (PKCE)": {func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("a", 43))
			v.Set("code_challenge_method", "S512")
		}, "invalid_request"},
	} {
		status, q := h.authorize(t, params(tc.mod))
		if status != 302 || q.Get("error") != tc.want || q.Get("state") != "xyz" || q.Get("code") != "" {
			t.Errorf("%s: %d %v, want error=%s", name, status, q, tc.want)
		}
	}

	h.sim.SetFaults(Faults{AuthorizeDenied: true})
	status, q := h.authorize(t, params(func(url.Values) {}))
	if status != 302 || q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "xyz" {
		t.Errorf("denied consent: %d %v", status, q)
	}
	h.sim.SetFaults(Faults{})

	// login_hint signs in as another user.
	cfg := h.oauthConfig(oauth2.AuthStyleInParams)
	_, q = h.authorize(t, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "BOB@school.example")))
	tok, err := cfg.Exchange(context.Background(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	h.token = tok.AccessToken
	if me := h.do("GET", "/v1.0/me", nil); me.str("id") != bobID {
		t.Errorf("/me after login_hint = %s, want Bob", me.raw)
	}
}
