package engine_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/cli"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const tenant = "11111111-2222-3333-4444-555555555555"

// harness is a synthetic school in a real database and its tenant in the
// Graph simulator, with the tool's engine between them.
type harness struct {
	t      *testing.T
	tdb    *elentratest.TestDB
	school *school.School
	sim    *graphsim.Sim
	srv    *httptest.Server
	cfg    *config.Config
	now    time.Time
	admin  string // the authorizing account's Object ID
	token  string
}

func newHarness(t *testing.T, spec school.Spec, edit func(*config.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	sch := school.Generate(spec)
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		if _, err := store.Migrate(ctx, db); err != nil {
			return err
		}
		return sch.Load(ctx, db)
	}))
	h := &harness{t: t, tdb: tdb, school: sch, now: sch.Spec.Now}
	var users []graphsim.User
	for _, u := range sch.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	for _, u := range sch.Users {
		if u.ID == sch.Edge.Admin {
			h.admin = strings.ToLower(u.DirectoryID)
		}
	}
	if h.admin == "" {
		t.Fatal("the school's administrator has no directory account")
	}
	h.sim = graphsim.New(graphsim.Seed{TenantID: tenant, Users: users, SignedInUser: h.admin,
		Clients: []graphsim.Client{{ClientID: "22222222-3333-4444-5555-666666666666", ClientSecret: "fake-secret", RedirectURIs: []string{"http://localhost:8400/callback"}}}},
		graphsim.Options{Clock: func() time.Time { return h.now }, PageSize: 1000})
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.token, _ = h.sim.IssueToken(h.admin, []string{"User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create", "Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"})

	h.cfg = harnessConfig(tdb, sch, edit)
	_ = ctx
	return h
}

func harnessConfig(tdb *elentratest.TestDB, sch *school.School, edit func(*config.Config)) *config.Config {
	cfg := config.Defaults()
	cfg.Database = tdb.Config
	cfg.Elentra.Timezone = sch.Spec.Timezone
	cfg.Elentra.OrganisationID = sch.Spec.OrganisationID
	cfg.Sync.AllActiveCourses = true
	if tdb.Embedded {
		// The embedded engine's in-memory tables lose concurrent writes
		// from different connections; a real server does not.
		cfg.Sync.Concurrency = 1
	}
	if edit != nil {
		edit(&cfg)
	}
	return &cfg
}

// twin is another installation of the same school, on the second server
// under the same database name, syncing to the same tenant as h (its
// simulator, authorizing account and mailbox): staging beside production.
// load fills its database (the school, a copy of h's, …) after the tool's
// tables are made.
func (h *harness) twin(t *testing.T, edit func(*config.Config), load func(ctx context.Context, db *elentra.DB) error) *harness {
	t.Helper()
	sch := school.Generate(h.school.Spec)
	tdb := elentratest.New(t, elentratest.OnSecondServer(), elentratest.WithName(h.tdb.Name), elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		if _, err := store.Migrate(ctx, db); err != nil {
			return err
		}
		return load(ctx, db)
	}))
	tw := *h
	tw.t, tw.tdb, tw.school = t, tdb, sch
	tw.cfg = harnessConfig(tdb, sch, edit)
	return &tw
}

// env is a fresh engine environment (a new Graph client, so its counters
// are this run's).
func (h *harness) env(edit func(*engine.Env)) *engine.Env {
	g := msgraph.New(msgraph.Options{
		BaseURL:     h.srv.URL,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)}),
		Clock:       func() time.Time { return h.now },
		Sleep:       func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
	env := &engine.Env{DB: h.tdb.DB, Store: store.New(h.tdb.DB), Graph: g, Config: h.cfg, Now: func() time.Time { return h.now },
		AdminObjectID: h.admin, OutlookTimezone: h.cfg.Elentra.Timezone, Mailbox: "me", LockCheckInterval: time.Hour,
		Sleep:    func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		ExitCode: cli.ExitCodeOf}
	if edit != nil {
		edit(env)
	}
	return env
}

func (h *harness) sync(edit func(*engine.Env)) (*engine.Report, error) {
	return engine.Run(context.Background(), h.env(edit), "sync", engine.UsersStep, engine.TeamsStep, engine.MembersStep)
}

// writes counts the Graph requests that change something.
func writes(c graphsim.Counters) int {
	n := 0
	for route, v := range c.ByRoute {
		if !strings.HasPrefix(route, "GET ") && route != "POST /$batch" {
			n += v
		}
	}
	return n
}

// tableDump is every row of the tool's mapping tables, to show a run
// changed none.
func (h *harness) tableDump() string {
	return h.dump(
		"SELECT course_id, enabled, COALESCE(group_id,''), state, COALESCE(display_name,''), COALESCE(description_hash,''), updated_at FROM "+h.tdb.Table("msteams_courses")+" ORDER BY course_id",
		"SELECT course_id, object_id, role, added_by_tool, updated_at FROM "+h.tdb.Table("msteams_memberships")+" ORDER BY course_id, object_id",
		"SELECT proxy_id, COALESCE(object_id,''), source, COALESCE(match_status,''), updated_at FROM "+h.tdb.Table("msteams_users")+" ORDER BY proxy_id",
	)
}

// dump prints every row the queries return, one line each.
func (h *harness) dump(queries ...string) string {
	h.t.Helper()
	var b strings.Builder
	for _, q := range queries {
		rows, err := h.tdb.Root.Queryx(q)
		if err != nil {
			h.t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				h.t.Fatal(err)
			}
			fmt.Fprintln(&b, stringify(vals))
		}
		rows.Close()
	}
	return b.String()
}

func stringify(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if bs, ok := v.([]byte); ok {
			parts[i] = string(bs)
		} else {
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, "|")
}

// expected computes, from the generator's rows alone, the Teams the school
// should have and each Team's members with their roles: the learner rule
// evaluated in Go (school.ExpectedLearners), owners from the owner contact
// types and pcoord_id, users counted only when sync-users can match them
// (an email no other user of the school's courses shares, and a directory
// account), and the authorizing account as owner of every Team.
func (h *harness) expected(enabled func(courseID int) bool) map[string]map[string]string {
	s := h.school
	now := s.Spec.Now.Unix()
	periodOf := map[int]bool{} // curriculum type with a current period
	for _, p := range s.Periods {
		if p.Start <= now && p.Finish >= now {
			periodOf[p.TypeID] = true
		}
	}
	users := map[int]school.User{}
	for _, u := range s.Users {
		users[u.ID] = u
	}
	learners := school.ExpectedLearners(s)
	owner := map[string]bool{}
	for _, t := range h.cfg.Sync.OwnerContactTypes {
		owner[t] = true
	}
	member := map[string]bool{}
	for _, t := range h.cfg.Sync.MemberContactTypes {
		member[t] = true
	}
	teams := map[int]map[int]string{}
	for _, c := range s.Courses {
		if c.OrganisationID != s.Spec.OrganisationID || !c.Active || !periodOf[c.TypeID] || (enabled != nil && !enabled(c.ID)) {
			continue
		}
		roles := map[int]string{}
		for _, l := range learners[c.ID] {
			roles[l] = "member"
		}
		for _, ct := range s.Contacts {
			if ct.CourseID != c.ID {
				continue
			}
			if owner[ct.Type] {
				roles[ct.ProxyID] = "owner"
			} else if member[ct.Type] && roles[ct.ProxyID] != "owner" {
				roles[ct.ProxyID] = "member"
			}
		}
		if _, ok := users[c.PcoordID]; c.PcoordID != 0 && ok {
			roles[c.PcoordID] = "owner"
		}
		teams[c.ID] = roles
	}
	// Addresses shared by two users of the synced courses match nobody.
	byEmail := map[string]int{}
	seen := map[int]bool{}
	for _, roles := range teams {
		for p := range roles {
			if !seen[p] {
				seen[p] = true
				byEmail[strings.ToLower(strings.TrimSpace(users[p].Email))]++
			}
		}
	}
	out := map[string]map[string]string{}
	for cid, roles := range teams {
		c := courseByID(s, cid)
		nick := nickPrefix(c.OrganisationID, c.ID)
		m := map[string]string{h.admin: "owner"}
		for p, role := range roles {
			u := users[p]
			email := strings.ToLower(strings.TrimSpace(u.Email))
			if email == "" || u.DirectoryID == "" || byEmail[email] > 1 {
				continue
			}
			m[strings.ToLower(u.DirectoryID)] = role
		}
		out[nick] = m
	}
	return out
}

func courseByID(s *school.School, id int) school.Course {
	for _, c := range s.Courses {
		if c.ID == id {
			return c
		}
	}
	return school.Course{}
}

// courseKeyRE finds the organisation and course ids in a group nickname,
// whatever the prefix and installation before them and the course code
// after.
var courseKeyRE = regexp.MustCompile(`-(o\d+-c\d+)(-|$)`)

// courseKey is the "o1-c42" of a group nickname ("" when none).
func courseKey(nick string) string {
	if m := courseKeyRE.FindStringSubmatch(nick); m != nil {
		return m[1]
	}
	return ""
}

// nickPrefix is a course's key as courseKey reads it from its nickname.
func nickPrefix(org, course int) string { return fmt.Sprintf("o%d-c%d", org, course) }

// actual reads the simulator's Teams as course key (courseKey) → members.
func (h *harness) actual() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, t := range h.sim.State().Teams {
		nick := courseKey(t.MailNickname)
		if _, dup := out[nick]; dup {
			h.t.Errorf("two Teams for %s", nick)
		}
		m := map[string]string{}
		for _, mem := range t.Members {
			role := "member"
			for _, r := range mem.Roles {
				if r == "owner" {
					role = "owner"
				}
			}
			m[strings.ToLower(mem.UserID)] = role
		}
		out[nick] = m
	}
	return out
}

// compare reports the differences between two Team maps.
func compare(t *testing.T, want, got map[string]map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			t.Errorf("Team %s is missing", k)
			continue
		}
		var missing, extra, role []string
		for u, r := range want[k] {
			if gr, ok := g[u]; !ok {
				missing = append(missing, u)
			} else if gr != r {
				role = append(role, u+" "+gr+"≠"+r)
			}
		}
		for u := range g {
			if _, ok := want[k][u]; !ok {
				extra = append(extra, u)
			}
		}
		if len(missing)+len(extra)+len(role) > 0 {
			t.Errorf("Team %s: %d missing %v, %d extra %v, wrong roles %v", k, len(missing), head(missing), len(extra), head(extra), role)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected Team %s", k)
		}
	}
}

func head(s []string) []string {
	sort.Strings(s)
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
