package auth

import (
	"context"
	"crypto/rand"
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
	d := strings.TrimSpace(e.Description)
	if i := strings.Index(d, "\r\n"); i > 0 {
		d = d[:i] // drop trace and correlation ids
	}
	if d == "" {
		return "sign-in failed: " + e.Code
	}
	return fmt.Sprintf("sign-in failed: %s: %s", e.Code, d)
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
	tok, err := f.OAuth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, classifyExchangeError(err)
	}
	return tok, nil
}

func classifyExchangeError(err error) error {
	ce := ClassifyTokenError(err)
	var re *ReauthorizeError
	if errors.As(ce, &re) {
		switch re.AADSTS {
		case 54005:
			return fmt.Errorf("the authorization code was already redeemed (AADSTS54005) — if Elentra's own /api/ms-graph-oauth.php shares this redirect URI it may have used it first; register a redirect URI for this tool only and run authorize again")
		case 70008:
			return fmt.Errorf("the authorization code expired (AADSTS70008); run authorize again and paste the address within a few minutes")
		}
		if re.Fix != "" {
			return fmt.Errorf("Microsoft refused the code (AADSTS%d): %s; %s", re.AADSTS, re.Meaning, re.Fix)
		}
		return fmt.Errorf("Microsoft refused the code (%s, AADSTS%d): %s; run authorize again", re.Code, re.AADSTS, re.Meaning)
	}
	return ce
}

// IsLoopbackRedirect reports whether the redirect URI can be finished by a
// listener on this machine: http on localhost or 127.0.0.1 with a port.
func IsLoopbackRedirect(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1"
}

// WaitLoopback listens on 127.0.0.1 at the redirect URI's port for one
// request to its path, answers it with a short page, closes, and returns the
// query. It gives up after timeout. ready is called once the listener is up.
func WaitLoopback(ctx context.Context, redirectURI string, timeout time.Duration, ready func()) (url.Values, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", u.Port()))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on 127.0.0.1:%s for the redirect (%v); free the port or use --no-browser", u.Port(), err)
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
		msg := "Signed in. You can close this window and return to the terminal."
		if e := q.Get("error"); e != "" {
			msg = "Sign-in failed: " + html.EscapeString(e) + ". Return to the terminal."
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
