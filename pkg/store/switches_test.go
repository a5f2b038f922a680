package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestSwitchOn(t *testing.T) {
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		sw     store.Switch
		policy bool
		want   bool
	}{
		{"no row, no policy", store.Switch{}, false, false},
		{"no row, policy", store.Switch{}, true, true},
		{"switched on", store.Switch{Enabled: true, SwitchedAt: at}, false, true},
		{"on without a switch time (a row written by hand)", store.Switch{Enabled: true}, false, true},
		{"switched off beats the policy", store.Switch{SwitchedAt: at}, true, false},
		{"a sync's row (off, never switched) follows the policy", store.Switch{}, true, true},
	} {
		if got := (store.SyncRules{AllActiveCourses: tc.policy}).CourseOn(tc.sw, true); got != tc.want {
			t.Errorf("%s: CourseOn under all_active_courses %v = %v, want %v", tc.name, tc.policy, got, tc.want)
		}
	}
}

// The precedence, first that decides wins: the tool's switch, Elentra's
// switch, the policy, off; what a sync-events records of Elentra's switch;
// and which switch turned off is an admin's.
func TestSwitchPrecedence(t *testing.T) {
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	on, off := store.Switch{Enabled: true, SwitchedAt: at}, store.Switch{SwitchedAt: at}
	with := func(sw store.Switch, e store.ElentraSwitch, wasOn bool) store.Switch {
		sw.Elentra, sw.ElentraWasOn = e, wasOn
		return sw
	}
	for _, tc := range []struct {
		name        string
		sw          store.Switch
		policy      bool
		want        bool
		by          string
		switchedOff bool
		next        bool // NextElentraWasOn
	}{
		{"tool on beats Elentra off", with(on, store.ElentraOff, false), false, true, store.ByTool, false, false},
		{"tool off beats Elentra on", with(off, store.ElentraOn, true), true, false, "", true, true},
		{"Elentra on", with(store.Switch{}, store.ElentraOn, false), false, true, store.ByElentra, false, true},
		{"Elentra on beats no policy", with(store.Switch{}, store.ElentraOn, true), false, true, store.ByElentra, false, true},
		{"Elentra off beats the policy", with(store.Switch{}, store.ElentraOff, false), true, false, "", false, false},
		{"Elentra turned off: an admin's", with(store.Switch{}, store.ElentraOff, true), true, false, "", true, true},
		{"Elentra without a value: the policy", with(store.Switch{}, store.ElentraUnset, true), true, true, "sync.all", false, false},
		{"Elentra without a value, no policy", with(store.Switch{}, store.ElentraUnset, true), false, false, "", false, false},
		{"nothing at all", store.Switch{}, false, false, "", false, false},
	} {
		r := store.SyncRules{AllActiveCourses: tc.policy, AllCourseEvents: tc.policy}
		if got := r.CourseOn(tc.sw, true); got != tc.want {
			t.Errorf("%s: CourseOn = %v, want %v", tc.name, got, tc.want)
		}
		if got := r.EventOn(tc.sw, true); got != tc.want {
			t.Errorf("%s: EventOn = %v, want %v", tc.name, got, tc.want)
		}
		if got := tc.sw.By(tc.policy, "sync.all"); got != tc.by {
			t.Errorf("%s: By = %q, want %q", tc.name, got, tc.by)
		}
		if got := tc.sw.SwitchedOff(); got != tc.switchedOff {
			t.Errorf("%s: SwitchedOff = %v, want %v", tc.name, got, tc.switchedOff)
		}
		if got := tc.sw.NextElentraWasOn(); got != tc.next {
			t.Errorf("%s: NextElentraWasOn = %v, want %v", tc.name, got, tc.next)
		}
	}
}

// tinySchool loads the ten-course school: course 8 (k=7) is inactive, course
// 10 (k=9) has no current period, course 11 is of organisation 2.
func tinySchool(t *testing.T, k int) (*elentratest.TestDB, *school.School) {
	t.Helper()
	spec := school.Spec{Seed: 1, Courses: 10, Learners: 40, LearnersPerCourse: 10, OwnersPerCourse: 2, EventsPerCourse: 2, TeamsEnabled: true}.Scaled(k)
	s := school.Generate(spec)
	tdb := migrated(t)
	if err := s.Load(context.Background(), tdb.DB); err != nil {
		t.Fatal(err)
	}
	return tdb, s
}

// defaultRules is the configuration's defaults for organisation 1.
func defaultRules() store.SyncRules {
	return store.SyncRules{OrganisationID: 1, AppID: 1, CourseEnd: "keep", ContactTypes: []string{"director", "ccoordinator", "pcoordinator", "faculty", "ta"}, EventsHorizon: 14 * 24 * time.Hour}
}

func TestCourseSwitchChecksEveryIDBeforeWriting(t *testing.T) {
	ctx := context.Background()
	tdb, s := tinySchool(t, 1)
	st := store.New(tdb.DB)
	now := s.Spec.Now

	_, err := st.PlanCourseSwitch(ctx, defaultRules(), []int{3, 99999, s.Edge.OtherOrgCourse}, true, now)
	var unknown *store.UnknownIDsError
	if !errors.As(err, &unknown) {
		t.Fatalf("PlanCourseSwitch with unknown ids: err = %v, want *UnknownIDsError", err)
	}
	msg := err.Error()
	for _, want := range []string{"course 99999 does not exist in Elentra", "course 11 belongs to organisation 2", "nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "course 3 ") {
		t.Errorf("error %q names the good course 3", msg)
	}
	sw, err := st.CourseSwitches(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) != 0 {
		t.Errorf("a refused switch wrote %v", sw)
	}
}

func TestCourseSwitchWritesOnlyWhatChanges(t *testing.T) {
	ctx := context.Background()
	tdb, s := tinySchool(t, 1)
	st := store.New(tdb.DB)
	now := s.Spec.Now
	rules := defaultRules()

	plan, err := st.PlanCourseSwitch(ctx, rules, []int{3, 8, 3}, true, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Items) != 2 || plan.Changes() != 2 {
		t.Fatalf("plan = %+v, want courses 3 and 8 once each, both to change", plan.Items)
	}
	if plan.Items[0].Next != reconcile.SyncCreateTeam || plan.Items[1].Next != reconcile.SyncInactive {
		t.Errorf("next syncs = %q, %q; want %q, %q", plan.Items[0].Next, plan.Items[1].Next, reconcile.SyncCreateTeam, reconcile.SyncInactive)
	}
	if err := st.ApplySwitch(ctx, plan, now); err != nil {
		t.Fatal(err)
	}
	again, err := st.PlanCourseSwitch(ctx, rules, []int{3, 8}, true, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() != 0 {
		t.Errorf("enabling enabled courses plans %d changes", again.Changes())
	}

	// Disabling a course nobody enabled writes nothing, unless
	// sync.all_active_courses would take it in.
	off, err := st.PlanCourseSwitch(ctx, rules, []int{4}, false, now)
	if err != nil {
		t.Fatal(err)
	}
	if off.Changes() != 0 {
		t.Errorf("disabling a course that is off plans a write")
	}
	rules.AllActiveCourses = true
	off, err = st.PlanCourseSwitch(ctx, rules, []int{4}, false, now)
	if err != nil {
		t.Fatal(err)
	}
	if off.Changes() != 1 {
		t.Fatalf("with all_active_courses, disabling course 4 plans %d writes, want 1", off.Changes())
	}
	if err := st.ApplySwitch(ctx, off, now); err != nil {
		t.Fatal(err)
	}
	lines, err := st.ListCourses(ctx, rules, store.CourseListOptions{EnabledOnly: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int]store.CourseLine{}
	for _, l := range lines {
		by[l.ID] = l
	}
	if _, ok := by[4]; ok {
		t.Errorf("course 4, switched off, is enabled under all_active_courses")
	}
	if l := by[5]; l.EnabledBy != "sync.all_active_courses" {
		t.Errorf("course 5 enabled by %q, want sync.all_active_courses", l.EnabledBy)
	}
	if l := by[3]; l.EnabledBy != "switch" {
		t.Errorf("course 3 enabled by %q, want switch", l.EnabledBy)
	}
	if _, ok := by[s.Edge.Inactive]; !ok {
		t.Errorf("inactive course %d, switched on, is missing from the enabled list", s.Edge.Inactive)
	}
	if _, ok := by[s.Edge.OtherOrgCourse]; ok {
		t.Errorf("the other organisation's course is listed")
	}
}

func TestListCoursesSaysWhatTheNextSyncDoes(t *testing.T) {
	ctx := context.Background()
	tdb, s := tinySchool(t, 1)
	st := store.New(tdb.DB)
	now := s.Spec.Now
	noPeriod := s.Edge.NoCurrentPeriod[0]
	// 1: enabled, no Team; 2: enabled, Team; 3: enabled, archived Team;
	// 4: disabled with a Team; 5: disabled without; inactive and no-period
	// courses enabled; 6: enabled, a failed first try left only a group.
	tdb.Exec(t, `INSERT INTO msteams_courses (course_id, enabled, group_id, state, created_at, updated_at) VALUES
		(1, 1, NULL, 'none', NOW(), NOW()),
		(2, 1, 'g2', 'team', NOW(), NOW()),
		(3, 1, 'g3', 'archived', NOW(), NOW()),
		(4, 0, 'g4', 'team', NOW(), NOW()),
		(6, 1, 'g6', 'group', NOW(), NOW()),
		(?, 1, NULL, 'none', NOW(), NOW()),
		(?, 1, 'g10', 'team', NOW(), NOW())`, s.Edge.Inactive, noPeriod)
	want := map[int]string{
		1: reconcile.SyncCreateTeam, 2: reconcile.SyncInSync, 3: reconcile.SyncUnarchive, 4: reconcile.SyncKeepDisabled,
		5: reconcile.SyncNothing, 6: reconcile.SyncCreateTeam, s.Edge.Inactive: reconcile.SyncInactive, noPeriod: reconcile.SyncNoPeriod,
	}
	check := func(rules store.SyncRules, want map[int]string) {
		t.Helper()
		lines, err := st.ListCourses(ctx, rules, store.CourseListOptions{}, now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]string{}
		for _, l := range lines {
			got[l.ID] = l.Sync
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("course_end %s: course %d next sync = %q, want %q", rules.CourseEnd, id, got[id], w)
			}
		}
	}
	rules := defaultRules()
	check(rules, want)

	rules.CourseEnd = "archive"
	want[4] = reconcile.SyncArchive
	want[noPeriod] = reconcile.SyncArchive // enabled, has a Team, no longer current
	check(rules, want)

	// A course deleted in Elentra that still has a Team.
	tdb.Exec(t, "DELETE FROM courses WHERE course_id = 2")
	check(rules, map[int]string{2: reconcile.SyncArchive})
	rules.CourseEnd = "keep"
	check(rules, map[int]string{2: reconcile.SyncKeepNotExists})
}

func TestListQueriesAreConstantInTheSizeOfTheSchool(t *testing.T) {
	counts := func(k int) map[string]int64 {
		ctx := context.Background()
		tdb, s := tinySchool(t, k)
		st := store.New(tdb.DB)
		now := s.Spec.Now
		var ids []int
		for _, c := range s.Courses {
			if c.OrganisationID == 1 {
				ids = append(ids, c.ID)
			}
		}
		plan, err := st.PlanCourseSwitch(ctx, defaultRules(), ids, true, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ApplySwitch(ctx, plan, now); err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		measure := func(name string, f func() (int, error)) {
			before := tdb.DB.QueryCount()
			n, err := f()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n == 0 {
				t.Fatalf("%s listed nothing on a school of %d courses", name, len(ids))
			}
			out[name] = tdb.DB.QueryCount() - before
		}
		measure("ListCourses", func() (int, error) {
			l, err := st.ListCourses(ctx, defaultRules(), store.CourseListOptions{}, now)
			return len(l), err
		})
		measure("ListEvents", func() (int, error) {
			l, err := st.ListEvents(ctx, defaultRules(), store.EventListOptions{}, now)
			return len(l), err
		})
		measure("ListUsers", func() (int, error) {
			l, err := st.ListUsers(ctx, defaultRules(), store.UserListOptions{}, now)
			return len(l), err
		})
		return out
	}
	small, large := counts(1), counts(5)
	for name, n := range small {
		if large[name] != n {
			t.Errorf("%s took %d queries on 10 courses and %d on 50", name, n, large[name])
		}
	}
}

func TestListUsersShowsEachSourceAndStatus(t *testing.T) {
	ctx := context.Background()
	tdb, s := tinySchool(t, 1)
	st := store.New(tdb.DB)
	now := s.Spec.Now
	course := 3
	learners, err := tdb.DB.Learners(ctx, []int{course}, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(learners[course]) < 3 {
		t.Fatalf("course %d has %d learners, want at least 3", course, len(learners[course]))
	}
	manual, matched, unmatched := learners[course][0], learners[course][1], learners[course][2]
	const guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, r := range []store.UserRecord{
		{ProxyID: manual, ObjectID: strings.ToUpper(guid), Source: store.SourceManual},
		{ProxyID: matched, ObjectID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", Source: store.SourceMatched, MatchStatus: reconcile.MatchMatched},
		{ProxyID: unmatched, Source: store.SourceMatched, MatchStatus: reconcile.MatchUnmatched},
	} {
		if err := st.PutUser(ctx, r, now); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := st.ListUsers(ctx, defaultRules(), store.UserListOptions{CourseID: course}, now)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int]store.UserLine{}
	for _, l := range lines {
		by[l.ProxyID] = l
	}
	if l := by[manual]; l.ObjectID != guid || l.Source != store.SourceManual || l.MatchStatus != store.StatusManual {
		t.Errorf("manual link shows as %+v", l)
	}
	if l := by[matched]; l.Source != store.SourceMatched || l.MatchStatus != reconcile.MatchMatched {
		t.Errorf("match shows as %+v", l)
	}
	if l := by[unmatched]; l.ObjectID != "" || l.MatchStatus != reconcile.MatchUnmatched {
		t.Errorf("unmatched user shows as %+v", l)
	}
	if l := by[learners[course][3]]; l.MatchStatus != store.StatusNotChecked {
		t.Errorf("an unchecked user shows as %+v", l)
	}

	only, err := st.ListUsers(ctx, defaultRules(), store.UserListOptions{CourseID: course, Unmatched: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range only {
		if l.ObjectID != "" {
			t.Errorf("--unmatched lists user %d with Object ID %s", l.ProxyID, l.ObjectID)
		}
	}
	if len(only) != len(lines)-2 {
		t.Errorf("--unmatched lists %d of %d users, want all but the two with an Object ID", len(only), len(lines))
	}
}

func TestLinkAndUnlink(t *testing.T) {
	ctx := context.Background()
	tdb, s := tinySchool(t, 1)
	st := store.New(tdb.DB)
	now := s.Spec.Now
	const guid = "0f8fad5b-d9cb-469f-a165-70867728950e"

	res, err := st.PlanLink(ctx, 25, strings.ToUpper(guid), false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Change || res.ObjectID != guid {
		t.Fatalf("PlanLink = %+v, want a change to %s", res, guid)
	}
	if err := st.ApplyLink(ctx, res, now); err != nil {
		t.Fatal(err)
	}
	again, err := st.PlanLink(ctx, 25, guid, false)
	if err != nil || again.Change {
		t.Errorf("linking the same Object ID again: %+v, %v; want no change", again, err)
	}

	_, err = st.PlanLink(ctx, 26, guid, false)
	var taken *store.ObjectIDTakenError
	if !errors.As(err, &taken) || !strings.Contains(err.Error(), "user 25 (") {
		t.Fatalf("linking user 25's Object ID to 26: %v, want an error naming user 25", err)
	}
	forced, err := st.PlanLink(ctx, 26, guid, true)
	if err != nil || len(forced.SharedWith) != 1 || forced.SharedWith[0] != 25 {
		t.Errorf("with force: %+v, %v; want it shared with 25", forced, err)
	}

	var unknown *store.UnknownIDsError
	if _, err := st.PlanLink(ctx, 99999, guid, false); !errors.As(err, &unknown) {
		t.Errorf("linking user 99999: %v, want *UnknownIDsError", err)
	}

	// Unlink removes a manual link only.
	if err := st.PutUser(ctx, store.UserRecord{ProxyID: 27, ObjectID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", Source: store.SourceMatched, MatchStatus: reconcile.MatchMatched}, now); err != nil {
		t.Fatal(err)
	}
	un, err := st.PlanUnlink(ctx, 27)
	if err != nil || un.Change || un.Source != store.SourceMatched {
		t.Errorf("unlink of a matched user: %+v, %v; want no change", un, err)
	}
	un, err = st.PlanUnlink(ctx, 25)
	if err != nil || !un.Change {
		t.Fatalf("unlink of user 25: %+v, %v", un, err)
	}
	if err := st.ApplyUnlink(ctx, un); err != nil {
		t.Fatal(err)
	}
	recs, err := st.UserRecords(ctx, []int{25, 27})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := recs[25]; ok {
		t.Errorf("user 25 still has a record after unlink")
	}
	if recs[27].Source != store.SourceMatched {
		t.Errorf("user 27's match is gone: %+v", recs)
	}
	if _, err := st.PlanUnlink(ctx, 99999); !errors.As(err, &unknown) {
		t.Errorf("unlinking user 99999: %v, want *UnknownIDsError", err)
	}
}
