package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
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
	var courseIDs []int
	for id, rec := range sc.Records {
		if rec.State != reconcile.StateTeam || rec.GroupID == "" || !sc.current(id) {
			continue
		}
		courseIDs = append(courseIDs, id)
	}
	sort.Ints(courseIDs)
	for id := range sc.Enabled {
		if rec, ok := sc.Records[id]; sc.current(id) && (!ok || rec.State != reconcile.StateTeam) {
			r.note(reconcile.Finding{Kind: "no_team_yet", Severity: reconcile.Note, CourseID: id, Name: sc.Courses[id].Code,
				Message: "the course has no Team yet, so no members are synced", Fix: "run sync-teams (sync does it first)"})
		}
	}
	if len(courseIDs) == 0 {
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

	// The Teams go membersChunk at a time, listed, planned and applied
	// before the next are listed: memory holds one chunk's member lists,
	// whatever the size of the school. Removals wait for the end of the
	// run: the run guard weighs them all before any is made.
	ms := &memberSync{env: env, r: r, sc: sc, managed: managed, budget: newBudget(env),
		applier: &membersApplier{env: env, r: r, managed: managed}, tick: env.progress("sync-members", len(courseIDs))}
	defer ms.budget.report(r)
	for start := 0; start < len(courseIDs); start += membersChunk {
		chunk := courseIDs[start:min(start+membersChunk, len(courseIDs))]
		if err := ms.chunk(ctx, chunk); err != nil {
			return err
		}
	}
	return ms.removeAll(ctx)
}

// membersChunk is how many Teams a member sync lists and applies at once:
// five $batch listings of 20.
const membersChunk = 100

// memberSync is one run of sync-members: what its chunks share, and the
// removals they leave for the end.
type memberSync struct {
	env     *Env
	r       *Report
	sc      *scope
	managed map[int]map[string]string
	budget  *budget
	applier *membersApplier
	tick    func()

	// removals passed their Team's guard and wait for the run guard;
	// held are those a Team's guard held; managedTotal is the run guard's
	// whole (the memberships the tool manages in the Teams listed).
	removals     []reconcile.Action
	held         []reconcile.Held
	managedTotal int
}

// chunk lists, plans and applies the adds and role changes of some Teams,
// keeping their removals for removeAll.
func (ms *memberSync) chunk(ctx context.Context, courseIDs []int) error {
	env, r, sc, managed := ms.env, ms.r, ms.sc, ms.managed
	teamIDs := make([]string, len(courseIDs))
	for i, id := range courseIDs {
		teamIDs[i] = sc.Records[id].GroupID
	}
	lists, listErrs, err := env.Graph.ListMembersOfTeams(ctx, teamIDs)
	if err != nil {
		return fmt.Errorf("list Team members: %w", err)
	}

	in := reconcile.MembersInput{AdminObjectID: env.AdminObjectID, RemoveUnmanaged: env.Config.Sync.RemoveUnmanaged,
		Guards: env.guards(), AdminLeaves: env.Config.Sync.AdminLeavesTeams && !env.Config.Microsoft.Application()}
	if env.FallbackOwnerID != "" {
		in.Protected = append(in.Protected, env.FallbackOwnerID)
	}
	protected := map[string]bool{strings.ToLower(env.AdminObjectID): true}
	for _, id := range in.Protected {
		protected[strings.ToLower(id)] = true
	}
	organizer := ""
	if env.Mailbox != "" && env.Mailbox != "me" {
		organizer = strings.ToLower(env.Mailbox)
	}
	var stale []store.MemberRecord
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
				uid := strings.ToLower(m.UserID)
				tm.Actual = append(tm.Actual, reconcile.Member{MembershipID: m.ID, UserID: uid, Owner: m.IsOwner()})
				present[uid] = true
				if !protected[uid] && (tm.Managed[uid] || in.RemoveUnmanaged) {
					ms.managedTotal++
				}
			}
			// Records of members that are neither in the Team nor wanted
			// (a run stopped between a removal and its record) are
			// forgotten.
			for oid := range tm.Managed {
				if _, want := tm.Desired[oid]; !want && !present[oid] {
					stale = append(stale, store.MemberRecord{CourseID: id, ObjectID: oid})
				}
			}
		}
		in.Teams = append(in.Teams, tm)
	}
	lists = nil // what the plan needs is in `in` now
	plan := reconcile.PlanMembers(in)
	var now []reconcile.Action
	for _, a := range plan.Actions {
		if a.Kind == reconcile.KindRemoveMember {
			ms.removals = append(ms.removals, a)
		} else {
			now = append(now, a)
		}
	}
	ms.held = append(ms.held, plan.Held...)
	plan.Actions, plan.Held = now, nil
	r.planned(plan)
	if env.DryRun {
		return nil
	}
	if err := env.Store.ForgetMembers(ctx, stale); err != nil {
		return err
	}
	actions := ms.budget.take(r, plan.Actions)

	// Recorded before the requests, in one statement for the chunk: a
	// crash after Graph added someone must not leave a member the tool
	// would never remove. A record of someone not (yet) in the Team is
	// harmless: it only allows removing them. Role changes of the tool's
	// members are recorded the same way.
	var intents []store.MemberRecord
	for _, a := range actions {
		switch a.Kind {
		case reconcile.KindAddMembers:
			for _, ad := range a.Adds {
				intents = append(intents, store.MemberRecord{CourseID: a.CourseID, ObjectID: ad.UserID, ProxyID: ad.ProxyID, Role: string(ad.Role)})
			}
		case reconcile.KindSetRole:
			if _, ours := managed[a.CourseID][strings.ToLower(a.UserID)]; ours {
				intents = append(intents, store.MemberRecord{CourseID: a.CourseID, ObjectID: a.UserID, ProxyID: a.ProxyID, Role: string(a.Role)})
			}
		}
	}
	if err := env.Store.RecordMembers(ctx, intents, env.Now()); err != nil {
		return err
	}
	return ms.apply(ctx, courseIDs, actions, ms.tick)
}

// apply sends actions one Team at a time: a Team takes at most 4 requests
// a second, so its actions go in sequence while Teams go in parallel. What
// failed or was removed is forgotten in one statement; if the run dies
// first, the next run forgets the records of members neither in the Team
// nor wanted.
func (ms *memberSync) apply(ctx context.Context, courseIDs []int, actions []reconcile.Action, tick func()) error {
	byTeam := map[int][]reconcile.Action{}
	for _, a := range actions {
		byTeam[a.CourseID] = append(byTeam[a.CourseID], a)
	}
	err := forEach(ctx, ms.env.Config.Sync.Concurrency, courseIDs, func(ctx context.Context, courseID int) {
		defer tick()
		for _, a := range byTeam[courseID] {
			if ctx.Err() != nil || halted(ctx) {
				return
			}
			ms.applier.apply(ctx, a)
		}
	})
	if ferr := ms.env.Store.ForgetMembers(context.WithoutCancel(ctx), ms.applier.takeForgotten()); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// removeAll weighs the run's removals against the run guard, asks about
// what the guards held when a person may confirm it, and makes the
// removals that pass.
func (ms *memberSync) removeAll(ctx context.Context) error {
	env, r := ms.env, ms.r
	kept, held := reconcile.GuardRunRemovals(ms.removals, ms.managedTotal, env.guards(), env.AdminObjectID)
	kept = append(kept, env.release(r, "sync-members", append(ms.held, held...))...)
	r.planned(reconcile.Plan{Actions: kept})
	if env.DryRun || len(kept) == 0 {
		return nil
	}
	actions := ms.budget.take(r, kept)
	teams := map[int]bool{}
	for _, a := range actions {
		teams[a.CourseID] = true
	}
	return ms.apply(ctx, sortedInts(teams), actions, func() {})
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
	managed map[int]map[string]string

	mu        sync.Mutex
	forgotten []store.MemberRecord // removed, or never added: their records go
}

func (m *membersApplier) forget(courseID int, userIDs ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range userIDs {
		m.forgotten = append(m.forgotten, store.MemberRecord{CourseID: courseID, ObjectID: id})
	}
}

func (m *membersApplier) takeForgotten() []store.MemberRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.forgotten
	m.forgotten = nil
	return out
}

// apply sends one action; its records were written before (see
// syncMemberChunk) and what must be forgotten is collected.
func (m *membersApplier) apply(ctx context.Context, a reconcile.Action) {
	env := m.env
	switch a.Kind {
	case reconcile.KindAddMembers:
		adds := make([]msgraph.MemberAdd, len(a.Adds))
		proxy := map[string]reconcile.MemberAdd{}
		for i, ad := range a.Adds {
			adds[i] = msgraph.MemberAdd{UserID: ad.UserID, Owner: ad.Role == reconcile.RoleOwner}
			proxy[strings.ToLower(ad.UserID)] = ad
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
		m.forget(a.CourseID, failed...)
		if added > 0 {
			m.r.applied(a.Kind, added)
		}
	case reconcile.KindSetRole:
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
		m.forget(a.CourseID, a.UserID)
		m.r.applied(a.Kind, 1)
	}
}
