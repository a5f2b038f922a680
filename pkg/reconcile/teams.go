package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/elentra-teams/elentra-teams/internal/text"
)

// TeamState is where a course's Team stands, as recorded in
// msteams_courses.state. The records, the planner and the SQL that reads or
// writes the column all use these values (a named string goes to and from
// database/sql as its string).
type TeamState string

// Team states.
const (
	StateNone        TeamState = "none"         // no group made or intended
	StateGroupIntent TeamState = "group_intent" // POST /groups about to be (or maybe) sent
	StateGroup       TeamState = "group"        // group exists, no Team yet
	StateTeam        TeamState = "team"
	StateArchived    TeamState = "archived"
	StateFailed      TeamState = "failed"
)

// Course is the desired side of one course: what Elentra says.
type Course struct {
	CourseID       int
	OrganisationID int
	Code, Name     string
	Exists         bool // the courses row exists
	Active         bool // course_active = 1
	CurrentPeriod  bool // a curriculum period covers now
	Enabled        bool // switched on (or sync.all_active_courses)
	DisplayName    string
	Description    string
	MailNickname   string
	NicknameKey    string // the unchanging part of MailNickname
	// OwnerIDs are the Object IDs of the course's Elentra owners.
	OwnerIDs []string
	// OwnersWithoutID counts Elentra owners that have no Object ID yet.
	OwnersWithoutID int
}

// TeamRecord is the actual side of one course: the tool's msteams_courses
// row, the part the planner reads (store.TeamRecord holds it, read as it is).
type TeamRecord struct {
	CourseID        int
	State           TeamState
	GroupID         string
	DisplayName     string // the name last sent to Graph
	DescriptionHash string // of the description last sent
}

// TeamsInput is everything PlanTeams needs.
type TeamsInput struct {
	Courses []Course
	Records map[int]TeamRecord
	// CourseEnd is sync.course_end: keep or archive.
	CourseEnd string
	// AdminObjectID is the authorizing account, owner of what it creates
	// (delegated mode; "" in application mode).
	AdminObjectID string
	// OwnerRequired: a course without an Elentra owner gets no Team
	// (application mode, where no account is owner of everything)...
	OwnerRequired bool
	// ...unless StandInOwner (sync.fallback_owner) stands in as its owner.
	StandInOwner string
	// Guards hold the run's archives when they are too many of the Teams
	// in Records (Guards.RunArchivePercent).
	Guards Guards
}

// MaxOwnersAtCreation: Graph binds at most 20 owners and members when a
// group is created; the rest are added to the Team afterwards.
const MaxOwnersAtCreation = 20

// MaxDescription is a Team description's documented limit.
const MaxDescription = 1024

// HashText is the hash stored to notice a changed description.
func HashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TeamStep is what a sync does next with a course's Team.
type TeamStep int

const (
	// TeamNothing: no Team, and none is wanted (the course is not synced).
	TeamNothing TeamStep = iota
	// TeamSkip: the course is synced but not current, and has no Team:
	// none is created, and a finding says why.
	TeamSkip
	// TeamCreate: synced and current without a Team: it is created (on the
	// group a previous run made, when there is one).
	TeamCreate
	// TeamInSync: synced and current with its Team, which is kept up to
	// date (a rename depends on the name template and is decided when
	// planning).
	TeamInSync
	// TeamUnarchive: synced and current again, its Team archived.
	TeamUnarchive
	// TeamArchive: it has a Team it should no longer have, and
	// sync.course_end is archive.
	TeamArchive
	// TeamKeep: it has a Team it should no longer have, left as it is
	// (sync.course_end keep, or archived already).
	TeamKeep
)

// Standing says whether a course should have an active Team and, when it
// should not, why: the first reason that holds, in the order below.
type Standing int

const (
	StandingCurrent      Standing = iota // synced, active, in a current curriculum period
	StandingNotInElentra                 // Elentra no longer has the course
	StandingDisabled                     // not switched on, nor taken in by sync.all_active_courses
	StandingInactive                     // course_active is 0
	StandingNoPeriod                     // no curriculum period covers today
)

// StandingOf finds a course's standing.
func StandingOf(c Course) Standing {
	switch {
	case !c.Exists:
		return StandingNotInElentra
	case !c.Enabled:
		return StandingDisabled
	case !c.Active:
		return StandingInactive
	case !c.CurrentPeriod:
		return StandingNoPeriod
	}
	return StandingCurrent
}

// reason says the standing in words, for the reasons and findings of a plan.
func (s Standing) reason() string {
	switch s {
	case StandingNotInElentra:
		return "the course no longer exists in Elentra"
	case StandingDisabled:
		return "the course was disabled"
	case StandingInactive:
		return "the course is inactive in Elentra"
	case StandingNoPeriod:
		return "the course has no current curriculum period"
	}
	return "the course is current"
}

// NextSync is what the next sync does with a course's Team, and the
// course's standing that decides it.
type NextSync struct {
	Step     TeamStep
	Standing Standing
}

// NextTeamSync is the rule of a course's Team: PlanTeams plans by it and
// `courses list` says it. rec is the course's record (the zero record when
// there is none); courseEnd is sync.course_end.
func NextTeamSync(c Course, rec TeamRecord, courseEnd string) NextSync {
	standing := StandingOf(c)
	step := TeamNothing
	switch {
	case standing == StandingCurrent && !rec.hasTeam():
		step = TeamCreate
	case standing == StandingCurrent && rec.archived():
		step = TeamUnarchive
	case standing == StandingCurrent:
		step = TeamInSync
	case rec.hasTeam() && courseEnd == "archive" && !rec.archived():
		step = TeamArchive
	case rec.hasTeam():
		step = TeamKeep
	case c.Enabled:
		step = TeamSkip
	}
	return NextSync{Step: step, Standing: standing}
}

// hasTeam: the record maps a group that has its Team (archived or not).
func (r TeamRecord) hasTeam() bool {
	return (r.State == StateTeam || r.State == StateArchived) && r.GroupID != ""
}

func (r TeamRecord) archived() bool { return r.State == StateArchived }

// What `courses list` says the next sync does with a course (NextSync.String).
const (
	SyncCreateTeam    = "create Team"
	SyncInSync        = "in sync"
	SyncUnarchive     = "unarchive at next sync"
	SyncArchive       = "archive at next sync"
	SyncNoPeriod      = "skip: no current curriculum period"
	SyncInactive      = "skip: inactive"
	SyncNotInElentra  = "skip: not in Elentra"
	SyncKeepDisabled  = "keep (disabled)"
	SyncKeepNotExists = "keep (not in Elentra)"
	SyncNothing       = "nothing (disabled)"
)

// String says the next sync in the words of `courses list`.
func (n NextSync) String() string {
	switch n.Step {
	case TeamCreate:
		return SyncCreateTeam
	case TeamInSync:
		return SyncInSync
	case TeamUnarchive:
		return SyncUnarchive
	case TeamArchive:
		return SyncArchive
	case TeamNothing:
		return SyncNothing
	}
	// TeamSkip, TeamKeep: what stands in the way.
	switch n.Standing {
	case StandingInactive:
		return SyncInactive
	case StandingNoPeriod:
		return SyncNoPeriod
	case StandingDisabled:
		return SyncKeepDisabled
	case StandingNotInElentra:
		if n.Step == TeamKeep {
			return SyncKeepNotExists
		}
		return SyncNotInElentra
	}
	return SyncNothing
}

// NextSyncText is one thing `courses list` says, with when it says it.
type NextSyncText struct {
	Text, When string
}

// NextSyncTexts are the words of NextSync.String with when each is said, in
// the order `courses list --help` shows them.
func NextSyncTexts() []NextSyncText {
	return []NextSyncText{
		{SyncCreateTeam, "enabled, current, no Team yet"},
		{SyncInSync, "enabled, current, has its Team (a rename is decided by the sync itself)"},
		{SyncUnarchive, "enabled and current again"},
		{SyncInactive, "enabled, but course_active is 0"},
		{SyncNoPeriod, "enabled, but no term covers today"},
		{SyncNotInElentra, "enabled, but deleted in Elentra"},
		{SyncArchive, "has a Team it no longer should, and sync.course_end is archive"},
		{SyncKeepDisabled, "disabled with a Team, course_end keep"},
		{SyncKeepNotExists, "deleted in Elentra, Team kept"},
		{SyncNothing, "disabled, no Team"},
	}
}

// PlanTeams decides, for every course in scope, whether its Team must be
// created, renamed, archived or unarchived (by NextTeamSync). Courses that
// are enabled but not current, and courses without an owner, are findings.
func PlanTeams(in TeamsInput) Plan {
	var p Plan
	seen := map[int]bool{}
	for _, c := range in.Courses {
		seen[c.CourseID] = true
		rec := in.Records[c.CourseID]
		next := NextTeamSync(c, rec, in.CourseEnd)
		switch next.Step {
		case TeamNothing, TeamKeep:
			continue
		case TeamArchive:
			planArchive(&p, c.CourseID, rec, next.Standing)
			continue
		case TeamSkip:
			p.note(Finding{Kind: FindingCourseNotCurrent, Severity: Note, CourseID: c.CourseID, Name: c.Code,
				Message: "no Team is created: " + next.Standing.reason(), Fix: "a Team is created once the course is active in a current curriculum period"})
			continue
		}
		// The course is current: TeamCreate, TeamInSync or TeamUnarchive.
		if len(c.OwnerIDs) == 0 {
			msg := "the course has no Elentra owner with a Microsoft account"
			if c.OwnersWithoutID > 0 {
				msg = fmt.Sprintf("the course's %s no Microsoft Object ID", text.Plural(c.OwnersWithoutID, "owner has", "owners have"))
			}
			switch {
			case in.OwnerRequired && in.StandInOwner == "":
				if next.Step == TeamCreate {
					p.note(Finding{Kind: FindingNoOwner, Severity: Warning, CourseID: c.CourseID, Name: c.Code,
						Message: msg + "; no Team is created without one", Fix: "add a director or coordinator in Elentra, run sync-users or users link, or set sync.fallback_owner"})
					continue
				}
			case in.OwnerRequired:
				p.note(Finding{Kind: FindingNoOwner, Severity: Warning, CourseID: c.CourseID, Name: c.Code,
					Message: msg + "; sync.fallback_owner stands in as its owner", Fix: "add a director or coordinator in Elentra, then run sync-users or users link"})
			default:
				p.note(Finding{Kind: FindingNoOwner, Severity: Warning, CourseID: c.CourseID, Name: c.Code,
					Message: msg + "; the authorizing account is its only owner", Fix: "add a director or coordinator in Elentra, then run sync-users or users link"})
			}
		}
		desc := text.Truncate(c.Description, MaxDescription)
		switch {
		case next.Step == TeamCreate && rec.GroupID != "" && (rec.State == StateGroup || rec.State == StateFailed):
			p.add(Action{Kind: KindCreateTeam, CourseID: c.CourseID, GroupID: rec.GroupID, DisplayName: c.DisplayName,
				Description: &desc, MailNickname: c.MailNickname, Reason: "the group exists without its Team"})
		case next.Step == TeamCreate:
			owners := creationOwners(in.AdminObjectID, c.OwnerIDs)
			if len(owners) == 0 && in.StandInOwner != "" {
				owners = []string{in.StandInOwner}
			}
			reason := "the course has no Team"
			if rec.State == StateGroupIntent {
				reason = "a previous run may have created the group: it is looked up before creating"
			}
			p.add(Action{Kind: KindCreateTeam, CourseID: c.CourseID, DisplayName: c.DisplayName, Description: &desc,
				MailNickname: c.MailNickname, NicknameKey: c.NicknameKey, OwnerIDs: owners, Reason: reason})
		default:
			if next.Step == TeamUnarchive {
				p.add(Action{Kind: KindUnarchive, CourseID: c.CourseID, GroupID: rec.GroupID, Reason: "the course is current again"})
			}
			renamed := c.DisplayName != rec.DisplayName
			redescribed := HashText(desc) != rec.DescriptionHash
			if renamed || redescribed {
				a := Action{Kind: KindRenameTeam, CourseID: c.CourseID, GroupID: rec.GroupID}
				var what []string
				if renamed {
					a.DisplayName = c.DisplayName
					what = append(what, fmt.Sprintf("name %q → %q", rec.DisplayName, c.DisplayName))
				}
				if redescribed {
					a.Description = &desc
					what = append(what, "description changed")
				}
				a.Reason = strings.Join(what, "; ")
				p.add(a)
			}
		}
	}
	// Records of courses no longer in scope (deleted, or out of the filter):
	// the course has ended for the tool, as one Elentra no longer has.
	for id, rec := range in.Records {
		if seen[id] {
			continue
		}
		if next := NextTeamSync(Course{CourseID: id}, rec, in.CourseEnd); next.Step == TeamArchive {
			planArchive(&p, id, rec, next.Standing)
		}
	}
	guardArchives(&p, in)
	sortActions(p.Actions)
	sortFindings(p.Findings)
	return p
}

// guardArchives holds every archive of the plan when the run would archive
// more Teams than the run guard allows: a misread switch or period must not
// archive a school's Teams.
func guardArchives(p *Plan, in TeamsInput) {
	teams := 0
	for _, rec := range in.Records {
		if rec.hasTeam() {
			teams++
		}
	}
	var archives, others []Action
	for _, a := range p.Actions {
		if a.Kind == KindArchiveTeam {
			archives = append(archives, a)
		} else {
			others = append(others, a)
		}
	}
	sortActions(archives)
	kept, held := GuardRunArchives(archives, teams, in.Guards)
	p.Actions = append(others, kept...)
	p.Held = append(p.Held, held...)
}

func planArchive(p *Plan, courseID int, rec TeamRecord, why Standing) {
	p.add(Action{Kind: KindArchiveTeam, CourseID: courseID, GroupID: rec.GroupID, Reason: why.reason() + " (sync.course_end: archive)"})
}

// creationOwners are the owners bound when the group is created: the
// authorizing account first (it must be able to manage what it creates),
// then Elentra's owners, at most MaxOwnersAtCreation in all.
func creationOwners(admin string, owners []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range append([]string{admin}, owners...) {
		if id == "" || seen[strings.ToLower(id)] {
			continue
		}
		seen[strings.ToLower(id)] = true
		out = append(out, id)
		if len(out) == MaxOwnersAtCreation {
			break
		}
	}
	return out
}

// DefaultGroupPrefix starts every group nickname unless sync.group_prefix
// says otherwise.
const DefaultGroupPrefix = "elentra"

// MailNickname is the deterministic nickname of a course's group, from the
// group prefix (sync.group_prefix), the installation's id (so that two
// installations sharing a tenant, such as staging beside production, never
// find each other's groups), the organisation and course ids (so it is
// found again after any crash) and a readable part from the course code.
// Graph allows at most 64 ASCII characters without @ () \ [] " ; : <> ,
// space (and . / ' are best avoided).
func MailNickname(groupPrefix, inst string, organisationID, courseID int, code string) string {
	prefix := NicknameKey(groupPrefix, inst, organisationID, courseID)
	readable := SanitizeNickname(code)
	if readable == "" {
		return prefix
	}
	s := prefix + "-" + readable
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-_")
	}
	return s
}

// NicknameKey is the part of a course's nickname that never changes: prefix,
// installation, organisation and course ids. The readable code after it
// follows the course code at creation, which may change later, so groups
// are found again by the key (and a naming policy's prefix or suffix around
// the whole). An empty inst gives the key of the groups made before
// installations existed.
func NicknameKey(groupPrefix, inst string, organisationID, courseID int) string {
	if groupPrefix == "" {
		groupPrefix = DefaultGroupPrefix
	}
	if inst == "" {
		return fmt.Sprintf("%s-o%d-c%d", groupPrefix, organisationID, courseID)
	}
	return fmt.Sprintf("%s-%s-o%d-c%d", groupPrefix, inst, organisationID, courseID)
}

// NicknameKeyOf finds a course's key in a nickname the tool made (as
// recorded with an intent): what comes up to -o<org>-c<course>, so that the
// group a run meant to create is looked up by the key it was made with,
// whatever form the key had then.
func NicknameKeyOf(nickname string, organisationID, courseID int) (string, bool) {
	ids := fmt.Sprintf("-o%d-c%d", organisationID, courseID)
	for from := 0; ; {
		i := strings.Index(nickname[from:], ids)
		if i < 0 {
			return "", false
		}
		end := from + i + len(ids)
		if from+i > 0 && (end == len(nickname) || nickname[end] == '-') {
			return nickname[:end], true
		}
		from = from + i + 1
	}
}

// SanitizeNickname keeps the characters a mailNickname may hold: accents are
// folded to ASCII letters, everything else becomes '-', runs are collapsed.
func SanitizeNickname(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
			dash = false
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped, its letter kept
		case r == '_' || r == '-':
			if !dash && b.Len() > 0 {
				b.WriteRune(r)
				dash = true
			}
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimRight(b.String(), "-_")
}
