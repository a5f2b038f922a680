package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const (
	testTenant = "11111111-2222-3333-4444-555555555555"
	testClient = "22222222-3333-4444-5555-666666666666"
	testSecret = "fake-client-secret-for-tests"
	testKey    = "ZmFrZS10b2tlbi1rZXktZm9yLXRlc3RzLTMyYnl0ZXM="
)

// authEnv is a school in a real database, its tenant in the simulator, and a
// config file pointing the CLI at both.
type authEnv struct {
	t        *testing.T
	tdb      *elentratest.TestDB
	sim      *graphsim.Sim
	srv      *httptest.Server
	cfgPath  string
	redirect string
	admin    school.User
	other    school.User // a directory user who is not Elentra's administrator
	outputs  bytes.Buffer
	mu       sync.Mutex
}

func newAuthEnv(t *testing.T, zone string) *authEnv {
	t.Helper()
	spec := school.Spec{Seed: 7, Courses: 3, Learners: 20, TeamsEnabled: true}
	sch := school.Generate(spec)
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		if _, err := store.Migrate(ctx, db); err != nil {
			return err
		}
		return sch.Load(ctx, db)
	}))
	e := &authEnv{t: t, tdb: tdb}
	for _, u := range sch.Users {
		if u.ID == sch.Edge.Admin {
			e.admin = u
		} else if e.other.ID == 0 && u.DirectoryID != "" && u.Email != "" && u.Kind == "faculty" {
			e.other = u
		}
	}
	if e.admin.DirectoryID == "" || e.other.ID == 0 {
		t.Fatal("the school lacks an administrator or another directory user")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	e.redirect = fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	var users []graphsim.User
	for _, u := range sch.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	e.sim = graphsim.New(graphsim.Seed{TenantID: testTenant, Users: users, SignedInUser: e.admin.DirectoryID,
		Clients: []graphsim.Client{{ClientID: testClient, ClientSecret: testSecret, RedirectURIs: []string{e.redirect}}}}, graphsim.Options{})
	e.srv = httptest.NewServer(e.sim)
	t.Cleanup(e.srv.Close)

	c := tdb.Config
	cfg := fmt.Sprintf(`database:
  host: %q
  port: %d
  user: %q
  name: %q
  auth_name: %q
microsoft:
  tenant_id: %s
  client_id: %s
  redirect_uri: %s
  authority: %s
  graph_endpoint: %s
elentra:
  timezone: %s
  url: https://elentra.example.edu
sync:
  all_active_courses: true
`, c.Host, c.Port, c.User, c.Name, c.AuthName, testTenant, testClient, e.redirect, e.srv.URL, e.srv.URL, zone)
	dir := t.TempDir()
	e.cfgPath = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// secrets come from the environment, as the docs say
	t.Setenv("ELENTRA_TEAMS_DATABASE_PASSWORD", c.Password)
	t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET", testSecret)
	t.Setenv("ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY", testKey)
	return e
}

// run runs one command line with stdin; stdout is given line by line to
// onLine (which may answer on stdin) as it is printed.
func (e *authEnv) run(args []string, onLine func(line string, stdin io.Writer)) (stdout, stderr string, code int) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errBuf bytes.Buffer
	var out strings.Builder
	done := make(chan int)
	go func() {
		code := Run(context.Background(), append([]string{"--config", e.cfgPath}, args...), &IOStreams{In: inR, Out: outW, ErrOut: &errBuf})
		outW.Close()
		done <- code
	}()
	sc := bufio.NewScanner(outR)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if onLine != nil {
			onLine(line, inW)
		}
	}
	code = <-done
	inW.Close()
	e.mu.Lock()
	e.outputs.WriteString(out.String() + errBuf.String())
	e.mu.Unlock()
	return out.String(), errBuf.String(), code
}

// browse opens the sign-in URL as a browser would, following the redirect
// to the loopback listener.
func browse(t *testing.T, signIn string) {
	t.Helper()
	resp, err := http.Get(signIn)
	if err != nil {
		t.Errorf("browser: %v", err)
		return
	}
	resp.Body.Close()
}

// landing opens the sign-in URL and returns the address the browser lands
// on, without following it (the --no-browser case: nothing listens there).
func landing(t *testing.T, signIn string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(signIn)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func isSignInURL(line string) bool { return strings.Contains(line, "/oauth2/v2.0/authorize?") }

func (e *authEnv) tokenRow() *auth.StoredToken {
	e.t.Helper()
	st, err := store.New(e.tdb.DB).GetToken(context.Background(), "delegated")
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *authEnv) vault() *auth.Vault {
	key, err := base64.StdEncoding.DecodeString(testKey)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := auth.NewSealer(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return &auth.Vault{Table: store.New(e.tdb.DB), Sealer: s, Name: "delegated"}
}

func TestAuthorizeLoopback(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	stdout, stderr, code := e.run([]string{"authorize", "--timezone", "America/Toronto"}, func(line string, _ io.Writer) {
		if isSignInURL(line) {
			browse(t, line)
		}
	})
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "Authorized as") || !strings.Contains(stderr, "America/Toronto") {
		t.Errorf("stderr %q", stderr)
	}
	row := e.tokenRow()
	if row == nil || row.AccountObjectID != strings.ToLower(e.admin.DirectoryID) && row.AccountObjectID != e.admin.DirectoryID {
		t.Fatalf("stored token %+v, want the administrator's", row)
	}
	if row.OutlookTimezone != "America/Toronto" {
		t.Errorf("zone %q", row.OutlookTimezone)
	}
	tok, err := e.vault().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.AccessTokenEnc, []byte(tok.OAuth.AccessToken)) || bytes.Contains(row.RefreshTokenEnc, []byte(tok.OAuth.RefreshToken)) {
		t.Error("a token is stored in plain text")
	}
	// --status reads it back
	stdout, _, code = e.run([]string{"authorize", "--status"}, nil)
	if code != 0 || !strings.Contains(stdout, e.admin.Email) && !strings.Contains(stdout, strings.ToLower(e.admin.DirectoryID)) {
		t.Errorf("status exit %d: %s", code, stdout)
	}
	if !strings.Contains(stdout, "89 days left") && !strings.Contains(stdout, "90 days left") {
		t.Errorf("status should count the days before 90 days unused: %s", stdout)
	}
	e.assertNoSecrets(tok.OAuth.AccessToken, tok.OAuth.RefreshToken)
}

func TestAuthorizeNoBrowser(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	var signIn string
	stdout, stderr, code := e.run([]string{"authorize", "--no-browser", "--timezone", "America/New_York"}, func(line string, stdin io.Writer) {
		if isSignInURL(line) {
			signIn = line
			fmt.Fprintln(stdin, landing(t, line))
		}
	})
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// the URL is alone on its line, so it can be copied
	if strings.TrimSpace(signIn) != signIn || !strings.HasPrefix(signIn, e.srv.URL+"/"+testTenant+"/oauth2/v2.0/authorize?") {
		t.Errorf("sign-in line %q", signIn)
	}
	q, _ := url.ParseQuery(signIn[strings.IndexByte(signIn, '?')+1:])
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("login_hint") != e.admin.Email {
		t.Errorf("sign-in query %v", q)
	}
	if row := e.tokenRow(); row == nil || row.OutlookTimezone != "America/New_York" {
		t.Fatalf("stored %+v", row)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	cases := []struct {
		name  string
		args  []string
		paste func(t *testing.T, signIn string) string
		want  []string
	}{
		{"state mismatch", []string{"--no-browser"}, func(t *testing.T, s string) string {
			l := landing(t, s)
			u, _ := url.Parse(l)
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
			return u.String()
		}, []string{"state does not match"}},
		{"another account", []string{"--no-browser", "--timezone", "America/Toronto"}, func(t *testing.T, s string) string {
			return landing(t, strings.Replace(s, "login_hint="+url.QueryEscape(e.admin.Email), "login_hint="+url.QueryEscape(e.other.Email), 1))
		}, []string{"not as Elentra user", "the syncs would act as this account", "--force"}},
		{"zone mismatch", []string{"--no-browser", "--timezone", "Europe/Paris"}, landing, []string{"offset differs from Elentra's", "--allow-timezone-mismatch"}},
		{"unknown zone", []string{"--no-browser", "--timezone", "Mars/Olympus"}, landing, []string{"not a time zone the account's Outlook supports"}},
		{"nothing pasted", []string{"--no-browser"}, func(t *testing.T, s string) string { return "" }, []string{"nothing was pasted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := e.run(append([]string{"authorize"}, tc.args...), func(line string, stdin io.Writer) {
				if isSignInURL(line) {
					fmt.Fprintln(stdin, tc.paste(t, line))
				}
			})
			if code != 1 {
				t.Errorf("exit %d, want 1: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, stderr)
				}
			}
			if row := e.tokenRow(); row != nil {
				t.Errorf("a refused sign-in stored a token")
			}
		})
	}

	t.Run("error redirect", func(t *testing.T) {
		e.sim.SetFaults(graphsim.Faults{AuthorizeDenied: true})
		defer e.sim.SetFaults(graphsim.Faults{})
		_, stderr, code := e.run([]string{"authorize", "--no-browser"}, func(line string, stdin io.Writer) {
			if isSignInURL(line) {
				fmt.Fprintln(stdin, landing(t, line))
			}
		})
		if code != 1 || !strings.Contains(stderr, "sign-in failed: access_denied") || e.tokenRow() != nil {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})

	t.Run("reused code", func(t *testing.T) {
		var first string
		_, stderr, code := e.run([]string{"authorize", "--no-browser", "--timezone", "America/Toronto"}, func(line string, stdin io.Writer) {
			if isSignInURL(line) {
				first = landing(t, line)
				fmt.Fprintln(stdin, first)
			}
		})
		if code != 0 {
			t.Fatalf("first sign-in: %d %s", code, stderr)
		}
		before := e.tokenRow()
		// the same address again: its state is not this run's, so say so
		_, stderr, code = e.run([]string{"authorize", "--no-browser", "--timezone", "America/Toronto"}, func(line string, stdin io.Writer) {
			if isSignInURL(line) {
				u, _ := url.Parse(first)
				fmt.Fprintln(stdin, u.Query().Get("code")) // a bare code has no state: PKCE and single use protect it
			}
		})
		if code != 1 || !strings.Contains(stderr, "AADSTS54005") && !strings.Contains(stderr, "already redeemed") && !strings.Contains(stderr, "refused the code") {
			t.Errorf("reused code: exit %d: %s", code, stderr)
		}
		if after := e.tokenRow(); after.Version != before.Version {
			t.Error("a refused code replaced the stored token")
		}
	})

	t.Run("another account with --force", func(t *testing.T) {
		_, stderr, code := e.run([]string{"authorize", "--no-browser", "--force", "--timezone", "America/Toronto"}, func(line string, stdin io.Writer) {
			if isSignInURL(line) {
				fmt.Fprintln(stdin, landing(t, strings.Replace(line, "login_hint="+url.QueryEscape(e.admin.Email), "login_hint="+url.QueryEscape(e.other.Email), 1)))
			}
		})
		if code != 0 || !strings.Contains(stderr, "stored anyway (--force)") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

// authorize once through the pasted flow.
func (e *authEnv) authorize(t *testing.T) {
	t.Helper()
	_, stderr, code := e.run([]string{"authorize", "--no-browser", "--timezone", "America/Toronto"}, func(line string, stdin io.Writer) {
		if isSignInURL(line) {
			fmt.Fprintln(stdin, landing(t, line))
		}
	})
	if code != 0 {
		t.Fatalf("authorize: %d %s", code, stderr)
	}
}

// A refresh rotates the refresh token and the rotation is stored before the
// new access token is used; another process then starts from it.
func TestRotationPersistsAcrossProcesses(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	e.authorize(t)
	before, _ := e.vault().Load(context.Background())

	e.sim.ExpireAccessTokens() // Graph answers 401: the client refreshes once
	_, stderr, code := e.run([]string{"sync-users", "--quiet"}, nil)
	if code != 0 {
		t.Fatalf("sync-users: %d %s", code, stderr)
	}
	after, _ := e.vault().Load(context.Background())
	if after.OAuth.RefreshToken == before.OAuth.RefreshToken || after.Version <= before.Version {
		t.Fatalf("the refresh token did not rotate in the database (version %d → %d)", before.Version, after.Version)
	}
	if after.RefreshUsedAt.Before(before.RefreshUsedAt) || after.RefreshUsedAt.IsZero() {
		t.Errorf("refresh_used_at not advanced")
	}
	// a new process starts from the rotated token
	e.sim.ExpireAccessTokens()
	if _, stderr, code := e.run([]string{"sync-users", "--quiet"}, nil); code != 0 {
		t.Fatalf("second process: %d %s", code, stderr)
	}
	e.assertNoSecrets(before.OAuth.AccessToken, before.OAuth.RefreshToken, after.OAuth.AccessToken, after.OAuth.RefreshToken)
}

// Two processes refreshing at once both succeed, and what is stored still
// refreshes: no rotation is lost.
func TestConcurrentRefresh(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	e.authorize(t)
	l := loadConfigForTest(t, e.cfgPath)
	cfg := l.cfg
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ts := &auth.TokenSource{Vault: e.vault(), OAuth: auth.OAuthConfig(cfg.Microsoft), Now: time.Now, Ctx: context.Background()}
			_, errs[i] = ts.ForceRefresh(context.Background())
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("refresh %d: %v", i, err)
		}
	}
	ts := &auth.TokenSource{Vault: e.vault(), OAuth: auth.OAuthConfig(cfg.Microsoft), Now: time.Now, Ctx: context.Background()}
	if _, err := ts.ForceRefresh(context.Background()); err != nil {
		t.Errorf("the stored refresh token no longer works: %v", err)
	}
}

// After Microsoft's 90 days without use, the syncs stop with exit 4 and say
// what happened and what to do.
func TestExpiredRefreshTokenExits4(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	e.authorize(t)
	e.sim.ExpireRefreshTokens()
	e.sim.ExpireAccessTokens()
	stdout, stderr, code := e.run([]string{"sync"}, nil)
	if code != ExitAuth {
		t.Fatalf("exit %d, want 4\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, w := range []string{"AADSTS700082", "90 days", "elentra-teams authorize"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, stderr)
		}
	}
}

func TestSyncWithoutTokenExits4(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	_, stderr, code := e.run([]string{"sync-teams"}, nil)
	if code != ExitAuth || !strings.Contains(stderr, "run 'elentra-teams authorize'") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// assertNoSecrets scans everything the runs printed and every stored row.
func (e *authEnv) assertNoSecrets(tokens ...string) {
	e.t.Helper()
	secrets := append([]string{testSecret, e.tdb.Config.Password, testKey}, tokens...)
	e.mu.Lock()
	printed := e.outputs.String()
	e.mu.Unlock()
	var dump strings.Builder
	for _, table := range []string{"msteams_tokens", "msteams_runs", "msteams_courses", "msteams_users"} {
		rows, err := e.tdb.Root.Queryx("SELECT * FROM " + e.tdb.Table(table))
		if err != nil {
			e.t.Fatal(err)
		}
		for rows.Next() {
			vals, _ := rows.SliceScan()
			for _, v := range vals {
				fmt.Fprintf(&dump, "%s|", v)
			}
		}
		rows.Close()
	}
	for _, s := range secrets {
		if s == "" || len(s) < 8 {
			continue
		}
		if strings.Contains(printed, s) {
			e.t.Errorf("a secret (%.6s…) was printed", s)
		}
		if strings.Contains(dump.String(), s) {
			e.t.Errorf("a secret (%.6s…) is stored in plain text", s)
		}
	}
}

func loadConfigForTest(t *testing.T, path string) *loadedConfig {
	t.Helper()
	l, err := loadConfig(flagSet(""), path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// authorize's flags. --dry-run reaches the run function: authorize refuses
// it once the configuration is read (TestAuthorizeRefusesDryRun).
func TestAuthorizeFlags(t *testing.T) {
	view := func(o *authorizeOptions) any { c := *o; c.f = nil; return c }
	testFlags(t, "", newAuthorizeCmd, view, []flagCase{
		{args: []string{"authorize"}, want: authorizeOptions{}},
		{args: []string{"authorize", "--no-browser", "--timezone", "America/Toronto"}, want: authorizeOptions{noBrowser: true, timezone: "America/Toronto"}},
		{args: []string{"authorize", "--force", "--allow-timezone-mismatch", "--timezone", "Europe/Paris"},
			want: authorizeOptions{force: true, allowMismatch: true, timezone: "Europe/Paris"}},
		{args: []string{"authorize", "--status"}, want: authorizeOptions{status: true}},
		{args: []string{"--dry-run", "authorize", "--status"}, want: authorizeOptions{status: true, dryRun: true}},
		{args: []string{"authorize", "--dry-run"}, want: authorizeOptions{dryRun: true}},
		{args: []string{"authorize", "--timezone"}, wantErr: "flag needs an argument: --timezone"},
		{args: []string{"authorize", "--client-secret", "x"}, wantErr: "unknown flag: --client-secret"},
		{args: []string{"authorize", "me"}, wantErr: `unknown command "me" for "elentra-teams authorize"`},
	})
}

// authorize --dry-run is refused once the configuration is read, before
// the database is opened: a configuration error is said first.
func TestAuthorizeRefusesDryRun(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	good := write(t, dir, "config.yaml", fmt.Sprintf(`database:
  host: db.invalid
  user: elentra
microsoft:
  tenant_id: %s
  client_id: %s
  client_secret: %s
  redirect_uri: http://localhost:8400/callback
token:
  encryption_key: %s
elentra:
  timezone: America/Toronto
  url: https://elentra.example.edu
`, testTenant, testClient, testSecret, testKey))
	bad := write(t, dir, "bad.yaml", "elentra:\n  timezone: America/Toronto\n")

	f := testFactory(false)
	f.loaded = loadConfigForTest(t, good)
	err := authorizeRun(t.Context(), &authorizeOptions{f: f, dryRun: true})
	if msg := checkUsage(err, false, "authorize has no --dry-run: it changes nothing but the stored token"); msg != "" {
		t.Error(msg)
	}
	if f.db != nil {
		t.Error("the database was opened")
	}

	f = testFactory(false)
	f.loaded = loadConfigForTest(t, bad)
	err = authorizeRun(t.Context(), &authorizeOptions{f: f, dryRun: true})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "database.host" {
		t.Errorf("with no database configured: %v, want the configuration error", err)
	}
}
