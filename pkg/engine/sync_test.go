package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// A full sync of the synthetic school gives exactly the Teams and members
// computed from the generator's rows, and a second run changes nothing.
func TestSyncSchool(t *testing.T) {
	h := newHarness(t, school.Small(), nil)
	rep, err := h.sync(nil)
	if err != nil {
		t.Fatalf("first sync: %v (failures %+v)", err, rep.AllFailures())
	}
	want := h.expected(nil)
	if len(want) < 40 {
		t.Fatalf("the school should give at least 40 Teams, got %d", len(want))
	}
	compare(t, want, h.actual())

	// what a person needs to know is in the report
	kinds := map[string]bool{}
	for _, f := range rep.AllFindings() {
		kinds[string(f.Kind)] = true
	}
	for _, k := range []string{"user_no_email", "user_ambiguous", "user_unmatched", "no_owner", "course_not_current", "no_object_id"} {
		if !kinds[k] {
			t.Errorf("no %s finding in the report", k)
		}
	}

	before := h.tableDump()
	c0 := h.sim.Counters()
	rep2, err := h.sync(nil)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	c1 := h.sim.Counters()
	if n := writes(c1) - writes(c0); n != 0 {
		t.Errorf("the second sync made %d Graph writes", n)
	}
	if after := h.tableDump(); after != before {
		t.Errorf("the second sync changed mapping rows")
	}
	applied, failed := rep2.Totals()
	if applied != 0 || failed != 0 {
		t.Errorf("second sync applied %d, failed %d", applied, failed)
	}
	// a no-change run costs few requests: the member listings, 20 Teams a $batch
	if req := rep2.Graph.Requests; req > len(want)/20+3 {
		t.Errorf("the no-change sync sent %d requests for %d Teams (%v)", req, len(want), rep2.Graph.ByRoute)
		for _, s := range rep2.Steps {
			t.Logf("%s: %+v", s.Command, s.Counts)
		}
	}
}

// --dry-run plans everything and writes nothing, in Graph or the database.
func TestDryRunWritesNothing(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	before := h.tableDump()
	rep, err := h.sync(func(e *engine.Env) {
		e.DryRun = true
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, DryRun: true,
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)})})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := writes(h.sim.Counters()); n != 0 {
		t.Errorf("dry run made %d Graph writes", n)
	}
	if h.tableDump() != before {
		t.Error("dry run changed the tool's tables")
	}
	var runs int
	h.tdb.Root.Get(&runs, "SELECT COUNT(*) FROM "+h.tdb.Table("msteams_runs"))
	if runs != 0 {
		t.Errorf("dry run recorded %d runs", runs)
	}
	creates := 0
	for _, s := range rep.Steps {
		for _, a := range s.Plan {
			if a.Kind == reconcile.KindCreateTeam {
				creates++
			}
		}
	}
	if creates != len(h.expected(nil)) {
		t.Errorf("the plan creates %d Teams, want %d", creates, len(h.expected(nil)))
	}
}

// --course restricts a run to those courses.
func TestCourseFilter(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	want := h.expected(nil)
	var one int
	for _, c := range h.school.Courses {
		if _, ok := want[nickPrefix(c.OrganisationID, c.ID)]; ok {
			one = c.ID
			break
		}
	}
	if _, err := h.sync(func(e *engine.Env) { e.CourseIDs = []int{one} }); err != nil {
		t.Fatal(err)
	}
	got := h.actual()
	if len(got) != 1 {
		t.Fatalf("%d Teams after a one-course run", len(got))
	}
	only := map[string]map[string]string{nickPrefix(1, one): want[nickPrefix(1, one)]}
	compare(t, only, got)
}

// sync.max_actions defers what is over the cap to the next run.
func TestMaxActions(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) { c.Sync.MaxActions = 5 })
	rep, err := engine.Run(context.Background(), h.env(nil), "sync-teams", engine.TeamsStep)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts[reconcile.KindCreateTeam]
	if c.Applied != 5 || c.Deferred != c.Planned-5 || c.Deferred == 0 {
		t.Errorf("counts %+v", c)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.Kind == "max_actions"
	}
	if !found {
		t.Error("no max_actions finding")
	}
	if got := len(h.sim.State().Teams); got != 5 {
		t.Errorf("%d Teams created, want 5", got)
	}
}

// A course an admin switched off stays off under sync.all_active_courses:
// its Team is archived (course_end: archive) and no new Team is made.
func TestDisableHoldsAgainstAllActiveCourses(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) { c.Sync.CourseEnd = "archive" })
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	want := h.expected(nil)
	var off int
	for _, c := range h.school.Courses {
		if _, ok := want[nickPrefix(c.OrganisationID, c.ID)]; ok {
			off = c.ID
			break
		}
	}
	st := store.New(h.tdb.DB)
	plan, err := st.PlanCourseSwitch(context.Background(), store.SyncRulesOf(h.cfg), []int{off}, false, h.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ApplySwitch(context.Background(), plan, h.now); err != nil {
		t.Fatal(err)
	}
	rep, err := h.sync(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Steps[1].Counts[reconcile.KindArchiveTeam]; c.Applied != 1 {
		t.Errorf("archived %d Teams, want the switched-off course's", c.Applied)
	}
	for _, tm := range h.sim.State().Teams {
		if (courseKey(tm.MailNickname) == nickPrefix(1, off)) != tm.Archived {
			t.Errorf("Team %s archived %v", tm.MailNickname, tm.Archived)
		}
	}
}

// The progress a bar shows reaches each step's total.
func TestProgress(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	var mu sync.Mutex
	last := map[string][2]int{}
	_, err := h.sync(func(e *engine.Env) {
		e.Progress = func(step string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if prev := last[step]; done < prev[0] {
				t.Errorf("%s went back from %d to %d", step, prev[0], done)
			}
			last[step] = [2]int{done, total}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"sync-teams", "sync-members"} {
		if p := last[step]; p[1] == 0 || p[0] != p[1] {
			t.Errorf("%s progress ended at %d of %d", step, p[0], p[1])
		}
	}
}

// The run record holds what the run cost, as the printed report does.
func TestRunRecordHoldsTheFigures(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	rep, err := h.sync(nil)
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	if err := h.tdb.Root.Get(&summary, "SELECT summary FROM "+h.tdb.Table("msteams_runs")+" WHERE run_id = ?", rep.RunID); err != nil {
		t.Fatal(err)
	}
	var got struct {
		GraphRequests int `json:"graph_requests"`
	}
	if err := json.Unmarshal([]byte(summary), &got); err != nil {
		t.Fatal(err)
	}
	if got.GraphRequests == 0 || got.GraphRequests != rep.Graph.Requests {
		t.Errorf("the run record says %d Graph requests, the report %d", got.GraphRequests, rep.Graph.Requests)
	}
}

// A tenant naming policy changes the names Graph keeps: the tool records
// what Graph kept, finds its groups again, and never renames on every run.
func TestNamingPolicy(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	h.sim.SetFaults(graphsim.Faults{NicknamePolicy: graphsim.NicknamePolicy{Prefix: "GRP-", Suffix: "-EDU"}})
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	for _, tm := range h.sim.State().Teams {
		if !strings.HasPrefix(tm.DisplayName, "GRP-") {
			t.Fatalf("the policy did not apply: %q", tm.DisplayName)
		}
	}
	c0 := writes(h.sim.Counters())
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	if n := writes(h.sim.Counters()) - c0; n != 0 {
		t.Errorf("the second run wrote %d times under a naming policy", n)
	}
	recs, _ := store.New(h.tdb.DB).TeamRecords(context.Background(), nil)
	for _, r := range recs {
		if r.GroupID != "" && !strings.HasPrefix(r.GraphDisplayName, "GRP-") {
			t.Errorf("course %d records %q, not the name Graph kept", r.CourseID, r.GraphDisplayName)
		}
	}
	// the tool's records lost (a restored backup) and every course code
	// changed since the groups were made: they are found again by the
	// unchanging part of their nickname despite the policy, not duplicated
	groups := len(h.sim.State().Groups)
	h.tdb.Exec(t, "UPDATE "+h.tdb.Table("msteams_courses")+" SET group_id = NULL, state = 'group_intent'")
	h.tdb.Exec(t, "UPDATE "+h.tdb.Table("courses")+" SET course_code = CONCAT('NEW-', course_code)")
	if rep, err := h.sync(nil); err != nil {
		t.Fatalf("%v %+v", err, rep.AllFailures())
	}
	if n := len(h.sim.State().Groups); n != groups {
		t.Errorf("%d groups after the records were lost, want the %d there were", n, groups)
	}
	noDuplicates(t, h)
}

func TestContainsNickname(t *testing.T) {
	for _, c := range []struct {
		kept, key string
		want      bool
	}{
		{"elentra-o1-c1-med-100", "elentra-o1-c1", true},
		{"GRP-elentra-o1-c1-med-100-EDU", "elentra-o1-c1", true},
		{"elentra-o1-c1", "elentra-o1-c1", true},
		{"elentra-o1-c12-med-100", "elentra-o1-c1", false},
		{"xelentra-o1-c1-med", "elentra-o1-c1", false},
		{"elentra-o1-c12-elentra-o1-c1", "elentra-o1-c1", true},
	} {
		if got := engine.ContainsNickname(c.kept, c.key); got != c.want {
			t.Errorf("ContainsNickname(%q, %q) = %v", c.kept, c.key, got)
		}
	}
}

// The run record's exit code is what the command layer's map (Env.ExitCode)
// makes of the run's error: the engine keeps no map of its own.
func TestRunRecordsTheCommandLayersExitCode(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	var given []error
	rep, err := h.sync(func(e *engine.Env) {
		e.ExitCode = func(err error) int {
			given = append(given, err)
			return 42
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(given) != 1 || given[0] != nil {
		t.Errorf("ExitCode was given %v, want the run's error (nil) once", given)
	}
	if code := h.runExitCode(t, rep.RunID); !code.Valid || code.Int64 != 42 {
		t.Errorf("the run record says exit %v, want ExitCode's 42", code)
	}
}

// Without the command layer's map a run does nothing: it could not be
// recorded.
func TestRunNeedsExitCode(t *testing.T) {
	_, err := engine.Run(context.Background(), &engine.Env{Now: time.Now}, "sync", engine.UsersStep)
	if err == nil || !strings.Contains(err.Error(), "Env.ExitCode") {
		t.Errorf("Run without ExitCode: %v", err)
	}
}
