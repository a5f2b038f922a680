// Package reconcile decides what a sync must do: it takes the desired state
// (Elentra) and the actual state (Microsoft Graph and the tool's own tables)
// as plain values and returns a Plan of typed actions plus findings. It does
// no I/O, so every rule is covered by table tests; the engine applies plans.
package reconcile

import (
	"sort"
)

// Role is a Team membership role.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// Kind names an action; it is also the key of the report's counts.
type Kind string

const (
	KindCreateTeam   Kind = "create_team"  // group then team, or team on an existing group
	KindRenameTeam   Kind = "rename_team"  // display name and/or description
	KindArchiveTeam  Kind = "archive_team" // course ended, course_end: archive
	KindUnarchive    Kind = "unarchive_team"
	KindAddMembers   Kind = "add_members"   // one bulk add per Team (chunked by 200 when applied)
	KindSetRole      Kind = "set_role"      // promote or demote one membership
	KindRemoveMember Kind = "remove_member" // one membership
	KindMatchUser    Kind = "match_user"    // store a directory match
	KindCreateEvent  Kind = "create_event"
	KindUpdateEvent  Kind = "update_event"
	KindCancelEvent  Kind = "cancel_event"
	KindFetchEvent   Kind = "fetch_event" // a meeting created without its join URL
	KindPublishLink  Kind = "publish_link"
	KindRemoveLink   Kind = "remove_link"
)

// Action is one step of a plan. Only the fields of its Kind are set; it
// serialises as the dry-run's JSON.
type Action struct {
	Kind     Kind `json:"kind"`
	CourseID int  `json:"course_id,omitempty"`
	EventID  int  `json:"event_id,omitempty"`

	// Teams
	GroupID      string   `json:"group_id,omitempty"`
	DisplayName  string   `json:"display_name,omitempty"`
	Description  *string  `json:"description,omitempty"`
	MailNickname string   `json:"mail_nickname,omitempty"`
	NicknameKey  string   `json:"nickname_key,omitempty"`
	OwnerIDs     []string `json:"owner_ids,omitempty"`

	// Members
	Adds         []MemberAdd `json:"adds,omitempty"`
	MembershipID string      `json:"membership_id,omitempty"`
	UserID       string      `json:"user_id,omitempty"`
	ProxyID      int         `json:"proxy_id,omitempty"`
	Role         Role        `json:"role,omitempty"`

	// Events
	Event *EventSpec `json:"event,omitempty"`

	// Reason says why, for the dry-run listing.
	Reason string `json:"reason,omitempty"`
}

// MemberAdd is one user to add to a Team.
type MemberAdd struct {
	UserID  string `json:"user_id"`
	ProxyID int    `json:"proxy_id,omitempty"`
	Role    Role   `json:"role"`
}

// Weight is the number of Graph writes an action costs, as counted against
// sync.max_actions (a bulk add of up to 200 users is one write).
func (a Action) Weight() int {
	if a.Kind == KindAddMembers {
		return (len(a.Adds) + 199) / 200
	}
	return 1
}

// Plan is what a sync will do.
type Plan struct {
	Actions  []Action  `json:"actions"`
	Findings []Finding `json:"findings"`
	// Held are the writes a guard held back, each with the finding that
	// says so: not in Actions, applied only when a person confirms them.
	Held []Held `json:"held,omitempty"`
}

func (p *Plan) add(a Action)   { p.Actions = append(p.Actions, a) }
func (p *Plan) note(f Finding) { p.Findings = append(p.Findings, f) }
func (p *Plan) Empty() bool    { return len(p.Actions) == 0 }
func (p *Plan) Weight() (n int) {
	for _, a := range p.Actions {
		n += a.Weight()
	}
	return n
}

// Counts returns the number of actions of each kind (user-level for member
// adds, so a report says how many people were added).
func (p *Plan) Counts() map[Kind]int {
	c := map[Kind]int{}
	for _, a := range p.Actions {
		if a.Kind == KindAddMembers {
			c[a.Kind] += len(a.Adds)
		} else {
			c[a.Kind]++
		}
	}
	return c
}

// Cap splits a plan at sync.max_actions Graph writes: the actions that fit
// (in plan order, which puts creations before removals) and those deferred
// to the next run. A bulk add larger than what is left is split.
func Cap(actions []Action, max int) (kept, deferred []Action) {
	left := max
	for i, a := range actions {
		w := a.Weight()
		if w <= left {
			kept = append(kept, a)
			left -= w
			continue
		}
		if a.Kind == KindAddMembers && left > 0 {
			n := left * 200
			head, tail := a, a
			head.Adds, tail.Adds = a.Adds[:n], a.Adds[n:]
			kept = append(kept, head)
			deferred = append(deferred, tail)
			deferred = append(deferred, actions[i+1:]...)
			return kept, deferred
		}
		deferred = append(deferred, actions[i:]...)
		return kept, deferred
	}
	return kept, nil
}

// sortActions orders a plan so that what others depend on comes first and
// what removes comes last: creations, then changes, then removals.
func sortActions(as []Action) {
	rank := map[Kind]int{
		KindMatchUser: 0, KindCreateTeam: 1, KindUnarchive: 2, KindRenameTeam: 3,
		KindAddMembers: 4, KindSetRole: 5, KindCreateEvent: 6, KindFetchEvent: 7, KindUpdateEvent: 8,
		KindPublishLink: 9, KindRemoveMember: 10, KindCancelEvent: 11, KindRemoveLink: 12, KindArchiveTeam: 13,
	}
	sort.SliceStable(as, func(i, j int) bool {
		if rank[as[i].Kind] != rank[as[j].Kind] {
			return rank[as[i].Kind] < rank[as[j].Kind]
		}
		if as[i].CourseID != as[j].CourseID {
			return as[i].CourseID < as[j].CourseID
		}
		if as[i].EventID != as[j].EventID {
			return as[i].EventID < as[j].EventID
		}
		return as[i].UserID < as[j].UserID
	})
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.CourseID != b.CourseID {
			return a.CourseID < b.CourseID
		}
		if a.EventID != b.EventID {
			return a.EventID < b.EventID
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ProxyID < b.ProxyID
	})
}
