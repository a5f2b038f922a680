package school_test

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := school.Generate(school.Small()), school.Generate(school.Small())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two schools from the same spec differ")
	}
	if !reflect.DeepEqual(a.DirectoryUsers(), b.DirectoryUsers()) {
		t.Fatal("directory users of the same spec differ")
	}
	other := school.Small()
	other.Seed = 2
	c := school.Generate(other)
	if reflect.DeepEqual(a.Users, c.Users) {
		t.Error("a different seed gave the same users")
	}
}

func TestSmallShape(t *testing.T) {
	s := school.Generate(school.Small())
	spec := s.Spec
	if n := len(s.Courses); n < 45 || n > 60 {
		t.Errorf("Small has %d courses, want about 50", n)
	}
	if n := len(s.Users); n < 1100 || n > 1400 {
		t.Errorf("Small has %d users, want about 1,200", n)
	}
	if s.Users[0].ID != 1 || s.Users[0].Email == "" || s.Edge.Admin != 1 {
		t.Errorf("user 1 = %+v, want the admin with an email", s.Users[0])
	}
	var adminAccess []school.Access
	for _, a := range s.Access {
		if a.UserID == 1 {
			adminAccess = append(adminAccess, a)
		}
	}
	if len(adminAccess) != 1 || adminAccess[0].Group != "medtech" || adminAccess[0].Role != "admin" {
		t.Errorf("user 1 access = %+v, want medtech:admin", adminAccess)
	}

	course := func(id int) school.Course {
		for _, c := range s.Courses {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no course %d", id)
		return school.Course{}
	}
	if n := utf8.RuneCountInString(course(s.Edge.LongName).Name); n != 85 {
		t.Errorf("long course name has %d characters, want 85 (Elentra's limit)", n)
	}
	if name := course(s.Edge.QuotedName).Name; !strings.ContainsAny(name, `'"`) || !strings.Contains(name, "é") {
		t.Errorf("quoted course name = %q, want quotes and accents", name)
	}
	if course(s.Edge.OtherOrgCourse).OrganisationID == spec.OrganisationID {
		t.Error("other-organisation course is in the school's organisation")
	}

	loc, _ := time.LoadLocation("America/Toronto")
	event := func(id int) school.Event {
		for _, e := range s.Events {
			if e.ID == id {
				return e
			}
		}
		t.Fatalf("no event %d", id)
		return school.Event{}
	}
	mid := event(s.Edge.AcrossMidnight)
	if time.Unix(mid.Start, 0).In(loc).Day() == time.Unix(mid.Finish, 0).In(loc).Day() {
		t.Errorf("event %d does not cross local midnight", mid.ID)
	}
	dst := event(s.Edge.AcrossDST)
	_, offStart := time.Unix(dst.Start, 0).In(loc).Zone()
	_, offEnd := time.Unix(dst.Finish, 0).In(loc).Zone()
	if offStart == offEnd {
		t.Errorf("event %d does not span a DST change", dst.ID)
	}
	if len(s.Edge.Children) == 0 || len(s.Edge.BeyondHorizon) == 0 {
		t.Errorf("children %v, beyond horizon %v: want some of each", s.Edge.Children, s.Edge.BeyondHorizon)
	}
	horizonEnd := spec.Now.Add(spec.Horizon).Unix()
	for _, id := range s.Edge.BeyondHorizon {
		if event(id).Start < horizonEnd {
			t.Errorf("event %d labelled beyond the horizon starts inside it", id)
		}
	}
	if s.Why["course "+itoa(s.Edge.NoOwner)] == "" || s.Why["user "+itoa(s.Edge.AccessExpired)] == "" {
		t.Errorf("edge cases are not labelled: %v", s.Why)
	}

	dir := s.DirectoryUsers()
	ids := map[string]bool{}
	for _, d := range dir {
		if ids[d.ID] {
			t.Errorf("directory id %s used twice", d.ID)
		}
		ids[d.ID] = true
	}
	for _, u := range s.Users {
		if (u.ID == s.Edge.NoDirectoryAccount || u.ID == s.Edge.NoEmail) && u.DirectoryID != "" {
			t.Errorf("user %d should have no directory account", u.ID)
		}
	}
	if len(dir) != len(s.Users)-3 {
		t.Errorf("%d directory users for %d users, want all but the three without an account", len(dir), len(s.Users))
	}
}

func TestLargeShape(t *testing.T) {
	s := school.Generate(school.Large())
	if n := len(s.Courses); n != 2001 {
		t.Errorf("Large has %d courses, want 2,000 plus one of another organisation", n)
	}
	learners := 0
	for _, u := range s.Users {
		if u.Kind == "learner" {
			learners++
		}
	}
	if learners < 30000 || learners > 30100 {
		t.Errorf("Large has %d learners, want 30,000 and the edge cases", learners)
	}
	want := school.ExpectedLearners(s)
	total, owners := 0, map[int]int{}
	for _, l := range want {
		total += len(l)
	}
	for _, c := range s.Contacts {
		if c.Type == "director" || c.Type == "ccoordinator" || c.Type == "pcoordinator" || c.Type == "faculty" {
			owners[c.CourseID]++
		}
	}
	withLearners := len(want)
	if avg := total / max(1, withLearners); avg < 130 || avg > 180 {
		t.Errorf("about %d learners per course with learners, want about 150", avg)
	}
	if avg := float64(len(s.Contacts)) / 2000; avg < 4 || avg > 7 {
		t.Errorf("%.1f contacts per course, want about 5 owners each", avg)
	}
	inHorizon := 0
	from, to := s.Spec.Now.Unix(), s.Spec.Now.Add(14*24*time.Hour).Unix()
	for _, e := range s.Events {
		if e.Start >= from && e.Start < to {
			inHorizon++
		}
	}
	if inHorizon < 3000 || inHorizon > 3010 {
		t.Errorf("%d events in the next 14 days, want 3,000", inHorizon)
	}
}

func TestLoadSmallAndLearnersMatchTheRule(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	spec := school.Small()
	if elentratest.Large() {
		spec = school.Large()
	}
	s := school.Generate(spec)
	start := time.Now()
	if err := s.Load(ctx, tdb.DB); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("loading took %v, want a few seconds", d)
	}

	var courseIDs []int
	for _, c := range s.Courses {
		courseIDs = append(courseIDs, c.ID)
	}
	got, err := tdb.DB.Learners(ctx, courseIDs, s.Spec.AppID, s.Spec.Now)
	if err != nil {
		t.Fatal(err)
	}
	want := school.ExpectedLearners(s)
	for _, id := range courseIDs {
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("course %d (%s): %d learners from the database, %d by the rule computed here\n got %v\nwant %v",
				id, s.Why["course "+itoa(id)], len(got[id]), len(want[id]), head(got[id]), head(want[id]))
		}
	}

	edge := s.Edge.EdgeCourse
	for _, u := range []int{s.Edge.AccessExpired, s.Edge.AccessNotStarted, s.Edge.AccountDisabled, s.Edge.OtherOrgUser, s.Edge.NotStudent,
		s.Edge.MembershipEnded, s.Edge.MembershipNotStarted, s.Edge.MemberInactive, s.Edge.AudienceInactive, s.Edge.EnrolmentEnded,
		s.Edge.EnrolmentNotStarted, s.Edge.PastPeriod, s.Edge.InExpiredGroup, s.Edge.InInactiveGroup, s.Edge.InFutureGroup} {
		if slices.Contains(got[edge], u) {
			t.Errorf("user %d (%s) is a learner of the edge course", u, s.Why["user "+itoa(u)])
		}
	}
	for _, u := range append([]int{s.Edge.NoEmail, s.Edge.SameEmail[0], s.Edge.SameEmail[1], s.Edge.NoDirectoryAccount}, s.Edge.QuotedNames...) {
		if !slices.Contains(got[edge], u) {
			t.Errorf("user %d (%s) is missing from the edge course", u, s.Why["user "+itoa(u)])
		}
	}
	for _, id := range s.Edge.NoCurrentPeriod {
		if len(got[id]) != 0 {
			t.Errorf("course %d (%s) has %d learners, want none", id, s.Why["course "+itoa(id)], len(got[id]))
		}
	}
	// The other organisation's course shares a section with this school, but
	// only the one user with student access there is its learner.
	if l := got[s.Edge.OtherOrgCourse]; !slices.Equal(l, []int{s.Edge.OtherOrgUser}) {
		t.Errorf("other-organisation course learners = %v, want only user %d", l, s.Edge.OtherOrgUser)
	}

	users, err := store.New(tdb.DB).Users(ctx, []int{s.Edge.QuotedNames[0], s.Edge.QuotedNames[2]})
	if err == nil {
		t.Errorf("Users without the tool's tables succeeded: %+v", users)
	}
	courses, err := tdb.DB.Courses(ctx, elentra.CourseFilter{IDs: []int{s.Edge.QuotedName, s.Edge.LongName}}, spec.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range courses {
		for _, sc := range s.Courses {
			if sc.ID == c.ID && (sc.Name != c.Name || sc.Description != c.Description) {
				t.Errorf("course %d read back as %q / %q, want %q / %q", c.ID, c.Name, c.Description, sc.Name, sc.Description)
			}
		}
	}
}

func head(ids []int) []int {
	if len(ids) > 12 {
		return ids[:12]
	}
	return ids
}

func itoa(n int) string { return strconv.Itoa(n) }
