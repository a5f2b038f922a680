package reconcile

import (
	"fmt"
	"strings"
	"testing"
)

const admin = "aaaaaaaa-0000-0000-0000-000000000001"

func course(id int) Course {
	return Course{CourseID: id, OrganisationID: 1, Code: "MED1", Name: "Anatomy", Exists: true, Active: true, CurrentPeriod: true,
		Enabled: true, DisplayName: "MED1 Anatomy", Description: "Bones", MailNickname: MailNickname("", testInst, 1, id, "MED1"),
		OwnerIDs: []string{"owner-1"}}
}

func teamRec(id int) TeamRecord {
	return TeamRecord{CourseID: id, State: StateTeam, GroupID: "g1", DisplayName: "MED1 Anatomy", DescriptionHash: HashText("Bones")}
}

func kinds(p Plan) string {
	var s []string
	for _, a := range p.Actions {
		s = append(s, string(a.Kind))
	}
	return strings.Join(s, ",")
}

// findingKinds lists the plan's findings, then those of the guards that
// held (the report carries both).
func findingKinds(p Plan) string {
	var s []string
	for _, f := range p.Findings {
		s = append(s, string(f.Kind))
	}
	for _, h := range p.Held {
		s = append(s, string(h.Finding.Kind))
	}
	return strings.Join(s, ",")
}

func TestPlanTeams(t *testing.T) {
	cases := []struct {
		name      string
		course    func(*Course)
		rec       *TeamRecord
		courseEnd string
		ownerReq  bool
		actions   string
		findings  string
		check     func(*testing.T, Plan)
	}{
		{name: "new course gets a Team", actions: "create_team", check: func(t *testing.T, p Plan) {
			a := p.Actions[0]
			if a.GroupID != "" || a.MailNickname != "elentra-"+testInst+"-o1-c7-med1" || a.DisplayName != "MED1 Anatomy" {
				t.Errorf("action %+v", a)
			}
			if len(a.OwnerIDs) != 2 || a.OwnerIDs[0] != admin || a.OwnerIDs[1] != "owner-1" {
				t.Errorf("owners %v: the authorizing account first, then Elentra's owners", a.OwnerIDs)
			}
		}},
		{name: "in sync: nothing", rec: ptr(teamRec(7))},
		{name: "recorded intent: create again after lookup", rec: &TeamRecord{CourseID: 7, State: StateGroupIntent}, actions: "create_team",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(p.Actions[0].Reason, "looked up") {
					t.Errorf("reason %q", p.Actions[0].Reason)
				}
			}},
		{name: "group without team", rec: &TeamRecord{CourseID: 7, State: StateGroup, GroupID: "g1"}, actions: "create_team",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].GroupID != "g1" {
					t.Error("the existing group must be reused")
				}
			}},
		{name: "failed with group retries team", rec: &TeamRecord{CourseID: 7, State: StateFailed, GroupID: "g1"}, actions: "create_team"},
		{name: "renamed course", course: func(c *Course) { c.DisplayName = "MED1 Human Anatomy" }, rec: ptr(teamRec(7)), actions: "rename_team",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].DisplayName != "MED1 Human Anatomy" || p.Actions[0].Description != nil {
					t.Errorf("rename %+v", p.Actions[0])
				}
			}},
		{name: "new description", course: func(c *Course) { c.Description = "Bones and muscles" }, rec: ptr(teamRec(7)), actions: "rename_team",
			check: func(t *testing.T, p Plan) {
				if p.Actions[0].DisplayName != "" || p.Actions[0].Description == nil || *p.Actions[0].Description != "Bones and muscles" {
					t.Errorf("describe %+v", p.Actions[0])
				}
			}},
		{name: "long description truncated, no rename loop", course: func(c *Course) { c.Description = strings.Repeat("é", 2000) },
			rec: &TeamRecord{CourseID: 7, State: StateTeam, GroupID: "g1", DisplayName: "MED1 Anatomy", DescriptionHash: HashText(strings.Repeat("é", 1024))}},
		{name: "disabled, keep", course: func(c *Course) { c.Enabled = false }, rec: ptr(teamRec(7)), courseEnd: "keep"},
		{name: "disabled, archive", course: func(c *Course) { c.Enabled = false }, rec: ptr(teamRec(7)), courseEnd: "archive", actions: "archive_team"},
		{name: "disabled, already archived", course: func(c *Course) { c.Enabled = false },
			rec: &TeamRecord{CourseID: 7, State: StateArchived, GroupID: "g1"}, courseEnd: "archive"},
		{name: "period ended, archive", course: func(c *Course) { c.CurrentPeriod = false }, rec: ptr(teamRec(7)), courseEnd: "archive", actions: "archive_team"},
		{name: "inactive course without team", course: func(c *Course) { c.Active = false }, findings: "course_not_current",
			check: func(t *testing.T, p Plan) {
				if !strings.Contains(p.Findings[0].Message, "inactive") {
					t.Errorf("finding %q", p.Findings[0].Message)
				}
			}},
		{name: "no period, no team", course: func(c *Course) { c.CurrentPeriod = false }, findings: "course_not_current"},
		{name: "current again: unarchive", rec: &TeamRecord{CourseID: 7, State: StateArchived, GroupID: "g1",
			DisplayName: "MED1 Anatomy", DescriptionHash: HashText("Bones")}, actions: "unarchive_team"},
		{name: "no owner delegated: Team with warning", course: func(c *Course) { c.OwnerIDs = nil; c.OwnersWithoutID = 2 },
			actions: "create_team", findings: "no_owner", check: func(t *testing.T, p Plan) {
				if !strings.Contains(p.Findings[0].Message, "2 owners have no Microsoft Object ID") {
					t.Errorf("finding %q", p.Findings[0].Message)
				}
			}},
		{name: "no owner application: no Team", course: func(c *Course) { c.OwnerIDs = nil }, ownerReq: true, findings: "no_owner"},
		{name: "disabled, never had a team: nothing", course: func(c *Course) { c.Enabled = false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := course(7)
			if tc.course != nil {
				tc.course(&c)
			}
			recs := map[int]TeamRecord{}
			if tc.rec != nil {
				recs[7] = *tc.rec
			}
			p := PlanTeams(TeamsInput{Courses: []Course{c}, Records: recs, CourseEnd: tc.courseEnd, AdminObjectID: admin, OwnerRequired: tc.ownerReq, Guards: testGuards})
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

func TestPlanTeamsDeletedCourse(t *testing.T) {
	recs := map[int]TeamRecord{9: {CourseID: 9, State: StateTeam, GroupID: "g9"}, 10: {CourseID: 10, State: StateGroupIntent}}
	p := PlanTeams(TeamsInput{Records: recs, CourseEnd: "archive", AdminObjectID: admin, Guards: testGuards})
	if kinds(p) != "archive_team" || p.Actions[0].CourseID != 9 || !strings.Contains(p.Actions[0].Reason, "no longer exists") {
		t.Errorf("plan %+v", p.Actions)
	}
}

func TestCreationOwnersCapped(t *testing.T) {
	var owners []string
	for i := 0; i < 30; i++ {
		owners = append(owners, "o"+string(rune('a'+i)))
	}
	owners = append(owners, strings.ToUpper(admin)) // the admin is an Elentra owner too
	got := creationOwners(admin, owners)
	if len(got) != MaxOwnersAtCreation || got[0] != admin {
		t.Errorf("got %d owners starting %q", len(got), got[0])
	}
}

func TestMailNickname(t *testing.T) {
	key := "elentra-k7q2m9xd-o1-c42"
	cases := map[string]string{
		"MED 101":                key + "-med-101",
		"Anat./Phys. (I)":        key + "-anat-phys-i",
		"Été@Zoë's \"quoted\"":   key + "-ete-zoe-s-quoted",
		"":                       key,
		"日本語":                    key,
		strings.Repeat("X", 100): key + "-" + strings.Repeat("x", 64-len(key+"-")),
	}
	for code, want := range cases {
		if got := MailNickname("elentra", "k7q2m9xd", 1, 42, code); got != want {
			t.Errorf("MailNickname(%q) = %q, want %q", code, got, want)
		}
	}
	// two courses never share a nickname, whatever their codes
	if MailNickname("", testInst, 1, 4, "2-X") == MailNickname("", testInst, 1, 42, "X") {
		t.Error("nicknames collide")
	}
	// nor two installations sharing a tenant, whatever their prefixes
	if MailNickname("elentra", "k7q2m9xd", 1, 42, "X") == MailNickname("elentra", "b3c4d5e6", 1, 42, "X") {
		t.Error("two installations' nicknames collide")
	}
	if MailNickname("elentra-staging", testInst, 1, 42, "X") == MailNickname("elentra", testInst, 1, 42, "X") {
		t.Error("nicknames collide")
	}
	// the groups made before installation ids
	if got := MailNickname("elentra", "", 1, 42, "MED 101"); got != "elentra-o1-c42-med-101" {
		t.Errorf("the key of the groups made before installations: %q", got)
	}
}

// A group a run meant to make is looked up by the key it was meant with.
func TestNicknameKeyOf(t *testing.T) {
	for _, tc := range []struct {
		nick, want string
		ok         bool
	}{
		{"elentra-o1-c42-med-101", "elentra-o1-c42", true},
		{"elentra-k7q2m9xd-o1-c42-med-101", "elentra-k7q2m9xd-o1-c42", true},
		{"elentra-k7q2m9xd-o1-c42", "elentra-k7q2m9xd-o1-c42", true},
		{"med-o1-c420-x-o1-c42-y", "med-o1-c420-x-o1-c42", true},
		{"elentra-o1-c420-med", "", false},
		{"-o1-c42", "", false},
		{"elentra-o2-c42-med", "", false},
	} {
		got, ok := NicknameKeyOf(tc.nick, 1, 42)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NicknameKeyOf(%q) = %q, %v; want %q, %v", tc.nick, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzMailNickname: whatever the code, the nickname is what Graph accepts
// and starts with the deterministic prefix.
func FuzzMailNickname(f *testing.F) {
	f.Add(1, 42, "MED 101")
	f.Add(2, 7, "Zoë's \"Anatomy\" <I>")
	f.Fuzz(func(t *testing.T, org, id int, code string) {
		if org < 0 || id < 0 {
			return
		}
		n := MailNickname("", testInst, org, id, code)
		if len(n) > 64 {
			t.Fatalf("%q longer than 64", n)
		}
		for _, r := range n {
			if r >= 128 || strings.ContainsRune("@()\\[]\";:<>, ./'", r) {
				t.Fatalf("%q holds %q", n, r)
			}
		}
		prefix := MailNickname("", testInst, org, id, "")
		if len(prefix) <= 64 && !strings.HasPrefix(n, prefix[:min(len(prefix), len(n))]) {
			t.Fatalf("%q lost its prefix %q", n, prefix)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Application mode: no account owns everything. A course without an owner
// gets no Team, unless sync.fallback_owner stands in.
func TestPlanTeamsApplicationMode(t *testing.T) {
	c := course(7)
	c.OwnerIDs = nil
	p := PlanTeams(TeamsInput{Courses: []Course{c}, OwnerRequired: true})
	if kinds(p) != "" || findingKinds(p) != "no_owner" {
		t.Errorf("without a stand-in: actions %q findings %q", kinds(p), findingKinds(p))
	}
	p = PlanTeams(TeamsInput{Courses: []Course{c}, OwnerRequired: true, StandInOwner: "fallback"})
	if kinds(p) != "create_team" || strings.Join(p.Actions[0].OwnerIDs, ",") != "fallback" || !strings.Contains(p.Findings[0].Message, "fallback_owner stands in") {
		t.Errorf("with a stand-in: %+v %+v", p.Actions, p.Findings)
	}
	c = course(8)
	p = PlanTeams(TeamsInput{Courses: []Course{c}, OwnerRequired: true, StandInOwner: "fallback"})
	if strings.Join(p.Actions[0].OwnerIDs, ",") != "owner-1" {
		t.Errorf("a course with an owner binds only its owners: %v", p.Actions[0].OwnerIDs)
	}
}

// PlanTeams plans what NextTeamSync says, for every standing of a course
// and every record it may have: `courses list` shows the same rule.
func TestPlanTeamsFollowsNextTeamSync(t *testing.T) {
	records := map[string]*TeamRecord{
		"none":           nil,
		"intent":         {CourseID: 7, State: StateGroupIntent},
		"group":          {CourseID: 7, State: StateGroup, GroupID: "g1"},
		"failed, group":  {CourseID: 7, State: StateFailed, GroupID: "g1"},
		"team":           ptr(teamRec(7)),
		"archived":       {CourseID: 7, State: StateArchived, GroupID: "g1", DisplayName: "MED1 Anatomy", DescriptionHash: HashText("Bones")},
		"team, no group": {CourseID: 7, State: StateTeam},
	}
	want := map[TeamStep]string{TeamCreate: "create_team", TeamUnarchive: "unarchive_team", TeamArchive: "archive_team"}
	for _, exists := range []bool{true, false} {
		for _, enabled := range []bool{true, false} {
			for _, active := range []bool{true, false} {
				for _, period := range []bool{true, false} {
					for name, rec := range records {
						for _, end := range []string{"keep", "archive"} {
							c := course(7)
							c.Exists, c.Enabled, c.Active, c.CurrentPeriod = exists, enabled, active, period
							recs := map[int]TeamRecord{}
							var r TeamRecord
							if rec != nil {
								r, recs[7] = *rec, *rec
							}
							next := NextTeamSync(c, r, end)
							p := PlanTeams(TeamsInput{Courses: []Course{c}, Records: recs, CourseEnd: end, AdminObjectID: admin, Guards: testGuards})
							label := fmt.Sprintf("exists %v, enabled %v, active %v, period %v, record %s, course_end %s: %s", exists, enabled, active, period, name, end, next)
							if got := kinds(p); got != want[next.Step] {
								t.Errorf("%s: actions %q, want %q", label, got, want[next.Step])
							}
							if skipped := findingKinds(p) == "course_not_current"; skipped != (next.Step == TeamSkip) {
								t.Errorf("%s: findings %q", label, findingKinds(p))
							}
						}
					}
				}
			}
		}
	}
}

func TestNextTeamSyncWords(t *testing.T) {
	for _, tc := range []struct {
		next NextSync
		want string
	}{
		{NextSync{TeamCreate, StandingCurrent}, SyncCreateTeam},
		{NextSync{TeamInSync, StandingCurrent}, SyncInSync},
		{NextSync{TeamUnarchive, StandingCurrent}, SyncUnarchive},
		{NextSync{TeamArchive, StandingDisabled}, SyncArchive},
		{NextSync{TeamKeep, StandingDisabled}, SyncKeepDisabled},
		{NextSync{TeamKeep, StandingNotInElentra}, SyncKeepNotExists},
		{NextSync{TeamKeep, StandingInactive}, SyncInactive},
		{NextSync{TeamSkip, StandingInactive}, SyncInactive},
		{NextSync{TeamSkip, StandingNoPeriod}, SyncNoPeriod},
		{NextSync{TeamSkip, StandingNotInElentra}, SyncNotInElentra},
		{NextSync{TeamNothing, StandingDisabled}, SyncNothing},
		{NextSync{TeamNothing, StandingNotInElentra}, SyncNothing},
	} {
		if got := tc.next.String(); got != tc.want {
			t.Errorf("%+v says %q, want %q", tc.next, got, tc.want)
		}
	}
	said := map[string]bool{}
	for _, tt := range NextSyncTexts() {
		said[tt.Text] = true
	}
	for _, w := range []string{SyncCreateTeam, SyncInSync, SyncUnarchive, SyncArchive, SyncNoPeriod, SyncInactive, SyncNotInElentra, SyncKeepDisabled, SyncKeepNotExists, SyncNothing} {
		if !said[w] {
			t.Errorf("the help does not explain %q", w)
		}
	}
}
