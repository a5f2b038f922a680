package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
)

// Member is one membership listed by Graph.
type Member struct {
	MembershipID string
	UserID       string
	Owner        bool
}

// Person is a desired member: who, and in which role.
type Person struct {
	ProxyID int
	Name    string
	Role    Role
}

// TeamMembers is one Team's desired and actual membership.
type TeamMembers struct {
	CourseID int
	Code     string
	TeamID   string
	// Desired maps Object IDs (lower-case) to people.
	Desired map[string]Person
	// Actual is what Graph listed; Listed is false when the listing failed.
	Actual []Member
	Listed bool
	// Managed are the Object IDs (lower-case) this tool added.
	Managed map[string]bool
}

// MembersInput is everything PlanMembers needs.
type MembersInput struct {
	Teams []TeamMembers
	// AdminObjectID is the authorizing account: never removed or demoted.
	AdminObjectID string
	// Protected are other accounts never removed or demoted (the organiser
	// mailbox, a fallback owner).
	Protected []string
	// AdminLeaves (sync.admin_leaves_teams): the authorizing account leaves
	// a Team once one of the course's owners is an owner of it.
	AdminLeaves bool
	// RemoveUnmanaged: also remove members this tool did not add.
	RemoveUnmanaged bool
	// Guards: removing more than Guards.TeamRemovalPercent of a Team's
	// managed members in one run is held (Plan.Held) unless Guards.Force.
	Guards Guards
}

// Limits Microsoft sets on a Team (and Canvas refuses beyond).
const (
	MaxTeamMembers = 25000
	MaxTeamOwners  = 100
)

// PlanMembers reconciles each Team with its course: adds (bulk, with roles),
// promotions and demotions, removals — removals only of members this tool
// added (unless RemoveUnmanaged), never of the authorizing account, never
// when Graph's listing came back empty or failed, and not beyond the guard.
func PlanMembers(in MembersInput) Plan {
	var p Plan
	protected := map[string]bool{strings.ToLower(in.AdminObjectID): true}
	for _, id := range in.Protected {
		protected[strings.ToLower(id)] = true
	}
	for _, t := range in.Teams {
		planTeamMembers(&p, in, t, protected)
	}
	sortActions(p.Actions)
	sortFindings(p.Findings)
	return p
}

func planTeamMembers(p *Plan, in MembersInput, t TeamMembers, protected map[string]bool) {
	owners, total := 0, 0
	for id, d := range t.Desired {
		if protected[id] {
			continue
		}
		total++
		if d.Role == RoleOwner {
			owners++
		}
	}
	if total > MaxTeamMembers || owners > MaxTeamOwners {
		p.note(Finding{Kind: FindingTeamTooLarge, Severity: Warning, CourseID: t.CourseID, Name: t.Code,
			Message: fmt.Sprintf("the course has %d members and %d owners; a Team holds at most %d members and %d owners, so its membership is not synced",
				total, owners, MaxTeamMembers, MaxTeamOwners),
			Fix: "split the course's audience, or keep this course out of Teams"})
		return
	}
	if !t.Listed {
		p.note(Finding{Kind: FindingMembersNotListed, Severity: Warning, CourseID: t.CourseID, Name: t.Code,
			Message: "the Team's members could not be listed, so nothing is changed in it this run"})
		return
	}
	actual := map[string]Member{}
	for _, m := range t.Actual {
		actual[strings.ToLower(m.UserID)] = m
	}

	var adds []MemberAdd
	for _, id := range slices.Sorted(maps.Keys(t.Desired)) {
		d := t.Desired[id]
		m, present := actual[id]
		switch {
		case !present:
			adds = append(adds, MemberAdd{UserID: id, ProxyID: d.ProxyID, Role: d.Role})
		case d.Role == RoleOwner && !m.Owner:
			p.add(Action{Kind: KindSetRole, CourseID: t.CourseID, GroupID: t.TeamID, MembershipID: m.MembershipID,
				UserID: id, ProxyID: d.ProxyID, Role: RoleOwner, Reason: d.Name + " is an owner of the course"})
		case d.Role == RoleMember && m.Owner && !protected[id] && (t.Managed[id] || in.RemoveUnmanaged):
			p.add(Action{Kind: KindSetRole, CourseID: t.CourseID, GroupID: t.TeamID, MembershipID: m.MembershipID,
				UserID: id, ProxyID: d.ProxyID, Role: RoleMember, Reason: d.Name + " is no longer an owner of the course"})
		}
	}
	if len(adds) > 0 {
		p.add(Action{Kind: KindAddMembers, CourseID: t.CourseID, GroupID: t.TeamID, Adds: adds})
	}

	if in.AdminLeaves && in.AdminObjectID != "" {
		admin := strings.ToLower(in.AdminObjectID)
		if m, present := actual[admin]; present && hasCourseOwner(t, actual, admin) {
			p.add(Action{Kind: KindRemoveMember, CourseID: t.CourseID, GroupID: t.TeamID, MembershipID: m.MembershipID, UserID: admin,
				Reason: "the authorizing account leaves the Team now that the course's owners own it (sync.admin_leaves_teams)"})
		}
	}

	var removals []Action
	for _, m := range t.Actual {
		id := strings.ToLower(m.UserID)
		if _, want := t.Desired[id]; want || protected[id] {
			continue
		}
		if !t.Managed[id] && !in.RemoveUnmanaged {
			continue // added by someone else: not ours to remove
		}
		removals = append(removals, Action{Kind: KindRemoveMember, CourseID: t.CourseID, GroupID: t.TeamID,
			MembershipID: m.MembershipID, UserID: id, Reason: "no longer in the course"})
	}
	if len(removals) == 0 {
		return
	}
	// The guard's share is of the members the tool manages in this Team:
	// those it added, or every unprotected member when it mirrors. Members
	// added by hand that it never removes do not dilute it.
	managed := 0
	for _, m := range t.Actual {
		id := strings.ToLower(m.UserID)
		if !protected[id] && (t.Managed[id] || in.RemoveUnmanaged) {
			managed++
		}
	}
	g := in.Guards
	if !g.Force && exceeds(len(removals), managed, g.TeamRemovalPercent, 0) {
		p.Held = append(p.Held, Held{Actions: removals, Finding: Finding{Kind: GuardTeamRemoval, Severity: Warning, CourseID: t.CourseID, Name: t.Code,
			Message: fmt.Sprintf("%s of the %d the tool manages in the Team (%s) would be removed, more than sync.removal_guard_percent (%d%%); none were",
				text.Plural(len(removals), "member", "members"), managed, percentOf(len(removals), managed), g.TeamRemovalPercent),
			Fix: "check the course's audience in Elentra; if the removals are right, run sync-members --force --course " + fmt.Sprint(t.CourseID)}})
		return
	}
	for _, r := range removals {
		p.add(r)
	}
}

// hasCourseOwner reports whether someone other than the authorizing account
// owns the Team and is an owner of the course: the Team then never lacks an
// owner when the account leaves.
func hasCourseOwner(t TeamMembers, actual map[string]Member, admin string) bool {
	for id, m := range actual {
		if id != admin && m.Owner && t.Desired[id].Role == RoleOwner {
			return true
		}
	}
	return false
}
