package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/docsample"
	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/check"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

var updateDocs = flag.Bool("update", false, "rewrite the samples of docs/*.md from what the commands print now")

// TestDocSamples keeps every block of docs/*.md and README.md marked
// <!-- sample: NAME -->
// exactly what the commands print: each producer below runs the real
// commands in-process against a real database and the Graph simulator, at
// docNow, and the block must be its output. With -update the blocks are
// rewritten instead:
//
//	go test ./pkg/cli -run TestDocSamples -update
//
// To quote a new line in a page: put <!-- sample: NAME --> on the line
// before its fenced block, add NAME here with a producer that sets up the
// state and returns the lines (sampleEnv.checks picks check-config's lines
// of some checks), and run with -update. internal/docsample checks that the
// pages it covers quote no output outside a sample.
func TestDocSamples(t *testing.T) {
	producers := map[string]docsample.Producer{}
	for name, p := range docSamples {
		producers[name] = func(t *testing.T) string { return p(newSampleEnv(t)) }
	}
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docsample.Verify(t, append(pages, filepath.Join("..", "..", "README.md")), producers, *updateDocs)
}

// docNow is the moment every sample is made at: the clock of the commands
// and of the simulator.
var docNow = time.Date(2026, 11, 29, 13, 10, 0, 0, time.UTC)

// docSpec is the school of the samples.
func docSpec() school.Spec {
	return school.Spec{Seed: 1, Courses: 10, Learners: 40, LearnersPerCourse: 10, OwnersPerCourse: 2,
		EventsPerCourse: 2, TeamsEnabled: true, Now: docNow}
}

// sampleEnv is one sample's machine: a temporary root standing for / (its
// /etc/elentra-teams/config.yaml, /etc/cron.d), the configuration in the
// environment, and on demand (withSchool) a school in a real database and
// its tenant in the simulator. What the commands print is cleaned of what
// differs between test runs: the root's path, the databases' random names,
// the simulator's address and request ids.
type sampleEnv struct {
	t       *testing.T
	root    string
	cfgPath string
	cron    check.CronSources

	dsn string // elentratest's server, which clearEnv took out of the environment

	sch *school.School
	tdb *elentratest.TestDB
	sim *graphsim.Sim
	srv *httptest.Server

	replace []string // old, new pairs applied to the output
}

const (
	sampleTenant = "0d0e0f10-0000-4000-8000-00000000aaaa"
	sampleClient = "0d0e0f10-0000-4000-8000-00000000cccc"
	sampleSecret = "fake-simulator-secret-not-real"
	// sampleInstallation is the installation id of every sample's database.
	sampleInstallation = "k7q2m9xd"
)

func newSampleEnv(t *testing.T) *sampleEnv {
	dsn := os.Getenv(elentratest.EnvDSN)
	clearEnv(t)
	root := t.TempDir()
	s := &sampleEnv{t: t, root: root, dsn: dsn}
	for _, d := range []string{"etc/elentra-teams", "etc/cron.d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.cfgPath = filepath.Join(root, "etc/elentra-teams/config.yaml")
	s.writeFile("etc/elentra-teams/config.yaml", "elentra:\n  url: https://elentra.example.edu\n", 0o640)
	s.cron = check.CronSources{Paths: []string{filepath.Join(root, "etc/cron.d"), filepath.Join(root, "etc/crontab")},
		UserCrontab: func(context.Context) (string, error) { return "", errors.New("no crontab for elentra-teams") }}
	for k, v := range map[string]string{
		"LANG": "C.UTF-8", "LC_ALL": "", "LC_CTYPE": "",
		"ELENTRA_TEAMS_DATABASE_HOST":            "127.0.0.1",
		"ELENTRA_TEAMS_DATABASE_PORT":            "1",
		"ELENTRA_TEAMS_DATABASE_USER":            "elentra_teams",
		"ELENTRA_TEAMS_DATABASE_PASSWORD":        "fake-db-password",
		"ELENTRA_TEAMS_DATABASE_NAME":            "entrada",
		"ELENTRA_TEAMS_DATABASE_AUTH_NAME":       "entrada_auth",
		"ELENTRA_TEAMS_ELENTRA_TIMEZONE":         "America/Toronto",
		"ELENTRA_TEAMS_MICROSOFT_TENANT_ID":      sampleTenant,
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_ID":      sampleClient,
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET":  sampleSecret,
		"ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI":   "http://localhost:8400/callback",
		"ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY":     testKey,
		"ELENTRA_TEAMS_SYNC_CONCURRENCY":         "1",
		"ELENTRA_TEAMS_MICROSOFT_AUTHORITY":      "",
		"ELENTRA_TEAMS_MICROSOFT_GRAPH_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
	s.replace = append(s.replace, root, "")
	return s
}

// withSchool gives the sample the school of docSpec (or of spec) in a real
// database with the tool's tables, and its tenant in the simulator; the
// environment points the commands at both.
func (s *sampleEnv) withSchool(spec ...school.Spec) *sampleEnv {
	sp := docSpec()
	if len(spec) > 0 {
		sp = spec[0]
	}
	return s.load(sp, true)
}

// withFreshSchool gives the sample the school of docSpec in an Elentra that
// has never seen the tool, as setup.md starts from: no msteams_ tables, no
// Teams settings, and Elentra 1.22's own Microsoft jobs active in its cron
// table beside a job of another kind.
func (s *sampleEnv) withFreshSchool() *sampleEnv {
	sp := docSpec()
	sp.TeamsEnabled = false
	sp.LearnersPerCourse = 4 // a first sync's lines short enough to quote whole
	s.load(sp, false)
	s.sql("INSERT INTO cron (id, command, schedule, active) VALUES " +
		"(1, 'php artisan microsoft:sync-users', '0 0 * * *', 1), (2, 'php artisan microsoft:sync-teams', '0 0 * * *', 1), " +
		"(3, 'php artisan microsoft:sync-events', '0 0 * * *', 1), (4, 'php artisan queue:work --stop-when-empty', '* * * * *', 1)")
	return s
}

// load puts the school of sp in a real database, with the tool's tables
// when migrate, and its tenant in the simulator.
func (s *sampleEnv) load(sp school.Spec, migrate bool) *sampleEnv {
	t := s.t
	s.sch = school.Generate(sp)
	if s.dsn != "" {
		// for elentratest only: the commands never see it
		os.Setenv(elentratest.EnvDSN, s.dsn)
		defer os.Unsetenv(elentratest.EnvDSN)
	}
	s.tdb = elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		if !migrate {
			return s.sch.Load(ctx, db)
		}
		if _, err := store.MigrateAt(ctx, db, docNow); err != nil {
			return err
		}
		return s.sch.Load(ctx, db)
	}))
	if migrate {
		s.sql("UPDATE msteams_installation SET installation_id = ?", sampleInstallation)
	}
	var users []graphsim.User
	for _, u := range s.sch.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	s.sim = graphsim.New(graphsim.Seed{TenantID: sampleTenant, Users: users, SignedInUser: s.admin().DirectoryID,
		Clients: []graphsim.Client{{ClientID: sampleClient, ClientSecret: sampleSecret, RedirectURIs: []string{"http://localhost:8400/callback"}}}},
		graphsim.Options{Clock: func() time.Time { return docNow }})
	s.srv = httptest.NewServer(s.sim)
	t.Cleanup(s.srv.Close)
	c := s.tdb.Config
	for k, v := range map[string]string{
		"ELENTRA_TEAMS_DATABASE_HOST":            c.Host,
		"ELENTRA_TEAMS_DATABASE_SOCKET":          c.Socket,
		"ELENTRA_TEAMS_DATABASE_PORT":            fmt.Sprint(c.Port),
		"ELENTRA_TEAMS_DATABASE_USER":            c.User,
		"ELENTRA_TEAMS_DATABASE_PASSWORD":        c.Password,
		"ELENTRA_TEAMS_DATABASE_NAME":            c.Name,
		"ELENTRA_TEAMS_DATABASE_AUTH_NAME":       c.AuthName,
		"ELENTRA_TEAMS_DATABASE_TLS":             c.TLS,
		"ELENTRA_TEAMS_MICROSOFT_AUTHORITY":      s.srv.URL,
		"ELENTRA_TEAMS_MICROSOFT_GRAPH_ENDPOINT": s.srv.URL,
	} {
		t.Setenv(k, v)
	}
	// the auth schema's name holds the main one's: replace it first
	s.replace = append(s.replace, c.AuthName, "entrada_auth", c.Name, "entrada")
	return s
}

// requireRealServer skips the sample on the embedded server.
func (s *sampleEnv) requireRealServer(why string) {
	if s.dsn == "" {
		s.t.Skipf("needs a real MySQL/MariaDB server (set %s): %s", elentratest.EnvDSN, why)
	}
}

// admin is Elentra user 1.
func (s *sampleEnv) admin() school.User {
	return s.user(func(u school.User) bool { return u.ID == s.sch.Edge.Admin })
}

// faculty is a faculty member with a directory account.
func (s *sampleEnv) faculty() school.User {
	return s.user(func(u school.User) bool { return u.Kind == "faculty" && u.DirectoryID != "" && u.Email != "" })
}

func (s *sampleEnv) user(match func(school.User) bool) school.User {
	for _, u := range s.sch.Users {
		if match(u) {
			return u
		}
	}
	s.t.Fatal("the school has no such user")
	return school.User{}
}

func (s *sampleEnv) writeFile(rel, text string, mode os.FileMode) string {
	s.t.Helper()
	p := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		s.t.Fatal(err)
	}
	return p
}

// sql runs a statement on the sample's main schema.
func (s *sampleEnv) sql(query string, args ...any) {
	s.t.Helper()
	if _, err := s.tdb.Root.Exec(query, args...); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
}

// requestID is a request-id or client-request-id the simulator made up.
var requestID = regexp.MustCompile(`(request-id )[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func (s *sampleEnv) clean(out string) string {
	for i := 0; i+1 < len(s.replace); i += 2 {
		out = strings.ReplaceAll(out, s.replace[i], s.replace[i+1])
	}
	return requestID.ReplaceAllString(out, "${1}…")
}

// factory is a Factory at docNow on buffers, without a terminal.
func (s *sampleEnv) factory(in io.Reader, out, errOut io.Writer) *Factory {
	no := false
	return &Factory{IO: &IOStreams{In: in, Out: out, ErrOut: errOut, stdinTTY: &no, stderrTTY: &no},
		Now: func() time.Time { return docNow }, cron: &s.cron}
}

// run runs one command line with the sample's config file.
func (s *sampleEnv) run(args ...string) (stdout, stderr string, code int) {
	return s.runConfig(s.cfgPath, args...)
}

func (s *sampleEnv) runConfig(cfgPath string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"--config", cfgPath}, args...), s.factory(strings.NewReader(""), &out, &errOut))
	return s.clean(out.String()), s.clean(errOut.String()), code
}

// must runs a command that has to succeed.
func (s *sampleEnv) must(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.run(args...)
	if code != 0 {
		s.t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// checks runs check-config (with the flags given) and returns the lines of
// the checks named: the line, its fix and its details, in the order
// check-config prints them.
func (s *sampleEnv) checks(flags []string, ids ...string) string {
	s.t.Helper()
	out, _, _ := s.run(append([]string{"check-config"}, flags...)...)
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var b strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			keep = false
			if f := strings.Fields(line); len(f) > 1 {
				keep = want[strings.TrimSuffix(f[1], ":")]
			}
		}
		if keep {
			b.WriteString(line)
		}
	}
	if b.Len() == 0 {
		s.t.Fatalf("check-config printed no line of %v:\n%s", ids, out)
	}
	return b.String()
}

func (s *sampleEnv) offline(ids ...string) string { return s.checks(nil, ids...) }
func (s *sampleEnv) online(ids ...string) string {
	return s.checks([]string{"--online"}, ids...)
}

// lines keeps the lines of text that match re.
func (s *sampleEnv) lines(text, re string) string {
	s.t.Helper()
	r := regexp.MustCompile(re)
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" && r.MatchString(l) {
			b.WriteString(l)
		}
	}
	if b.Len() == 0 {
		s.t.Fatalf("no line matches %s in:\n%s", re, text)
	}
	return b.String()
}

// token stores, as authorize does, a token the simulator issued to a
// directory user, its refresh token last used unused ago, with the scopes
// the commands need unless given.
func (s *sampleEnv) token(objectID, zone string, unused time.Duration, scopes ...string) {
	s.t.Helper()
	if len(scopes) == 0 {
		scopes = config.Defaults().Microsoft.RequiredScopes()
	}
	upn := s.upn(objectID)
	access, refresh := s.sim.IssueToken(objectID, scopes)
	used := docNow.Add(-unused)
	tok := &auth.Token{
		OAuth:           &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Expiry: docNow.Add(time.Hour)},
		Scopes:          auth.NormalizeScopes(strings.Join(scopes, " ")),
		AccountObjectID: objectID, AccountUPN: upn, OutlookTimezone: zone, AuthorizedAt: used, RefreshUsedAt: used,
	}
	if unused > time.Hour {
		tok.OAuth.Expiry = used.Add(time.Hour)
	}
	key, err := base64.StdEncoding.DecodeString(testKey)
	if err != nil {
		s.t.Fatal(err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		s.t.Fatal(err)
	}
	v := &auth.Vault{Table: store.New(s.tdb.DB), Sealer: sealer, Name: delegatedToken}
	if err := v.Save(context.Background(), tok); err != nil {
		s.t.Fatal(err)
	}
}

// upn is a directory user's userPrincipalName.
func (s *sampleEnv) upn(objectID string) string {
	for _, u := range s.sch.DirectoryUsers() {
		if strings.EqualFold(u.ID, objectID) {
			return u.UserPrincipalName
		}
	}
	s.t.Fatalf("no directory user %s", objectID)
	return ""
}

// signedIn links Elentra's administrator to its directory account and
// stores its token: what authorize leaves.
func (s *sampleEnv) signedIn() *sampleEnv {
	a := s.admin()
	s.must("users", "link", fmt.Sprint(a.ID), a.DirectoryID)
	s.token(a.DirectoryID, "America/Toronto", 0)
	return s
}

// authorize runs authorize --no-browser and plays the browser: it opens
// the address printed and pastes the one the simulator sends it to.
func (s *sampleEnv) authorize(args ...string) (stdout, stderr string, code int) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan int)
	go func() {
		c := run(context.Background(), append([]string{"--config", s.cfgPath, "authorize", "--no-browser"}, args...), s.factory(inR, outW, &errOut))
		outW.Close()
		done <- c
	}()
	var out strings.Builder
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sc := bufio.NewScanner(outR)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !isSignInURL(line) {
			continue
		}
		resp, err := browser.Get(line)
		if err != nil {
			s.t.Errorf("browser: %v", err)
			inW.Close()
			continue
		}
		resp.Body.Close()
		fmt.Fprintln(inW, resp.Header.Get("Location"))
	}
	code = <-done
	inW.Close()
	return s.clean(out.String()), s.clean(errOut.String()), code
}

// shell shows command lines as an administrator types them, each followed
// by what it printed (stdout, then stderr): "$ elentra-teams ARGS" and its
// lines. The sample's config file is the default one, so the lines leave
// out --config.
func (s *sampleEnv) shell(cmds ...[]string) string {
	s.t.Helper()
	var b strings.Builder
	for _, args := range cmds {
		out, errOut, _ := s.run(args...)
		b.WriteString("$ elentra-teams " + strings.Join(args, " ") + "\n" + out + errOut)
	}
	return b.String()
}

// signInQuery are the parts of the sign-in addresses that differ at each
// run: the PKCE challenge, the state and the code.
// zonePrompt is authorize's question, zoneEntry a zone it offers.
var (
	zonePrompt = regexp.MustCompile(`^Choose a number \[(\d+)\]: $`)
	zoneEntry  = regexp.MustCompile(`^ +\d+\) `)
)

var signInQuery = regexp.MustCompile(`((?:^|[?&])(?:code_challenge|state|code)=)[^&\s]+`)

// session runs authorize --no-browser as at a terminal (stdin and stderr
// terminals when tty): stdout and stderr on one screen, in the order it
// prints them, with what the person types after its prompts. It plays the
// browser: it opens the address printed and, at the prompt that asks for
// it, pastes the one the simulator sends it to. At "Choose a number [N]: "
// it types choose, or N when choose is "". The sign-in addresses are shown
// at Microsoft's, without the parts that differ at each run.
func (s *sampleEnv) session(tty bool, choose string, args ...string) (transcript string, code int) {
	s.t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	f := s.factory(inR, outW, outW)
	f.IO.stdinTTY, f.IO.stderrTTY = &tty, &tty
	done := make(chan int)
	go func() {
		c := run(context.Background(), append([]string{"--config", s.cfgPath, "authorize", "--no-browser"}, args...), f)
		outW.Close()
		done <- c
	}()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var screen strings.Builder
	var pending, landed string
	typeIn := func(text string) {
		screen.WriteString(text)
		go fmt.Fprint(inW, text) // the command reads it when it is ready
	}
	buf := make([]byte, 4096)
	for {
		n, err := outR.Read(buf)
		pending += string(buf[:n])
		for {
			i := strings.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			line := pending[:i]
			pending = pending[i+1:]
			screen.WriteString(line + "\n")
			switch {
			case isSignInURL(line):
				resp, err := browser.Get(line)
				if err != nil {
					s.t.Fatalf("browser: %v", err)
				}
				resp.Body.Close()
				landed = resp.Header.Get("Location")
			case strings.HasPrefix(line, "Then paste the address"):
				typeIn(landed + "\n")
			}
		}
		if m := zonePrompt.FindStringSubmatch(pending); m != nil {
			screen.WriteString(pending)
			pending = ""
			if choose == "" {
				choose = m[1]
			}
			typeIn(choose + "\n")
		}
		if err != nil {
			break
		}
	}
	code = <-done
	inW.Close()
	out := strings.ReplaceAll(s.clean(screen.String()+pending), s.srv.URL, "https://login.microsoftonline.com")
	return signInQuery.ReplaceAllString(out, "${1}…"), code
}

// setUp takes a fresh Elentra (withFreshSchool) through setup.md's steps:
// setup --takeover (its installation id made the samples' one), then unless
// upTo is "setup" authorize with the pasted address, then unless upTo is
// "authorize" courses 2 and 3 and their events 3 and 4 switched on. It
// returns what setup printed, its binding shown as a server db1's.
func (s *sampleEnv) setUp(upTo string) (setupOut string) {
	s.t.Helper()
	setupOut = serverBinding.ReplaceAllString(s.must("setup", "--takeover"), "${1}on db1:3306 (data directory /var/lib/mysql/)")
	s.sql("UPDATE msteams_installation SET installation_id = ?", sampleInstallation)
	if upTo == "setup" {
		return setupOut
	}
	if _, code := s.session(false, "", "--timezone", "America/Toronto"); code != 0 {
		s.t.Fatalf("authorize exited %d", code)
	}
	if upTo == "authorize" {
		return setupOut
	}
	s.must("courses", "enable", "2", "3")
	s.must("events", "enable", "3", "4")
	return setupOut
}

// serverBinding is the server an installation is bound to, as setup says it.
var serverBinding = regexp.MustCompile(`(?m)^(done: create this installation's id, bound to database \S+ )on \S+:\d+(?: \(.*\))?$`)

// first keeps, of the lines of text that match re, the first n; the other
// lines stay.
func first(text, re string, n int) string {
	r := regexp.MustCompile(re)
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if r.MatchString(l) {
			if n == 0 {
				continue
			}
			n--
		}
		b.WriteString(l)
	}
	return b.String()
}

// dbUser makes a server account for the sample, shown as name, with the
// grants given (USER in them stands for it), and points the commands at
// it. It skips the sample when the test account may not create one.
func (s *sampleEnv) dbUser(name string, grants ...string) {
	s.t.Helper()
	s.requireRealServer("a server account of the sample's own")
	user := randomName("et_doc_")
	if _, err := s.tdb.Root.Exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'fake-doc-password'"); err != nil {
		s.t.Skipf("the test account may not create a server user (CREATE USER): %v", err)
	}
	s.t.Cleanup(func() { _, _ = s.tdb.Root.Exec("DROP USER '" + user + "'@'%'") })
	for _, g := range grants {
		if _, err := s.tdb.Root.Exec(strings.ReplaceAll(g, "USER", "'"+user+"'@'%'")); err != nil {
			if strings.Contains(err.Error(), "denied") {
				s.t.Skipf("the test account may not grant (GRANT OPTION): %s: %v", g, err)
			}
			s.t.Fatalf("%s: %v", g, err)
		}
	}
	s.replace = append(s.replace, user, name)
	s.t.Setenv("ELENTRA_TEAMS_DATABASE_USER", user)
	s.t.Setenv("ELENTRA_TEAMS_DATABASE_PASSWORD", "fake-doc-password")
}

// tooManyPrivileges is database.privileges for Elentra's own account, which
// may do anything to Elentra's schemas.
func (s *sampleEnv) tooManyPrivileges() string {
	s.withSchool()
	s.dbUser("elentra", "GRANT ALL PRIVILEGES ON `"+s.tdb.Name+"`.* TO USER", "GRANT ALL PRIVILEGES ON `"+s.tdb.AuthName+"`.* TO USER")
	return s.offline("database.privileges")
}

// advisedGrant is a statement database.privileges advises, with its account.
var advisedGrant = regexp.MustCompile(`^ +(GRANT .* TO )'elentra_teams'@'[^']*';$`)

// application switches the sample to application mode, its meetings in
// the calendar of an organiser of their own.
func (s *sampleEnv) application() *sampleEnv {
	s.sim.AddUser(graphsim.User{ID: "0d0e0f10-0000-4000-8000-0000000000ee", DisplayName: "Teams meetings",
		Mail: "teams-meetings@school.example.edu", UserPrincipalName: "teams-meetings@school.example.edu", Mailbox: true})
	s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_AUTH_MODE", "application")
	s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI", "")
	s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_ORGANIZER", "teams-meetings@school.example.edu")
	return s
}

// refusedLearner signs the sample in, switches course 2 on and matches its
// users, and makes Microsoft refuse to add one of its learners to its Team.
func (s *sampleEnv) refusedLearner() *sampleEnv {
	s.signedIn()
	s.must("courses", "enable", "2")
	s.must("sync-users")
	learners := school.ExpectedLearners(s.sch)[2]
	for _, u := range s.sch.Users {
		if len(learners) > 0 && u.ID == learners[0] {
			s.sim.SetFaults(graphsim.Faults{BulkAddFailUserIDs: []string{u.DirectoryID}})
			return s
		}
	}
	s.t.Fatal("course 2 has no learner")
	return s
}

// logVaries are the values of a JSON log line that change at every run:
// the time, a request's duration and its ids.
var logVaries = []*regexp.Regexp{
	regexp.MustCompile(`("time":")[^"]*(")`), regexp.MustCompile(`("duration":)\d+()`),
	regexp.MustCompile(`("request_id":")[^"]*(")`), regexp.MustCompile(`("client_request_id":")[^"]*(")`),
}

// randomName is a name no other test run uses at the same time.
func randomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// docSamples are the producers of the samples of docs/*.md, by name.
var docSamples = map[string]func(s *sampleEnv) string{
	// setup.md, in the order of its steps
	"setup-check-config-first": func(s *sampleEnv) string {
		return s.withFreshSchool().offline("database.schemas", "database.migrations", "token.stored")
	},
	"setup-takeover-dry-run": func(s *sampleEnv) string {
		out := s.withFreshSchool().must("setup", "--takeover", "--dry-run")
		return s.lines(out, `^(-- deactivate|--   id|UPDATE .*cron)`)
	},
	"setup-done": func(s *sampleEnv) string {
		return s.withFreshSchool().setUp("setup")
	},
	"setup-privileges-excess": func(s *sampleEnv) string {
		return s.tooManyPrivileges()
	},
	"setup-privileges-minimal": func(s *sampleEnv) string {
		s.requireRealServer("a server account of the sample's own")
		// the statements check-config advises, run as they are
		var grants []string
		for _, l := range strings.Split(s.withSchool().offline("database.privileges"), "\n") {
			if m := advisedGrant.FindStringSubmatch(l); m != nil {
				// in the sample's schemas, whose names the output shows as
				// Elentra's
				g := strings.ReplaceAll(m[1], "`entrada_auth`.", "`"+s.tdb.AuthName+"`.")
				grants = append(grants, strings.ReplaceAll(g, "`entrada`.", "`"+s.tdb.Name+"`.")+"USER")
			}
		}
		if len(grants) < 3 {
			s.t.Fatalf("check-config advised %d GRANT statements", len(grants))
		}
		s.dbUser("elentra_teams", grants...)
		return s.offline("database.privileges")
	},
	"setup-authorize-paste": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("setup")
		out, code := s.session(false, "", "--timezone", "America/Toronto")
		if code != 0 {
			s.t.Fatalf("authorize exited %d:\n%s", code, out)
		}
		return out
	},
	"setup-authorize-choose-zone": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("setup")
		out, code := s.session(true, "")
		if code != 0 {
			s.t.Fatalf("authorize exited %d:\n%s", code, out)
		}
		// from the choice on, the list cut to its first two zones and
		// Elentra's
		out = out[strings.Index(out, "Outlook time zones"):]
		var b strings.Builder
		zone := 0
		for _, l := range strings.SplitAfter(out, "\n") {
			if zoneEntry.MatchString(l) {
				zone++
				if zone > 2 && !strings.Contains(l, ") America/Toronto") {
					continue
				}
			}
			b.WriteString(l)
		}
		return b.String()
	},
	"setup-courses": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("authorize")
		return s.shell([]string{"courses", "list"}, []string{"courses", "enable", "2", "3"})
	},
	"setup-events": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("authorize")
		s.must("courses", "enable", "2", "3")
		return s.shell([]string{"events", "list", "--upcoming"}, []string{"events", "enable", "3", "4"})
	},
	"setup-first-dry-run": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("courses")
		return first(s.must("sync", "--dry-run"), `^  match user `, 3)
	},
	"setup-first-sync": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("courses")
		return s.shell([]string{"sync"}, []string{"sync"})
	},
	"setup-crontab": func(s *sampleEnv) string {
		return s.must("crontab")
	},
	"setup-check-config-end": func(s *sampleEnv) string {
		s.withFreshSchool().setUp("courses")
		s.must("sync")
		s.writeFile("etc/cron.d/elentra-teams", "40 * * * * elentra-teams /usr/bin/elentra-teams --config "+s.cfgPath+" sync --quiet\n", 0o644)
		out, _, _ := s.run("check-config")
		return s.lines(out, `^✓ cron\.entry: `)
	},
	"setup-authorize-application": func(s *sampleEnv) string {
		s.withSchool().application()
		return s.shell([]string{"authorize", "--timezone", "America/Toronto"})
	},
	"setup-check-config-application": func(s *sampleEnv) string {
		s.withSchool().application()
		s.must("authorize", "--timezone", "America/Toronto")
		s.must("courses", "enable", "2", "3")
		return s.offline("token.account", "courses.owners")
	},

	// operations.md
	"operations-run": func(s *sampleEnv) string {
		s.withSchool().refusedLearner()
		return s.shell([]string{"sync"}, []string{"sync", "--quiet"})
	},
	"operations-log-json": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.must("courses", "enable", "2")
		s.sim.SetFaults(graphsim.Faults{Throttle429Every: 2, RetryAfterSeconds: 1})
		_, errOut, _ := s.run("--log-level", "debug", "--log-format", "json", "sync-teams")
		out := s.lines(errOut, `"route":"/groups"`)
		if !strings.Contains(out, `"msg":"graph retry"`) {
			s.t.Fatalf("the creation of the group was not throttled (choose another Throttle429Every):\n%s", errOut)
		}
		for _, re := range logVaries {
			out = re.ReplaceAllString(out, "${1}…${2}")
		}
		return out
	},
	"operations-report-json": func(s *sampleEnv) string {
		s.withSchool().refusedLearner()
		s.run("sync")
		out, _, _ := s.run("sync-members", "--course", "2", "--output", "json")
		return out
	},
	"operations-status-runs": func(s *sampleEnv) string {
		s.withSchool().refusedLearner()
		s.run("sync")
		s.run("sync-members", "--course", "2")
		s.sql("UPDATE settings SET value = '0' WHERE shortname = 'microsoft_teams_enabled'")
		s.must("sync")
		s.sql("UPDATE settings SET value = '1' WHERE shortname = 'microsoft_teams_enabled'")
		out := s.must("status")
		return out[strings.Index(out, "Last runs:"):]
	},
	"operations-lock-held": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		conn, err := s.tdb.Root.Conn(context.Background())
		if err != nil {
			s.t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), "SELECT GET_LOCK(?, 0)", store.LockName(s.tdb.Name, "sync")); err != nil {
			s.t.Fatal(err)
		}
		out, errOut, code := s.run("sync")
		if code != ExitLocked {
			s.t.Fatalf("sync exited %d:\n%s", code, errOut)
		}
		if out != "" {
			s.t.Errorf("a run refused for the lock printed a report of changes it never looked for:\n%s", out)
		}
		return errOut
	},
	"operations-crontab-staging": func(s *sampleEnv) string {
		production := s.lines(s.must("crontab"), `^\d.* elentra-teams /`)
		staging := s.writeFile("etc/elentra-teams/staging.yaml", "elentra:\n  url: https://elentra-staging.example.edu\n", 0o640)
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_NAME", "entrada_staging")
		out, _, _ := s.runConfig(staging, "crontab")
		return production + s.lines(out, `^\d.* elentra-teams /`)
	},
	"operations-migrations-pending": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		// the database of the version before this one
		s.sql("DELETE FROM msteams_schema_version ORDER BY version DESC LIMIT 1")
		_, errOut, code := s.run("sync")
		if code != ExitFailed {
			s.t.Fatalf("sync exited %d:\n%s", code, errOut)
		}
		return errOut + s.offline("database.migrations")
	},
	"operations-privileges": func(s *sampleEnv) string {
		var b strings.Builder
		for _, l := range strings.SplitAfter(s.tooManyPrivileges(), "\n") {
			if strings.HasPrefix(l, "      ") {
				b.WriteString(strings.TrimPrefix(l, "      "))
			}
		}
		return b.String()
	},

	// configuration.md
	"config-errors": func(s *sampleEnv) string {
		var out string
		stop := func(cfgPath string) {
			_, errOut, code := s.runConfig(cfgPath, "sync")
			if code != ExitUsage {
				s.t.Fatalf("sync exited %d, want %d:\n%s", code, ExitUsage, errOut)
			}
			out += s.lines(errOut, "^elentra-teams: ")
		}
		stop(s.writeFile("etc/elentra-teams/config.yaml", "sync:\n  max_action: 100\nelentra:\n  url: https://elentra.example.edu\n", 0o640))
		s.writeFile("etc/elentra-teams/config.yaml", "elentra:\n  url: https://elentra.example.edu\n", 0o640)
		s.t.Setenv("ELENTRA_TEAMS_SYNC_CONCURRENCY", "four")
		stop(s.cfgPath)
		s.t.Setenv("ELENTRA_TEAMS_SYNC_CONCURRENCY", "4")
		s.t.Setenv("ELENTRA_TEAMS_SYNC_COURSE_END", "delete")
		stop(s.cfgPath)
		return out
	},

	"config-include-not-followed": func(s *sampleEnv) string {
		settings := s.writeFile("var/www/elentra/www-root/core/config/settings.inc.php", `<?php
$secrets_dir = '/etc/elentra';
require_once $secrets_dir . '/secrets.inc.php';
define("ENTRADA_URL", "https://elentra.example.edu");
`, 0o640)
		cfg := s.writeFile("etc/elentra-teams/include.yaml", "elentra:\n  settings_file: "+settings+"\n", 0o640)
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET", "")
		_, errOut, code := s.runConfig(cfg, "sync")
		if code != ExitUsage {
			s.t.Fatalf("sync exited %d, want %d:\n%s", code, ExitUsage, errOut)
		}
		return s.lines(errOut, "^elentra-teams: ")
	},

	// configuration.md and troubleshooting.md: Elentra's own switches and
	// Object IDs, found by check-config while their keys are unset
	"elentra-course-switch-found": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("ALTER TABLE " + s.tdb.Table("courses") + " ADD COLUMN ms_teams_enabled tinyint(1) NOT NULL DEFAULT 0")
		return s.offline("elentra.course_switch")
	},
	"elentra-object-id-found": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("ALTER TABLE " + s.tdb.AuthTable("user_data") + " ADD COLUMN microsoft_object_id varchar(64) NULL")
		return s.offline("elentra.object_id_column")
	},

	// troubleshooting.md: Teams are not created
	"courses-enabled": func(s *sampleEnv) string {
		return s.withSchool().offline("courses.enabled")
	},
	"courses-errors": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("INSERT INTO msteams_courses (course_id, enabled, group_id, state, last_error, last_error_at, created_at, updated_at) VALUES (6, 1, ?, 'group', ?, ?, ?, ?)",
			"482903b9-4126-4506-bd0b-0e3d9b1a6209",
			"make the group 482903b9-4126-4506-bd0b-0e3d9b1a6209 a Team: graph: PUT /groups/482903b9-4126-4506-bd0b-0e3d9b1a6209/team: 502 BadGateway: Failed to execute backend request. (after 8 attempts) (request-id 5f1c2a9e-7b3d-4e8f-9a10-2c4d6e8f0a1b)",
			docNow.Add(-time.Minute), docNow, docNow)
		return s.offline("courses.errors")
	},
	"no-owner-application": func(s *sampleEnv) string {
		s.withSchool()
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_AUTH_MODE", "application")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI", "")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_ORGANIZER", s.upn(s.admin().DirectoryID))
		s.t.Setenv("ELENTRA_TEAMS_SYNC_ALL_ACTIVE_COURSES", "true")
		s.must("authorize", "--timezone", "America/Toronto")
		s.must("sync-users")
		out, _, _ := s.run("sync-teams", "--dry-run")
		return s.lines(out, `^! course \d+ .*no Team is created without one`)
	},

	// A learner is not in the Team
	"users-object-ids": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.t.Setenv("ELENTRA_TEAMS_SYNC_ALL_ACTIVE_COURSES", "true")
		s.must("sync-users")
		return s.offline("users.object_ids")
	},

	// The time zones cannot be fetched
	"authorize-no-mailbox": func(s *sampleEnv) string {
		s.withSchool()
		s.sim.SetFaults(graphsim.Faults{NoMailboxUserIDs: []string{s.admin().DirectoryID}})
		_, errOut, code := s.authorize("--timezone", "America/Toronto")
		if code != 1 {
			s.t.Fatalf("authorize exited %d:\n%s", code, errOut)
		}
		return s.lines(errOut, `^elentra-teams: `)
	},
	"teams-meetings-no-mailbox": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.sim.SetFaults(graphsim.Faults{NoMailboxUserIDs: []string{s.admin().DirectoryID}})
		return s.online("graph.teams_meetings")
	},
	"admin-unknown": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("UPDATE "+s.tdb.AuthName+".user_data SET email = '' WHERE id = ?", s.admin().ID)
		return s.offline("elentra.admin")
	},

	// The token is not Elentra user 1's
	"token-account": func(s *sampleEnv) string {
		s.withSchool()
		a := s.admin()
		s.must("users", "link", fmt.Sprint(a.ID), a.DirectoryID)
		s.token(s.faculty().DirectoryID, "America/Toronto", 0)
		return s.offline("token.account")
	},

	// Nothing happens, and nothing says why
	"cron-none": func(s *sampleEnv) string {
		return s.offline("cron.entry")
	},
	"cron-dotted": func(s *sampleEnv) string {
		s.writeFile("etc/cron.d/elentra-teams.dpkg-dist", "40 * * * * elentra-teams /usr/bin/elentra-teams --config /etc/elentra-teams/config.yaml sync --quiet\n", 0o644)
		return s.offline("cron.entry")
	},
	"cron-other-config": func(s *sampleEnv) string {
		s.writeFile("etc/cron.d/elentra-teams-staging", "46 * * * * elentra-teams /usr/bin/elentra-teams --config /etc/elentra-teams/staging.yaml sync --quiet\n", 0o644)
		return s.offline("cron.entry")
	},
	"runs-recent": func(s *sampleEnv) string {
		s.withSchool()
		run := func(command string, startedAgo, took time.Duration, exit int, errText string) {
			started := docNow.Add(-startedAgo)
			var finished, code, e any
			if took >= 0 {
				finished, code = started.Add(took), exit
			}
			if errText != "" {
				e = errText
			}
			s.sql("INSERT INTO msteams_runs (command, started_at, finished_at, exit_code, dry_run, error) VALUES (?, ?, ?, ?, 0, ?)", command, started, finished, code, e)
		}
		run("sync", 72*time.Hour, time.Minute, 0, "")
		out := s.offline("runs.recent")
		run("sync", 7*time.Hour, -1, 0, "")
		out += s.offline("runs.recent")
		run("sync", 2*time.Hour, time.Minute, 0, "")
		run("sync-members", time.Hour, time.Minute, 1, "all 1 attempted changes failed (see the report); the next run retries them")
		return out + s.offline("runs.recent")
	},
	"elentra-cron-jobs": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("INSERT INTO cron (id, command, schedule, active) VALUES (1, 'php artisan queue:work', '* * * * *', 1), (2, 'php artisan microsoft:sync-teams', '0 0 * * *', 1)")
		return s.offline("elentra.cron_jobs")
	},

	// The link is there but not clickable until shortly before the event
	"meeting-window": func(s *sampleEnv) string {
		s.withSchool()
		var out string
		for _, v := range []string{"10", "0", "1440x", "-30", "2880"} {
			s.sql("UPDATE settings SET value = ? WHERE shortname = 'personal_meeting_window_minutes'", v)
			out += s.offline("elentra.meeting_window")
		}
		return out
	},

	// The integration is switched off
	"teams-enabled": func(s *sampleEnv) string {
		s.withSchool()
		s.sql("UPDATE settings SET value = '0' WHERE shortname = 'microsoft_teams_enabled'")
		out := s.offline("elentra.teams_enabled")
		s.sql("DELETE FROM settings WHERE shortname = 'microsoft_teams_enabled'")
		return out + s.offline("elentra.teams_enabled")
	},
	"sync-disabled": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.sql("UPDATE settings SET value = '0' WHERE shortname = 'microsoft_teams_enabled'")
		return s.must("sync")
	},

	// The refresh token expired (90 days unused) or was revoked
	"token-refresh-stored": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.token(s.admin().DirectoryID, "America/Toronto", 80*24*time.Hour)
		out := s.offline("token.refresh")
		s.token(s.admin().DirectoryID, "America/Toronto", 91*24*time.Hour)
		return out + s.offline("token.refresh")
	},
	"token-refresh-online": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.sim.ExpireRefreshTokens()
		return s.online("token.refresh")
	},
	"sync-refresh-expired": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.must("courses", "enable", "2")
		s.must("sync")
		s.sim.ExpireRefreshTokens()
		s.sim.ExpireAccessTokens()
		_, errOut, code := s.run("sync")
		if code != ExitAuth {
			s.t.Fatalf("sync exited %d:\n%s", code, errOut)
		}
		return errOut
	},

	// The token endpoint fails, or does not answer
	"token-endpoint": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		}))
		s.t.Cleanup(proxy.Close)
		s.replace = append(s.replace, proxy.URL, "https://sso-proxy.example.edu")
		s.must("courses", "enable", "4")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_TOKEN_URL", proxy.URL+"/token")
		s.sim.ExpireAccessTokens()
		_, errOut, code := s.run("sync-teams")
		if code != ExitFailed {
			s.t.Fatalf("sync-teams exited %d:\n%s", code, errOut)
		}
		return errOut + s.online("token.refresh")
	},

	// The wrong tenant, client or secret
	"tenant-client-secret": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_TENANT_ID", "11111111-2222-3333-4444-555555555555")
		out := s.online("token.refresh")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_TENANT_ID", sampleTenant)
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_ID", "22222222-3333-4444-5555-666666666666")
		out += s.online("token.refresh")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_ID", sampleClient)
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET", "fake-but-not-the-one")
		out += s.online("token.refresh")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET", "6a7b8c9d-0000-4000-8000-000000000001")
		return out + s.offline("config.client_secret")
	},

	// The Outlook time zone does not match Elentra's
	"token-timezone": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.token(s.admin().DirectoryID, "Europe/London", 0)
		return s.offline("token.timezone")
	},
	"authorize-zone-mismatch": func(s *sampleEnv) string {
		s.withSchool()
		_, errOut, code := s.authorize("--timezone", "Europe/London")
		if code != 1 {
			s.t.Fatalf("authorize exited %d:\n%s", code, errOut)
		}
		return s.lines(errOut, `^elentra-teams: `)
	},

	// "This database's installation … was made on …"
	"installation-copy": func(s *sampleEnv) string {
		s.requireRealServer("the server's hostname, port and data directory are a real server's")
		s.withSchool().signedIn()
		var server struct {
			Host    string `db:"host"`
			Port    int    `db:"port"`
			Datadir string `db:"datadir"`
		}
		if err := s.tdb.Root.Get(&server, "SELECT @@hostname AS host, @@port AS port, @@datadir AS datadir"); err != nil {
			s.t.Fatal(err)
		}
		// Production's server was db-prod; this one is shown as db-staging,
		// with the usual port and data directory.
		where := fmt.Sprintf(":%d (data directory %s)", server.Port, server.Datadir)
		s.replace = append(s.replace, "on "+server.Host+where, "on db-staging"+where, where, ":3306 (data directory /var/lib/mysql/)",
			"→ "+server.Host+")", "→ db-staging)")
		s.sql("UPDATE msteams_installation SET server_hostname = 'db-prod'")
		_, errOut, code := s.run("sync")
		if code != ExitFailed {
			s.t.Fatalf("sync exited %d:\n%s", code, errOut)
		}
		return errOut + s.offline("database.installation")
	},

	// A learner who left is still in the Team, a meeting is not cancelled:
	// a guard held
	"guards": func(s *sampleEnv) string {
		spec := docSpec()
		spec.EventsPerCourse = 3
		s.withSchool(spec).signedIn()
		s.t.Setenv("ELENTRA_TEAMS_SYNC_ALL_ACTIVE_COURSES", "true")
		s.t.Setenv("ELENTRA_TEAMS_SYNC_ALL_COURSE_EVENTS", "true")
		s.t.Setenv("ELENTRA_TEAMS_SYNC_COURSE_END", "archive")
		s.must("sync")
		guard := `^! .*(would be removed|would be cancelled|would remove|would cancel|would archive)`
		// one course's audience reads empty
		s.sql("UPDATE course_audience SET audience_active = 0 WHERE course_id = 2")
		out := s.lines(s.must("sync-members"), guard)
		s.sql("UPDATE course_audience SET audience_active = 1 WHERE course_id = 2")
		// one course's events are deleted
		s.sql("DELETE FROM events WHERE course_id = 3")
		out += s.lines(s.must("sync-events"), guard)
		// every event is deleted, the per-course guard set wide open
		s.t.Setenv("ELENTRA_TEAMS_SYNC_CANCEL_GUARD_PERCENT", "100")
		s.sql("DELETE FROM events")
		out += s.lines(s.must("sync-events"), guard)
		// every audience reads empty, the per-Team guard set wide open
		s.t.Setenv("ELENTRA_TEAMS_SYNC_REMOVAL_GUARD_PERCENT", "100")
		s.sql("UPDATE course_audience SET audience_active = 0")
		out += s.lines(s.must("sync-members"), guard)
		// every course switched off
		s.t.Setenv("ELENTRA_TEAMS_SYNC_ALL_ACTIVE_COURSES", "false")
		return out + s.lines(s.must("sync-teams"), guard)
	},

	// Teams' cap of 1,000 teams per user
	"teams-limit": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.sql("INSERT INTO msteams_courses (course_id, group_id, state, created_at, updated_at) WITH RECURSIVE n (i) AS (SELECT 1001 UNION ALL SELECT i + 1 FROM n WHERE i < 1843) SELECT i, CONCAT('group-', i), 'team', ?, ? FROM n",
			docNow, docNow)
		return s.offline("teams.limit")
	},

	// Other lines
	"config-endpoints": func(s *sampleEnv) string {
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_TOKEN_URL", "https://sso-proxy.example.edu/token")
		return s.offline("config.endpoints")
	},
	"redirect-uri": func(s *sampleEnv) string {
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI", "http://localhost/callback")
		out := s.offline("config.redirect_uri")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI", "https://elentra.example.edu/api/ms-graph-oauth.php")
		return out + s.offline("config.redirect_uri")
	},
	"token-scopes": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.token(s.admin().DirectoryID, "America/Toronto", 0, "offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.ReadBasic.All")
		return s.offline("token.scopes")
	},
	"teams-meetings-no-teams": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.sim.SetFaults(graphsim.Faults{NoTeamsForBusiness: true})
		return s.online("graph.teams_meetings")
	},
	"token-stored-key": func(s *sampleEnv) string {
		s.withSchool().signedIn()
		s.t.Setenv("ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY", base64.StdEncoding.EncodeToString([]byte("another-fake-token-key-32-bytes!")))
		return s.offline("token.stored")
	},
	"database-connect": func(s *sampleEnv) string {
		s.requireRealServer("a server account without privileges")
		out := s.offline("database.connect")
		s.withSchool()
		user := randomName("et_doc_")
		if _, err := s.tdb.Root.Exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'fake-doc-password'"); err != nil {
			s.t.Skipf("the test account may not create a server user (CREATE USER): %v", err)
		}
		s.t.Cleanup(func() { _, _ = s.tdb.Root.Exec("DROP USER '" + user + "'@'%'") })
		s.replace = append(s.replace, user, "elentra_teams")
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_USER", user)
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_PASSWORD", "fake-doc-password")
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_NAME", "entrada_typo")
		return out + s.offline("database.connect")
	},
	"config-permissions": func(s *sampleEnv) string {
		settings := s.writeFile("var/www/elentra/www-root/core/config/settings.inc.php",
			"<?php\ndefine(\"DATABASE_PASS\", \"fake-db-password\");\ndefine(\"MS_OAUTH_CLIENT_SECRET\", \"fake-client-secret\");\n", 0o644)
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_PASSWORD", "")
		s.t.Setenv("ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET", "")
		return s.checks([]string{"--elentra-settings", settings}, "config.permissions")
	},
	"config-database-tls": func(s *sampleEnv) string {
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_HOST", "db.example.edu")
		s.t.Setenv("ELENTRA_TEAMS_DATABASE_PORT", "3306")
		return s.offline("config.database")
	},
	"config-file-typo": func(s *sampleEnv) string {
		if err := os.WriteFile("typo.yaml", []byte("microsoft:\n  tenant: 0d0e0f10-0000-4000-8000-00000000aaaa\n"), 0o640); err != nil {
			s.t.Fatal(err)
		}
		out, _, _ := s.runConfig("typo.yaml", "check-config")
		return s.lines(out, `^(✗ config.file: |    fix: did you mean)`)
	},
}
