package engine_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// addElentraSwitches gives the school Elentra's own Teams switches, as
// Elentra 1.22 might keep them: a column on courses and one on events,
// NULL everywhere.
func (h *harness) addElentraSwitches() {
	h.t.Helper()
	h.exec("ALTER TABLE " + h.tdb.Table("courses") + " ADD COLUMN ms_teams_enabled tinyint(1) NULL")
	h.exec("ALTER TABLE " + h.tdb.Table("events") + " ADD COLUMN ms_teams_meeting tinyint(1) NULL")
}

// elentraSwitchKeys sets (or, false, unsets) elentra.course_switch_column
// and elentra.event_switch_column to the columns addElentraSwitches made,
// and has the database read them as the command layer does.
func (h *harness) elentraSwitchKeys(course, event bool) {
	h.t.Helper()
	h.cfg.Elentra.CourseSwitchColumn, h.cfg.Elentra.EventSwitchColumn = "", ""
	if course {
		h.cfg.Elentra.CourseSwitchColumn = h.tdb.Name + ".courses.course_id.ms_teams_enabled"
	}
	if event {
		h.cfg.Elentra.EventSwitchColumn = h.tdb.Name + ".events.event_id.ms_teams_meeting"
	}
	if err := h.tdb.DB.SetCourseSwitch(h.cfg.Elentra.CourseSwitchColumn, h.cfg.Elentra.CourseSwitchOn); err != nil {
		h.t.Fatal(err)
	}
	if err := h.tdb.DB.SetEventSwitch(h.cfg.Elentra.EventSwitchColumn, h.cfg.Elentra.EventSwitchOn); err != nil {
		h.t.Fatal(err)
	}
}

// toolSwitch writes the tool's own switch, as courses (events) enable or
// disable do.
func (h *harness) toolSwitch(kind string, id int, on bool) {
	h.t.Helper()
	st := store.New(h.tdb.DB)
	ctx := context.Background()
	var plan *store.SwitchPlan
	var err error
	if kind == "course" {
		plan, err = st.PlanCourseSwitch(ctx, store.SyncRulesOf(h.cfg), []int{id}, on, h.now)
	} else {
		plan, err = st.PlanEventSwitch(ctx, store.SyncRulesOf(h.cfg), []int{id}, on, h.now)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if err := st.ApplySwitch(ctx, plan, h.now); err != nil {
		h.t.Fatal(err)
	}
}

// elentraOn reads msteams_*.elentra_on of a course or event.
func (h *harness) elentraOn(kind string, id int) bool {
	h.t.Helper()
	var on []bool
	if err := h.tdb.Root.Select(&on, "SELECT elentra_on FROM "+h.tdb.Table("msteams_"+kind+"s")+" WHERE "+kind+"_id = ?", id); err != nil {
		h.t.Fatal(err)
	}
	return len(on) == 1 && on[0]
}

// The precedence, in every place that decides which courses are synced: a
// switch made with the tool, then Elentra's course switch, then
// sync.all_active_courses, then off. The sync's scope (and check-config's,
// which reads it), courses list and users list agree.
func TestElentraCourseSwitchPrecedence(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	h.addElentraSwitches()
	var active []int
	inactive := 0
	for _, c := range h.school.Courses {
		switch {
		case c.OrganisationID != h.school.Spec.OrganisationID:
		case c.Active:
			active = append(active, c.ID)
		default:
			inactive = c.ID
		}
	}
	if len(active) < 6 || inactive == 0 {
		t.Fatalf("the school has %d active courses and inactive course %d", len(active), inactive)
	}
	toolOnElentraOff, toolOffElentraOn, elentraOn, elentraOff, elentraOther, unset := active[0], active[1], active[2], active[3], active[4], active[5]
	courses := h.tdb.Table("courses")
	h.exec("UPDATE "+courses+" SET ms_teams_enabled = 0 WHERE course_id IN (?, ?)", toolOnElentraOff, elentraOff)
	h.exec("UPDATE "+courses+" SET ms_teams_enabled = 1 WHERE course_id IN (?, ?, ?)", toolOffElentraOn, elentraOn, inactive)
	h.exec("UPDATE "+courses+" SET ms_teams_enabled = 7 WHERE course_id = ?", elentraOther)
	h.toolSwitch("course", toolOnElentraOff, true)
	h.toolSwitch("course", toolOffElentraOn, false)

	ctx := context.Background()
	st := store.New(h.tdb.DB)
	check := func(label string, want map[int]string) {
		t.Helper()
		a, err := engine.ReadAudience(ctx, h.env(nil))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := st.ListCourses(ctx, store.SyncRulesOf(h.cfg), store.CourseListOptions{}, h.now)
		if err != nil {
			t.Fatal(err)
		}
		by := map[int]string{}
		for _, l := range lines {
			if l.Enabled != (l.EnabledBy != "") {
				t.Errorf("%s: course %d enabled %v by %q", label, l.ID, l.Enabled, l.EnabledBy)
			}
			by[l.ID] = l.EnabledBy
			if l.Enabled != a.Enabled[l.ID] {
				t.Errorf("%s: course %d is enabled %v in courses list, %v in the sync's scope", label, l.ID, l.Enabled, a.Enabled[l.ID])
			}
		}
		for id, w := range want {
			if by[id] != w {
				t.Errorf("%s: course %d enabled by %q, want %q", label, id, by[id], w)
			}
		}
		// users list covers the learners and contacts of exactly the
		// enabled courses.
		all, err := st.ListUsers(ctx, store.SyncRulesOf(h.cfg), store.UserListOptions{}, h.now)
		if err != nil {
			t.Fatal(err)
		}
		wantUsers := map[int]bool{}
		for id, on := range a.Enabled {
			if !on {
				continue
			}
			of, err := st.ListUsers(ctx, store.SyncRulesOf(h.cfg), store.UserListOptions{CourseID: id}, h.now)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range of {
				wantUsers[u.ProxyID] = true
			}
		}
		gotUsers := map[int]bool{}
		for _, u := range all {
			gotUsers[u.ProxyID] = true
		}
		if !maps.Equal(gotUsers, wantUsers) {
			t.Errorf("%s: users list has %d users, the enabled courses %d", label, len(gotUsers), len(wantUsers))
		}
	}

	h.cfg.Sync.AllActiveCourses = true
	h.elentraSwitchKeys(false, false)
	check("key unset, all_active_courses", map[int]string{toolOnElentraOff: store.ByTool, toolOffElentraOn: "", elentraOn: "sync.all_active_courses",
		elentraOff: "sync.all_active_courses", elentraOther: "sync.all_active_courses", unset: "sync.all_active_courses", inactive: ""})

	h.elentraSwitchKeys(true, false)
	check("key set, all_active_courses", map[int]string{toolOnElentraOff: store.ByTool, toolOffElentraOn: "", elentraOn: store.ByElentra,
		elentraOff: "", elentraOther: "", unset: "sync.all_active_courses", inactive: store.ByElentra})

	h.cfg.Sync.AllActiveCourses = false
	check("key set", map[int]string{toolOnElentraOff: store.ByTool, toolOffElentraOn: "", elentraOn: store.ByElentra,
		elentraOff: "", elentraOther: "", unset: "", inactive: store.ByElentra})

	// The on value is configurable: 7 means on now, 1 does not.
	h.cfg.Elentra.CourseSwitchOn = "7"
	h.elentraSwitchKeys(true, false)
	check("on is 7", map[int]string{elentraOn: "", elentraOther: store.ByElentra, inactive: ""})
}

// Events: the tool's switch, then Elentra's event switch, then
// sync.all_course_events for the events of synced courses, then the parent
// event's switches; sync-events and events list agree.
func TestElentraEventSwitchPrecedence(t *testing.T) {
	h := newEventsHarness(t, nil)
	h.addElentraSwitches()
	h.elentraSwitchKeys(true, true)
	all := h.expectedMeetings()
	var child, parent int
	for _, id := range h.school.Edge.Children {
		if _, ok := all[id]; ok {
			if _, ok := all[h.schoolEvent(id).ParentID]; ok {
				child, parent = id, h.schoolEvent(id).ParentID
				break
			}
		}
	}
	if child == 0 {
		t.Fatal("no child event with its parent in the horizon")
	}
	var singles []int
	hasChildren := map[int]bool{}
	for _, e := range all {
		hasChildren[e.ParentID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(all)) {
		if e := all[id]; e.ParentID == 0 && !hasChildren[id] && id != parent && id != h.school.Edge.AcrossDST && e.CourseID != all[parent].CourseID {
			singles = append(singles, id)
		}
	}
	if len(singles) < 4 {
		t.Fatalf("%d childless events", len(singles))
	}
	toolOffElentraOn, toolOnElentraOff, elentraOff, elentraNull := singles[0], singles[1], singles[2], singles[3]
	events := h.tdb.Table("events")
	h.exec("UPDATE "+events+" SET ms_teams_meeting = 1 WHERE event_id IN (?, ?)", toolOffElentraOn, parent)
	h.exec("UPDATE "+events+" SET ms_teams_meeting = 0 WHERE event_id IN (?, ?)", toolOnElentraOff, elentraOff)
	h.toolSwitch("event", toolOffElentraOn, false)
	h.toolSwitch("event", toolOnElentraOff, true)

	// No course synced (all_course_events covers nothing): the tool's
	// switch and Elentra's decide, and the child follows its parent.
	h.exec("UPDATE " + h.tdb.Table("courses") + " SET ms_teams_enabled = 0")
	h.mustSyncEvents(nil)
	has := func(label string, want map[int]bool) {
		t.Helper()
		recs := h.eventRecords()
		lines, err := store.New(h.tdb.DB).ListEvents(context.Background(), store.SyncRulesOf(h.cfg), store.EventListOptions{Upcoming: true}, h.now)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[int]store.EventLine{}
		for _, l := range lines {
			listed[l.ID] = l
		}
		for id, w := range want {
			if got := reconcile.LiveEventState(recs[id].State); got != w {
				t.Errorf("%s: event %d has a meeting %v, want %v", label, id, got, w)
			}
			// (events list does not show a child following its parent.)
			if l := listed[id]; id != child && l.Enabled != w {
				t.Errorf("%s: events list says event %d enabled %v (by %q), want %v", label, id, l.Enabled, l.EnabledBy, w)
			}
		}
	}
	has("no course synced", map[int]bool{parent: true, child: true, toolOnElentraOff: true, toolOffElentraOn: false, elentraOff: false, elentraNull: false})
	lines, err := store.New(h.tdb.DB).ListEvents(context.Background(), store.SyncRulesOf(h.cfg), store.EventListOptions{Upcoming: true}, h.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if want := map[int]string{parent: store.ByElentra, toolOnElentraOff: store.ByTool}[l.ID]; want != "" && l.EnabledBy != want {
			t.Errorf("events list: event %d enabled by %q, want %q", l.ID, l.EnabledBy, want)
		}
	}

	// Every course synced in Elentra: sync.all_course_events covers the
	// events no switch decides; Elentra's 0 keeps one out.
	h.exec("UPDATE " + h.tdb.Table("courses") + " SET ms_teams_enabled = 1")
	h.mustSyncEvents(nil)
	has("every course synced", map[int]bool{parent: true, child: true, toolOnElentraOff: true, toolOffElentraOn: false, elentraOff: false, elentraNull: true})
}

// Elentra's switch turned off is an admin's switch: the cancellations it
// causes skip the per-course guard (as courses disable's do) and count
// toward the run guard. The same column holding "off" where the tool never
// read "on" (the key newly set) is a configuration change: the course guard
// holds its cancellations.
func TestElentraSwitchTurnedOffPassesTheGuards(t *testing.T) {
	mostMeetings := func(h *harness) (course, most int) {
		byCourse, _ := h.liveMeetings()
		for _, c := range slices.Sorted(maps.Keys(byCourse)) {
			if n := byCourse[c]; n > most {
				course, most = c, n
			}
		}
		if most < 2 {
			t.Fatalf("no course with two meetings: %v", byCourse)
		}
		return course, most
	}
	courses := func(h *harness) string { return h.tdb.Table("courses") }

	t.Run("course switched off in Elentra", func(t *testing.T) {
		h := newEventsHarness(t, func(c *config.Config) { c.Sync.AllActiveCourses = false })
		h.addElentraSwitches()
		h.exec("UPDATE " + courses(h) + " SET ms_teams_enabled = 1")
		h.elentraSwitchKeys(true, false)
		// A dry run records nothing.
		h.mustSyncEvents(func(e *engine.Env) { e.DryRun, e.Graph = true, h.dryGraph() })
		first := slices.Min(slices.Collect(maps.Keys(h.expectedMeetings())))
		if h.elentraOn("course", h.schoolEvent(first).CourseID) {
			t.Error("a dry run recorded Elentra's switch")
		}
		h.mustSyncEvents(nil)
		course, most := mostMeetings(h)
		if !h.elentraOn("course", course) {
			t.Fatalf("course %d: Elentra's switch read on is not recorded", course)
		}
		h.exec("UPDATE "+courses(h)+" SET ms_teams_enabled = 0 WHERE course_id = ?", course)
		rep := h.mustSyncEvents(nil)
		if held := findingsOf(rep, reconcile.GuardCourseCancel); len(held) > 0 {
			t.Errorf("the course guard held an admin's switch: %+v", held)
		}
		if after, _ := h.liveMeetings(); after[course] != 0 || rep.Counts[reconcile.KindCancelEvent].Applied != most {
			t.Errorf("course %d switched off in Elentra keeps %d of %d meetings (%d cancelled)", course, after[course], most, rep.Counts[reconcile.KindCancelEvent].Applied)
		}
		if !h.elentraOn("course", course) {
			t.Error("the switch turned off forgot it was on")
		}
		// The column losing its value clears the record; so does the key unset.
		h.exec("UPDATE "+courses(h)+" SET ms_teams_enabled = NULL WHERE course_id = ?", course)
		h.mustSyncEvents(nil)
		if h.elentraOn("course", course) {
			t.Error("a switch without a value is still recorded on")
		}
		other := h.school.Courses[0].ID
		if other == course {
			other = h.school.Courses[1].ID
		}
		h.elentraSwitchKeys(false, false)
		h.mustSyncEvents(nil)
		if h.elentraOn("course", other) {
			t.Error("the key unset left Elentra's switch recorded")
		}
	})

	t.Run("key newly set on a column that says off", func(t *testing.T) {
		h := newEventsHarness(t, nil) // every active course, every event
		h.addElentraSwitches()
		h.mustSyncEvents(nil)
		course, most := mostMeetings(h)
		h.exec("UPDATE "+courses(h)+" SET ms_teams_enabled = 0 WHERE course_id = ?", course)
		h.elentraSwitchKeys(true, false)
		rep := h.mustSyncEvents(nil)
		held := findingsOf(rep, reconcile.GuardCourseCancel)
		if len(held) != 1 || held[0].CourseID != course || !strings.Contains(held[0].Message, "switched off in Elentra (elentra.course_switch_column)") {
			t.Fatalf("course guard findings %+v", held)
		}
		if after, _ := h.liveMeetings(); after[course] != most {
			t.Errorf("a configuration change cancelled %d of %d meetings", most-after[course], most)
		}
	})

	t.Run("events switched off in Elentra", func(t *testing.T) {
		h := newEventsHarness(t, func(c *config.Config) { c.Sync.AllCourseEvents = false })
		h.addElentraSwitches()
		h.exec("UPDATE " + h.tdb.Table("events") + " SET ms_teams_meeting = 1")
		h.elentraSwitchKeys(false, true)
		h.mustSyncEvents(nil)
		course, most := mostMeetings(h)
		for id, rec := range h.eventRecords() {
			if reconcile.LiveEventState(rec.State) && !rec.ElentraWasOn {
				t.Errorf("event %d: its meeting was made for Elentra's switch, which is not recorded", id)
			}
		}
		h.exec("UPDATE "+h.tdb.Table("events")+" SET ms_teams_meeting = 0 WHERE course_id = ?", course)
		rep := h.mustSyncEvents(nil)
		if held := findingsOf(rep, reconcile.GuardCourseCancel); len(held) > 0 {
			t.Errorf("the course guard held an admin's switch: %+v", held)
		}
		if after, _ := h.liveMeetings(); after[course] != 0 {
			t.Errorf("course %d keeps %d of %d meetings switched off in Elentra", course, after[course], most)
		}
	})

	t.Run("switched off in Elentra counts toward the run guard", func(t *testing.T) {
		h := newEventsHarness(t, func(c *config.Config) { c.Sync.AllActiveCourses = false })
		h.addElentraSwitches()
		h.exec("UPDATE " + courses(h) + " SET ms_teams_enabled = 1")
		h.elentraSwitchKeys(true, false)
		h.mustSyncEvents(nil)
		_, total := h.liveMeetings()
		h.exec("UPDATE " + courses(h) + " SET ms_teams_enabled = 0")
		h.cfg.Sync.RunCancelGuardMinimum = 0
		rep := h.mustSyncEvents(nil)
		held := findingsOf(rep, reconcile.GuardRunCancel)
		if len(held) != 1 || !strings.Contains(held[0].Message, fmt.Sprintf("cancel %d meetings", total)) || len(findingsOf(rep, reconcile.GuardCourseCancel)) > 0 {
			t.Fatalf("run guard findings %+v; all %+v", held, rep.AllFindings())
		}
		if _, n := h.liveMeetings(); n != total {
			t.Errorf("the run guard let %d of %d cancellations through", total-n, total)
		}
		// Still an admin's switch at the next run: with the run guard out
		// of the way, no course guard holds them.
		h.cfg.Sync.RunCancelGuardPercent = 100
		rep = h.mustSyncEvents(nil)
		if _, n := h.liveMeetings(); n != 0 || len(findingsOf(rep, reconcile.GuardCourseCancel)) > 0 {
			t.Errorf("%d meetings left once the run guard lets them through; findings %+v", n, rep.AllFindings())
		}
	})
}

// courses disable, on a course Elentra's switch turns on, writes the
// tool's off and counts the meetings the next sync cancels; events of
// that course that Elentra's event switch turns on stay.
func TestCoursesDisableAgainstElentrasSwitch(t *testing.T) {
	h := newEventsHarness(t, func(c *config.Config) { c.Sync.AllActiveCourses = false })
	h.addElentraSwitches()
	h.exec("UPDATE " + h.tdb.Table("courses") + " SET ms_teams_enabled = 1")
	h.elentraSwitchKeys(true, true)
	h.mustSyncEvents(nil)
	byCourse, _ := h.liveMeetings()
	var course int
	for _, c := range slices.Sorted(maps.Keys(byCourse)) {
		if byCourse[c] >= 2 {
			course = c
			break
		}
	}
	if course == 0 {
		t.Fatalf("no course with two meetings: %v", byCourse)
	}
	// kept: a meeting of the course whose event neither has nor follows a
	// parent, so that its switch keeps it alone.
	hasChildren := map[int]bool{}
	for _, e := range h.school.Events {
		hasChildren[e.ParentID] = true
	}
	var kept int
	recs := h.eventRecords()
	for _, id := range slices.Sorted(maps.Keys(recs)) {
		if rec := recs[id]; rec.CourseID == course && reconcile.LiveEventState(rec.State) && !hasChildren[id] && h.schoolEvent(id).ParentID == 0 {
			kept = id
			break
		}
	}
	if kept == 0 {
		t.Fatalf("course %d has no meeting of a childless top-level event", course)
	}
	h.exec("UPDATE "+h.tdb.Table("events")+" SET ms_teams_meeting = 1 WHERE event_id = ?", kept)
	plan, err := store.New(h.tdb.DB).PlanCourseSwitch(context.Background(), store.SyncRulesOf(h.cfg), []int{course}, false, h.now)
	if err != nil {
		t.Fatal(err)
	}
	if it := plan.Items[0]; !it.Change || it.CancelMeetings != byCourse[course]-1 {
		t.Fatalf("courses disable %d: change %v, cancels %d, want true and %d", course, it.Change, it.CancelMeetings, byCourse[course]-1)
	}
	if err := store.New(h.tdb.DB).ApplySwitch(context.Background(), plan, h.now); err != nil {
		t.Fatal(err)
	}
	rep := h.mustSyncEvents(nil)
	if after, _ := h.liveMeetings(); after[course] != 1 || rep.Counts[reconcile.KindCancelEvent].Applied != byCourse[course]-1 {
		t.Errorf("course %d disabled: %d meetings left (want the one Elentra's event switch keeps), %d cancelled", course, after[course], rep.Counts[reconcile.KindCancelEvent].Applied)
	}
}

// What Elentra's switches cost: once a run has recorded them, a run that
// changes nothing sends one more query per switch column than without the
// keys, and writes nothing; without the keys, not one more.
func TestElentraSwitchReadsCost(t *testing.T) {
	steady := func(h *harness) int64 {
		t.Helper()
		h.mustSyncEvents(nil)
		h.mustSyncEvents(nil)
		rows := func() string {
			return h.eventDump() + h.tableDump() + h.dump("SELECT course_id, elentra_on, updated_at FROM "+h.tdb.Table("msteams_courses")+" ORDER BY course_id")
		}
		dump := rows()
		before := h.tdb.DB.QueryCount() // the dumps' reads are not counted
		rep := h.mustSyncEvents(nil)
		q := h.tdb.DB.QueryCount() - before
		if len(rep.Counts) != 0 || rows() != dump {
			t.Errorf("a run that changes nothing changed something: %+v", rep.Counts)
		}
		return q
	}
	without := newEventsHarness(t, nil)
	without.addElentraSwitches()
	q0 := steady(without)

	with := eventsHarness(t, nil)
	with.addElentraSwitches()
	// Elentra's switch turns on exactly the courses the policy covers.
	for _, c := range with.school.Courses {
		if c.Active && c.OrganisationID == with.school.Spec.OrganisationID {
			with.exec("UPDATE "+with.tdb.Table("courses")+" SET ms_teams_enabled = 1 WHERE course_id = ?", c.ID)
		}
	}
	with.elentraSwitchKeys(true, true)
	q2 := steady(with)
	if q2 != q0+2 {
		t.Errorf("a run that changes nothing sends %d queries with both switch columns set, %d without: want 2 more", q2, q0)
	}
}
