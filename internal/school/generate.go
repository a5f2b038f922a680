package school

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// School is a generated school: the rows of every table, and the labels of
// its edge cases.
type School struct {
	Spec Spec

	Organisations   []Organisation
	Users           []User
	Access          []Access
	CurriculumTypes []CurriculumType
	Periods         []Period
	Courses         []Course
	Audience        []Audience
	Groups          []Group
	Members         []Member
	Contacts        []Contact
	Events          []Event
	EventAudience   []EventAudience
	EventContacts   []EventContact
	Settings        []Setting

	// Edge names the ids of the edge cases.
	Edge Edge
	// Why labels each edge-case user, course and event with what is special
	// about it, keyed "user 12", "course 3", "event 40".
	Why map[string]string
}

// Edge names the generated edge cases. A zero id means the school was too
// small to hold that case.
type Edge struct {
	// Admin is Elentra user 1 (medtech/admin), who has an email.
	Admin int
	// EdgeCourse is the course the edge-case users are attached to (through
	// its section group or rows of their own).
	EdgeCourse int

	// Users the learner rule must exclude from EdgeCourse, each for one
	// reason only.
	AccessExpired, AccessNotStarted, AccountDisabled, OtherOrgUser, NotStudent int
	MembershipEnded, MembershipNotStarted, MemberInactive                      int
	AudienceInactive, EnrolmentEnded, EnrolmentNotStarted, PastPeriod          int
	InExpiredGroup, InInactiveGroup, InFutureGroup                             int

	// Learners of EdgeCourse whose directory matching is hard.
	NoEmail            int
	SameEmail          [2]int
	NoDirectoryAccount int
	DifferentCaseMail  int
	QuotedNames        []int

	// Courses.
	LongName          int // an 85-character name
	QuotedName        int // quotes and accents
	NoOwner           int // no contacts, no pcoord_id
	PcoordOnly        int // owned only through courses.pcoord_id
	NoOwnerTypes      int // contacts, but none of an owner type (ta, evaluationrep)
	PcoordMissingUser int // pcoord_id names no user
	Inactive          int // course_active = 0
	NoCurrentPeriod   []int
	OtherOrgCourse    int // a course of another organisation
	CohortAudience    int // audience is a whole cohort

	// Events.
	AcrossMidnight int   // crosses local midnight
	AcrossDST      int   // spans the next daylight-saving change
	Children       []int // child events (parent_id set)
	BeyondHorizon  []int
	Past           []int
}

// Contact types in the order courses get them.
var ownerTypes = []string{"director", "ccoordinator", "pcoordinator", "faculty", "faculty", "faculty", "faculty"}

var firstNames = []string{
	"Amelia", "Noah", "Olivia", "Liam", "Hélène", "Zoë", "José", "François", "Siobhán", "Émilie",
	"Aarav", "Mei", "Fatima", "Kwame", "Ingrid", "Mateo", "Chloé", "Anaïs", "Björn", "Priya",
	"Sophie", "Lucas", "Maya", "Ethan", "Leah", "Omar", "Yuki", "Nadia", "Tomás", "Ava",
}

var lastNames = []string{
	"Smith", "O'Brien", "D'Angelo", "Nguyễn", "Müller", "García", "Tremblay", "Côté", "Singh", "Chen",
	"Okafor", "Kowalski", "MacDonald", "Leblanc", "Ó Súilleabháin", "Gagnon", "Roy", "Patel", "Kim", "Martin",
	"Bouchard", "Wilson", "Ahmed", "Lee", "Brown", "Taylor", "St-Pierre", "Lefèvre", "Haddad", "Novak",
}

var subjects = []string{
	"Anatomy", "Physiology", "Biochemistry", "Pathology", "Pharmacology", "Microbiology", "Immunology",
	"Clinical Skills", "Ethics & Professionalism", "Population Health", "Cardiology", "Neurology",
	"Paediatrics", "Obstetrics", "Psychiatry", "Surgery", "Family Medicine", "Emergency Medicine",
}

var locations = []string{"Room 101", "Lecture Hall A", "Sim Centre", "Clinical Skills Lab 3", "Online", "Café Médical — 2nd floor"}

// Generate builds the school spec describes. It is deterministic: the same
// spec gives the same rows.
func Generate(spec Spec) *School {
	spec = spec.withDefaults()
	g := &generator{
		s:   &School{Spec: spec, Why: map[string]string{}},
		rng: rand.New(rand.NewPCG(uint64(spec.Seed), 0x5eed5c4001)),
	}
	loc, err := time.LoadLocation(spec.Timezone)
	if err != nil {
		loc = time.UTC
	}
	g.loc = loc
	g.now = spec.Now.Unix()
	g.build()
	return g.s
}

type generator struct {
	s   *School
	rng *rand.Rand
	loc *time.Location
	now int64

	faculty  []int
	learners []int
	sections []int // group ids
	cohorts  []int // group ids
	// periodOf is the current (or, without one, future) period per type.
	periodOf map[int]int
	pastOf   map[int]int
	ownersOf map[int][]int
	nextID   map[string]int
	otherOrg int
}

const day = int64(24 * 3600)

func (g *generator) id(table string) int {
	if g.nextID == nil {
		g.nextID = map[string]int{}
	}
	g.nextID[table]++
	return g.nextID[table]
}

func (g *generator) why(kind string, id int, reason string) {
	key := fmt.Sprintf("%s %d", kind, id)
	if prev, ok := g.s.Why[key]; ok {
		reason = prev + "; " + reason
	}
	g.s.Why[key] = reason
}

func (g *generator) build() {
	spec := g.s.Spec
	g.otherOrg = spec.OrganisationID + 1
	g.s.Organisations = []Organisation{
		{ID: spec.OrganisationID, Title: "Faculty of Medicine", Active: true},
		{ID: g.otherOrg, Title: "School of Nursing", Active: true},
	}
	g.settings()
	g.curriculum()
	g.people()
	g.groups()
	g.courses()
	g.edgeUsers()
	g.events()
}

func (g *generator) settings() {
	spec := g.s.Spec
	if spec.TeamsEnabled {
		g.s.Settings = append(g.s.Settings,
			Setting{ID: g.id("settings"), Shortname: "microsoft_teams_enabled", OrganisationID: spec.OrganisationID, Value: "1"},
			Setting{ID: g.id("settings"), Shortname: "personal_meeting_window_minutes", Value: "10"})
	}
	g.s.Settings = append(g.s.Settings,
		Setting{ID: g.id("settings"), Shortname: "user_menu_ordering", OrganisationID: spec.OrganisationID, Value: "dashboard,courses,events,communities,profile"})
}

// curriculum makes three curriculum types with past, current and future
// periods; Electives has no current period. Pre-clerkship also has a longer
// period covering now, so the choice among two current periods is exercised.
func (g *generator) curriculum() {
	g.periodOf, g.pastOf = map[int]int{}, map[int]int{}
	year := time.Unix(g.now, 0).In(g.loc).Year()
	for _, ct := range []CurriculumType{{1, "Pre-clerkship"}, {2, "Clerkship"}, {3, "Electives"}} {
		g.s.CurriculumTypes = append(g.s.CurriculumTypes, ct)
		past := Period{ID: g.id("periods"), TypeID: ct.ID, Title: fmt.Sprintf("%s %d-%d", ct.Name, year-1, year), Start: g.now - 400*day, Finish: g.now - 200*day}
		future := Period{ID: g.id("periods"), TypeID: ct.ID, Title: fmt.Sprintf("%s %d-%d", ct.Name, year+1, year+2), Start: g.now + 200*day, Finish: g.now + 400*day}
		g.s.Periods = append(g.s.Periods, past, future)
		g.pastOf[ct.ID] = past.ID
		g.periodOf[ct.ID] = future.ID
		if ct.ID == 3 {
			continue
		}
		current := Period{ID: g.id("periods"), TypeID: ct.ID, Title: fmt.Sprintf("%s %d-%d", ct.Name, year, year+1), Start: g.now - 100*day, Finish: g.now + 100*day}
		g.s.Periods = append(g.s.Periods, current)
		g.periodOf[ct.ID] = current.ID
		if ct.ID == 1 {
			g.s.Periods = append(g.s.Periods, Period{ID: g.id("periods"), TypeID: 1, Title: "Whole programme", Start: g.now - 700*day, Finish: g.now + 700*day})
		}
	}
}

func (g *generator) addUser(kind, first, last, email string, org int) int {
	id := g.id("users")
	u := User{
		ID: id, Username: fmt.Sprintf("%s%d", kind, id), FirstName: first, LastName: last,
		Email: email, OrganisationID: org, Kind: kind, DirectoryID: objectID(g.s.Spec.Seed, id),
	}
	if email == "" && kind != "admin" {
		u.Email = fmt.Sprintf("%s%d@%s", kind, id, g.s.Spec.Domain)
	}
	g.s.Users = append(g.s.Users, u)
	return id
}

func (g *generator) addAccess(userID, org int, group, role string) *Access {
	g.s.Access = append(g.s.Access, Access{
		ID: g.id("access"), UserID: userID, AppID: g.s.Spec.AppID, OrganisationID: org,
		Active: true, Group: group, Role: role,
	})
	return &g.s.Access[len(g.s.Access)-1]
}

func (g *generator) name() (string, string) {
	return firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
}

func (g *generator) people() {
	spec := g.s.Spec
	admin := g.addUser("admin", "System", "Administrator", "medtech@"+spec.Domain, spec.OrganisationID)
	g.s.Users[0].Username = "admin"
	g.addAccess(admin, spec.OrganisationID, "medtech", "admin")
	g.s.Edge.Admin = admin

	nFaculty := max(spec.OwnersPerCourse+2, spec.Courses*spec.OwnersPerCourse/4)
	for range nFaculty {
		first, last := g.name()
		id := g.addUser("faculty", first, last, "", spec.OrganisationID)
		g.addAccess(id, spec.OrganisationID, "faculty", "lecturer")
		g.faculty = append(g.faculty, id)
	}
	gradYear := time.Unix(g.now, 0).In(g.loc).Year() + 1
	for i := range spec.Learners {
		first, last := g.name()
		id := g.addUser("learner", first, last, "", spec.OrganisationID)
		g.addAccess(id, spec.OrganisationID, "student", fmt.Sprint(gradYear+i%4))
		g.learners = append(g.learners, id)
	}
}

// groups makes four cohorts ("Class of …") and course sections of about
// LearnersPerCourse learners; every learner is in one of each.
func (g *generator) groups() {
	spec := g.s.Spec
	gradYear := time.Unix(g.now, 0).In(g.loc).Year() + 1
	for i := range 4 {
		id := g.id("groups")
		g.s.Groups = append(g.s.Groups, Group{ID: id, Name: fmt.Sprintf("Class of %d", gradYear+i), Type: "cohort", Active: true})
		g.cohorts = append(g.cohorts, id)
	}
	nSections := (len(g.learners) + spec.LearnersPerCourse - 1) / spec.LearnersPerCourse
	for i := range nSections {
		id := g.id("groups")
		start, expire := g.now-120*day, int64(0)
		g.s.Groups = append(g.s.Groups, Group{ID: id, Name: fmt.Sprintf("Section %d", i+1), Type: "course_list", Start: &start, Expire: &expire, Active: true})
		g.sections = append(g.sections, id)
	}
	for i, l := range g.learners {
		g.addMember(g.cohorts[i%4], l)
		g.addMember(g.sections[i/spec.LearnersPerCourse], l)
	}
}

func (g *generator) addMember(group, proxy int) *Member {
	g.s.Members = append(g.s.Members, Member{ID: g.id("members"), GroupID: group, ProxyID: proxy, Active: true})
	return &g.s.Members[len(g.s.Members)-1]
}

func (g *generator) addAudience(course int, typ string, value, period int) *Audience {
	g.s.Audience = append(g.s.Audience, Audience{ID: g.id("audience"), CourseID: course, Type: typ, Value: value, PeriodID: period, Active: true})
	return &g.s.Audience[len(g.s.Audience)-1]
}

// longCourseName is exactly 85 characters, Elentra's course_name limit.
const longCourseName = "Foundations of Clinical Medicine: Cardiovascular, Respiratory and Renal Systems (FCM)"

func (g *generator) courses() {
	spec := g.s.Spec
	g.ownersOf = map[int][]int{}
	e := &g.s.Edge
	for k := range spec.Courses {
		id := g.id("courses")
		typ := 1 + k%2
		if k%10 == 9 {
			typ = 3
		}
		subject := subjects[k%len(subjects)]
		c := Course{
			ID: id, OrganisationID: spec.OrganisationID, TypeID: typ, Active: true,
			Code: fmt.Sprintf("MED %d%02d", 1+k/100%9, k%100), Name: fmt.Sprintf("%s %d", subject, 1+k/len(subjects)),
			Description: fmt.Sprintf("<p>%s for year %d learners.</p>", subject, 1+k%4),
		}
		if k >= 100*9 {
			c.Code = fmt.Sprintf("MED%d", k)
		}
		owners := true
		switch k {
		case 0:
			c.Name = longCourseName
			e.LongName, e.EdgeCourse = id, id
			g.why("course", id, "85-character name; edge-case users attached")
		case 1:
			owners = false
			e.NoOwner = id
			g.why("course", id, "no owner: no contacts and no pcoord_id")
		case 2:
			owners = false
			c.PcoordID = g.faculty[0]
			e.PcoordOnly = id
			g.why("course", id, "owned only through courses.pcoord_id")
		case 4:
			owners = false
			e.NoOwnerTypes = id
			g.why("course", id, "contacts of non-owner types only (ta, evaluationrep)")
		case 5:
			c.PcoordID = 99999999
			e.PcoordMissingUser = id
			g.why("course", id, "pcoord_id names a user that does not exist")
		case 6:
			c.Name = `Hélène O'Brien's "Zoë" Seminar — Médecine`
			c.Description = `<p>Quotes ' " and accents é à ü, a backslash \ and 50% of a LIKE _pattern_.</p>`
			e.QuotedName = id
			g.why("course", id, "name with quotes and accents")
		case 7:
			c.Active = false
			e.Inactive = id
			g.why("course", id, "inactive (course_active = 0)")
		}
		if typ == 3 {
			e.NoCurrentPeriod = append(e.NoCurrentPeriod, id)
			g.why("course", id, "curriculum type without a current period")
		}
		g.s.Courses = append(g.s.Courses, c)

		period := g.periodOf[typ]
		g.addAudience(id, "group_id", g.sections[k%len(g.sections)], period)
		if k == 3 {
			g.addAudience(id, "group_id", g.cohorts[0], period)
			e.CohortAudience = id
			g.why("course", id, "audience includes a whole cohort")
		}
		// Two learners from elsewhere by proxy_id rows, and now and then one
		// already in the section, so that the union has duplicates to drop.
		for range 2 {
			g.addAudience(id, "proxy_id", g.learners[g.rng.IntN(len(g.learners))], period)
		}
		if k%7 == 0 {
			sec := k % len(g.sections)
			g.addAudience(id, "proxy_id", g.learners[min(sec*spec.LearnersPerCourse, len(g.learners)-1)], period)
		}

		if owners {
			for j := range spec.OwnersPerCourse {
				f := g.faculty[(k*spec.OwnersPerCourse+j)%len(g.faculty)]
				g.addContact(id, f, ownerTypes[j%len(ownerTypes)], j)
				g.ownersOf[id] = append(g.ownersOf[id], f)
			}
		}
		if k%3 == 0 || k == 4 {
			g.addContact(id, g.faculty[(k+1)%len(g.faculty)], "ta", 0)
			g.addContact(id, g.faculty[(k+2)%len(g.faculty)], "evaluationrep", 0)
		}
	}

	// A course of another organisation whose audience is a section of this
	// school: only a learner with student access in that organisation (the
	// edge user OtherOrgUser) is its learner.
	other := g.id("courses")
	g.s.Courses = append(g.s.Courses, Course{ID: other, OrganisationID: g.otherOrg, TypeID: 1, Active: true, Code: "NURS 100", Name: "Nursing Foundations", Description: ""})
	g.addAudience(other, "group_id", g.sections[0], g.periodOf[1])
	e.OtherOrgCourse = other
	g.why("course", other, "belongs to another organisation")
}

func (g *generator) addContact(course, proxy int, typ string, order int) {
	g.s.Contacts = append(g.s.Contacts, Contact{ID: g.id("contacts"), CourseID: course, ProxyID: proxy, Type: typ, Order: order})
}

// edgeUsers adds the users that test the learner rule and directory
// matching, all attached to the edge course (course 1).
func (g *generator) edgeUsers() {
	spec := g.s.Spec
	e := &g.s.Edge
	course := e.EdgeCourse
	if course == 0 {
		return
	}
	section := g.sections[0]
	period := g.periodOf[1]
	org := spec.OrganisationID
	student := func(first, last, reason string) (int, *Access) {
		id := g.addUser("learner", first, last, "", org)
		a := g.addAccess(id, org, "student", "2027")
		g.why("user", id, reason)
		return id, a
	}
	inSection := func(first, last, reason string) (int, *Access, *Member) {
		id, a := student(first, last, reason)
		return id, a, g.addMember(section, id)
	}

	var a *Access
	var m *Member
	e.AccessExpired, a, _ = inSection("Expired", "Access", "access expired yesterday")
	a.Expires = g.now - day
	e.AccessNotStarted, a, _ = inSection("Future", "Access", "access starts tomorrow")
	a.Starts = g.now + day
	e.AccountDisabled, a, _ = inSection("Disabled", "Account", "account_active = 'false'")
	a.Active = false
	e.NotStudent, a, _ = inSection("Not", "Student", "access group is faculty, not student")
	a.Group = "faculty"
	e.OtherOrgUser = g.addUser("learner", "Other", "Organisation", "", g.otherOrg)
	g.addAccess(e.OtherOrgUser, g.otherOrg, "student", "2027")
	g.addMember(section, e.OtherOrgUser)
	g.why("user", e.OtherOrgUser, "user and access in another organisation")

	e.MembershipEnded, _, m = inSection("Ended", "Member", "section membership ended yesterday")
	m.Finish = g.now - day
	e.MembershipNotStarted, _, m = inSection("Future", "Member", "section membership starts tomorrow")
	m.Start = g.now + day
	e.MemberInactive, _, m = inSection("Inactive", "Member", "member_active = 0")
	m.Active = false

	var aud *Audience
	e.AudienceInactive, _ = student("Inactive", "Audience", "own audience row inactive")
	aud = g.addAudience(course, "proxy_id", e.AudienceInactive, period)
	aud.Active = false
	e.EnrolmentEnded, _ = student("Ended", "Enrolment", "enrolment finished yesterday")
	aud = g.addAudience(course, "proxy_id", e.EnrolmentEnded, period)
	aud.EnrollStart, aud.EnrollFinish = g.now-30*day, g.now-day
	e.EnrolmentNotStarted, _ = student("Future", "Enrolment", "enrolment starts tomorrow")
	aud = g.addAudience(course, "proxy_id", e.EnrolmentNotStarted, period)
	aud.EnrollStart = g.now + day
	e.PastPeriod, _ = student("Past", "Period", "audience row of last year's period")
	g.addAudience(course, "proxy_id", e.PastPeriod, g.pastOf[1])

	groupOf := func(name string, start, expire *int64, active bool, reason string) int {
		gid := g.id("groups")
		g.s.Groups = append(g.s.Groups, Group{ID: gid, Name: name, Type: "cohort", Start: start, Expire: expire, Active: active})
		g.addAudience(course, "group_id", gid, period)
		uid, _ := student("Grouped", "Only", reason)
		g.addMember(gid, uid)
		return uid
	}
	past, future, zero := g.now-day, g.now+day, int64(0)
	e.InExpiredGroup = groupOf("Class of 2019", &zero, &past, true, "only in a group that expired yesterday")
	e.InInactiveGroup = groupOf("Class of 2018 (archived)", nil, nil, false, "only in an inactive group")
	e.InFutureGroup = groupOf("Class of 2031", &future, nil, true, "only in a group that starts tomorrow")

	// Learners of the edge course whose directory matching is hard.
	e.NoEmail, _, _ = inSection("Nomail", "Learner", "no email address")
	g.user(e.NoEmail).Email = ""
	g.user(e.NoEmail).DirectoryID = ""
	first, _, _ := inSection("Shared", "Mail", "shares an email with another user")
	second, _, _ := inSection("Shared", "Mail", "shares an email with another user")
	e.SameEmail = [2]int{first, second}
	g.user(second).Email = g.user(first).Email
	g.user(second).DirectoryID = ""
	e.NoDirectoryAccount, _, _ = inSection("Nodirectory", "Learner", "no directory account")
	g.user(e.NoDirectoryAccount).DirectoryID = ""
	e.DifferentCaseMail, _, _ = inSection("Case", "Mail", "directory mail differs in letter case")
	for _, n := range [][2]string{{"Siobhán", "O'Brien"}, {"Hélène", "D'Angelo"}, {`"Zoë"`, "Côté-Müller"}} {
		id, _, _ := inSection(n[0], n[1], "name with quotes and accents")
		e.QuotedNames = append(e.QuotedNames, id)
	}
}

func (g *generator) user(id int) *User {
	for i := range g.s.Users {
		if g.s.Users[i].ID == id {
			return &g.s.Users[i]
		}
	}
	panic(fmt.Sprintf("school: no user %d", id))
}

// events places Events (or EventsPerCourse per course) events at school
// hours within the horizon, a tenth as many beyond it, a few in the past,
// child events, one across local midnight and one across the next
// daylight-saving change.
func (g *generator) events() {
	spec := g.s.Spec
	e := &g.s.Edge
	var active []Course
	for _, c := range g.s.Courses {
		if c.Active && c.OrganisationID == spec.OrganisationID {
			active = append(active, c)
		}
	}
	total := spec.Events
	if total == 0 {
		total = spec.EventsPerCourse * spec.Courses
	}
	if len(active) == 0 || total == 0 {
		return
	}
	horizonDays := int(spec.Horizon / (24 * time.Hour))
	localNow := time.Unix(g.now, 0).In(g.loc)
	at := func(dayOffset, hour, minute int) int64 {
		return time.Date(localNow.Year(), localNow.Month(), localNow.Day()+dayOffset, hour, minute, 0, 0, g.loc).Unix()
	}
	durations := []int{50, 60, 90, 120}
	// Child events count towards the total: it is the number of events in
	// the horizon.
	for j, added := 0, 0; added < total; j++ {
		c := active[j%len(active)]
		d := 1 + g.rng.IntN(max(1, horizonDays-1))
		start := at(d, 8+g.rng.IntN(9), 30*g.rng.IntN(2))
		ev := g.addEvent(c, 0, start, durations[g.rng.IntN(len(durations))])
		added++
		if j%10 == 0 && added < total {
			added++
			child := g.addEvent(c, ev.ID, ev.Finish+30*60, 60)
			child.Title = ev.Title + " — small-group session"
			e.Children = append(e.Children, child.ID)
			g.why("event", child.ID, fmt.Sprintf("child of event %d", ev.ID))
		}
	}
	for j := range max(1, total/10) {
		c := active[(j*7)%len(active)]
		ev := g.addEvent(c, 0, at(horizonDays+1+g.rng.IntN(30), 9, 0), 60)
		e.BeyondHorizon = append(e.BeyondHorizon, ev.ID)
		g.why("event", ev.ID, "beyond the horizon")
	}
	for j := range max(1, total/50) {
		c := active[(j*3)%len(active)]
		ev := g.addEvent(c, 0, at(-1-g.rng.IntN(7), 10, 0), 60)
		e.Past = append(e.Past, ev.ID)
		g.why("event", ev.ID, "in the past")
	}
	first := active[0]
	ev := g.addEvent(first, 0, at(2, 23, 0), 120)
	ev.Title = "Overnight call simulation"
	e.AcrossMidnight = ev.ID
	g.why("event", ev.ID, "crosses local midnight")
	if tr, ok := nextTransition(g.now, g.loc); ok {
		ev := g.addEvent(first, 0, tr-3600, 180)
		ev.Title = "Night shift handover"
		e.AcrossDST = ev.ID
		g.why("event", ev.ID, "spans a daylight-saving change")
	}
}

func (g *generator) addEvent(c Course, parent int, start int64, minutes int) *Event {
	id := g.id("events")
	subject := strings.TrimRight(strings.SplitN(c.Name, ":", 2)[0], " 0123456789")
	ev := Event{
		ID: id, ParentID: parent, CourseID: c.ID, Title: fmt.Sprintf("%s: session %d", subject, id),
		Description: fmt.Sprintf("<p>Session %d of %s.</p>", id, c.Code), Location: locations[id%len(locations)],
		Start: start, Finish: start + int64(minutes)*60, Duration: minutes, UpdatedDate: g.now - int64(id%30)*day,
	}
	g.s.Events = append(g.s.Events, ev)
	g.s.EventAudience = append(g.s.EventAudience, EventAudience{ID: g.id("eaudience"), EventID: id, Type: "course_id", Value: fmt.Sprint(c.ID)})
	if id%5 == 0 {
		g.s.EventAudience = append(g.s.EventAudience, EventAudience{ID: g.id("eaudience"), EventID: id, Type: "cohort", Value: fmt.Sprint(g.cohorts[id%4])})
	}
	teachers := g.ownersOf[c.ID]
	teacher := g.faculty[id%len(g.faculty)]
	if len(teachers) > 0 {
		teacher = teachers[id%len(teachers)]
	}
	g.s.EventContacts = append(g.s.EventContacts, EventContact{ID: g.id("econtacts"), EventID: id, ProxyID: teacher, Role: "teacher"})
	return &g.s.Events[len(g.s.Events)-1]
}

// nextTransition finds the first change of UTC offset in loc after now
// (within 400 days), to the hour.
func nextTransition(now int64, loc *time.Location) (int64, bool) {
	_, off := time.Unix(now, 0).In(loc).Zone()
	for t := now - now%3600 + 3600; t < now+400*day; t += 3600 {
		if _, o := time.Unix(t, 0).In(loc).Zone(); o != off {
			return t, true
		}
	}
	return 0, false
}

// objectID derives a stable GUID for a user of a seed.
func objectID(seed int64, proxyID int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("elentra-teams school %d user %d", seed, proxyID)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4 layout
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// DirectoryUsers lists the directory accounts of the school's users: one per
// user with a DirectoryID, mail as in Elentra (one in other letter case),
// UPN username@domain. Everyone has a mailbox.
func (s *School) DirectoryUsers() []DirectoryUser {
	var out []DirectoryUser
	for _, u := range s.Users {
		if u.DirectoryID == "" {
			continue
		}
		mail := u.Email
		if u.ID == s.Edge.DifferentCaseMail {
			mail = strings.ToUpper(mail[:1]) + mail[1:]
		}
		out = append(out, DirectoryUser{
			ID: u.DirectoryID, DisplayName: strings.TrimSpace(u.FirstName + " " + u.LastName),
			Mail: mail, UserPrincipalName: u.Username + "@" + s.Spec.Domain, Mailbox: true,
		})
	}
	return out
}
