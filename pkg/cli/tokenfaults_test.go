package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A token endpoint that answers with a page echoing the request (a
// misconfigured proxy does): the refresh fails, and neither stderr, nor the
// JSON report, nor msteams_runs, nor check-config shows the client secret
// or the refresh token it echoed; the status and the endpoint are said.
func TestEchoedTokenRequestIsNeverShown(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	e.authorize(t)
	tok, err := e.vault().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<html><h1>502 Bad Gateway</h1><pre>%s %s\n%s</pre></html>", r.Method, r.URL.Path, b)
	}))
	defer echo.Close()
	tokenURL := echo.URL + "/" + testTenant + "/oauth2/v2.0/token"
	t.Setenv("ELENTRA_TEAMS_MICROSOFT_TOKEN_URL", tokenURL)
	e.sim.ExpireAccessTokens() // Graph answers 401: the token must be refreshed

	stdout, stderr, code := e.run([]string{"--output", "json", "sync"}, nil)
	if code != ExitFailed {
		t.Errorf("sync: exit %d, want 1\nstderr %s", code, stderr)
	}
	if !strings.Contains(stderr, tokenURL+" answered 502 Bad Gateway") {
		t.Errorf("stderr does not say what the token endpoint answered: %s", stderr)
	}
	if !strings.Contains(stdout, `"command": "sync"`) || !strings.Contains(stdout, "answered 502 Bad Gateway") {
		t.Errorf("the JSON report lacks the run or its error: %.2000s", stdout)
	}
	checked, _, _ := e.run([]string{"check-config", "--online"}, nil)
	if !strings.Contains(checked, "token.refresh: the token endpoint "+tokenURL+" answered 502 Bad Gateway") {
		t.Errorf("check-config --online does not say what the token endpoint answered: %s", checked)
	}
	e.run([]string{"--output", "json", "check-config", "--online"}, nil)
	e.run([]string{"status"}, nil)
	var runs int
	if err := e.tdb.Root.Get(&runs, "SELECT COUNT(*) FROM "+e.tdb.Table("msteams_runs")+" WHERE report LIKE '%answered 502%'"); err != nil || runs == 0 {
		t.Errorf("msteams_runs holds no report of the failed run (%d, %v)", runs, err)
	}
	e.assertNoSecrets(tok.OAuth.AccessToken, tok.OAuth.RefreshToken)
}

// The loopback listener of authorize ignores a request that does not carry
// its sign-in's state (another local program or a web page calling the
// redirect URI first), and the sign-in that follows still finishes.
func TestAuthorizeLoopbackIgnoresForeignRequests(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	stdout, stderr, code := e.run([]string{"authorize", "--timezone", "America/Toronto"}, func(line string, _ io.Writer) {
		if !isSignInURL(line) {
			return
		}
		for _, forged := range []string{"?code=forged&state=forged", "?error=access_denied&error_description=aborted"} {
			resp, err := http.Get(e.redirect + forged)
			if err != nil {
				t.Errorf("%s: %v", forged, err)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), "Signed in") {
				t.Errorf("%s: %d %s", forged, resp.StatusCode, b)
			}
		}
		browse(t, line)
	})
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if row := e.tokenRow(); row == nil {
		t.Error("no token stored")
	}
}
