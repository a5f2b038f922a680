package reconcile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
)

// Guards are the limits on the writes a student notices: removing a member,
// cancelling a meeting, archiving a Team. A guard that holds leaves the
// writes it covers undone, all of them, and says so in a finding; nothing a
// bad read or a configuration slip produces gets past one. Percentages are
// compared exactly (no rounding): 309 of 1,000 is more than 30 %.
type Guards struct {
	// TeamRemovalPercent (sync.removal_guard_percent): the share of a
	// Team's managed members one run may remove.
	TeamRemovalPercent int
	// CourseCancelPercent (sync.cancel_guard_percent): the share of a
	// course's live meetings one run may cancel for reasons other than an
	// admin's switch. A single cancellation in a course always passes.
	CourseCancelPercent int
	// Run guards: a run whose removals (cancellations, archives) exceed
	// both the minimum and the share of all managed memberships (live
	// meetings, Teams) makes none of them.
	RunRemovalPercent, RunRemovalMinimum int
	RunCancelPercent, RunCancelMinimum   int
	RunArchivePercent, RunArchiveMinimum int
	// Force (--force with --course or --event) turns the guards off.
	Force bool
}

// Held is what one guard held back: the finding that says so, and the
// actions, applied only when a person confirms them (--force at a
// terminal).
type Held struct {
	Finding Finding  `json:"finding"`
	Actions []Action `json:"actions"`
}

// Count is the number of writes a student would notice among the held
// actions (a link removal goes with its meeting's cancellation).
func (h Held) Count() int {
	n := 0
	for _, a := range h.Actions {
		if a.Kind != KindRemoveLink {
			n++
		}
	}
	return n
}

// exceeds reports whether n of total is more than percent, and more than
// minimum: n*100 > percent*total, compared without rounding.
func exceeds(n, total, percent, minimum int) bool {
	return n > minimum && n*100 > percent*total
}

// percentOf is n of total as a percentage with one decimal, for messages.
func percentOf(n, total int) string {
	if total <= 0 {
		return "all"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}

// GuardRunRemovals applies the run guard to the removals that passed each
// Team's guard (those of the authorizing account leaving a Team, which no
// student notices, are not counted and never held): when they exceed
// RunRemovalPercent of the managed memberships of the run and
// RunRemovalMinimum, none is made.
func GuardRunRemovals(removals []Action, managed int, g Guards, admin string) (kept []Action, held []Held) {
	var counted []Action
	for _, a := range removals {
		if admin != "" && strings.EqualFold(a.UserID, admin) {
			kept = append(kept, a)
			continue
		}
		counted = append(counted, a)
	}
	if g.Force || !exceeds(len(counted), managed, g.RunRemovalPercent, g.RunRemovalMinimum) {
		return append(kept, counted...), nil
	}
	teams := map[int]bool{}
	for _, a := range counted {
		teams[a.CourseID] = true
	}
	f := Finding{Kind: GuardRunRemoval, Severity: Warning,
		Message: fmt.Sprintf("this run would remove %s from %s: %s of the %d memberships the tool manages, more than sync.run_removal_guard_percent (%d%%) and sync.run_removal_guard_minimum (%d); none were removed",
			text.Plural(len(counted), "member", "members"), text.Plural(len(teams), "Team", "Teams"), percentOf(len(counted), managed), managed, g.RunRemovalPercent, g.RunRemovalMinimum),
		Fix: "check Elentra's enrolments (a course audience or a cohort that reads empty); if the removals are right, run sync-members --force --course ID for the courses concerned, or sync-members --force at a terminal to confirm them all"}
	return kept, []Held{{Finding: f, Actions: counted}}
}

// GuardRunArchives applies the run guard to archives: more than
// RunArchivePercent of the Teams and RunArchiveMinimum archives none.
func GuardRunArchives(archives []Action, teams int, g Guards) (kept []Action, held []Held) {
	if g.Force || !exceeds(len(archives), teams, g.RunArchivePercent, g.RunArchiveMinimum) {
		return archives, nil
	}
	f := Finding{Kind: GuardRunArchive, Severity: Warning,
		Message: fmt.Sprintf("this run would archive %s of %d (%s), more than sync.run_archive_guard_percent (%d%%) and sync.run_archive_guard_minimum (%d); none were archived (courses %s)",
			text.Plural(len(archives), "Team", "Teams"), teams, percentOf(len(archives), teams), g.RunArchivePercent, g.RunArchiveMinimum, joinIDs(courseIDs(archives))),
		Fix: "check the courses' switches and curriculum periods in Elentra; if the archives are right (a term ended), run sync-teams --force --course ID, or sync-teams --force at a terminal to confirm them all"}
	return nil, []Held{{Finding: f, Actions: archives}}
}

// cancellation is one event's cancel (with its link removal) and what
// caused it.
type cancellation struct {
	courseID int
	eventID  int
	// switched: an admin switched the event or its course off, and the
	// switch is what took it out of scope (no per-course guard).
	switched bool
	actions  []Action
}

// guardCancellations applies the per-course and run guards to the
// cancellations a plan would make and returns those that pass.
// liveByCourse and liveTotal count the meetings the tool holds (the
// denominators).
func guardCancellations(cs []cancellation, liveByCourse map[int]int, liveTotal int, g Guards) (kept []Action, held []Held) {
	if len(cs) == 0 {
		return nil, nil
	}
	if g.Force {
		for _, c := range cs {
			kept = append(kept, c.actions...)
		}
		return kept, nil
	}
	byCourse := map[int][]cancellation{}
	for _, c := range cs {
		if !c.switched {
			byCourse[c.courseID] = append(byCourse[c.courseID], c)
		}
	}
	courses := make([]int, 0, len(byCourse))
	for id := range byCourse {
		courses = append(courses, id)
	}
	sort.Ints(courses)
	heldCourse := map[int]bool{}
	for _, id := range courses {
		group := byCourse[id]
		live := max(liveByCourse[id], len(group))
		if !exceeds(len(group), live, g.CourseCancelPercent, 1) {
			continue
		}
		heldCourse[id] = true
		var actions []Action
		var events []int
		for _, c := range group {
			actions = append(actions, c.actions...)
			events = append(events, c.eventID)
		}
		held = append(held, Held{Actions: actions, Finding: Finding{Kind: GuardCourseCancel, Severity: Warning, CourseID: id,
			Message: fmt.Sprintf("%s of the course's %d would be cancelled (%s), more than sync.cancel_guard_percent (%d%%); none were (events %s: %s)",
				text.Plural(len(group), "meeting", "meetings"), live, percentOf(len(group), live), g.CourseCancelPercent, joinIDs(events), group[0].reason()),
			Fix: fmt.Sprintf("check the course and its events in Elentra; if the cancellations are right, run sync-events --force --course %d", id)}})
	}
	var passing []cancellation
	for _, c := range cs {
		if c.switched || !heldCourse[c.courseID] {
			passing = append(passing, c)
		}
	}
	if exceeds(len(passing), liveTotal, g.RunCancelPercent, g.RunCancelMinimum) {
		var actions []Action
		var events []int
		for _, c := range passing {
			actions = append(actions, c.actions...)
			events = append(events, c.eventID)
		}
		held = append(held, Held{Actions: actions, Finding: Finding{Kind: GuardRunCancel, Severity: Warning,
			Message: fmt.Sprintf("this run would cancel %s of the %d the tool holds (%s), more than sync.run_cancel_guard_percent (%d%%) and sync.run_cancel_guard_minimum (%d); none were (events %s)",
				text.Plural(len(passing), "meeting", "meetings"), liveTotal, percentOf(len(passing), liveTotal), g.RunCancelPercent, g.RunCancelMinimum, joinIDs(events)),
			Fix: "check Elentra's events and the courses' switches; if the cancellations are right, run sync-events --force --course ID (or --event ID), or sync-events --force at a terminal to confirm them all"}})
		return nil, held
	}
	for _, c := range passing {
		kept = append(kept, c.actions...)
	}
	return kept, held
}

// reason is why the first action of a cancellation is taken.
func (c cancellation) reason() string {
	for _, a := range c.actions {
		if a.Kind == KindCancelEvent {
			return a.Reason
		}
	}
	return ""
}

// joinIDs lists up to 20 ids in order, then how many more.
func joinIDs(ids []int) string {
	ids = append([]int(nil), ids...)
	sort.Ints(ids)
	if len(ids) <= 20 {
		return text.JoinInts(ids)
	}
	return fmt.Sprintf("%s, and %d more", text.JoinInts(ids[:20]), len(ids)-20)
}

func courseIDs(as []Action) []int {
	var ids []int
	for _, a := range as {
		ids = append(ids, a.CourseID)
	}
	return ids
}
