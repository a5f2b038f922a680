package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// OAuthConfig builds the oauth2 configuration of the delegated flow from the
// tool's configuration: endpoints from authority + tenant or the explicit
// URLs, the client secret sent in the body (Microsoft accepts it there and
// x/oauth2's auto-detection would otherwise try Basic first).
func OAuthConfig(m config.Microsoft) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		RedirectURL:  m.RedirectURI,
		Scopes:       m.RequiredScopes(),
		Endpoint: oauth2.Endpoint{
			AuthURL:   m.AuthorizeURL(),
			TokenURL:  m.TokenEndpoint(),
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// Flow is one authorization-code flow with PKCE (S256) and a random state.
type Flow struct {
	OAuth    *oauth2.Config
	Verifier string
	State    string
}

// NewFlow starts a flow with a fresh verifier and state.
func NewFlow(cfg *oauth2.Config) *Flow {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return &Flow{OAuth: cfg, Verifier: oauth2.GenerateVerifier(), State: base64.RawURLEncoding.EncodeToString(b)}
}

// AuthCodeURL is the URL the administrator opens to sign in. loginHint, when
// set, preselects the account (Elentra's administrator's address).
func (f *Flow) AuthCodeURL(loginHint string) string {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(f.Verifier),
		oauth2.SetAuthURLParam("response_mode", "query"),
		oauth2.SetAuthURLParam("prompt", "select_account"),
	}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return f.OAuth.AuthCodeURL(f.State, opts...)
}

// RedirectError is an error the identity platform put in the redirect.
type RedirectError struct{ Code, Description string }

func (e *RedirectError) Error() string {
	code := safeCode(e.Code)
	if code == "" {
		code = "an unreadable error"
	}
	d := safeDescription(e.Description)
	if d == "" {
		return "sign-in failed: " + code
	}
	return fmt.Sprintf("sign-in failed: %s: %s", code, d)
}

// ErrStateMismatch means the redirect did not come from this flow.
var ErrStateMismatch = errors.New("the redirected URL's state does not match this sign-in (an old or foreign URL?); run authorize again and use the URL it prints")

// CodeFromQuery checks a redirect's query (state, error) and returns the code.
func (f *Flow) CodeFromQuery(q url.Values) (string, error) {
	if e := q.Get("error"); e != "" {
		return "", &RedirectError{Code: e, Description: q.Get("error_description")}
	}
	if q.Get("state") != f.State {
		return "", ErrStateMismatch
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("the redirected URL holds no code")
	}
	return code, nil
}

// CodeFromPasted reads what an administrator pasted: the whole redirected URL
// (checked like a loopback redirect), its query string, or the bare code. A
// bare code cannot carry the state, so PKCE alone protects it.
func (f *Flow) CodeFromPasted(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("nothing was pasted")
	}
	if strings.Contains(s, "://") || strings.HasPrefix(s, "?") || strings.Contains(s, "code=") || strings.Contains(s, "error=") {
		raw := s
		if i := strings.IndexByte(s, '?'); i >= 0 {
			raw = s[i+1:]
		}
		if i := strings.IndexByte(raw, '#'); i >= 0 {
			raw = raw[:i]
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			return "", fmt.Errorf("cannot read the pasted URL: %v", err)
		}
		return f.CodeFromQuery(q)
	}
	if strings.ContainsAny(s, " \t") {
		return "", errors.New("paste the whole address of the page you landed on, or just its code")
	}
	return s, nil
}

// Exchange redeems the code with the PKCE verifier. Token errors are
// classified (a reused or expired code says so).
func (f *Flow) Exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	ctx, timeout := tokenContext(ctx, 0)
	tok, err := f.OAuth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, exchangeError(tokenRequestError(err, f.OAuth.Endpoint.TokenURL, timeout, f.OAuth.ClientSecret, code, f.Verifier))
	}
	return tok, nil
}

// exchangeError says what a refused code means for the one redeeming it.
func exchangeError(ce error) error {
	var re *ReauthorizeError
	if errors.As(ce, &re) {
		switch re.AADSTS {
		case 54005:
			return fmt.Errorf("the authorization code was already redeemed (AADSTS54005) — if Elentra's own /api/ms-graph-oauth.php shares this redirect URI it may have used it first; register a redirect URI for this tool only and run authorize again")
		case 70008:
			return fmt.Errorf("the authorization code expired (AADSTS70008); run authorize again and paste the address within a few minutes")
		}
		if re.Fix != "" {
			return fmt.Errorf("the code was refused by Microsoft (AADSTS%d): %s; %s", re.AADSTS, re.Meaning, re.Fix)
		}
		return fmt.Errorf("the code was refused by Microsoft (%s, AADSTS%d): %s; run authorize again", re.Code, re.AADSTS, re.Meaning)
	}
	return ce
}

// IsLoopbackRedirect reports whether authorize finishes the sign-in itself
// for this redirect URI, with a listener on this machine: plain http to a
// host that is this machine by config.IsLoopbackHost (the rule check-config
// applies too). Without a port the browser comes to port 80.
func IsLoopbackRedirect(redirectURI string) bool {
	_, ok := LoopbackListenAddr(redirectURI)
	return ok
}

// LoopbackListenAddr is where authorize listens for a loopback redirect URI:
// the address it names (127.0.0.1 for localhost) and its port, 80 when it
// names none. ok is false when the URI is not a loopback redirect.
func LoopbackListenAddr(redirectURI string) (addr string, ok bool) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" || u.User != nil || !config.IsLoopbackHost(u.Hostname()) {
		return "", false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), true
}

// The pages the loopback listener shows in the browser.
const (
	pageSignedIn = "Signed in. elentra-teams finishes the authorization in the terminal; you can close this window."
	pageForeign  = "This address is not the answer to the sign-in elentra-teams is waiting for (its state does not match), so it was ignored. Finish the sign-in from the address elentra-teams printed."
)

// WaitLoopback listens at the redirect URI's loopback address for the
// browser's redirect to its path, and returns the query of the first one
// whose state is this sign-in's. A request with another state (an old tab, or
// any local process or web page guessing the port) is answered with a page
// saying it was ignored, and the wait goes on; the page says "signed in" only
// after the state matched. It gives up after timeout. ready is called once
// the listener is up.
func WaitLoopback(ctx context.Context, redirectURI, state string, timeout time.Duration, ready func()) (url.Values, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	addr, ok := LoopbackListenAddr(redirectURI)
	if !ok {
		return nil, fmt.Errorf("%s is not plain http to this machine, so no listener can receive the sign-in; use --no-browser", redirectURI)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the redirect (%v); free the port, give microsoft.redirect_uri a port above 1024, or use --no-browser", addr, err)
	}
	got := make(chan url.Values, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if state == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>elentra-teams</title><p>%s</p>", pageForeign)
			return
		}
		msg := pageSignedIn
		switch {
		case q.Get("error") != "":
			msg = "Sign-in failed: " + html.EscapeString(boundText(q.Get("error"), 64)) + ". Return to the terminal."
		case q.Get("code") == "":
			msg = "The sign-in came back without a code. Return to the terminal."
		}
		fmt.Fprintf(w, "<!doctype html><title>elentra-teams</title><p>%s</p>", msg)
		select {
		case got <- q:
		default:
		}
	})
	go srv.Serve(ln)
	defer srv.Close()
	if ready != nil {
		ready()
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case q := <-got:
		return q, nil
	case <-t.C:
		return nil, fmt.Errorf("no sign-in reached %s within %s; run authorize again (or use --no-browser)", redirectURI, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
