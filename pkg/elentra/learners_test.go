package elentra_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

var now = time.Date(2026, 10, 14, 15, 30, 0, 0, time.UTC)

const appID = 1

// audienceCase is one learner's path into one course; the zero changes give a
// learner who is in. Each case of the table changes one thing.
type audienceCase struct {
	name string
	// group: through a group_id audience row, else a proxy_id row.
	group bool

	audienceInactive bool
	pastPeriod       bool
	enrollStart      int64
	enrollFinish     int64

	groupInactive bool
	groupStart    any // nil = NULL
	groupExpire   any
	memberActive  int // 0 means the default 1
	memberStart   int64
	memberFinish  int64

	noAccess      bool
	accessGroup   string // "" = student
	accountActive string // "" = true
	accessStarts  int64
	accessExpires int64
	accessOrg     int // 0 = the course's organisation (1)
	accessApp     int // 0 = appID

	want bool
}

func TestLearnersRuleExcludesEachClauseAlone(t *testing.T) {
	day := int64(24 * 3600)
	n := now.Unix()
	cases := []audienceCase{
		{name: "proxy row, everything open", want: true},
		{name: "group row, everything open", group: true, want: true},
		{name: "group row, dates cover now", group: true, groupStart: n - day, groupExpire: n + day, memberStart: n - day, memberFinish: n + day, enrollStart: n - day, enrollFinish: n + day, accessStarts: n - day, accessExpires: n + day, want: true},
		{name: "group with start and expiry 0 is open", group: true, groupStart: 0, groupExpire: 0, want: true},
		{name: "enrolment finishing exactly now still covers now", enrollFinish: n, want: true},
		{name: "access starting exactly now", accessStarts: n, want: true},

		{name: "audience inactive", audienceInactive: true},
		{name: "audience inactive (group row)", group: true, audienceInactive: true},
		{name: "period not current", pastPeriod: true},
		{name: "period not current (group row)", group: true, pastPeriod: true},
		{name: "enrol start in future", enrollStart: n + day},
		{name: "enrol finish past", enrollFinish: n - day},
		{name: "enrol finish past (group row)", group: true, enrollFinish: n - day},
		{name: "group inactive", group: true, groupInactive: true},
		{name: "group expired", group: true, groupExpire: n - day},
		{name: "group not started", group: true, groupStart: n + day},
		{name: "member inactive", group: true, memberActive: -1},
		{name: "member ended", group: true, memberFinish: n - day},
		{name: "member not started", group: true, memberStart: n + day},
		{name: "no student access", accessGroup: "faculty"},
		{name: "no access row at all", noAccess: true},
		{name: "access expired", accessExpires: n - day},
		{name: "access expiring exactly now", accessExpires: n},
		{name: "access not started", accessStarts: n + day},
		{name: "account inactive", accountActive: "false"},
		{name: "account inactive (group row)", group: true, accountActive: "false"},
		{name: "access in another org", accessOrg: 2},
		{name: "other app id", accessApp: 2},
	}

	tdb := elentratest.New(t)
	tdb.Exec(t, "INSERT INTO curriculum_periods (cperiod_id, curriculum_type_id, curriculum_period_title, start_date, finish_date, active) VALUES (10, 1, 'Current', ?, ?, 1), (11, 1, 'Past', ?, ?, 1)",
		n-100*day, n+100*day, n-300*day, n-200*day)
	var courseIDs []int
	for i, c := range cases {
		course, user, group := 100+i, 1000+i, 500+i
		courseIDs = append(courseIDs, course)
		tdb.Exec(t, "INSERT INTO courses (course_id, organisation_id, curriculum_type_id, course_name, course_code, course_active) VALUES (?, 1, 1, ?, ?, 1)",
			course, c.name, fmt.Sprintf("C%d", i))
		tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+" (id, username, firstname, lastname, email, organisation_id) VALUES (?, ?, 'Test', 'Learner', ?, 1)",
			user, fmt.Sprintf("u%d", user), fmt.Sprintf("u%d@example.edu", user))
		if !c.noAccess {
			org, app, grp, active := 1, appID, "student", "true"
			if c.accessOrg != 0 {
				org = c.accessOrg
			}
			if c.accessApp != 0 {
				app = c.accessApp
			}
			if c.accessGroup != "" {
				grp = c.accessGroup
			}
			if c.accountActive != "" {
				active = c.accountActive
			}
			tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_access")+" (user_id, app_id, organisation_id, account_active, access_starts, access_expires, `role`, `group`) VALUES (?, ?, ?, ?, ?, ?, '2030', ?)",
				user, app, org, active, c.accessStarts, c.accessExpires, grp)
		}
		period, audActive := 10, 1
		if c.pastPeriod {
			period = 11
		}
		if c.audienceInactive {
			audActive = 0
		}
		audType, audValue := "proxy_id", user
		if c.group {
			audType, audValue = "group_id", group
			groupActive := 1
			if c.groupInactive {
				groupActive = 0
			}
			tdb.Exec(t, "INSERT INTO `groups` (group_id, group_name, group_type, start_date, expire_date, group_active) VALUES (?, ?, 'cohort', ?, ?, ?)",
				group, "Class of "+c.name, c.groupStart, c.groupExpire, groupActive)
			memberActive := 1
			if c.memberActive == -1 {
				memberActive = 0
			}
			tdb.Exec(t, "INSERT INTO group_members (group_id, proxy_id, start_date, finish_date, member_active) VALUES (?, ?, ?, ?, ?)",
				group, user, c.memberStart, c.memberFinish, memberActive)
		}
		tdb.Exec(t, "INSERT INTO course_audience (course_id, audience_type, audience_value, cperiod_id, enroll_start, enroll_finish, audience_active) VALUES (?, ?, ?, ?, ?, ?, ?)",
			course, audType, audValue, period, c.enrollStart, c.enrollFinish, audActive)
	}

	got, err := tdb.DB.Learners(context.Background(), courseIDs, appID, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		course, user := 100+i, 1000+i
		in := slices.Contains(got[course], user)
		if in != c.want {
			t.Errorf("%s: learner in course = %v, want %v (course has %v)", c.name, in, c.want, got[course])
		}
		if len(got[course]) > 1 {
			t.Errorf("%s: course has learners %v, want at most the one user", c.name, got[course])
		}
	}
}

func TestLearnersUnionOfProxyAndGroupRowsWithoutDuplicates(t *testing.T) {
	tdb := elentratest.New(t)
	n := now.Unix()
	tdb.Exec(t, "INSERT INTO curriculum_periods (cperiod_id, curriculum_type_id, start_date, finish_date) VALUES (10, 1, ?, ?)", n-1000, n+1000)
	tdb.Exec(t, "INSERT INTO courses (course_id, organisation_id, curriculum_type_id, course_name, course_code) VALUES (1, 1, 1, 'Anatomy', 'ANAT'), (2, 1, 1, 'Physiology', 'PHYS'), (3, 1, 1, 'Empty', 'EMPTY')")
	for _, id := range []int{11, 12, 13, 14} {
		tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+" (id, username) VALUES (?, ?)", id, fmt.Sprint("user", id))
		tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_access")+" (user_id, app_id, organisation_id, account_active, `group`) VALUES (?, 1, 1, 'true', 'student')", id)
	}
	// User 11 has a second access row (another app): it must not duplicate them.
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_access")+" (user_id, app_id, organisation_id, account_active, `group`) VALUES (11, 1, 1, 'true', 'student')")
	tdb.Exec(t, "INSERT INTO `groups` (group_id, group_name, group_type) VALUES (1, 'Class of 2027', 'cohort'), (2, 'Class of 2028', 'cohort')")
	// 11 in both groups, 12 in group 1, 13 in group 2; 14 only by a proxy row.
	tdb.Exec(t, "INSERT INTO group_members (group_id, proxy_id) VALUES (1, 11), (1, 12), (2, 11), (2, 13)")
	tdb.Exec(t, `INSERT INTO course_audience (course_id, audience_type, audience_value, cperiod_id) VALUES
		(1, 'group_id', 1, 10), (1, 'group_id', 2, 10), (1, 'proxy_id', 11, 10), (1, 'proxy_id', 14, 10), (1, 'proxy_id', 14, 10),
		(2, 'proxy_id', 12, 10)`)

	got, err := tdb.DB.Learners(context.Background(), []int{1, 2, 3}, appID, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{11, 12, 13, 14}; !slices.Equal(got[1], want) {
		t.Errorf("course 1 learners = %v, want %v", got[1], want)
	}
	if want := []int{12}; !slices.Equal(got[2], want) {
		t.Errorf("course 2 learners = %v, want %v", got[2], want)
	}
	if l, ok := got[3]; ok {
		t.Errorf("course 3 has no audience, got %v", l)
	}
}

// A cohort's members, as an event of that cohort invites them, follow the
// cohort rule of Learners: each clause alone keeps a member out.
func TestCohortMembersFollowTheCohortRule(t *testing.T) {
	day := int64(24 * 3600)
	n := now.Unix()
	cases := []struct {
		name                      string
		groupActive               int
		groupStart, groupExpire   any // nil = NULL
		memberActive              int
		memberStart, memberFinish int64
		want                      bool
	}{
		{name: "everything open", groupActive: 1, memberActive: 1, want: true},
		{name: "dates cover now", groupActive: 1, groupStart: n - day, groupExpire: n + day, memberActive: 1, memberStart: n - day, memberFinish: n + day, want: true},
		{name: "group start and expiry 0 are open", groupActive: 1, groupStart: 0, groupExpire: 0, memberActive: 1, want: true},
		{name: "group inactive", memberActive: 1},
		{name: "group expired", groupActive: 1, groupExpire: n - day, memberActive: 1},
		{name: "group not started", groupActive: 1, groupStart: n + day, memberActive: 1},
		{name: "member inactive", groupActive: 1},
		{name: "member ended", groupActive: 1, memberActive: 1, memberFinish: n - day},
		{name: "member not started", groupActive: 1, memberActive: 1, memberStart: n + day},
	}
	tdb := elentratest.New(t)
	ids := []int{0, -1}
	for i, c := range cases {
		group, user := 500+i, 1000+i
		ids = append(ids, group, group)
		tdb.Exec(t, "INSERT INTO `groups` (group_id, group_name, group_type, start_date, expire_date, group_active) VALUES (?, ?, 'cohort', ?, ?, ?)",
			group, c.name, c.groupStart, c.groupExpire, c.groupActive)
		tdb.Exec(t, "INSERT INTO group_members (group_id, proxy_id, start_date, finish_date, member_active) VALUES (?, ?, ?, ?, ?)",
			group, user, c.memberStart, c.memberFinish, c.memberActive)
	}
	got, err := tdb.DB.CohortMembers(context.Background(), ids, now)
	if err != nil {
		t.Fatal(err)
	}
	in := map[elentra.GroupMember]bool{}
	for _, m := range got {
		in[m] = true
	}
	if len(in) != len(got) {
		t.Errorf("members repeated: %v", got)
	}
	for i, c := range cases {
		if m := (elentra.GroupMember{GroupID: 500 + i, ProxyID: 1000 + i}); in[m] != c.want {
			t.Errorf("%s: member = %v, want %v", c.name, in[m], c.want)
		}
	}
}

func TestCourseGroupMembersAreTheActiveOnes(t *testing.T) {
	day := int64(24 * 3600)
	n := now.Unix()
	tdb := elentratest.New(t)
	tdb.Exec(t, "INSERT INTO course_groups (cgroup_id, course_id, group_name, active) VALUES (1, 1, 'A', 1), (2, 1, 'B', 0)")
	tdb.Exec(t, `INSERT INTO course_group_audience (cgroup_id, proxy_id, start_date, finish_date, active) VALUES
		(1, 12, 0, 0, 1), (1, 11, ?, ?, 1), (1, 13, 0, 0, 0), (1, 14, 0, ?, 1), (1, 15, ?, 0, 1), (2, 16, 0, 0, 1)`,
		n-day, n+day, n-day, n+day)
	got, err := tdb.DB.CourseGroupMembers(context.Background(), []int{2, 1, 1, 0}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []elentra.GroupMember{{GroupID: 1, ProxyID: 11}, {GroupID: 1, ProxyID: 12}}
	if !slices.Equal(got, want) {
		t.Errorf("course group members = %v, want %v (13 inactive, 14 ended, 15 not started, group 2 inactive)", got, want)
	}
}
