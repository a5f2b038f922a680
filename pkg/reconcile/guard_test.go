package reconcile

import (
	"fmt"
	"strings"
	"testing"
)

// testGuards are the configuration's defaults (pkg/engine's tests check
// that config.Defaults gives these).
var testGuards = Guards{TeamRemovalPercent: 30, CourseCancelPercent: 30,
	RunRemovalPercent: 5, RunRemovalMinimum: 50, RunCancelPercent: 10, RunCancelMinimum: 20,
	RunArchivePercent: 20, RunArchiveMinimum: 5}

// cancelInput is a course 3 whose n events each hold a live meeting with a
// link; the events in gone are deleted in Elentra, those in off are
// switched off by an admin.
func cancelInput(n int, gone, off []int, liveTotal int) EventsInput {
	in := EventsInput{Now: evNow, Installation: testInst, WindowMinutes: 10, Records: map[int]EventRecord{}, Meetings: map[int]Meeting{},
		Links: map[int]Link{}, Guards: testGuards, LiveByCourse: map[int]int{3: n}, LiveTotal: liveTotal}
	isIn := func(id int, ids []int) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	for id := 1; id <= n; id++ {
		rec := evRec()
		rec.EventID, rec.GraphEventID, rec.ElinkID = id, fmt.Sprint("g", id), 100+id
		in.Records[id] = rec
		in.Meetings[id] = Meeting{GraphEventID: rec.GraphEventID, JoinURL: rec.JoinURL}
		l := evLink()
		l.ID = rec.ElinkID
		in.Links[id] = l
		if isIn(id, gone) {
			continue // no EventWant: deleted in Elentra
		}
		w := evWant()
		w.EventID = id
		if isIn(id, off) {
			w.InScope, w.SwitchedOff, w.OutOfScope = false, true, "the event was switched off (events disable)"
		}
		in.Events = append(in.Events, w)
	}
	return in
}

func countKind(as []Action, k Kind) int {
	n := 0
	for _, a := range as {
		if a.Kind == k {
			n++
		}
	}
	return n
}

func TestCancelGuards(t *testing.T) {
	t.Run("one deletion in a course passes", func(t *testing.T) {
		p := PlanEvents(cancelInput(3, []int{2}, nil, 3))
		if kinds(p) != "cancel_event,remove_link" || len(p.Held) != 0 {
			t.Errorf("plan %q, held %d", kinds(p), len(p.Held))
		}
	})
	t.Run("a course's events read empty: held with its link removals", func(t *testing.T) {
		p := PlanEvents(cancelInput(4, []int{1, 2, 3, 4}, nil, 200))
		if len(p.Actions) != 0 {
			t.Fatalf("plan %q: nothing may be cancelled", kinds(p))
		}
		if len(p.Held) != 1 {
			t.Fatalf("held %+v", p.Held)
		}
		h := p.Held[0]
		if h.Finding.Kind != GuardCourseCancel || h.Finding.CourseID != 3 || h.Count() != 4 || countKind(h.Actions, KindRemoveLink) != 4 {
			t.Errorf("held %s: %d cancels, %d link removals", h.Finding.Kind, h.Count(), countKind(h.Actions, KindRemoveLink))
		}
		for _, want := range []string{"4 meetings of the course's 4", "events 1, 2, 3, 4", "deleted in Elentra"} {
			if !strings.Contains(h.Finding.Message, want) {
				t.Errorf("finding %q lacks %q", h.Finding.Message, want)
			}
		}
		if !strings.Contains(h.Finding.Fix, "sync-events --force --course 3") {
			t.Errorf("fix %q", h.Finding.Fix)
		}
	})
	t.Run("an admin's switch skips the course guard", func(t *testing.T) {
		p := PlanEvents(cancelInput(4, nil, []int{1, 2, 3, 4}, 200))
		if countKind(p.Actions, KindCancelEvent) != 4 || len(p.Held) != 0 {
			t.Errorf("plan %q, held %+v", kinds(p), p.Held)
		}
	})
	t.Run("switched off counts toward the run guard", func(t *testing.T) {
		// 25 of 100 live meetings: over 10% and over the minimum of 20.
		p := PlanEvents(cancelInput(25, nil, seq(1, 25), 100))
		if len(p.Actions) != 0 || len(p.Held) != 1 || p.Held[0].Finding.Kind != GuardRunCancel || p.Held[0].Count() != 25 {
			t.Fatalf("plan %q, held %+v", kinds(p), p.Held)
		}
		if m := p.Held[0].Finding.Message; !strings.Contains(m, "25 meetings of the 100 the tool holds (25.0%)") {
			t.Errorf("finding %q", m)
		}
	})
	t.Run("the run guard's minimum", func(t *testing.T) {
		// 20 of 100 is over 10% but not over the minimum of 20.
		p := PlanEvents(cancelInput(20, nil, seq(1, 20), 100))
		if countKind(p.Actions, KindCancelEvent) != 20 || len(p.Held) != 0 {
			t.Errorf("plan %q, held %d", kinds(p), len(p.Held))
		}
	})
	t.Run("a course held is not counted again by the run guard", func(t *testing.T) {
		in := cancelInput(30, seq(1, 30), nil, 1000)
		p := PlanEvents(in)
		if len(p.Held) != 1 || p.Held[0].Finding.Kind != GuardCourseCancel {
			t.Errorf("held %+v", p.Held)
		}
	})
	t.Run("force turns the guards off", func(t *testing.T) {
		in := cancelInput(25, seq(1, 10), seq(11, 25), 100)
		in.Guards.Force = true
		p := PlanEvents(in)
		if countKind(p.Actions, KindCancelEvent) != 25 || len(p.Held) != 0 {
			t.Errorf("plan %q, held %d", kinds(p), len(p.Held))
		}
	})
	t.Run("a meeting already gone is no cancellation to hold", func(t *testing.T) {
		in := cancelInput(4, []int{1, 2, 3, 4}, nil, 4)
		for id := range in.Meetings {
			in.Meetings[id] = Meeting{Gone: true}
		}
		p := PlanEvents(in)
		if countKind(p.Actions, KindCancelEvent) != 4 || len(p.Held) != 0 {
			t.Errorf("plan %q, held %d", kinds(p), len(p.Held))
		}
	})
	t.Run("a configuration change passes both guards", func(t *testing.T) {
		// sync.all_course_events turned off: out of scope, not switched.
		in := cancelInput(4, nil, nil, 200)
		for i := range in.Events {
			in.Events[i].InScope, in.Events[i].OutOfScope = false, "its course's events are not synced (sync.all_course_events)"
		}
		p := PlanEvents(in)
		if len(p.Actions) != 0 || len(p.Held) != 1 || p.Held[0].Finding.Kind != GuardCourseCancel {
			t.Errorf("plan %q, held %+v", kinds(p), p.Held)
		}
	})
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestRunRemovalGuard(t *testing.T) {
	removals := func(n int) []Action {
		var out []Action
		for i := 0; i < n; i++ {
			out = append(out, Action{Kind: KindRemoveMember, CourseID: 1 + i%7, UserID: fmt.Sprint("u", i), MembershipID: fmt.Sprint("m", i)})
		}
		return out
	}
	// the benchmark's churn: 1.8% of the managed memberships
	if kept, held := GuardRunRemovals(removals(5138), 285000, testGuards, admin); len(kept) != 5138 || held != nil {
		t.Errorf("1.8%%: kept %d, held %d", len(kept), len(held))
	}
	// 60 of 1,000: over 5% and over 50
	kept, held := GuardRunRemovals(append(removals(60), Action{Kind: KindRemoveMember, CourseID: 2, UserID: strings.ToUpper(admin)}), 1000, testGuards, admin)
	if len(held) != 1 || held[0].Count() != 60 || held[0].Finding.Kind != GuardRunRemoval {
		t.Fatalf("held %+v", held)
	}
	if len(kept) != 1 || !strings.EqualFold(kept[0].UserID, admin) {
		t.Errorf("kept %+v: only the authorizing account's leaving passes", kept)
	}
	if m := held[0].Finding.Message; !strings.Contains(m, "60 members from 7 Teams: 6.0% of the 1000 memberships") {
		t.Errorf("finding %q", m)
	}
	// 50 of 100 is half, but not over the minimum
	if kept, held := GuardRunRemovals(removals(50), 100, testGuards, admin); len(kept) != 50 || held != nil {
		t.Errorf("minimum: kept %d, held %d", len(kept), len(held))
	}
	g := testGuards
	g.Force = true
	if kept, held := GuardRunRemovals(removals(60), 1000, g, admin); len(kept) != 60 || held != nil {
		t.Errorf("force: kept %d, held %d", len(kept), len(held))
	}
}

func TestRunArchiveGuard(t *testing.T) {
	recs := map[int]TeamRecord{}
	var courses []Course
	for id := 1; id <= 20; id++ {
		recs[id] = TeamRecord{CourseID: id, State: StateTeam, GroupID: fmt.Sprint("g", id), DisplayName: "MED1 Anatomy", DescriptionHash: HashText("Bones")}
		c := course(id)
		c.Enabled = id > 6 // six courses switched off (or misread as off)
		courses = append(courses, c)
	}
	p := PlanTeams(TeamsInput{Courses: courses, Records: recs, CourseEnd: "archive", AdminObjectID: admin, Guards: testGuards})
	if countKind(p.Actions, KindArchiveTeam) != 0 || len(p.Held) != 1 || p.Held[0].Count() != 6 {
		t.Fatalf("6 of 20 is over 20%%: plan %q, held %+v", kinds(p), p.Held)
	}
	if m := p.Held[0].Finding.Message; !strings.Contains(m, "6 Teams of 20 (30.0%)") || !strings.Contains(m, "courses 1, 2, 3, 4, 5, 6") {
		t.Errorf("finding %q", m)
	}
	courses[5].Enabled = true // five: not over the minimum
	p = PlanTeams(TeamsInput{Courses: courses, Records: recs, CourseEnd: "archive", AdminObjectID: admin, Guards: testGuards})
	if countKind(p.Actions, KindArchiveTeam) != 5 || len(p.Held) != 0 {
		t.Errorf("plan %q, held %d", kinds(p), len(p.Held))
	}
}
