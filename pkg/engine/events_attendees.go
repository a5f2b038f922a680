package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// eventContactRoles are the event contacts invited with
// sync.event_attendees teachers (auditors only watch).
var eventContactRoles = map[string]bool{"teacher": true, "tutor": true, "ta": true}

// addAttendees fills each in-scope event's attendees by
// sync.event_attendees: none; teachers (the event's teachers, tutors and
// TAs); audience (those and the learners the event's audience names).
// People without a Microsoft account are counted in one finding.
func (run *eventsRun) addAttendees(ctx context.Context) error {
	policy := run.env.Config.Sync.EventAttendees
	if policy == "" || policy == "none" {
		return nil
	}
	var ids []int
	for id, w := range run.wants {
		if w.Exists && w.InScope {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Ints(ids)
	people, err := run.invited(ctx, ids, policy)
	if err != nil {
		return err
	}
	users, err := run.invitedUsers(ctx, people)
	if err != nil {
		return err
	}
	without := map[int]bool{}
	for _, id := range ids {
		w := run.wants[id]
		w.Spec.Attendees = attendeeAddresses(people[id], users, without)
		run.wants[id] = w
	}
	if len(without) > 0 {
		run.r.note(reconcile.Finding{Kind: reconcile.FindingAttendeeNoObjectID, Severity: reconcile.Warning,
			Message: fmt.Sprintf("%d people the events invite (sync.event_attendees: %s) have no Microsoft account and are not invited", len(without), policy),
			Fix:     "run sync-users, or link them by hand with: elentra-teams users link PROXY_ID OBJECT_ID"})
	}
	return nil
}

// invited returns the proxy ids each event invites: its teaching
// contacts, and with the audience policy its audience's learners.
func (run *eventsRun) invited(ctx context.Context, ids []int, policy string) (map[int][]int, error) {
	people := map[int][]int{}
	contacts, err := run.env.DB.EventContacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range contacts {
		if eventContactRoles[c.Role] {
			people[c.EventID] = append(people[c.EventID], c.ProxyID)
		}
	}
	if policy == "audience" {
		if err := run.addAudience(ctx, ids, people); err != nil {
			return nil, err
		}
	}
	return people, nil
}

// invitedUsers reads the users of everyone invited, by proxy id.
func (run *eventsRun) invitedUsers(ctx context.Context, people map[int][]int) (map[int]store.User, error) {
	all := map[int]bool{}
	for _, ps := range people {
		for _, p := range ps {
			all[p] = true
		}
	}
	users := map[int]store.User{}
	if len(all) == 0 {
		return users, nil
	}
	us, err := run.env.Store.Users(ctx, elentra.SortedIDs(all))
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		users[u.ProxyID] = u
	}
	return users, nil
}

// attendeeAddresses returns the sorted, distinct addresses of the people
// invited who have a Microsoft account; the others go into without.
func attendeeAddresses(people []int, users map[int]store.User, without map[int]bool) []string {
	seen := map[string]bool{}
	var addrs []string
	for _, p := range people {
		u, ok := users[p]
		addr := strings.ToLower(strings.TrimSpace(u.Email))
		if !ok || u.ObjectID == "" || addr == "" {
			without[p] = true
			continue
		}
		if !seen[addr] {
			seen[addr] = true
			addrs = append(addrs, addr)
		}
	}
	sort.Strings(addrs)
	return addrs
}

// addAudience adds the learners of each event's audience: a course's
// learners (by the learner rule), a cohort's and a course group's active
// members, single learners.
func (run *eventsRun) addAudience(ctx context.Context, ids []int, people map[int][]int) error {
	env := run.env
	rows, err := env.DB.EventAudiences(ctx, ids)
	if err != nil {
		return err
	}
	// The rows that name an id; and by type, the ids named whose people
	// are read (courses, cohorts, course groups).
	type audienceRow struct {
		eventID int
		typ     string
		id      int
	}
	var named []audienceRow
	namedIDs := map[string]map[int]bool{elentra.AudienceCourseID: {}, elentra.AudienceCohort: {}, elentra.AudienceGroupID: {}}
	for _, a := range rows {
		n, err := strconv.Atoi(strings.TrimSpace(a.Value))
		if err != nil || n <= 0 {
			continue
		}
		named = append(named, audienceRow{eventID: a.EventID, typ: a.Type, id: n})
		if set, ok := namedIDs[a.Type]; ok {
			set[n] = true
		}
	}
	members := map[string]map[int][]int{}
	if courses := namedIDs[elentra.AudienceCourseID]; len(courses) > 0 {
		if members[elentra.AudienceCourseID], err = env.DB.Learners(ctx, elentra.SortedIDs(courses), env.Config.Elentra.AppID, run.now); err != nil {
			return err
		}
	}
	byGroup := func(ms []elentra.GroupMember) map[int][]int {
		out := map[int][]int{}
		for _, m := range ms {
			out[m.GroupID] = append(out[m.GroupID], m.ProxyID)
		}
		return out
	}
	if cohorts := namedIDs[elentra.AudienceCohort]; len(cohorts) > 0 {
		ms, err := env.DB.CohortMembers(ctx, elentra.SortedIDs(cohorts), run.now)
		if err != nil {
			return err
		}
		members[elentra.AudienceCohort] = byGroup(ms)
	}
	if groups := namedIDs[elentra.AudienceGroupID]; len(groups) > 0 {
		ms, err := env.DB.CourseGroupMembers(ctx, elentra.SortedIDs(groups), run.now)
		if err != nil {
			return err
		}
		members[elentra.AudienceGroupID] = byGroup(ms)
	}
	for _, a := range named {
		if a.typ == elentra.AudienceProxyID {
			people[a.eventID] = append(people[a.eventID], a.id)
			continue
		}
		people[a.eventID] = append(people[a.eventID], members[a.typ][a.id]...)
	}
	return nil
}
