package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// options are the demo's flags.
type options struct {
	courses  int
	learners int
	faults   bool
	// rehearse stands the school and the simulator up and waits, instead of
	// running the commands: docs/setup.md followed by hand against them.
	rehearse bool
}

// The default school runs in seconds. The embedded engine checks keys and
// joins by scanning, so its cost grows faster than the school: 50 courses
// and 1,100 learners take about 20 s, 100 and 2,500 about two minutes, and
// twice that many again over a quarter of an hour, hence the bounds. A real
// MySQL or MariaDB and the benchmarks are the place for a large school.
const (
	defaultCourses  = 20
	defaultLearners = 500
	maxCourses      = 100
	maxLearners     = 2500
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("elentra-teams-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: go run ./cmd/elentra-teams-demo [flags]

Starts an embedded MySQL-compatible server with a synthetic medical school and
a Microsoft identity platform and Graph simulator with the school's directory,
then runs the real elentra-teams commands an administrator would, printing
each command and its output, and a summary. Everything lives in memory and in
a temporary directory removed at the end.

With --rehearse it runs no command: it prints the configuration for the
database and the simulator and waits, so that docs/setup.md can be followed
by hand with the real binary (see "Rehearse against the simulator" there).

Flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.courses, "courses", defaultCourses, fmt.Sprintf("number of courses in the synthetic school (1 to %d)", maxCourses))
	fs.IntVar(&o.learners, "learners", defaultLearners, fmt.Sprintf("number of learners in the synthetic school (1 to %d)", maxLearners))
	fs.BoolVar(&o.faults, "faults", false, "have the simulator throttle (429 with Retry-After), fail (503), lag after creates (404) and refuse one member of a bulk add; the sync must still converge")
	fs.BoolVar(&o.rehearse, "rehearse", false, "run no command: keep the school's database and the simulator up, print their configuration and wait for Ctrl-C, to follow docs/setup.md by hand")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.courses < 1 || o.courses > maxCourses {
		return o, fmt.Errorf("--courses %d: use 1 to %d", o.courses, maxCourses)
	}
	if o.learners < 1 || o.learners > maxLearners {
		return o, fmt.Errorf("--learners %d: use 1 to %d", o.learners, maxLearners)
	}
	return o, nil
}

// run is the demo's whole life; main only exits with its code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "elentra-teams-demo:", err)
		return exitUsage
	}
	isolateFromEnvironment(stderr)
	if o.rehearse {
		if err := rehearse(ctx, o, stdout, time.Now); err != nil {
			fmt.Fprintln(stderr, "elentra-teams-demo:", err)
			return exitFailed
		}
		return exitOK
	}
	if _, err := runDemo(ctx, o, stdout, time.Now); err != nil {
		fmt.Fprintln(stderr, "elentra-teams-demo:", err)
		return exitFailed
	}
	return exitOK
}

// isolateFromEnvironment drops ELENTRA_TEAMS_* variables from this process:
// the tool reads them over its config file, and one naming a real database
// or tenant must not turn the demo's setup --takeover and syncs on it.
func isolateFromEnvironment(stderr io.Writer) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ELENTRA_TEAMS_") {
			_ = os.Unsetenv(name)
			fmt.Fprintf(stderr, "elentra-teams-demo: ignoring %s: the demo uses only its own configuration\n", name)
		}
	}
}

// outcome is what a demo run did, for the summary and for tests.
type outcome struct {
	// school is the generated school, for tests to derive expectations.
	school         *school.School
	enabledCourses []int
	summary        summary
	// final is the simulator's state at the end, requests its request log.
	final    graphsim.State
	requests []graphsim.LoggedRequest
	// lastSyncWrites counts the Graph writes of the last sync, which must
	// be none.
	lastSyncWrites int
}

// runDemo stands the world up, runs the admin's commands against it and
// prints the summary. An error means a step failed or the sync did not
// converge; the transcript up to there is already printed.
func runDemo(ctx context.Context, o options, out io.Writer, now func() time.Time) (*outcome, error) {
	started := now()
	fmt.Fprintf(out, "elentra-teams demo: a synthetic medical school (%d courses, %d learners) in an embedded\n", o.courses, o.learners)
	fmt.Fprintln(out, "MySQL-compatible server, its Microsoft 365 tenant in a Graph simulator, and the real commands.")
	w, err := startWorld(ctx, o, started)
	if err != nil {
		return nil, err
	}
	defer w.close()
	s := w.school
	fmt.Fprintf(out, "\n# Elentra database  %s, schemas %s and %s: %d users, %d courses, %d learning events (loaded in %s)\n",
		w.dbAddr, schemaName, authSchemaName, len(s.Users), len(s.Courses), len(s.Events), now().Sub(started).Round(100*time.Millisecond))
	fmt.Fprintf(out, "# Microsoft Graph    %s, tenant %s: %d directory accounts\n", w.graphURL, demoTenantID, w.directoryUsers)
	fmt.Fprintf(out, "# every command below runs as: elentra-teams --config %s …\n", w.config)
	fmt.Fprintf(out, "\n$ cat %s\n%s", w.config, w.configText)

	sh := &shell{config: w.config, out: out}
	res := &outcome{school: s}
	step := func(onLine func(string, answerFunc), args ...string) commandResult {
		return sh.run(ctx, onLine, args...)
	}
	must := func(r commandResult, allowed ...int) error {
		if r.code == 0 {
			return nil
		}
		for _, c := range allowed {
			if r.code == c {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("elentra-teams %s exited %d", quoteArgs(r.args), r.code)
	}

	// 1. The tool's tables and Elentra's settings; Elentra's own jobs off.
	if err := must(step(nil, "setup", "--menu", "--takeover")); err != nil {
		return res, err
	}

	// 2. Choose the courses, as an admin reading the list would.
	if err := must(step(nil, "courses", "list")); err != nil {
		return res, err
	}
	res.enabledCourses, err = currentCourses(ctx, w.config)
	if err != nil {
		return res, err
	}
	if len(res.enabledCourses) == 0 {
		return res, errors.New("the school has no active course in a current curriculum period")
	}
	sh.note("enabling the active courses with a current curriculum period (from 'courses list --output json')")
	enable := []string{"courses", "enable"}
	for _, id := range res.enabledCourses {
		enable = append(enable, strconv.Itoa(id))
	}
	if err := must(step(nil, enable...)); err != nil {
		return res, err
	}

	// 3. Sign in as Elentra's administrator, as on a server reached over SSH.
	r := step(signInAsAdmin(sh), "authorize", "--no-browser", "--timezone", demoTimezone)
	if err := must(r); err != nil {
		return res, err
	}

	// 4. The syncs: sync-users matches the directory, sync does the rest
	// (under faults if asked).
	if err := must(step(nil, "sync-users")); err != nil {
		return res, err
	}
	allowed := []int(nil)
	if o.faults {
		w.sim.SetFaults(demoFaults(s, res.enabledCourses))
		sh.note("faults on: a 429 (Retry-After: %d) every %d Graph requests, a 503 every %d, a 404 on the first call to the first new group (directory replication), and one learner refused by every bulk add",
			faultRetryAfter, faultThrottleEvery, faultUnavailableEvery)
		// Exit 3 (some writes failed, the rest applied) is what the refused
		// learner gives while the fault lasts; exit 1 is a failure the
		// client did not retry, which the next run must make good too.
		allowed = []int{1, 3}
	}
	mark := len(w.sim.Requests())
	if err := must(step(nil, "sync"), allowed...); err != nil {
		return res, err
	}
	if o.faults {
		sh.note("the simulator answered %s", faultAnswers(w.sim.Requests()[mark:]))
		w.sim.SetFaults(graphsim.Faults{})
		sh.note("the faults pass: the next sync completes what they stopped")
		if err := must(step(nil, "sync")); err != nil {
			return res, err
		}
	}
	sh.note("a second sync in a row must change nothing")
	mark = len(w.sim.Requests())
	last := step(nil, "sync")
	if err := must(last); err != nil {
		return res, err
	}
	res.lastSyncWrites = graphWrites(w.sim.Requests()[mark:])

	// 5. What an admin checks afterwards. Their findings are shown, not
	// judged here: the demo's outcome is the sync's.
	step(nil, "check-config")
	step(nil, "status")
	step(nil, "events", "list", "--upcoming", "--course", strconv.Itoa(res.enabledCourses[0]))

	res.final = w.sim.State()
	res.requests = w.sim.Requests()
	res.summary = summarize(res, res.requests, now().Sub(started))
	printSummary(out, res.summary)
	if res.lastSyncWrites != 0 || strings.Contains(last.stdout, "changed:") {
		return res, fmt.Errorf("the sync did not converge: the last run made %d Graph writes", res.lastSyncWrites)
	}
	return res, nil
}

// currentCourses asks the tool which courses are active in a current
// curriculum period, without printing: the admin reads the text list, the
// demo its JSON.
func currentCourses(ctx context.Context, configPath string) ([]int, error) {
	quiet := &shell{config: configPath, out: io.Discard}
	r := quiet.run(ctx, nil, "courses", "list", "--output", "json")
	if r.code != 0 {
		return nil, fmt.Errorf("elentra-teams courses list --output json exited %d", r.code)
	}
	var lines []struct {
		ID        int    `json:"course_id"`
		InElentra bool   `json:"in_elentra"`
		Active    bool   `json:"active"`
		Period    string `json:"period"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &lines); err != nil {
		return nil, fmt.Errorf("read courses list --output json: %w", err)
	}
	var ids []int
	for _, l := range lines {
		if l.InElentra && l.Active && l.Period != "" {
			ids = append(ids, l.ID)
		}
	}
	sort.Ints(ids)
	return ids, nil
}

// signInAsAdmin finishes authorize --no-browser as the administrator would:
// open the printed sign-in address (the simulator's browser session is
// Elentra's administrator), and paste the address the browser is sent to.
func signInAsAdmin(sh *shell) func(line string, answer answerFunc) {
	browser := &http.Client{
		Timeout: 30 * time.Second,
		// The redirect goes to the tool's registered redirect URI, where
		// nothing listens with --no-browser: stop at it, as a browser shows
		// "cannot be reached" with the address in its bar.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return func(line string, answer answerFunc) {
		if !strings.Contains(line, "/oauth2/v2.0/authorize?") {
			return
		}
		landed, err := landing(browser, strings.TrimSpace(line))
		if err != nil {
			sh.note("the sign-in page failed: %v", err)
			answer("")
			return
		}
		sh.note("opened that address in the simulated browser, signed in as Elentra's administrator; pasting the address it landed on:")
		sh.printf("%s\n", landed)
		answer(landed)
	}
}

func landing(browser *http.Client, signIn string) (string, error) {
	resp, err := browser.Get(signIn)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("the authorize endpoint answered %s", resp.Status)
	}
	return resp.Header.Get("Location"), nil
}

// How often the simulator misbehaves with --faults. The client honours
// Retry-After for real, so throttles are kept few and short.
const (
	faultThrottleEvery    = 25
	faultUnavailableEvery = 40
	faultRetryAfter       = 1
)

// demoFaults are the failures --faults turns on. The refused learner is an
// ordinary learner of the first enabled course, so the failure lands in a
// Team the sync builds.
func demoFaults(s *school.School, enabled []int) graphsim.Faults {
	f := graphsim.Faults{
		Throttle429Every:    faultThrottleEvery,
		RetryAfterForm:      graphsim.RetryAfterInt,
		RetryAfterSeconds:   faultRetryAfter,
		Unavailable503Every: faultUnavailableEvery,
		NotFoundAfterCreate: 1,
	}
	if refused := ordinaryLearner(s, enabled); refused != "" {
		f.BulkAddFailUserIDs = []string{refused}
	}
	return f
}

// ordinaryLearner is the directory id of the first learner of an enabled
// course who is no edge case, or "" when there is none.
func ordinaryLearner(s *school.School, enabled []int) string {
	users := map[int]school.User{}
	for _, u := range s.Users {
		users[u.ID] = u
	}
	learners := school.ExpectedLearners(s)
	for _, c := range enabled {
		for _, id := range learners[c] {
			u := users[id]
			if _, edge := s.Why[fmt.Sprintf("user %d", id)]; !edge && u.Kind == "learner" && u.DirectoryID != "" && u.Email != "" {
				return u.DirectoryID
			}
		}
	}
	return ""
}

// graphWrites counts the requests that would change something in Graph:
// every method but GET, outside the identity endpoints, counting the items
// of a $batch rather than its envelope.
func graphWrites(log []graphsim.LoggedRequest) int {
	n := 0
	for _, l := range log {
		if l.Method != http.MethodGet && !isIdentity(l) && l.Route != "POST /$batch" {
			n++
		}
	}
	return n
}

// faultAnswers names the failure statuses among log's Graph answers.
func faultAnswers(log []graphsim.LoggedRequest) string {
	counts := map[int]int{}
	for _, l := range log {
		if !isIdentity(l) && (l.Status == http.StatusMultiStatus || l.Status >= 400) {
			counts[l.Status]++
		}
	}
	if len(counts) == 0 {
		return "no failure"
	}
	statuses := make([]int, 0, len(counts))
	for st := range counts {
		statuses = append(statuses, st)
	}
	sort.Ints(statuses)
	parts := make([]string, 0, len(statuses))
	for _, st := range statuses {
		name := http.StatusText(st)
		if st == http.StatusMultiStatus {
			name = "partial bulk add"
		}
		parts = append(parts, fmt.Sprintf("%d × %d %s", counts[st], st, name))
	}
	return strings.Join(parts, ", ")
}

func isIdentity(l graphsim.LoggedRequest) bool {
	return strings.HasPrefix(l.Route, "GET /{tenant}/") || strings.HasPrefix(l.Route, "POST /{tenant}/")
}
