package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// replicationWindow: a Team this young may still answer 404 while Microsoft
// replicates it (graph-wire.md §2.2), which is not a sign it is gone.
const replicationWindow = 15 * time.Minute

func syncMembers(ctx context.Context, env *Env, r *Report) error {
	sc, err := readScope(ctx, env, needOwners|needMembers)
	if err != nil {
		return err
	}
	// The Teams to reconcile: current courses with a Team (an archived Team
	// is read-only, and a course that ended keeps its last membership).
	var teamIDs []string
	var courseIDs []int
	for id, rec := range sc.Records {
		if rec.State != reconcile.StateTeam || rec.GroupID == "" || !sc.current(id) {
			continue
		}
		teamIDs = append(teamIDs, rec.GroupID)
		courseIDs = append(courseIDs, id)
	}
	sort.Ints(courseIDs)
	sort.Strings(teamIDs)
	for id := range sc.Enabled {
		if rec, ok := sc.Records[id]; sc.current(id) && (!ok || rec.State != reconcile.StateTeam) {
			r.note(reconcile.Finding{Kind: "no_team_yet", Severity: reconcile.Note, CourseID: id, Name: sc.Courses[id].Code,
				Message: "the course has no Team yet, so no members are synced", Fix: "run sync-teams (sync does it first)"})
		}
	}
	if len(teamIDs) == 0 {
		return nil
	}
	managed, err := env.Store.ManagedMembers(ctx, courseIDs)
	if err != nil {
		return err
	}
	dangling, err := env.DB.DanglingAudiences(ctx, courseIDs)
	if err != nil {
		return err
	}
	noteDangling(r, sc, dangling)
	lists, listErrs, err := env.Graph.ListMembersOfTeams(ctx, teamIDs)
	if err != nil {
		return fmt.Errorf("list Team members: %w", err)
	}

	in := reconcile.MembersInput{AdminObjectID: env.AdminObjectID, RemoveUnmanaged: env.Config.Sync.RemoveUnmanaged,
		GuardPercent: env.Config.Sync.RemovalGuardPercent, Force: env.Force,
		AdminLeaves: env.Config.Sync.AdminLeavesTeams && !env.Config.Microsoft.Application()}
	if env.FallbackOwnerID != "" {
		in.Protected = append(in.Protected, env.FallbackOwnerID)
	}
	organizer := ""
	if env.Mailbox != "" && env.Mailbox != "me" {
		organizer = strings.ToLower(env.Mailbox)
	}
	stale := map[int][]string{}
	for _, id := range courseIDs {
		rec := sc.Records[id]
		c := sc.Courses[id]
		tm := reconcile.TeamMembers{CourseID: id, Code: c.Code, TeamID: rec.GroupID, Desired: map[string]reconcile.Person{}, Managed: map[string]bool{}}
		var missing []string
		missingCount := 0
		roles := sc.roles(env, id)
		proxies := make([]int, 0, len(roles))
		for p := range roles {
			proxies = append(proxies, p)
		}
		sort.Ints(proxies)
		for _, p := range proxies {
			u, ok := sc.Users[p]
			if !ok || u.ObjectID == "" {
				missingCount++
				if len(missing) < 20 {
					name := fmt.Sprintf("user %d", p)
					if ok {
						name = fmt.Sprintf("%s (%d)", userName(u), p)
					}
					missing = append(missing, name)
				}
				continue
			}
			oid := strings.ToLower(u.ObjectID)
			if oid == organizer {
				continue // the organiser mailbox is never put in a Team
			}
			tm.Desired[oid] = reconcile.Person{ProxyID: p, Name: userName(u), Role: roles[p]}
		}
		if env.FallbackOwnerID != "" && !hasOwner(tm.Desired) {
			tm.Desired[strings.ToLower(env.FallbackOwnerID)] = reconcile.Person{Name: "sync.fallback_owner", Role: reconcile.RoleOwner}
		}
		if missingCount > 0 {
			more := ""
			if missingCount > len(missing) {
				more = fmt.Sprintf(" and %d more", missingCount-len(missing))
			}
			r.note(reconcile.Finding{Kind: "no_object_id", Severity: reconcile.Warning, CourseID: id, Name: c.Code,
				Message: fmt.Sprintf("%d of the course's people have no Microsoft Object ID and are not in its Team: %s%s", missingCount, strings.Join(missing, ", "), more),
				Fix:     "run sync-users, or link them by hand with: elentra-teams users link PROXY_ID OBJECT_ID"})
		}
		for oid := range managed[id] {
			tm.Managed[oid] = true
		}
		if lerr, failed := listErrs[rec.GroupID]; failed {
			if msgraph.IsNotFound(lerr) && env.Now().Sub(rec.TeamCreatedAt) < replicationWindow {
				tm.Listed = true // a new Team still replicating: add, never remove
			} else {
				r.fail(failure(reconcile.KindAddMembers, id, 0, "", fmt.Errorf("list the members of Team %s: %w", rec.GroupID, lerr)))
				tm.Listed = false
			}
		} else {
			tm.Listed = true
			present := map[string]bool{}
			for _, m := range lists[rec.GroupID] {
				tm.Actual = append(tm.Actual, reconcile.Member{MembershipID: m.ID, UserID: strings.ToLower(m.UserID), Owner: m.IsOwner()})
				present[strings.ToLower(m.UserID)] = true
			}
			// Records of members that are neither in the Team nor wanted
			// (a run stopped between a removal and its record) are
			// forgotten.
			for oid := range tm.Managed {
				if _, want := tm.Desired[oid]; !want && !present[oid] {
					stale[id] = append(stale[id], oid)
				}
			}
		}
		in.Teams = append(in.Teams, tm)
	}
	plan := reconcile.PlanMembers(in)
	r.planned(plan)
	if env.DryRun {
		return nil
	}
	for _, id := range sortedKeysInt(stale) {
		if err := env.Store.DeleteMembers(ctx, id, stale[id]); err != nil {
			return err
		}
	}
	if plan.Empty() {
		return nil
	}
	actions := capPlan(env, r, plan)

	// One worker per Team at a time: a Team takes at most 4 requests a
	// second, so its actions go in sequence while Teams go in parallel.
	byTeam := map[int][]reconcile.Action{}
	var order []int
	for _, a := range actions {
		if _, ok := byTeam[a.CourseID]; !ok {
			order = append(order, a.CourseID)
		}
		byTeam[a.CourseID] = append(byTeam[a.CourseID], a)
	}
	m := &membersApplier{env: env, r: r, managed: managed}
	tick := env.progress("sync-members", len(order))
	return forEach(ctx, env.Config.Sync.Concurrency, order, func(ctx context.Context, courseID int) {
		defer tick()
		for _, a := range byTeam[courseID] {
			if ctx.Err() != nil {
				return
			}
			m.apply(ctx, a)
		}
	})
}

// noteDangling reports audience rows that name deleted users or groups: the
// learners they meant are not in the Team, and Elentra shows nothing wrong.
func noteDangling(r *Report, sc *scope, rows []elentra.DanglingAudience) {
	byCourse := map[int][]string{}
	for _, d := range rows {
		what := "user"
		if d.Type == "group_id" {
			what = "group"
		}
		byCourse[d.CourseID] = append(byCourse[d.CourseID], fmt.Sprintf("%s %d", what, d.Value))
	}
	for _, id := range sortedKeysInt(byCourse) {
		r.note(reconcile.Finding{Kind: "audience_deleted", Severity: reconcile.Warning, CourseID: id, Name: sc.Courses[id].Code,
			Message: fmt.Sprintf("the course's audience names %s, which no longer exist in Elentra: nobody is added for them", strings.Join(byCourse[id], ", ")),
			Fix:     "update the course's audience in Elentra (Admin › Manage Courses › Enrolment)"})
	}
}

func sortedKeysInt[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func hasOwner(desired map[string]reconcile.Person) bool {
	for _, p := range desired {
		if p.Role == reconcile.RoleOwner {
			return true
		}
	}
	return false
}

type membersApplier struct {
	env     *Env
	r       *Report
	managed map[int]map[string]store.MemberRecord
}

func (m *membersApplier) apply(ctx context.Context, a reconcile.Action) {
	env := m.env
	switch a.Kind {
	case reconcile.KindAddMembers:
		adds := make([]msgraph.MemberAdd, len(a.Adds))
		intents := make([]store.MemberRecord, len(a.Adds))
		proxy := map[string]reconcile.MemberAdd{}
		for i, ad := range a.Adds {
			adds[i] = msgraph.MemberAdd{UserID: ad.UserID, Owner: ad.Role == reconcile.RoleOwner}
			intents[i] = store.MemberRecord{CourseID: a.CourseID, ObjectID: ad.UserID, ProxyID: ad.ProxyID, Role: string(ad.Role)}
			proxy[strings.ToLower(ad.UserID)] = ad
		}
		// Recorded before the add: a crash after Graph added them must not
		// leave members the tool would never remove. A record of someone
		// not (yet) in the Team is harmless: it only allows removing them.
		if err := env.Store.RecordMembers(ctx, intents, env.Now()); err != nil {
			m.r.fail(failure(a.Kind, a.CourseID, 0, "", err))
			return
		}
		results, err := env.Graph.AddMembers(ctx, a.GroupID, adds)
		added := 0
		var failed []string
		for _, res := range results {
			ad := proxy[strings.ToLower(res.UserID)]
			if res.Err != nil {
				f := failure(a.Kind, a.CourseID, 0, res.UserID, res.Err)
				f.ProxyID = ad.ProxyID
				m.r.fail(f)
				failed = append(failed, res.UserID)
				continue
			}
			added++
		}
		if err != nil {
			// the users the failed call did not report on
			done := map[string]bool{}
			for _, res := range results {
				done[strings.ToLower(res.UserID)] = true
			}
			for _, ad := range a.Adds {
				if !done[strings.ToLower(ad.UserID)] {
					f := failure(a.Kind, a.CourseID, 0, ad.UserID, err)
					f.ProxyID = ad.ProxyID
					m.r.fail(f)
					failed = append(failed, ad.UserID)
				}
			}
		}
		if len(failed) > 0 {
			if derr := env.Store.DeleteMembers(context.WithoutCancel(ctx), a.CourseID, failed); derr != nil {
				m.r.fail(failure(a.Kind, a.CourseID, 0, "", derr))
			}
		}
		if added > 0 {
			m.r.applied(a.Kind, added)
		}
	case reconcile.KindSetRole:
		_, ours := m.managed[a.CourseID][strings.ToLower(a.UserID)]
		if ours {
			if err := env.Store.RecordMembers(ctx, []store.MemberRecord{{CourseID: a.CourseID, ObjectID: a.UserID, ProxyID: a.ProxyID, Role: string(a.Role)}}, env.Now()); err != nil {
				m.r.fail(failure(a.Kind, a.CourseID, 0, a.UserID, err))
				return
			}
		}
		if err := env.Graph.UpdateMemberRole(ctx, a.GroupID, a.MembershipID, a.Role == reconcile.RoleOwner); err != nil {
			m.r.fail(failure(a.Kind, a.CourseID, 0, a.UserID, err))
			return
		}
		m.r.applied(a.Kind, 1)
	case reconcile.KindRemoveMember:
		err := env.Graph.RemoveMember(ctx, a.GroupID, a.MembershipID)
		if err != nil && !msgraph.IsNotFound(err) {
			m.r.fail(failure(a.Kind, a.CourseID, 0, a.UserID, err))
			return
		}
		if err := env.Store.DeleteMembers(ctx, a.CourseID, []string{a.UserID}); err != nil {
			m.r.fail(failure(a.Kind, a.CourseID, 0, a.UserID, err))
			return
		}
		m.r.applied(a.Kind, 1)
	}
}
