package check

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
)

func errUnknownKey() error {
	return &config.Error{Source: "config file c.yaml: line 2", Key: "microsoft.tenant", Problem: "unknown key", Fix: `did you mean "microsoft.tenant_id"?`}
}

var now = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

func TestMeetingWindow(t *testing.T) {
	tests := []struct {
		value  string
		found  bool
		status Status
		says   string
	}{
		{"10", true, OK, "open 10 minutes before"},
		{" 15 ", true, OK, "open 15 minutes before"},
		{"1440", true, OK, "1440 minutes"},
		{"", false, Warn, "absent"},
		{"ten", true, Warn, `"ten", not a whole number`},
		{"10.5", true, Warn, "not a whole number"},
		{"0", true, Warn, "only when events start"},
		{"-5", true, Warn, "after events start"},
		{"1441", true, Warn, "more than a day"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			r := meetingWindowResult(tt.value, tt.found)
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("meetingWindowResult(%q, %v) = %s %q, want %s saying %q", tt.value, tt.found, r.Status, r.Message, tt.status, tt.says)
			}
			if r.Status != OK && r.Fix == "" {
				t.Error("a warning without a fix")
			}
		})
	}
}

func token(usedAgo time.Duration, refresh string) *auth.Token {
	used := now.Add(-usedAgo)
	return &auth.Token{OAuth: &oauth2.Token{AccessToken: "a", RefreshToken: refresh, Expiry: used.Add(time.Hour)},
		AuthorizedAt: used.Add(-time.Hour), RefreshUsedAt: used}
}

func TestRefreshByTheStoredDates(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name   string
		tok    *auth.Token
		status Status
		says   string
	}{
		{"fresh", token(2*day, "r"), OK, "88 days left"},
		{"14 days left", token(76*day, "r"), OK, "14 days left"},
		{"13 days left warns", token(77*day, "r"), Warn, "last used 77 days ago: 13 days left"},
		{"seconds of rounding", token(80*day-300*time.Millisecond, "r"), Warn, "last used 80 days ago: 10 days left"},
		{"hours before the end", token(90*day-time.Hour, "r"), Warn, "last used 90 days ago: less than a day left"},
		{"expired", token(91*day, "r"), Fail, "(91 days ago): Microsoft drops it after 90 days"},
		{"no refresh token", token(time.Minute, ""), Fail, "no refresh token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := refreshResult(tt.tok, now)
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("got %s %q, want %s saying %q", r.Status, r.Message, tt.status, tt.says)
			}
		})
	}
}

func TestZones(t *testing.T) {
	tests := []struct {
		outlook, elentra string
		status           Status
		says             string
	}{
		{"America/Toronto", "America/Toronto", OK, "is Elentra's"},
		{"America/Nassau", "America/Toronto", OK, "keeps the offsets"},
		// Same offset in November, different rules in March: found ahead.
		{"America/Regina", "America/Winnipeg", Fail, "on 2027-03-14"},
		{"Europe/London", "America/Toronto", Fail, "Europe/London is UTC+00:00 but America/Toronto is UTC-05:00 on 2026-11-03"},
		{"", "America/Toronto", Fail, "no Outlook time zone"},
		{"Mars/Olympus", "America/Toronto", Fail, "not one this machine knows"},
	}
	for _, tt := range tests {
		t.Run(tt.outlook, func(t *testing.T) {
			r := zoneResult(tt.outlook, tt.elentra, now)
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("zoneResult(%q, %q) = %s %q, want %s saying %q", tt.outlook, tt.elentra, r.Status, r.Message, tt.status, tt.says)
			}
			if r.Status == Fail && !strings.Contains(r.Fix, "--timezone "+tt.elentra) {
				t.Errorf("fix %q does not name --timezone %s", r.Fix, tt.elentra)
			}
		})
	}
}

func retrieveError(status int, body string) error {
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, Body: []byte(body),
		ErrorCode: jsonField(body, "error")}
}

func jsonField(body, field string) string {
	i := strings.Index(body, `"`+field+`":"`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(field)+4:]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestRefreshErrorsSayWhatToChange(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		msg, fix string
	}{
		{"expired", auth.ClassifyTokenError(retrieveError(400, `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity. Trace ID: x","error_codes":[700082]}`)),
			"Microsoft refused the stored sign-in (AADSTS700082): the refresh token expired after 90 days without use", "run 'elentra-teams authorize'"},
		{"wrong secret", auth.ClassifyTokenError(retrieveError(401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`)),
			"(AADSTS7000215): the client secret is wrong", "microsoft.client_secret"},
		{"unknown tenant", auth.ClassifyTokenError(retrieveError(400, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found. Trace ID: t","error_codes":[90002]}`)),
			`Microsoft does not know tenant "11111111-2222-3333-4444-555555555555" (AADSTS90002)`, "microsoft.tenant_id"},
		{"other refusal", retrieveError(400, `{"error":"invalid_request","error_description":"AADSTS900144: The request body must contain the following parameter: 'grant_type'. Trace ID: t","error_codes":[900144]}`),
			"the token endpoint answered 400 Bad Request (invalid_request, AADSTS900144): AADSTS900144: The request body must contain the following parameter: 'grant_type'.", "microsoft.client_id"},
		{"proxy page", retrieveError(502, "<html><pre>client_secret=fake-secret-in-a-page&refresh_token=fake-rt-in-a-page</pre></html>"),
			"the token endpoint answered 502 Bad Gateway without an OAuth error", "try again later"},
		{"network", fmt.Errorf("Post %q: dial tcp: connection refused", "https://login.example/t/oauth2/v2.0/token"),
			"cannot reach Microsoft's token endpoint https://login.example/t/oauth2/v2.0/token", "login.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := refreshError(tt.err, "https://login.example/t/oauth2/v2.0/token", "11111111-2222-3333-4444-555555555555")
			if r.Status != Fail || !strings.Contains(r.Message, tt.msg) || !strings.Contains(r.Fix, tt.fix) {
				t.Errorf("got %s %q / fix %q, want a failure saying %q, fix naming %q", r.Status, r.Message, r.Fix, tt.msg, tt.fix)
			}
			if strings.Contains(r.Message, "Trace ID") || strings.Contains(r.Message, "fake-secret-in-a-page") || strings.Contains(r.Message, "fake-rt-in-a-page") {
				t.Errorf("message keeps Microsoft's trace: %q", r.Message)
			}
		})
	}
}

func run(command string, ago time.Duration, exit *int, errText string, finished bool) lastRun {
	r := lastRun{Command: command, Started: now.Add(-ago)}
	if finished {
		r.Finished = sql.NullTime{Time: now.Add(-ago + time.Minute), Valid: true}
	}
	if exit != nil {
		r.ExitCode = sql.NullInt64{Int64: int64(*exit), Valid: true}
	}
	r.Error = sql.NullString{String: errText, Valid: errText != ""}
	return r
}

func TestRuns(t *testing.T) {
	zero, three := 0, 3
	tests := []struct {
		name   string
		last   map[string]lastRun
		status Status
		says   string
	}{
		{"none", map[string]lastRun{}, Warn, "no sync has run yet"},
		{"sync covers every job", map[string]lastRun{"sync": run("sync", time.Hour, &zero, "", true)}, OK, "the last sync ran 1 hours ago and exited 0"},
		{"only some jobs ran", map[string]lastRun{"sync-users": run("sync-users", time.Hour, &zero, "", true)}, Warn,
			"sync-teams, sync-members, sync-events never ran"},
		{"old", map[string]lastRun{"sync": run("sync", 72*time.Hour, &zero, "", true)}, Warn, "sync last ran 3 days ago"},
		{"a newer single job", map[string]lastRun{
			"sync":         run("sync", 72*time.Hour, &zero, "", true),
			"sync-members": run("sync-members", time.Hour, &zero, "", true),
		}, Warn, "sync last ran 3 days ago"},
		{"failed", map[string]lastRun{"sync": run("sync", time.Hour, &three, "2 of 9 attempted changes failed", true)}, Warn,
			"the last sync exited 3: 2 of 9 attempted changes failed"},
		{"killed", map[string]lastRun{"sync": run("sync", 8*time.Hour, nil, "", false)}, Warn, "sync started 8 hours ago and never finished"},
		{"still running", map[string]lastRun{"sync": run("sync", time.Minute, nil, "", false)}, OK, "the last sync ran 1 minutes ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runsResult(tt.last, now)
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("got %s %q, want %s saying %q", r.Status, r.Message, tt.status, tt.says)
			}
			if strings.Count(r.Message, "sync last ran") > 1 || strings.Count(r.Message, "the last sync exited") > 1 {
				t.Errorf("the same run is named twice: %q", r.Message)
			}
		})
	}
}

func TestConfigResultNamesKeySourceAndFix(t *testing.T) {
	r := configResult(&config.Error{Key: "microsoft.client_id", Source: "env ELENTRA_TEAMS_MICROSOFT_CLIENT_ID", Problem: `"x" is not a GUID`, Fix: "copy it"})
	if r.Status != Fail || r.Message != `microsoft.client_id: "x" is not a GUID (from env ELENTRA_TEAMS_MICROSOFT_CLIENT_ID)` || r.Fix != "copy it" {
		t.Errorf("got %+v", r)
	}
	if r := configResult(errors.New("boom")); r.Status != Fail || r.Fix == "" {
		t.Errorf("a plain error: %+v", r)
	}
}

func TestClientSecretThatIsAGUIDWarns(t *testing.T) {
	for _, tt := range []struct {
		secret string
		status Status
	}{
		{"", Fail},
		{"6a7b8c9d-0000-4000-8000-000000000001", Warn},
		{"Abc8Q~fake.value-not-a-guid", OK},
	} {
		cfg := config.Defaults()
		cfg.Microsoft.ClientSecret = tt.secret
		if r := checkClientSecret(context.Background(), &Env{Config: &cfg}); r.Status != tt.status {
			t.Errorf("secret %q: %s %q, want %s", tt.secret, r.Status, r.Message, tt.status)
		} else if strings.Contains(r.Message, tt.secret) && tt.secret != "" {
			t.Errorf("the message shows the secret: %q", r.Message)
		}
	}
}

func TestRedirectURI(t *testing.T) {
	for _, tt := range []struct {
		redirect, url string
		status        Status
	}{
		{"http://localhost:8400/callback", "", OK},
		{"http://127.0.0.1:9000/cb", "https://elentra.example.edu", OK},
		{"http://[::1]:8400/cb", "", OK},
		{"http://localhost/cb", "", Warn}, // port 80: only root may listen there
		{"https://localhost:8400/cb", "", Warn},
		{"http://127.attacker.example:8400/cb", "", Warn},
		// Elentra's own page: Elentra may redeem the code first.
		{"https://elentra.example.edu/api/ms-graph-oauth.php", "https://elentra.example.edu/", Warn},
		{"https://elentra.example.edu/api/ms-graph-oauth.php", "", Warn},
		{"https://Elentra.example.edu/elentra/API/ms-graph-oauth.php", "https://elentra.example.edu/elentra", Warn},
		{"https://teams.example.edu/callback", "https://elentra.example.edu", Warn},
	} {
		cfg := config.Defaults()
		cfg.Microsoft.RedirectURI, cfg.Elentra.URL = tt.redirect, tt.url
		if r := checkRedirectURI(context.Background(), &Env{Config: &cfg}); r.Status != tt.status {
			t.Errorf("%s with elentra.url %q: %s %q, want %s", tt.redirect, tt.url, r.Status, r.Message, tt.status)
		}
	}
}

// check-config and authorize agree on which redirect URIs authorize
// answers itself: check-config says where authorize listens exactly when it
// does, and says the sign-in is finished by pasting otherwise.
func TestRedirectURIAgreesWithAuthorize(t *testing.T) {
	for _, redirect := range []string{
		"http://localhost:8400/callback", "http://127.0.0.1:8400/cb", "http://127.0.0.2:8400/cb", "http://[::1]:8400/cb",
		"http://localhost/cb", "https://localhost:8400/cb", "http://127.attacker.example:8400/cb",
		"http://localhost.attacker.example:8400/cb", "https://teams.example.edu/callback",
		"https://elentra.example.edu/api/ms-graph-oauth.php",
	} {
		cfg := config.Defaults()
		cfg.Microsoft.RedirectURI = redirect
		r := checkRedirectURI(context.Background(), &Env{Config: &cfg})
		text := r.Message + " " + r.Fix
		if auth.IsLoopbackRedirect(redirect) {
			addr, _ := auth.LoopbackListenAddr(redirect)
			if !strings.Contains(text, "authorize listens on "+addr) {
				t.Errorf("%s: authorize listens on %s, check-config says %s %q", redirect, addr, r.Status, text)
			}
		} else if !strings.Contains(text, "pasting") {
			t.Errorf("%s: authorize finishes by pasting, check-config says %s %q", redirect, r.Status, text)
		}
	}
}

// check-config warns about an endpoint that is neither Microsoft's nor this
// machine: the client secret and the tokens are sent there.
func TestEndpointsCheck(t *testing.T) {
	var run func(context.Context, *Env) Result
	for _, c := range All() {
		if c.ID == "config.endpoints" {
			run = c.Run
		}
	}
	if run == nil {
		t.Fatal("check-config has no config.endpoints check")
	}
	for _, tt := range []struct {
		name   string
		edit   func(m *config.Microsoft)
		status Status
		says   string
	}{
		{"defaults", func(m *config.Microsoft) {}, OK, "Microsoft's"},
		{"US government cloud", func(m *config.Microsoft) {
			m.Authority, m.GraphEndpoint = "https://login.microsoftonline.us", "https://graph.microsoft.us"
		}, OK, "Microsoft's"},
		{"simulator on this machine", func(m *config.Microsoft) {
			m.Authority, m.GraphEndpoint = "http://127.0.0.1:8800", "http://localhost:8800"
		}, OK, "this machine"},
		{"token URL elsewhere", func(m *config.Microsoft) { m.TokenURL = "https://sso-proxy.example.edu/token" }, Warn, "microsoft.token_url https://sso-proxy.example.edu/token"},
		{"authority elsewhere", func(m *config.Microsoft) { m.Authority = "https://login.microsoftonline.com.attacker.example" }, Warn, "microsoft.authority"},
		{"graph elsewhere", func(m *config.Microsoft) { m.GraphEndpoint = "https://graph.example.com" }, Warn, "microsoft.graph_endpoint"},
		{"a name starting 127.", func(m *config.Microsoft) { m.AuthURL = "https://127.attacker.example/authorize" }, Warn, "microsoft.auth_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			tt.edit(&cfg.Microsoft)
			r := run(context.Background(), &Env{Config: &cfg})
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("%s %q, want %s saying %q", r.Status, r.Message, tt.status, tt.says)
			}
			if r.Status == Warn && !strings.Contains(r.Message, "client secret") {
				t.Errorf("the warning does not say what is sent there: %q", r.Message)
			}
		})
	}
}
