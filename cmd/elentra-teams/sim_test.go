package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// simCmds are the script commands that give a script a Microsoft tenant:
// the simulator, its faults, and tokens it issued. TestScripts adds them to
// its own.
var simCmds = map[string]func(*testscript.TestScript, bool, []string){
	"graphsim":          graphsimCmd,
	"sim":               simCmd,
	"token":             tokenCmd,
	"browser-authorize": browserAuthorize,
}

// scriptTokenKey is the token encryption key of every script: fake, 32 bytes.
var scriptTokenKey = base64.StdEncoding.EncodeToString([]byte("fake-script-token-key-32-bytes!!"))

// simState is a script's simulator.
type simState struct {
	sim   *graphsim.Sim
	url   string
	users map[string]graphsim.User // by lower-cased id
}

// sims holds each running script's simulator. A script's Values are fixed
// at Setup, so the simulator, started later by a command, is kept here.
var sims sync.Map // *testscript.TestScript → *simState

func scriptSim(ts *testscript.TestScript, cmd string) *simState {
	v, ok := sims.Load(ts)
	if !ok {
		ts.Fatalf("%s: run graphsim first", cmd)
	}
	return v.(*simState)
}

// graphsim [--school tiny] SEED.json starts the identity platform and Graph
// simulator on a local port for the rest of the script, seeded with the
// file's tenant, client and users (and with --school, the directory
// accounts of the tiny school of elentra-db). It exports the
// ELENTRA_TEAMS_MICROSOFT_* variables that reach it (the first client's id,
// secret and redirect URI), a fake ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY, and
// $SIM, its URL.
func graphsimCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: graphsim [--school tiny] SEED.json")
	}
	var seedFile string
	withSchool := false
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--school" && i+1 < len(args) && args[i+1] == "tiny":
			withSchool = true
			i++
		case seedFile == "" && !strings.HasPrefix(args[i], "-"):
			seedFile = args[i]
		default:
			ts.Fatalf("usage: graphsim [--school tiny] SEED.json")
		}
	}
	if seedFile == "" {
		ts.Fatalf("usage: graphsim [--school tiny] SEED.json")
	}
	if _, running := sims.Load(ts); running {
		ts.Fatalf("graphsim: a simulator already runs in this script")
	}
	seed, err := graphsim.LoadSeed(ts.MkAbs(seedFile))
	if err != nil {
		ts.Fatalf("graphsim: %v", err)
	}
	if len(seed.Clients) == 0 || len(seed.Clients[0].RedirectURIs) == 0 {
		ts.Fatalf("graphsim: the seed needs a client with a redirect URI")
	}
	if withSchool {
		// The directory accounts depend on the school's seed only, not on
		// the moment it was generated for.
		for _, u := range school.Generate(tinySchool(time.Now())).DirectoryUsers() {
			seed.Users = append(seed.Users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail,
				UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
		}
	}
	sim := graphsim.New(seed, graphsim.Options{})
	srv := httptest.NewServer(sim)
	st := &simState{sim: sim, url: srv.URL, users: map[string]graphsim.User{}}
	for _, u := range seed.Users {
		st.users[strings.ToLower(u.ID)] = u
	}
	sims.Store(ts, st)
	ts.Defer(func() {
		srv.Close()
		sims.Delete(ts)
	})
	c := seed.Clients[0]
	for k, v := range map[string]string{
		"ELENTRA_TEAMS_MICROSOFT_AUTHORITY":      srv.URL,
		"ELENTRA_TEAMS_MICROSOFT_GRAPH_ENDPOINT": srv.URL,
		"ELENTRA_TEAMS_MICROSOFT_TENANT_ID":      seed.TenantID,
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_ID":      c.ClientID,
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET":  c.ClientSecret,
		"ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI":   c.RedirectURIs[0],
		"ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY":     scriptTokenKey,
		"SIM":                                    srv.URL,
	} {
		ts.Setenv(k, v)
	}
}

// sim expire-refresh | revoke-refresh | expire-access | faults JSON changes
// the script's simulator: every refresh token issued so far expires of 90
// days without use (AADSTS700082) or is revoked (AADSTS70008), every access
// token expires, or the faults (graphsim.Faults as JSON) are replaced.
func simCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: sim expire-refresh|revoke-refresh|expire-access|faults JSON")
	}
	st := scriptSim(ts, "sim")
	switch args[0] {
	case "expire-refresh":
		st.sim.ExpireRefreshTokens()
	case "revoke-refresh":
		st.sim.RevokeRefreshTokens()
	case "expire-access":
		st.sim.ExpireAccessTokens()
	case "faults", "fault":
		if len(args) != 2 {
			ts.Fatalf("usage: sim faults JSON")
		}
		var f graphsim.Faults
		dec := json.NewDecoder(strings.NewReader(args[1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			ts.Fatalf("sim faults: %v", err)
		}
		st.sim.SetFaults(f)
	default:
		ts.Fatalf("sim: unknown action %q", args[0])
	}
}

// token [--timezone ZONE] [--unused DURATION] [--scopes "A B"] OBJECT_ID
// stores in the script's database, as authorize does, a token the simulator
// issued to that directory user: Outlook time zone America/Toronto unless
// given, its refresh token last used DURATION ago (0 unless given; e.g.
// 80d), the scopes the commands need unless given. It stands for an
// authorize already done, so that scripts need no sign-in for the cases
// that are not about signing in.
func tokenCmd(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: token [--timezone ZONE] [--unused DURATION] [--scopes \"A B\"] OBJECT_ID"
	if neg {
		ts.Fatalf("%s", usage)
	}
	zone := "America/Toronto"
	var unused time.Duration
	scopes := config.Defaults().Microsoft.RequiredScopes()
	var objectID string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--timezone" && i+1 < len(args):
			zone = args[i+1]
			i++
		case a == "--unused" && i+1 < len(args):
			d, err := config.ParseDuration(args[i+1])
			if err != nil {
				ts.Fatalf("token: --unused: %v", err)
			}
			unused = time.Duration(d)
			i++
		case a == "--scopes" && i+1 < len(args):
			scopes = strings.Fields(args[i+1])
			i++
		case objectID == "" && !strings.HasPrefix(a, "-"):
			objectID = a
		default:
			ts.Fatalf("%s", usage)
		}
	}
	if objectID == "" {
		ts.Fatalf("%s", usage)
	}
	st := scriptSim(ts, "token")
	u, ok := st.users[strings.ToLower(objectID)]
	if !ok {
		ts.Fatalf("token: the simulator has no user %s", objectID)
	}
	sdb, _ := ts.Value(keyDB).(*scriptDB)
	if sdb == nil || sdb.tdb == nil {
		ts.Fatalf("token: run elentra-db first")
	}
	key, err := base64.StdEncoding.DecodeString(ts.Getenv("ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY"))
	if err != nil {
		ts.Fatalf("token: ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY: %v", err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		ts.Fatalf("token: %v", err)
	}
	access, refresh := st.sim.IssueToken(u.ID, scopes)
	now := time.Now()
	used := now.Add(-unused)
	tok := &auth.Token{
		OAuth:           &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Expiry: now.Add(time.Hour)},
		Scopes:          auth.NormalizeScopes(strings.Join(scopes, " ")),
		AccountObjectID: u.ID, AccountUPN: u.UserPrincipalName, OutlookTimezone: zone,
		AuthorizedAt: used, RefreshUsedAt: used,
	}
	if unused > time.Hour {
		tok.OAuth.Expiry = used.Add(time.Hour) // an access token that old is long expired
	}
	vault := &auth.Vault{Table: store.New(sdb.tdb.DB), Sealer: sealer, Name: "delegated"}
	if err := vault.Save(context.Background(), tok); err != nil {
		ts.Fatalf("token: %v", err)
	}
}

// browserAuthorize ARGS… runs `elentra-teams authorize --no-browser ARGS…`
// and plays the administrator's browser: it opens the address authorize
// prints (the simulator signs in the user its login_hint names, Elentra's
// administrator), and pastes the address it is sent back to. What authorize
// prints goes to the script's stdout and stderr; with !, authorize must
// fail.
//
// authorize runs as a process of its own with the script's environment: the
// variables the tool reads (every ELENTRA_TEAMS_* key) and the few a process
// needs, since a command cannot read the script's whole environment.
func browserAuthorize(ts *testscript.TestScript, neg bool, args []string) {
	bin := lookPath(ts.Getenv("PATH"), "elentra-teams")
	if bin == "" {
		ts.Fatalf("browser-authorize: no elentra-teams on the script's PATH")
	}
	cmd := exec.Command(bin, append([]string{"authorize", "--no-browser"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnviron(ts)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		ts.Fatalf("browser-authorize: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		ts.Fatalf("browser-authorize: %v", err)
	}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		ts.Fatalf("browser-authorize: %v", err)
	}
	var out strings.Builder
	browser := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	sc := bufio.NewScanner(stdout)
	answered := false
	var browseErr error
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if answered || !strings.HasPrefix(line, "http") {
			continue
		}
		answered = true
		landed, err := signIn(browser, line)
		if err != nil {
			browseErr = err
			stdin.Close()
			continue
		}
		io.WriteString(stdin, landed+"\n")
		stdin.Close()
	}
	err = cmd.Wait()
	fmt.Fprint(ts.Stdout(), out.String())
	fmt.Fprint(ts.Stderr(), errBuf.String())
	if browseErr != nil {
		ts.Logf("browser-authorize: the sign-in page: %v", browseErr)
	}
	var ee *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &ee):
		ts.Fatalf("browser-authorize: %v", err)
	case neg && err == nil:
		ts.Fatalf("authorize succeeded, want a failure")
	case !neg && err != nil:
		ts.Fatalf("authorize: %v", err)
	}
}

// signIn opens the sign-in address and returns where it redirects.
func signIn(browser *http.Client, url string) (string, error) {
	resp, err := browser.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return loc, nil
}

// scriptEnviron rebuilds the script's environment for a process started
// outside ts.Exec: the tool's variables and a process's basics.
func scriptEnviron(ts *testscript.TestScript) []string {
	names := []string{"PATH", "HOME", "TMPDIR", "WORK", "LANG", "LC_ALL", "LC_CTYPE", "TZ", config.EnvPrefix + "CONFIG"}
	for _, k := range config.Keys() {
		names = append(names, k.EnvName())
	}
	var env []string
	for _, n := range names {
		if v := ts.Getenv(n); v != "" {
			env = append(env, n+"="+v)
		}
	}
	return env
}

func lookPath(pathList, name string) string {
	for _, dir := range filepath.SplitList(pathList) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// withSimCmds adds simCmds to a script command table.
func withSimCmds(cmds map[string]func(*testscript.TestScript, bool, []string)) map[string]func(*testscript.TestScript, bool, []string) {
	for name, cmd := range simCmds {
		cmds[name] = cmd
	}
	return cmds
}
