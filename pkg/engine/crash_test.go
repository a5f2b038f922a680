package engine_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// crashPointsEnv sets how many random kill points each sync command gets.
const crashPointsEnv = "ELENTRA_TEAMS_CRASH_POINTS"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// toolBinary builds the production binary once per test run.
func toolBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "elentra-teams-crash")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "elentra-teams")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/elentra-teams/elentra-teams/cmd/elentra-teams").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Skipf("cannot build the binary: %v", buildErr)
	}
	return binPath
}

// killSwitch serves the simulator and SIGKILLs the tool when the at-th Graph
// request arrives: the request is applied, its answer never sent. This is
// the worst moment for a crash: Graph did something the tool never heard of.
type killSwitch struct {
	sim  http.Handler
	mu   sync.Mutex
	n    int
	at   int
	proc *os.Process
	hit  bool
	// hook, when set, runs before the n-th Graph request is served.
	hook func(n int)
	// killOn, when set, picks the request to kill at instead of at.
	killOn func(r *http.Request) bool
}

func (k *killSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		k.mu.Lock()
		k.n++
		kill := (k.n == k.at || (k.killOn != nil && !k.hit && k.killOn(r))) && k.proc != nil
		proc, n, hook := k.proc, k.n, k.hook
		if kill {
			k.hit = true
		}
		k.mu.Unlock()
		if hook != nil {
			hook(n)
		}
		if kill {
			k.sim.ServeHTTP(httptest.NewRecorder(), r)
			_ = proc.Kill()
			panic(http.ErrAbortHandler)
		}
	}
	k.sim.ServeHTTP(w, r)
}

// crashWorld is a tiny school in a real database, its tenant in an
// in-process simulator, and the environment the real binary runs with.
type crashWorld struct {
	t   *testing.T
	tdb *elentratest.TestDB
	sim *graphsim.Sim
	ks  *killSwitch
	env []string
}

const crashKey = "ZmFrZS10b2tlbi1rZXktZm9yLXRlc3RzLTMyYnl0ZXM="

// crashLag is the replication every crash world has: a new group is left
// out of the first four listings (more than a run looks before creating,
// so the run that meets it must wait).
var crashLag = graphsim.Faults{UnlistedAfterCreate: 4}

func newCrashWorld(t *testing.T) *crashWorld {
	t.Helper()
	now := time.Now()
	spec := school.Spec{Seed: 5, Courses: 5, Learners: 60, LearnersPerCourse: 15, OwnersPerCourse: 2, EventsPerCourse: 2, TeamsEnabled: true, Now: now}
	sch := school.Generate(spec)
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		if _, err := store.Migrate(ctx, db); err != nil {
			return err
		}
		if err := sch.Load(ctx, db); err != nil {
			return err
		}
		// Every world is the same installation, so that what a crashed
		// world leaves compares with a clean one's to the nickname.
		_, err := db.Exec(ctx, "UPDATE "+db.Table(store.InstallationTable)+" SET installation_id = 'crashtst'")
		return err
	}))
	var users []graphsim.User
	for _, u := range sch.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	admin := ""
	for _, u := range sch.Users {
		if u.ID == sch.Edge.Admin {
			admin = u.DirectoryID
		}
	}
	sim := graphsim.New(graphsim.Seed{TenantID: tenant, Users: users, SignedInUser: admin,
		Clients: []graphsim.Client{{ClientID: "22222222-3333-4444-5555-666666666666", ClientSecret: "fake-secret", RedirectURIs: []string{"http://localhost:8400/callback"}}}},
		graphsim.Options{})
	// Directory replication, as Microsoft has it: a new group is not listed
	// at once, though a second one of its nickname is refused.
	sim.SetFaults(crashLag)
	ks := &killSwitch{sim: sim}
	srv := httptest.NewServer(ks)
	t.Cleanup(srv.Close)

	// the administrator's token, stored as authorize stores it
	access, refresh := sim.IssueToken(admin, []string{"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create",
		"Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"})
	key, _ := base64.StdEncoding.DecodeString(crashKey)
	sealer, _ := auth.NewSealer(key)
	vault := &auth.Vault{Table: store.New(tdb.DB), Sealer: sealer, Name: "delegated"}
	if err := vault.Save(context.Background(), &auth.Token{OAuth: &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: now.Add(time.Hour)},
		AccountObjectID: admin, OutlookTimezone: "America/Toronto", AuthorizedAt: now, RefreshUsedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := tdb.Config
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"ELENTRA_TEAMS_CONFIG=/dev/null",
		"ELENTRA_TEAMS_DATABASE_HOST=" + c.Host, "ELENTRA_TEAMS_DATABASE_PORT=" + strconv.Itoa(c.Port),
		"ELENTRA_TEAMS_DATABASE_USER=" + c.User, "ELENTRA_TEAMS_DATABASE_PASSWORD=" + c.Password,
		"ELENTRA_TEAMS_DATABASE_NAME=" + c.Name, "ELENTRA_TEAMS_DATABASE_AUTH_NAME=" + c.AuthName,
		"ELENTRA_TEAMS_MICROSOFT_TENANT_ID=" + tenant, "ELENTRA_TEAMS_MICROSOFT_CLIENT_ID=22222222-3333-4444-5555-666666666666",
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET=fake-secret", "ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI=http://localhost:8400/callback",
		"ELENTRA_TEAMS_MICROSOFT_AUTHORITY=" + srv.URL, "ELENTRA_TEAMS_MICROSOFT_GRAPH_ENDPOINT=" + srv.URL,
		"ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY=" + crashKey, "ELENTRA_TEAMS_ELENTRA_TIMEZONE=America/Toronto",
		"ELENTRA_TEAMS_ELENTRA_URL=https://elentra.example.edu",
		"ELENTRA_TEAMS_SYNC_ALL_ACTIVE_COURSES=true", "ELENTRA_TEAMS_SYNC_ALL_COURSE_EVENTS=true",
	}
	if !elentratest.Real() {
		env = append(env, "ELENTRA_TEAMS_SYNC_CONCURRENCY=1")
	}
	return &crashWorld{t: t, tdb: tdb, sim: sim, ks: ks, env: env}
}

// run runs the binary; with killAt > 0 it is killed at that Graph request.
func (w *crashWorld) run(bin string, killAt int, args ...string) (code int, killed bool, out string) {
	w.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = w.env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.ks.mu.Lock()
	w.ks.n, w.ks.at, w.ks.proc, w.ks.hit = 0, killAt, cmd.Process, false
	w.ks.mu.Unlock()
	err := cmd.Wait()
	w.ks.mu.Lock()
	killed = w.ks.hit
	w.ks.proc = nil
	n := w.ks.n
	w.ks.mu.Unlock()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code == -1 && !killed {
		w.t.Fatalf("run: %v", err)
	}
	_ = n
	return code, killed, buf.String()
}

func (w *crashWorld) requests() int {
	w.ks.mu.Lock()
	defer w.ks.mu.Unlock()
	return w.ks.n
}

// snapshot is what a run leaves behind: the simulator's Teams, groups and
// meetings, the tool's mapping rows and the links published on Elentra's
// event pages, without times and counters.
func (w *crashWorld) snapshot() string {
	w.t.Helper()
	st := w.sim.State()
	// Meetings' ids, transaction ids and join URLs derive from the database
	// name, which differs between worlds: compare what they say, sorted.
	var events []string
	for _, e := range st.Events {
		events = append(events, fmt.Sprintf("%s|%s|%s|%s|%v|%v|%v", e.Mailbox, e.Subject, e.Start.DateTime, e.End.DateTime, e.IsOnlineMeeting, e.JoinURL != "", e.IsCancelled))
	}
	sort.Strings(events)
	js, _ := json.MarshalIndent(struct {
		Teams  []graphsim.TeamState
		Groups []graphsim.GroupState
		Events []string
	}{st.Teams, st.Groups, events}, "", " ")
	var b strings.Builder
	b.Write(js)
	for _, q := range []string{
		"SELECT course_id, enabled, COALESCE(group_id,''), COALESCE(mail_nickname,''), COALESCE(graph_mail_nickname,''), COALESCE(display_name,''), COALESCE(description_hash,''), state FROM " + w.tdb.Table("msteams_courses") + " ORDER BY course_id",
		"SELECT course_id, object_id, role, added_by_tool FROM " + w.tdb.Table("msteams_memberships") + " ORDER BY course_id, object_id",
		"SELECT proxy_id, COALESCE(object_id,''), source, COALESCE(match_status,'') FROM " + w.tdb.Table("msteams_users") + " ORDER BY proxy_id",
		"SELECT event_id, enabled, state, COALESCE(content_hash,''), COALESCE(joinable_from,0), join_url IS NOT NULL AND join_url <> '' AS has_url, elink_id IS NOT NULL AS has_link FROM " + w.tdb.Table("msteams_events") + " ORDER BY event_id",
		"SELECT l.event_id, l.link <> '' AS has_link, l.link_title, l.release_date, l.release_until, e.entity_type, e.active FROM " + w.tdb.Table("event_links") +
			" l LEFT JOIN " + w.tdb.Table("event_resource_entities") + " e ON e.entity_value = l.elink_id AND e.entity_type = 3 ORDER BY l.event_id, l.elink_id",
	} {
		rows, err := w.tdb.Root.Queryx(q)
		if err != nil {
			w.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals, _ := rows.SliceScan()
			for i, v := range vals {
				if strings.HasSuffix(cols[i], "_at") || cols[i] == "last_synced_at" {
					continue // times differ between runs
				}
				fmt.Fprintf(&b, "%s|", stringify([]any{v}))
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// The real binary, SIGKILLed at random Graph requests of each sync command,
// under directory replication (crashLag): the first run after the kill
// completes the work (exit 0: nothing here refuses a write) and leaves what
// a clean run leaves: the same Teams, groups, members and meetings, no
// duplicate, nothing recorded that did not happen; and the run after that
// writes nothing. Under cron a run that fails first would be an hour with a
// red mail and nothing synced.
func TestCrashSafety(t *testing.T) {
	bin := toolBinary(t)
	points := 3
	if v, err := strconv.Atoi(os.Getenv(crashPointsEnv)); err == nil && v > 0 {
		points = v
	}
	commands := [][]string{{"sync-users"}, {"sync-teams"}, {"sync-members"}, {"sync-events"}, {"sync"}}
	for _, command := range commands {
		t.Run(command[0], func(t *testing.T) {
			// the state a clean run leaves, and how many requests it takes
			clean := newCrashWorld(t)
			prepare(t, clean, bin, command[0])
			if code, _, out := clean.run(bin, 0, command...); code != 0 {
				t.Fatalf("clean run: exit %d\n%s", code, out)
			}
			total := clean.requests()
			want := clean.snapshot()
			if total == 0 {
				t.Fatalf("a clean %s made no Graph request", command[0])
			}
			rng := rand.New(rand.NewSource(int64(len(command[0]))))
			for i := 0; i < points; i++ {
				at := 1 + rng.Intn(total)
				w := newCrashWorld(t)
				prepare(t, w, bin, command[0])
				if _, killed, out := w.run(bin, at, command...); !killed {
					t.Fatalf("kill at %d of %d did not happen\n%s", at, total, out)
				}
				if code, _, out := w.run(bin, 0, command...); code != 0 {
					t.Errorf("killed at request %d of %d: the first run after the kill did not complete the work: exit %d\n%s", at, total, code, out)
					if code, _, out = w.run(bin, 0, command...); code != 0 {
						t.Fatalf("killed at request %d of %d: the second run fails too: exit %d\n%s", at, total, code, out)
					}
				}
				if got := w.snapshot(); got != want {
					t.Errorf("killed at request %d of %d: the state differs from a clean run's:\n%s", at, total, diffLines(want, got))
				}
				before := writes(w.sim.Counters())
				if code, _, out := w.run(bin, 0, command...); code != 0 {
					t.Fatalf("the run after recovery: exit %d\n%s", code, out)
				}
				if n := writes(w.sim.Counters()) - before; n != 0 {
					t.Errorf("killed at request %d: the run after recovery still wrote %d times", at, n)
				}
			}
		})
	}
}

// After a kill right after Microsoft made a group (the answer never
// arrived), the directory may not list the group for a while, though it
// already refuses a second one of its nickname. The first run after the
// kill waits that out and adopts the group: it completes the work (exit
// 0) with no second group, as a clean run leaves it.
func TestCrashRightAfterAGroupIsMade(t *testing.T) {
	bin := toolBinary(t)
	clean := newCrashWorld(t)
	prepare(t, clean, bin, "sync-teams")
	if code, _, out := clean.run(bin, 0, "sync-teams"); code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, out)
	}
	want := clean.snapshot()

	w := newCrashWorld(t)
	prepare(t, w, bin, "sync-teams")
	w.ks.killOn = func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v1.0/groups")
	}
	if _, killed, out := w.run(bin, 0, "sync-teams"); !killed {
		t.Fatalf("no POST /groups to kill at\n%s", out)
	}
	w.ks.killOn = nil
	if code, _, out := w.run(bin, 0, "sync-teams"); code != 0 {
		t.Fatalf("the first run after the kill: exit %d\n%s", code, out)
	}
	if got := w.snapshot(); got != want {
		t.Errorf("the state differs from a clean run's:\n%s", diffLines(want, got))
	}
	before := writes(w.sim.Counters())
	if code, _, out := w.run(bin, 0, "sync-teams"); code != 0 || writes(w.sim.Counters()) != before {
		t.Errorf("the run after: exit %d, %d writes\n%s", code, writes(w.sim.Counters())-before, out)
	}
}

// prepare brings a world to where the command starts from: sync-teams needs
// matched users, sync-members Teams, as in a real schedule.
func prepare(t *testing.T, w *crashWorld, bin, command string) {
	t.Helper()
	var before []string
	switch command {
	case "sync-teams":
		before = []string{"sync-users"}
	case "sync-members", "sync-events":
		before = []string{"sync-users", "sync-teams"}
	}
	for _, c := range before {
		if code, _, out := w.run(bin, 0, c); code != 0 {
			t.Fatalf("%s: exit %d\n%s", c, code, out)
		}
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n  clean:   %s\n  crashed: %s", i+1, x, y))
			if len(out) == 8 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// Nothing secret leaves the tool: a full sync under faults (throttling,
// outages, an access token expiring mid-run so the refresh token rotates),
// at debug level with the JSON report, prints no secret or token and stores
// none in plain text. (No flag takes a secret: pkg/cli tests that, so none
// reaches `ps`.)
func TestNoSecretLeaks(t *testing.T) {
	bin := toolBinary(t)
	w := newCrashWorld(t)
	key, _ := base64.StdEncoding.DecodeString(crashKey)
	sealer, _ := auth.NewSealer(key)
	vault := &auth.Vault{Table: store.New(w.tdb.DB), Sealer: sealer, Name: "delegated"}
	first, err := vault.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.sim.SetFaults(graphsim.Faults{Throttle429Every: 6, RetryAfterSeconds: 0.01, RetryAfterForm: graphsim.RetryAfterFloat, Unavailable503Every: 11})
	w.ks.hook = func(n int) {
		if n == 5 {
			w.sim.ExpireAccessTokens()
		}
	}
	var printed strings.Builder
	for _, args := range [][]string{
		{"--log-level", "debug", "--output", "json", "sync"},
		{"--log-level", "debug", "sync", "--dry-run"},
		{"--log-level", "debug", "--output", "json", "authorize", "--status"},
		{"--log-level", "debug", "--output", "json", "status"},
		{"--log-level", "debug", "--output", "json", "check-config"},
	} {
		_, _, out := w.run(bin, 0, args...)
		printed.WriteString(out)
	}
	last, err := vault.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last.OAuth.RefreshToken == first.OAuth.RefreshToken {
		t.Error("the refresh token did not rotate: the expiry mid-run did not bite")
	}
	var stored strings.Builder
	for _, table := range []string{"msteams_tokens", "msteams_runs", "msteams_courses", "msteams_memberships", "msteams_users", "msteams_events", "event_links"} {
		rows, err := w.tdb.Root.Queryx("SELECT * FROM " + w.tdb.Table(table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, _ := rows.SliceScan()
			stored.WriteString(stringify(vals) + "\n")
		}
		rows.Close()
	}
	secrets := map[string]string{
		"client secret": "fake-secret", "database password": w.tdb.Config.Password, "token key": crashKey,
		"first access token": first.OAuth.AccessToken, "first refresh token": first.OAuth.RefreshToken,
		"last access token": last.OAuth.AccessToken, "last refresh token": last.OAuth.RefreshToken,
	}
	for name, s := range secrets {
		if len(s) < 8 {
			continue
		}
		if strings.Contains(printed.String(), s) {
			t.Errorf("the %s was printed", name)
		}
		if strings.Contains(stored.String(), s) {
			t.Errorf("the %s is stored in plain text", name)
		}
	}
	if !strings.Contains(printed.String(), `"command": "sync"`) {
		t.Errorf("the JSON report is missing from what was scanned:\n%.2000s", printed.String())
	}
}
