package reconcile

import (
	"fmt"
	"strings"
	"testing"
)

func person(proxy int, role Role) Person {
	return Person{ProxyID: proxy, Name: fmt.Sprint("user ", proxy), Role: role}
}

func TestPlanMembers(t *testing.T) {
	base := func() TeamMembers {
		return TeamMembers{CourseID: 7, Code: "MED1", TeamID: "t7", Listed: true,
			Desired: map[string]Person{"u1": person(1, RoleOwner), "u2": person(2, RoleMember), "u3": person(3, RoleMember)},
			Actual:  []Member{{"m-admin", admin, true}, {"m1", "u1", true}, {"m2", "u2", false}, {"m3", "u3", false}},
			Managed: map[string]bool{"u1": true, "u2": true, "u3": true}}
	}
	cases := []struct {
		name     string
		edit     func(*TeamMembers)
		in       func(*MembersInput)
		actions  string
		findings string
		check    func(*testing.T, Plan)
	}{
		{name: "in sync"},
		{name: "new learner added as member", edit: func(tm *TeamMembers) { tm.Desired["u4"] = person(4, RoleMember) }, actions: "add_members",
			check: func(t *testing.T, p Plan) {
				a := p.Actions[0].Adds
				if len(a) != 1 || a[0].UserID != "u4" || a[0].Role != RoleMember || a[0].ProxyID != 4 {
					t.Errorf("adds %+v", a)
				}
			}},
		{name: "new owner added as owner", edit: func(tm *TeamMembers) { tm.Desired["u5"] = person(5, RoleOwner) }, actions: "add_members",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].Adds[0].Role != RoleOwner {
					t.Error("owner added as member")
				}
			}},
		{name: "learner became owner: promote", edit: func(tm *TeamMembers) { tm.Desired["u2"] = person(2, RoleOwner) }, actions: "set_role",
			check: func(t *testing.T, p Plan) {
				if a := p.Actions[0]; a.MembershipID != "m2" || a.Role != RoleOwner {
					t.Errorf("%+v", a)
				}
			}},
		{name: "managed owner no longer owner: demote", edit: func(tm *TeamMembers) { tm.Desired["u1"] = person(1, RoleMember) }, actions: "set_role"},
		{name: "unmanaged owner not demoted", edit: func(tm *TeamMembers) { tm.Desired["u1"] = person(1, RoleMember); delete(tm.Managed, "u1") }},
		{name: "unmanaged owner demoted when mirroring", edit: func(tm *TeamMembers) { tm.Desired["u1"] = person(1, RoleMember); delete(tm.Managed, "u1") },
			in: func(in *MembersInput) { in.RemoveUnmanaged = true }, actions: "set_role"},
		{name: "left the course: removed", edit: func(tm *TeamMembers) {
			delete(tm.Desired, "u3")
			tm.Actual = append(tm.Actual, Member{"m6", "u6", false}, Member{"m7", "u7", false}, Member{"m8", "u8", false})
			tm.Desired["u6"], tm.Desired["u7"], tm.Desired["u8"] = person(6, RoleMember), person(7, RoleMember), person(8, RoleMember)
			tm.Managed["u6"], tm.Managed["u7"], tm.Managed["u8"] = true, true, true
		}, actions: "remove_member", check: func(t *testing.T, p Plan) {
			if p.Actions[0].MembershipID != "m3" {
				t.Errorf("%+v", p.Actions[0])
			}
		}},
		{name: "added by hand: kept", edit: func(tm *TeamMembers) { tm.Actual = append(tm.Actual, Member{"m9", "u9", false}) }},
		{name: "added by hand: removed when mirroring", edit: func(tm *TeamMembers) {
			tm.Actual = append(tm.Actual, Member{"m9", "u9", false})
		}, in: func(in *MembersInput) { in.RemoveUnmanaged = true; in.Guards.TeamRemovalPercent = 30 }, actions: "remove_member"},
		{name: "authorizing account never removed", in: func(in *MembersInput) { in.RemoveUnmanaged = true }},
		{name: "authorizing account never demoted", edit: func(tm *TeamMembers) { tm.Desired[admin] = person(1, RoleMember) },
			in: func(in *MembersInput) { in.RemoveUnmanaged = true }},
		{name: "protected organiser never removed", edit: func(tm *TeamMembers) { tm.Actual = append(tm.Actual, Member{"mo", "organiser", false}) },
			in: func(in *MembersInput) { in.RemoveUnmanaged = true; in.Protected = []string{"ORGANISER"} }},
		{name: "guard holds", edit: func(tm *TeamMembers) { delete(tm.Desired, "u2"); delete(tm.Desired, "u3") }, findings: "removal_guard",
			check: func(t *testing.T, p Plan) {
				h := p.Held[0]
				if !strings.Contains(h.Finding.Message, "2 members of the 3 the tool manages in the Team (66.7%)") || !strings.Contains(h.Finding.Fix, "--force --course 7") {
					t.Errorf("finding %+v", h.Finding)
				}
				if len(h.Actions) != 2 || h.Actions[0].Kind != KindRemoveMember {
					t.Errorf("held %+v", h.Actions)
				}
			}},
		{name: "guard forced", edit: func(tm *TeamMembers) { delete(tm.Desired, "u2"); delete(tm.Desired, "u3") },
			in: func(in *MembersInput) { in.Guards.Force = true }, actions: "remove_member,remove_member"},
		// Members added by hand do not dilute the share: 30 members the tool
		// added and 70 added by hand, and the course's enrolment reads
		// empty: all 30 would go, 100% of what the tool manages.
		{name: "guard counts only managed members", edit: func(tm *TeamMembers) {
			tm.Desired = map[string]Person{"u1": person(1, RoleOwner)}
			tm.Actual = []Member{{"m-admin", admin, true}, {"m1", "u1", true}}
			tm.Managed = map[string]bool{"u1": true}
			for i := 0; i < 30; i++ {
				id := fmt.Sprint("tool", i)
				tm.Actual = append(tm.Actual, Member{"m" + id, id, false})
				tm.Managed[id] = true
			}
			for i := 0; i < 70; i++ {
				tm.Actual = append(tm.Actual, Member{fmt.Sprint("mh", i), fmt.Sprint("hand", i), false})
			}
		}, findings: "removal_guard", check: func(t *testing.T, p Plan) {
			if m := p.Held[0].Finding.Message; !strings.Contains(m, "30 members of the 31 the tool manages") {
				t.Errorf("finding %q", m)
			}
		}},
		// 309 of 1,000 is more than 30%: no rounding down lets it through.
		{name: "guard compares exactly", edit: func(tm *TeamMembers) {
			tm.Desired = map[string]Person{}
			tm.Actual = []Member{{"m-admin", admin, true}}
			tm.Managed = map[string]bool{}
			for i := 0; i < 1000; i++ {
				id := fmt.Sprint("u", i)
				tm.Actual = append(tm.Actual, Member{"m" + id, id, false})
				tm.Managed[id] = true
				if i >= 309 {
					tm.Desired[id] = person(i+1, RoleMember)
				}
			}
		}, findings: "removal_guard"},
		{name: "guard passes at the limit", edit: func(tm *TeamMembers) {
			tm.Desired = map[string]Person{}
			tm.Actual = []Member{{"m-admin", admin, true}}
			tm.Managed = map[string]bool{}
			for i := 0; i < 10; i++ {
				id := fmt.Sprint("u", i)
				tm.Actual = append(tm.Actual, Member{"m" + id, id, false})
				tm.Managed[id] = true
				if i >= 3 {
					tm.Desired[id] = person(i+1, RoleMember)
				}
			}
		}, actions: "remove_member,remove_member,remove_member"},
		{name: "listing failed: nothing", edit: func(tm *TeamMembers) { tm.Listed = false; tm.Desired["u4"] = person(4, RoleMember) }, findings: "members_not_listed"},
		{name: "empty listing: adds only, no removal", edit: func(tm *TeamMembers) {
			tm.Actual = nil
			tm.Desired = map[string]Person{"u1": person(1, RoleOwner)}
		}, actions: "add_members"},
		{name: "case of ids ignored", edit: func(tm *TeamMembers) { tm.Actual[2].UserID = "U2" }},
		{name: "too many owners", edit: func(tm *TeamMembers) {
			for i := 0; i < 101; i++ {
				tm.Desired[fmt.Sprint("o", i)] = person(100+i, RoleOwner)
			}
		}, findings: "team_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := base()
			if tc.edit != nil {
				tc.edit(&tm)
			}
			in := MembersInput{Teams: []TeamMembers{tm}, AdminObjectID: admin, Guards: Guards{TeamRemovalPercent: 30}}
			if tc.in != nil {
				tc.in(&in)
			}
			p := PlanMembers(in)
			if got := kinds(p); got != tc.actions {
				t.Errorf("actions %q, want %q", got, tc.actions)
			}
			if got := findingKinds(p); got != tc.findings {
				t.Errorf("findings %q, want %q", got, tc.findings)
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, p)
			}
		})
	}
}

func TestCapSplitsBulkAdds(t *testing.T) {
	adds := make([]MemberAdd, 450)
	for i := range adds {
		adds[i] = MemberAdd{UserID: fmt.Sprint("u", i)}
	}
	actions := []Action{{Kind: KindCreateTeam, CourseID: 1}, {Kind: KindAddMembers, CourseID: 1, Adds: adds}, {Kind: KindRemoveMember, CourseID: 2}}
	p := Plan{Actions: actions}
	if w := p.Weight(); w != 1+3+1 {
		t.Fatalf("weight %d", w)
	}
	kept, deferred := Cap(actions, 3)
	if len(kept) != 2 || len(kept[1].Adds) != 400 || len(deferred) != 2 || len(deferred[0].Adds) != 50 || deferred[1].Kind != KindRemoveMember {
		t.Errorf("kept %d (adds %d), deferred %d", len(kept), len(kept[1].Adds), len(deferred))
	}
	if kept, deferred := Cap(actions, 100); len(kept) != 3 || deferred != nil {
		t.Error("under the cap everything is kept")
	}
	if c := p.Counts(); c[KindAddMembers] != 450 || c[KindCreateTeam] != 1 {
		t.Errorf("counts %v", c)
	}
}

// sync.admin_leaves_teams: the authorizing account leaves a Team once one of
// the course's owners owns it, and never leaves a Team with no other owner.
func TestAdminLeaves(t *testing.T) {
	tm := TeamMembers{CourseID: 7, TeamID: "t7", Listed: true,
		Desired: map[string]Person{"u1": person(1, RoleOwner), "u2": person(2, RoleMember)},
		Actual:  []Member{{"m-admin", admin, true}, {"m1", "u1", true}, {"m2", "u2", false}}}
	p := PlanMembers(MembersInput{Teams: []TeamMembers{tm}, AdminObjectID: admin, AdminLeaves: true, Guards: Guards{TeamRemovalPercent: 30}})
	if kinds(p) != "remove_member" || p.Actions[0].MembershipID != "m-admin" {
		t.Errorf("plan %+v", p.Actions)
	}
	// the owner is not in the Team yet: the account stays this run
	tm.Actual = []Member{{"m-admin", admin, true}, {"m2", "u2", false}}
	p = PlanMembers(MembersInput{Teams: []TeamMembers{tm}, AdminObjectID: admin, AdminLeaves: true, Guards: Guards{TeamRemovalPercent: 30}})
	if kinds(p) != "add_members" {
		t.Errorf("plan %q: the account must not leave before an owner is in", kinds(p))
	}
	// an owner added by hand who is not a course owner does not count
	tm.Actual = []Member{{"m-admin", admin, true}, {"m2", "u2", false}, {"m9", "u9", true}}
	tm.Desired = map[string]Person{"u2": person(2, RoleMember)}
	p = PlanMembers(MembersInput{Teams: []TeamMembers{tm}, AdminObjectID: admin, AdminLeaves: true, Guards: Guards{TeamRemovalPercent: 30}})
	if kinds(p) != "" {
		t.Errorf("plan %q: no course owner, the account stays", kinds(p))
	}
}
