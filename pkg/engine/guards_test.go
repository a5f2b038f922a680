package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// The configuration's defaults are the figures the planner's tests use.
func TestGuardDefaults(t *testing.T) {
	s := config.Defaults().Sync
	got := [][2]int{{s.RemovalGuardPercent, 30}, {s.CancelGuardPercent, 30}, {s.RunRemovalGuardPercent, 5}, {s.RunRemovalGuardMinimum, 50},
		{s.RunCancelGuardPercent, 10}, {s.RunCancelGuardMinimum, 20}, {s.RunArchiveGuardPercent, 20}, {s.RunArchiveGuardMinimum, 5}}
	for i, g := range got {
		if g[0] != g[1] {
			t.Errorf("guard %d defaults to %d, want %d (docs/configuration.md says so)", i, g[0], g[1])
		}
	}
}

func findingsOf(rep *engine.Report, kind reconcile.FindingKind) []reconcile.Finding {
	var out []reconcile.Finding
	for _, f := range rep.AllFindings() {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// liveMeetings counts the meetings in the organiser's calendar that are
// not cancelled, by course (from the tool's records).
func (h *harness) liveMeetings() (byCourse map[int]int, total int) {
	byCourse = map[int]int{}
	recs := h.eventRecords()
	live := map[string]bool{}
	for _, e := range h.sim.State().Events {
		if !e.IsCancelled {
			live[e.ID] = true
		}
	}
	for _, r := range recs {
		if live[r.GraphEventID] {
			byCourse[r.CourseID]++
			total++
		}
	}
	return byCourse, total
}

// A course whose events read empty (a bad read, a deleted week) keeps its
// meetings: the course guard holds every cancellation and their link
// removals, names the events and how to go ahead; with --force --course
// they are made.
func TestCourseCancelGuard(t *testing.T) {
	h := newEventsHarness(t, nil)
	h.mustSyncEvents(nil)
	before, _ := h.liveMeetings()
	course, most := 0, 0
	for c, n := range before {
		if n > most {
			course, most = c, n
		}
	}
	if most < 2 {
		t.Fatalf("no course with two meetings: %v", before)
	}
	h.exec("DELETE FROM "+h.tdb.Table("events")+" WHERE course_id = ?", course)
	dump := h.eventDump()
	rep := h.mustSyncEvents(nil)
	held := findingsOf(rep, reconcile.GuardCourseCancel)
	if len(held) != 1 || held[0].CourseID != course {
		t.Fatalf("course guard findings %+v", held)
	}
	for _, want := range []string{fmt.Sprintf("%d meetings of the course's %d", most, most), "deleted in Elentra"} {
		if !strings.Contains(held[0].Message, want) {
			t.Errorf("finding %q lacks %q", held[0].Message, want)
		}
	}
	if !strings.Contains(held[0].Fix, fmt.Sprintf("sync-events --force --course %d", course)) {
		t.Errorf("fix %q", held[0].Fix)
	}
	if after, _ := h.liveMeetings(); after[course] != most {
		t.Errorf("%d of %d meetings left", after[course], most)
	}
	if got := h.eventDump(); got != dump {
		t.Error("a held cancellation changed the tool's rows or the event links")
	}

	h.mustSyncEvents(func(e *engine.Env) { e.Force, e.CourseIDs = true, []int{course} })
	if after, _ := h.liveMeetings(); after[course] != 0 {
		t.Errorf("--force --course: %d meetings left", after[course])
	}
}

// A configuration slip (sync.all_course_events turned off) cancels nothing
// of courses with several meetings, and an admin's `courses disable` says
// how many meetings the next sync cancels, which it then does: the switch
// skips the course guard.
func TestCancelGuardsAndSwitches(t *testing.T) {
	h := newEventsHarness(t, nil)
	h.mustSyncEvents(nil)
	before, total := h.liveMeetings()

	h.cfg.Sync.AllCourseEvents = false
	rep := h.mustSyncEvents(nil)
	if after, n := h.liveMeetings(); n != total {
		t.Errorf("sync.all_course_events turned off cancelled %d of %d meetings (%v → %v)", total-n, total, before, after)
	}
	if len(findingsOf(rep, reconcile.GuardCourseCancel)) == 0 {
		t.Errorf("no course guard finding: %+v", rep.AllFindings())
	}
	h.cfg.Sync.AllCourseEvents = true

	course, most := 0, 0
	for c, n := range before {
		if n > most {
			course, most = c, n
		}
	}
	st := store.New(h.tdb.DB)
	plan, err := st.PlanCourseSwitch(context.Background(), store.SyncRulesOf(h.cfg), []int{course}, false, h.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Items[0].CancelMeetings; got != most || !strings.Contains(plan.Items[0].Next, fmt.Sprintf("cancel %d meetings", most)) {
		t.Errorf("courses disable says it cancels %d (%q), want %d", got, plan.Items[0].Next, most)
	}
	if err := st.ApplySwitch(context.Background(), plan, h.now); err != nil {
		t.Fatal(err)
	}
	rep = h.mustSyncEvents(nil)
	if after, _ := h.liveMeetings(); after[course] != 0 {
		t.Errorf("the course switched off keeps %d meetings; findings %+v", after[course], rep.AllFindings())
	}
	if c := rep.Counts[reconcile.KindCancelEvent]; c.Applied != most {
		t.Errorf("cancelled %d, courses disable said %d", c.Applied, most)
	}
}

// Every course's enrolment reads empty: the run guard removes nobody, even
// where each Team's own guard would let the removals through; confirmed at
// a terminal (--force), they are made.
func TestRunRemovalGuard(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) {
		c.Sync.RemovalGuardPercent = 100 // each Team's guard lets everything through
	})
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := h.tdb.Root.Get(&n, "SELECT COUNT(*) FROM "+h.tdb.Table("msteams_memberships")); err != nil {
			t.Fatal(err)
		}
		return n
	}
	members := count()
	h.exec("UPDATE " + h.tdb.Table("course_audience") + " SET audience_active = 0")
	rep, err := engine.Run(context.Background(), h.env(nil), "sync-members", engine.MembersStep)
	if err != nil {
		t.Fatal(err)
	}
	held := findingsOf(rep, reconcile.GuardRunRemoval)
	if len(held) != 1 || !strings.Contains(held[0].Message, "none were removed") {
		t.Fatalf("run guard findings %+v", held)
	}
	if n := count(); n != members || rep.Counts[reconcile.KindRemoveMember].Applied != 0 {
		t.Fatalf("%d of %d memberships left, %d removed", n, members, rep.Counts[reconcile.KindRemoveMember].Applied)
	}

	var asked []string
	rep, err = engine.Run(context.Background(), h.env(func(e *engine.Env) {
		e.Confirm = func(step string, held []reconcile.Held) bool {
			for _, hd := range held {
				asked = append(asked, fmt.Sprintf("%s:%s:%d", step, hd.Finding.Kind, hd.Count()))
			}
			return true
		}
	}), "sync-members", engine.MembersStep)
	if err != nil {
		t.Fatal(err)
	}
	removed := rep.Counts[reconcile.KindRemoveMember].Applied
	if len(asked) != 1 || !strings.HasPrefix(asked[0], "sync-members:run_removal_guard:") || asked[0] != fmt.Sprintf("sync-members:run_removal_guard:%d", removed) {
		t.Errorf("asked %v; removed %d", asked, removed)
	}
	if removed == 0 || count() != members-removed {
		t.Errorf("confirmed: %d removed, %d of %d memberships left", removed, count(), members)
	}
}

// A misread switch archives no school: sync.all_active_courses turned off
// with sync.course_end archive holds every archive.
func TestRunArchiveGuard(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) { c.Sync.CourseEnd = "archive" })
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	h.cfg.Sync.AllActiveCourses = false
	rep, err := engine.Run(context.Background(), h.env(nil), "sync-teams", engine.TeamsStep)
	if err != nil {
		t.Fatal(err)
	}
	if len(findingsOf(rep, reconcile.GuardRunArchive)) != 1 || rep.Counts[reconcile.KindArchiveTeam].Applied != 0 {
		t.Fatalf("archived %d; findings %+v", rep.Counts[reconcile.KindArchiveTeam].Applied, rep.AllFindings())
	}
	for _, tm := range h.sim.State().Teams {
		if tm.Archived {
			t.Errorf("Team %s archived", tm.ID)
		}
	}
}
