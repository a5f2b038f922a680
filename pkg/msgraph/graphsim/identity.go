package graphsim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	graphResource     = "https://graph.microsoft.com/"
	graphAppID        = "00000003-0000-0000-c000-000000000000"
	codeLifetime      = 10 * time.Minute
	refreshInactivity = 90 * 24 * time.Hour
)

type authCode struct {
	clientID, redirectURI, userID string
	scopes                        []string
	challenge, method             string
	issued                        time.Time
	redeemed                      bool
}

type accessToken struct {
	clientID string
	userID   string // "" for app-only tokens
	scopes   []string
	expires  time.Time
	tenantID string
}

type refreshToken struct {
	clientID, userID string
	scopes           []string
	issued, lastUsed time.Time
	expired, revoked bool
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// IssueToken mints tokens without the browser flow, for tests. An empty
// userID gives an app-only access token (no refresh token); otherwise the
// refresh token is returned too. Tokens belong to the first seeded client.
func (s *Sim) IssueToken(userID string, scopes []string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := "graphsim-test-client"
	if len(s.seed.Clients) > 0 {
		clientID = s.seed.Clients[0].ClientID
	}
	if userID == "" {
		return s.mintAccess(clientID, "", []string{graphResource + ".default"}), ""
	}
	access = s.mintAccess(clientID, userID, scopes)
	refresh = s.mintRefresh(clientID, userID, scopes)
	return access, refresh
}

func (s *Sim) mintAccess(clientID, userID string, scopes []string) string {
	tok := randomToken()
	s.access[tok] = &accessToken{clientID: clientID, userID: userID, scopes: scopes,
		expires: s.clock().Add(s.opts.AccessTokenLifetime), tenantID: s.seed.TenantID}
	return tok
}

func (s *Sim) mintRefresh(clientID, userID string, scopes []string) string {
	tok := randomToken()
	now := s.clock()
	s.refresh[tok] = &refreshToken{clientID: clientID, userID: userID, scopes: scopes, issued: now, lastUsed: now}
	return tok
}

// ExpireRefreshTokens makes every refresh token issued so far fail with
// invalid_grant AADSTS700082 (expired due to inactivity).
func (s *Sim) ExpireRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.refresh {
		rt.expired = true
	}
}

// RevokeRefreshTokens makes every refresh token issued so far fail with
// invalid_grant AADSTS70008 (expired or revoked grant).
func (s *Sim) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.refresh {
		rt.revoked = true
	}
}

// ExpireAccessTokens makes every access token issued so far answer 401
// InvalidAuthenticationToken on its next Graph call.
func (s *Sim) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.clock().Add(-time.Second)
	for _, at := range s.access {
		at.expires = past
	}
}

func (s *Sim) client(id string) *Client {
	for i := range s.seed.Clients {
		if strings.EqualFold(s.seed.Clients[i].ClientID, id) {
			return &s.seed.Clients[i]
		}
	}
	return nil
}

// tenantOK says whether the {tenant} path segment names this tenant. The
// multi-tenant aliases are accepted for the delegated flows.
func (s *Sim) tenantOK(t string) bool {
	return strings.EqualFold(t, s.seed.TenantID) || strings.EqualFold(t, "organizations") || strings.EqualFold(t, "common")
}

func (s *Sim) serveIdentity(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[1] != "oauth2" || parts[2] != "v2.0" {
		http.NotFound(w, r)
		return
	}
	tenant, endpoint := parts[0], parts[3]
	var status int
	var route string
	s.mu.Lock()
	defer s.mu.Unlock()
	switch endpoint {
	case "authorize":
		route = "GET /{tenant}/oauth2/v2.0/authorize"
		status = s.authorize(w, r, tenant)
	case "token":
		route = "POST /{tenant}/oauth2/v2.0/token"
		status = s.token(w, r, tenant)
	default:
		http.NotFound(w, r)
		return
	}
	// Identity bodies carry secrets and codes: the log keeps only the shape.
	s.record(LoggedRequest{Time: s.clock(), Method: r.Method, Path: r.URL.Path, Route: route, Status: status})
}

// errorPage answers an authorize request that cannot be redirected: the
// identity platform shows an error page instead of returning to the app.
func (s *Sim) errorPage(w http.ResponseWriter, code int, msg string) int {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS%d: %s</p></body></html>\n", code, html.EscapeString(msg))
	return http.StatusBadRequest
}

func (s *Sim) authorize(w http.ResponseWriter, r *http.Request, tenant string) int {
	if r.Method != http.MethodGet {
		return s.errorPage(w, 900561, fmt.Sprintf("The endpoint only accepts GET requests. Received a %s request.", r.Method))
	}
	if !s.tenantOK(tenant) {
		return s.errorPage(w, 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	}
	q := r.URL.Query()
	clientID := q.Get("client_id")
	if clientID == "" {
		return s.errorPage(w, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	c := s.client(clientID)
	if c == nil {
		return s.errorPage(w, 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.seed.TenantID))
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || !slices.Contains(c.RedirectURIs, redirect) {
		return s.errorPage(w, 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, c.ClientID))
	}
	target, err := url.Parse(redirect)
	if err != nil {
		return s.errorPage(w, 50011, fmt.Sprintf("The redirect URI '%s' is not a valid URI.", redirect))
	}
	state := q.Get("state")
	fail := func(code, desc string) int {
		v := target.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		if state != "" {
			v.Set("state", state)
		}
		target.RawQuery = v.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
		return http.StatusFound
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return fail("invalid_request", fmt.Sprintf("AADSTS900144: response_mode '%s' is not supported by this simulator; use query.", rm))
	}
	if !slices.Contains(strings.Fields(q.Get("response_type")), "code") {
		return fail("unsupported_response_type", "AADSTS700054: response_type 'code' is required.")
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		return fail("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'.")
	}
	if bad := invalidScope(scopes); bad != "" {
		return fail("invalid_scope", fmt.Sprintf("AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", bad))
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if method != "" && challenge == "" {
		return fail("invalid_request", "AADSTS50147: The code challenge parameter is missing.")
	}
	if challenge != "" {
		if method == "" {
			method = "plain" // the documented default when a challenge comes without a method
		}
		if method != "S256" && method != "plain" {
			return fail("invalid_request", fmt.Sprintf("AADSTS501491: Invalid code_challenge_method '%s'.", method))
		}
		if (method == "S256" && len(challenge) != 43) || len(challenge) < 43 || len(challenge) > 128 {
			return fail("invalid_request", "AADSTS501491: Invalid size of Code_Challenge parameter.")
		}
	}
	if s.faults.AuthorizeDenied {
		return fail("access_denied", "AADSTS65004: User declined to consent to access the app.")
	}
	user := s.userByID(s.seed.SignedInUser)
	if hint := q.Get("login_hint"); hint != "" {
		user = nil
		for _, u := range s.users {
			if strings.EqualFold(u.UserPrincipalName, hint) || strings.EqualFold(u.Mail, hint) {
				user = u
				break
			}
		}
		if user == nil {
			return s.errorPage(w, 50034, fmt.Sprintf("The user account %s does not exist in the %s directory.", hint, s.seed.TenantID))
		}
	}
	if user == nil {
		return s.errorPage(w, 50058, "No signed-in user: the seed names no signed_in_user.")
	}
	code := randomToken()
	s.codes[code] = &authCode{clientID: c.ClientID, redirectURI: redirect, userID: user.ID, scopes: scopes,
		challenge: challenge, method: method, issued: s.clock()}
	v := target.Query()
	v.Set("code", code)
	if state != "" {
		v.Set("state", state)
	}
	target.RawQuery = v.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
	return http.StatusFound
}

func isOIDCScope(s string) bool {
	switch strings.ToLower(s) {
	case "openid", "profile", "email", "offline_access":
		return true
	}
	return false
}

// normScope reduces a Graph scope to its lower-cased permission name
// ("https://graph.microsoft.com/User.Read" → "user.read").
func normScope(s string) string {
	l := strings.ToLower(s)
	for _, p := range []string{graphResource, "https://graph.microsoft.com", graphAppID + "/"} {
		if strings.HasPrefix(l, p) {
			return strings.TrimPrefix(l, p)
		}
	}
	return l
}

// invalidScope returns the first scope that is not a Graph permission or an
// OpenID Connect scope, or "".
func invalidScope(scopes []string) string {
	for _, sc := range scopes {
		if isOIDCScope(sc) {
			continue
		}
		l := strings.ToLower(sc)
		if strings.Contains(l, "://") && !strings.HasPrefix(l, graphResource) {
			return sc
		}
		name := normScope(sc)
		if name == "" || strings.ContainsAny(name, " /:") && name != ".default" {
			return sc
		}
	}
	return ""
}

// tokenError writes the identity platform's error JSON (graph-wire.md §1.6).
func (s *Sim) tokenError(w http.ResponseWriter, status int, errCode string, aadsts int, msg string) int {
	now := s.clock().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	trace := s.nextRequestID()
	corr := s.nextRequestID()
	body := map[string]any{
		"error":             errCode,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, trace, corr, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm=""`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
	return status
}

func (s *Sim) token(w http.ResponseWriter, r *http.Request, tenant string) int {
	if r.Method != http.MethodPost {
		return s.tokenError(w, 400, "invalid_request", 900561, fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
	}
	if !s.tenantOK(tenant) {
		return s.tokenError(w, 400, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	}
	form := url.Values{}
	// Only a form-encoded body counts: a JSON body reads as no parameters at all.
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		f, err := url.ParseQuery(string(raw))
		if err != nil {
			return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		}
		form = f
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	// Client authentication: HTTP Basic (form-encoded id and secret, RFC 6749
	// §2.3.1) or client_id + client_secret in the body.
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(u)
		pw, err2 := url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return s.tokenError(w, 401, "invalid_client", 7000215, "Invalid client secret provided.")
		}
		if clientID != "" && !strings.EqualFold(clientID, uid) {
			return s.tokenError(w, 400, "invalid_request", 900144, "The client_id in the body does not match the one in the Authorization header.")
		}
		if secret != "" {
			return s.tokenError(w, 400, "invalid_request", 9002337, "Client authentication is given both in the Authorization header and in the body; use one.")
		}
		clientID, secret = uid, pw
	}
	if clientID == "" {
		return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	c := s.client(clientID)
	if c == nil {
		return s.tokenError(w, 400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, s.seed.TenantID))
	}
	if assertion := form.Get("client_assertion"); assertion != "" && secret == "" {
		if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion_type'.")
		}
		aud := "http://" + r.Host + r.URL.Path
		if code, msg := verifyAssertion(c, clientID, assertion, aud, s.clock()); code != 0 {
			return s.tokenError(w, 401, "invalid_client", code, msg)
		}
	} else if secret == "" {
		return s.tokenError(w, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	} else if c.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(c.ClientSecret)) != 1 {
		return s.tokenError(w, 401, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", c.ClientID))
	}
	switch grant {
	case "authorization_code":
		return s.redeemCode(w, c, form)
	case "refresh_token":
		return s.redeemRefresh(w, c, form)
	case "client_credentials":
		if strings.EqualFold(tenant, "common") || strings.EqualFold(tenant, "consumers") {
			return s.tokenError(w, 400, "invalid_request", 9001023, "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
		}
		scope := form.Get("scope")
		if scope == "" {
			return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		}
		n := normScope(scope)
		if len(strings.Fields(scope)) != 1 || n != ".default" {
			return s.tokenError(w, 400, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		}
		return s.writeTokens(w, c.ClientID, "", []string{scope}, false, false)
	default:
		return s.tokenError(w, 400, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
	}
}

func (s *Sim) redeemCode(w http.ResponseWriter, c *Client, form url.Values) int {
	code := form.Get("code")
	if code == "" {
		return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
	}
	ac := s.codes[code]
	if ac == nil || !strings.EqualFold(ac.clientID, c.ClientID) {
		return s.tokenError(w, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	}
	if ac.redeemed {
		return s.tokenError(w, 400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	}
	if s.clock().Sub(ac.issued) > codeLifetime {
		return s.tokenError(w, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	redirect := form.Get("redirect_uri")
	if redirect == "" {
		return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'redirect_uri'.")
	}
	if redirect != ac.redirectURI {
		// RFC 6749 §5.2: a redirect_uri that does not match the authorization request's is invalid_grant.
		return s.tokenError(w, 400, "invalid_grant", 500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", redirect, ac.redirectURI))
	}
	if ac.challenge != "" {
		verifier := form.Get("code_verifier")
		if !pkceMatches(ac.method, ac.challenge, verifier) {
			// Entra leaves the code unredeemed after a PKCE failure.
			return s.tokenError(w, 400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	scopes := ac.scopes
	if sc := form.Get("scope"); sc != "" {
		req := strings.Fields(sc)
		if bad := invalidScope(req); bad != "" {
			return s.tokenError(w, 400, "invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", bad))
		}
		scopes = req
	}
	ac.redeemed = true
	offline := containsFold(ac.scopes, "offline_access") || containsFold(scopes, "offline_access")
	openid := containsFold(ac.scopes, "openid")
	return s.writeTokens(w, c.ClientID, ac.userID, scopes, offline, openid)
}

func pkceMatches(method, challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *Sim) redeemRefresh(w http.ResponseWriter, c *Client, form url.Values) int {
	tok := form.Get("refresh_token")
	if tok == "" {
		return s.tokenError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	rt := s.refresh[tok]
	if rt == nil {
		return s.tokenError(w, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	}
	if !strings.EqualFold(rt.clientID, c.ClientID) {
		return s.tokenError(w, 400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
	}
	now := s.clock()
	if rt.revoked {
		return s.tokenError(w, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	if rt.expired || now.Sub(rt.lastUsed) > refreshInactivity {
		return s.tokenError(w, 400, "invalid_grant", 700082, fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", rt.issued.UTC().Format("2006-01-02T15:04:05.0000000Z")))
	}
	scopes := rt.scopes
	if sc := form.Get("scope"); sc != "" {
		req := strings.Fields(sc)
		granted := map[string]bool{}
		for _, g := range rt.scopes {
			granted[normScope(g)] = true
		}
		for _, q := range req {
			if !isOIDCScope(q) && !granted[normScope(q)] && !granted[".default"] {
				return s.tokenError(w, 400, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", c.ClientID))
			}
		}
		scopes = req
	}
	rt.lastUsed = now
	// The refresh grant always rotates; the old token keeps working
	// (refresh-tokens.md), so it is not deleted.
	return s.writeTokens(w, c.ClientID, rt.userID, scopes, true, containsFold(rt.scopes, "openid"))
}

// writeTokens answers a successful grant (graph-wire.md §1.4).
func (s *Sim) writeTokens(w http.ResponseWriter, clientID, userID string, scopes []string, withRefresh, withIDToken bool) int {
	var shown []string
	for _, sc := range scopes {
		if !strings.EqualFold(sc, "offline_access") {
			shown = append(shown, sc)
		}
	}
	lifetime := int(s.opts.AccessTokenLifetime / time.Second)
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(shown, " "),
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   s.mintAccess(clientID, userID, scopes),
	}
	if withRefresh && userID != "" {
		body["refresh_token"] = s.mintRefresh(clientID, userID, scopes)
	}
	if withIDToken && userID != "" {
		body["id_token"] = s.idToken(clientID, userID)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(body)
	return http.StatusOK
}

// idToken is an unsigned JWT with the v2.0 claims a client may read.
func (s *Sim) idToken(clientID, userID string) string {
	u := s.userByID(userID)
	now := s.clock().Unix()
	claims := map[string]any{
		"aud": clientID, "iss": "https://login.microsoftonline.com/" + s.seed.TenantID + "/v2.0",
		"iat": now, "nbf": now, "exp": now + int64(s.opts.AccessTokenLifetime/time.Second),
		"oid": userID, "sub": userID, "tid": s.seed.TenantID, "ver": "2.0",
	}
	if u != nil {
		claims["name"] = u.DisplayName
		claims["preferred_username"] = u.UserPrincipalName
	}
	head, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "none"})
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(head) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}
