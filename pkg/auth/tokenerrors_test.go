package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

const (
	echoClientSecret = "fake-client-secret-echoed-by-a-proxy"
	echoRefreshToken = "fake-refresh-token-echoed-by-a-proxy"
	echoTenant       = "11111111-2222-3333-4444-555555555555"
	echoClient       = "22222222-3333-4444-5555-666666666666"
)

// tokenEndpoint is a real HTTP server standing where the token endpoint
// should be; answer writes its reply to each request, whose form body it is
// given. It counts the requests.
type tokenEndpoint struct {
	srv   *httptest.Server
	count atomic.Int64
}

func newTokenEndpoint(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, form string)) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.count.Add(1)
		b, _ := io.ReadAll(r.Body)
		answer(w, r, string(b))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tokenEndpoint) url() string { return e.srv.URL + "/" + echoTenant + "/oauth2/v2.0/token" }

func (e *tokenEndpoint) microsoft() config.Microsoft {
	return config.Microsoft{TenantID: echoTenant, ClientID: echoClient, ClientSecret: echoClientSecret, TokenURL: e.url(),
		AuthURL: e.srv.URL + "/authorize", RedirectURI: "http://localhost:8400/callback", AuthMode: "delegated"}
}

// delegatedSource is a TokenSource whose stored access token has expired,
// so its first use refreshes at the endpoint.
func (e *tokenEndpoint) delegatedSource(t *testing.T, timeout time.Duration) *TokenSource {
	t.Helper()
	v := &Vault{Table: &memTable{}, Sealer: testSealer(t), Name: "delegated"}
	now := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	if err := v.Save(context.Background(), &Token{OAuth: &oauth2.Token{AccessToken: "fake-expired-access", RefreshToken: echoRefreshToken,
		Expiry: now.Add(-time.Hour)}, AuthorizedAt: now.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return &TokenSource{Vault: v, OAuth: OAuthConfig(e.microsoft()), Now: func() time.Time { return now }, Ctx: context.Background(), Timeout: timeout}
}

// A proxy or server page that echoes the request must never bring the
// client secret, the refresh token, the code or the PKCE verifier into an
// error: only the status, the OAuth error, the AADSTS number and a short
// description remain, whatever the token request was.
func TestTokenErrorsNeverCarryTheBody(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter, r *http.Request, form string){
		"html page echoing the request": func(w http.ResponseWriter, r *http.Request, form string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><h1>502 Bad Gateway</h1><p>upstream failed for</p><pre>POST %s\n%s</pre></body></html>", r.URL.Path, form)
		},
		"plain text echoing the form": func(w http.ResponseWriter, r *http.Request, form string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, form)
		},
		"OAuth error whose description echoes the form": func(w http.ResponseWriter, r *http.Request, form string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_request","error_description":"AADSTS900144: cannot read the request %s.\r\nTrace ID: 0000aaaa\r\nCorrelation ID: bbbb","error_codes":[900144]}`,
				strings.ReplaceAll(form, `"`, `\"`))
		},
		"OAuth error with a decoded echo and a long description": func(w http.ResponseWriter, r *http.Request, form string) {
			q, _ := url.ParseQuery(form)
			var echo strings.Builder
			for k, v := range q {
				fmt.Fprintf(&echo, "%s: %s; ", k, v[0])
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"error":"temporarily_unavailable","error_description":"the service is busy %s %s"}`,
				strings.Repeat("and busier ", 1000), strings.ReplaceAll(echo.String(), `"`, `\"`))
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			e := newTokenEndpoint(t, answer)
			flow := NewFlow(OAuthConfig(e.microsoft()))
			const code = "fake-authorization-code-echoed"
			secrets := []string{echoClientSecret, echoRefreshToken, code, flow.Verifier}

			_, refreshErr := e.delegatedSource(t, 0).ForceRefresh(context.Background())
			app, err := AppTokenSource(context.Background(), e.microsoft(), time.Now)
			if err != nil {
				t.Fatal(err)
			}
			_, appErr := app.Token()
			_, exchangeErr := flow.Exchange(context.Background(), code)
			for what, err := range map[string]error{"refresh": refreshErr, "client credentials": appErr, "code redemption": exchangeErr} {
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				msg := err.Error()
				for _, s := range secrets {
					if strings.Contains(msg, s) || strings.Contains(msg, url.QueryEscape(s)) {
						t.Errorf("%s: the error shows %.12s…: %s", what, s, msg)
					}
				}
				if len(msg) > 600 || strings.ContainsAny(msg, "\r\n") {
					t.Errorf("%s: the error is %d bytes or more than one line: %q", what, len(msg), msg)
				}
				if strings.Contains(msg, "<pre>") || strings.Contains(msg, "Trace ID") {
					t.Errorf("%s: the error carries the page: %s", what, msg)
				}
				var te *TokenEndpointError
				if !errors.As(err, &te) || te.Status == 0 || !strings.Contains(msg, fmt.Sprint(te.Status)) || !strings.Contains(msg, e.url()) {
					t.Errorf("%s: %q does not name the status and the endpoint", what, msg)
				}
			}
		})
	}
}

// The error of a refused refresh says what Microsoft said, in a few words.
func TestTokenEndpointErrorKeepsWhatHelps(t *testing.T) {
	e := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request, form string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' is not valid.\r\nTrace ID: 0000aaaa\r\nCorrelation ID: bbbb","error_codes":[70011]}`)
	})
	_, err := e.delegatedSource(t, 0).ForceRefresh(context.Background())
	want := "the token endpoint " + e.url() + " answered 400 Bad Request (invalid_scope, AADSTS70011): AADSTS70011: The provided value for the input parameter 'scope' is not valid."
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// After a refresh fails, the token source does not ask again: every later
// call, from every action of the run, gets the same error at once.
func TestRefreshFailureIsRemembered(t *testing.T) {
	for name, answer := range map[string]func(w http.ResponseWriter, r *http.Request, form string){
		"grant refused": func(w http.ResponseWriter, r *http.Request, form string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}`)
		},
		"endpoint failing": func(w http.ResponseWriter, r *http.Request, form string) {
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newTokenEndpoint(t, answer)
			ts := e.delegatedSource(t, 0)
			_, first := ts.Token()
			if first == nil {
				t.Fatal("the refresh succeeded")
			}
			for i := 0; i < 5; i++ {
				if _, err := ts.Token(); err != first {
					t.Errorf("Token %d: %v, want the first error", i, err)
				}
				if _, err := ts.ForceRefresh(context.Background()); err != first {
					t.Errorf("ForceRefresh %d: %v, want the first error", i, err)
				}
			}
			if n := e.count.Load(); n != 1 {
				t.Errorf("the token endpoint was asked %d times, want once", n)
			}

			app, err := AppTokenSource(context.Background(), e.microsoft(), time.Now)
			if err != nil {
				t.Fatal(err)
			}
			_, first = app.Token()
			for i := 0; i < 5; i++ {
				if _, err := app.Token(); err == nil || err != first {
					t.Errorf("app Token %d: %v, want the first error", i, err)
				}
			}
			if n := e.count.Load(); n != 2 {
				t.Errorf("the token endpoint was asked %d times for the app, want once", n-1)
			}
		})
	}
}

// hangingEndpoint accepts each request and never answers it.
func hangingEndpoint(t *testing.T) *tokenEndpoint {
	t.Helper()
	release := make(chan struct{})
	e := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request, form string) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	return e
}

// within fails the test when fn does not return within d.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s did not return within %s: a token request has no timeout", what, d)
		return nil
	}
}

// A token endpoint that accepts the connection and never answers: every
// token request gives up after its timeout with an error naming the
// endpoint and the timeout, and the source does not ask again.
func TestTokenRequestsTimeOut(t *testing.T) {
	e := hangingEndpoint(t)
	short := &http.Client{Timeout: 200 * time.Millisecond}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, short)
	check := func(what string, err error) {
		t.Helper()
		var te *TokenEndpointError
		if !errors.As(err, &te) || te.Timeout != 200*time.Millisecond {
			t.Errorf("%s: %v, want a TokenEndpointError with the timeout", what, err)
			return
		}
		if msg := err.Error(); !strings.Contains(msg, e.url()) || !strings.Contains(msg, "did not answer within 200ms") {
			t.Errorf("%s: %q does not name the endpoint and the timeout", what, msg)
		}
	}

	ts := e.delegatedSource(t, 200*time.Millisecond)
	start := time.Now()
	err := within(t, 5*time.Second, "a refresh", func() error { _, err := ts.ForceRefresh(context.Background()); return err })
	check("refresh", err)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("gave up after %s, before the timeout", d)
	}
	err = within(t, time.Second, "a second refresh", func() error { _, err := ts.Token(); return err })
	check("the next call", err)
	if n := e.count.Load(); n != 1 {
		t.Errorf("the endpoint was asked %d times, want once", n)
	}

	app, err := AppTokenSource(ctx, e.microsoft(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = within(t, 5*time.Second, "a client-credentials request", func() error { _, err := app.Token(); return err })
	check("client credentials", err)

	flow := NewFlow(OAuthConfig(e.microsoft()))
	err = within(t, 5*time.Second, "a code redemption", func() error { _, err := flow.Exchange(ctx, "fake-code"); return err })
	check("code redemption", err)
}

// Without a bound of their own, token requests are bounded by TokenTimeout:
// a client in the context that has none gets it too.
func TestTokenRequestsHaveADefaultTimeout(t *testing.T) {
	for name, ctx := range map[string]context.Context{
		"no client":            context.Background(),
		"a client without one": context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{}),
		"a client with more":   context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: time.Hour}),
	} {
		tctx, d := tokenContext(ctx, 0)
		c, _ := tctx.Value(oauth2.HTTPClient).(*http.Client)
		if c == nil || c.Timeout != TokenTimeout || d != TokenTimeout {
			t.Errorf("%s: client %+v, bound %s, want %s", name, c, d, TokenTimeout)
		}
	}
}

// The loopback listener answers only the redirect of this sign-in: a
// request with another state (or none) is refused with a page that does not
// say "signed in", and the wait goes on until the right one comes.
func TestWaitLoopbackIgnoresForeignState(t *testing.T) {
	port := freePort(t)
	redirect := fmt.Sprintf("http://localhost:%d/callback", port)
	ready := make(chan struct{})
	type result struct {
		q   url.Values
		err error
	}
	done := make(chan result, 1)
	go func() {
		q, err := WaitLoopback(context.Background(), redirect, "the-right-state", 10*time.Second, func() { close(ready) })
		done <- result{q, err}
	}()
	<-ready
	get := func(query string) (int, string) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?%s", port, query))
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, foreign := range []string{
		"code=forged&state=another-state",
		"error=access_denied&error_description=aborted+by+a+web+page",
		"code=forged",
		"",
	} {
		status, page := get(foreign)
		if status != http.StatusBadRequest || strings.Contains(strings.ToLower(page), "signed in") || !strings.Contains(page, "ignored") {
			t.Errorf("%q: %d %q, want 400 saying it was ignored", foreign, status, page)
		}
		select {
		case r := <-done:
			t.Fatalf("the wait ended on a foreign request %q: %v %v", foreign, r.q, r.err)
		default:
		}
	}
	status, page := get("code=the-code&state=the-right-state")
	if status != http.StatusOK || !strings.Contains(page, "Signed in") {
		t.Errorf("the sign-in's own redirect: %d %q", status, page)
	}
	r := <-done
	if r.err != nil || r.q.Get("code") != "the-code" {
		t.Errorf("got %v, %v", r.q, r.err)
	}
}

// Only a sign-in that is missing, refused or undecryptable needs authorize:
// wrapped as the syncs wrap it, and not a token endpoint that failed.
func TestNeedsAuthorize(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&NotAuthorizedError{Name: "delegated"}, true},
		{fmt.Errorf("sync-teams: %w", &ReauthorizeError{Code: "invalid_grant", AADSTS: 700082}), true},
		{fmt.Errorf("load token: %w", ErrUndecryptable), true},
		{&TokenEndpointError{Endpoint: "https://login.example/token", Status: 502}, false},
		{errors.New("connection refused"), false},
	} {
		if got := NeedsAuthorize(tc.err); got != tc.want {
			t.Errorf("NeedsAuthorize(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
