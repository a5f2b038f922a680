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
			r.note(reconcile.Finding{Kind: reconcile.FindingNoTeamYet, Severity: reconcile.Note, CourseID: id, Name: sc.Courses[id].Code,
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
	ms := newMemberSync(env, r, sc, managed, len(courseIDs))
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

	// protected are the accounts never removed (the authorizing account,
	// sync.fallback_owner), lower-case; organizer is the organiser's
	// mailbox in application mode, never put in a Team.
	protected map[string]bool
	organizer string

	// removals passed their Team's guard and wait for the run guard;
	// held are those a Team's guard held; managedTotal is the run guard's
	// whole (the memberships the tool manages in the Teams listed).
	removals     []reconcile.Action
	held         []reconcile.Held
	managedTotal int
}

func newMemberSync(env *Env, r *Report, sc *scope, managed map[int]map[string]string, teams int) *memberSync {
	ms := &memberSync{env: env, r: r, sc: sc, managed: managed, budget: newBudget(env),
		applier: &membersApplier{env: env, r: r, managed: managed}, tick: env.progress("sync-members", teams),
		protected: map[string]bool{strings.ToLower(env.AdminObjectID): true}}
	if env.FallbackOwnerID != "" {
		ms.protected[strings.ToLower(env.FallbackOwnerID)] = true
	}
	if env.Mailbox != "" && env.Mailbox != "me" {
		ms.organizer = strings.ToLower(env.Mailbox)
	}
	return ms
}

// chunk lists, plans and applies the adds and role changes of some Teams,
// keeping their removals for removeAll.
func (ms *memberSync) chunk(ctx context.Context, courseIDs []int) error {
	env, r := ms.env, ms.r
	in, stale, err := ms.plannerInput(ctx, courseIDs)
	if err != nil {
		return err
	}
	plan := ms.plan(in)
	r.planned(plan)
	if env.DryRun {
		return nil
	}
	if err := env.Store.ForgetMembers(ctx, stale); err != nil {
		return err
	}
	actions := ms.budget.take(r, plan.Actions)
	if err := ms.recordIntents(ctx, actions); err != nil {
		return err
	}
	return ms.apply(ctx, courseIDs, actions, ms.tick)
}

// plannerInput lists the Teams' members in $batch and sets each Team's
// listing beside the people it should hold. stale are the tool's records
// of members neither in their Team nor wanted, to forget.
func (ms *memberSync) plannerInput(ctx context.Context, courseIDs []int) (reconcile.MembersInput, []store.MemberRecord, error) {
	env := ms.env
	teamIDs := make([]string, len(courseIDs))
	for i, id := range courseIDs {
		teamIDs[i] = ms.sc.Records[id].GroupID
	}
	lists, listErrs, err := env.Graph.ListMembersOfTeams(ctx, teamIDs)
	if err != nil {
		return reconcile.MembersInput{}, nil, fmt.Errorf("list Team members: %w", err)
	}
	in := reconcile.MembersInput{AdminObjectID: env.AdminObjectID, RemoveUnmanaged: env.Config.Sync.RemoveUnmanaged,
		Guards: env.guards(), AdminLeaves: env.Config.Sync.AdminLeavesTeams && !env.Config.Microsoft.Application()}
	if env.FallbackOwnerID != "" {
		in.Protected = append(in.Protected, env.FallbackOwnerID)
	}
	var stale []store.MemberRecord
	for _, id := range courseIDs {
		rec := ms.sc.Records[id]
		tm := reconcile.TeamMembers{CourseID: id, Code: ms.sc.Courses[id].Code, TeamID: rec.GroupID, Desired: ms.desired(id), Managed: map[string]bool{}}
		for oid := range ms.managed[id] {
			tm.Managed[oid] = true
		}
		if lerr, failed := listErrs[rec.GroupID]; failed {
			ms.listingFailed(&tm, lerr)
		} else {
			stale = append(stale, ms.addListing(&tm, lists[rec.GroupID])...)
		}
		in.Teams = append(in.Teams, tm)
	}
	return in, stale, nil
}

// desired returns the people a course's Team should hold, by Object ID:
// its owners and members by the course's roles, and sync.fallback_owner
// where no one else owns it. People without an Object ID are named in a
// finding.
func (ms *memberSync) desired(courseID int) map[string]reconcile.Person {
	env := ms.env
	desired := map[string]reconcile.Person{}
	var missing []string
	missingCount := 0
	roles := ms.sc.roles(env, courseID)
	for _, p := range elentra.SortedIDs(roles) {
		u, ok := ms.sc.Users[p]
		if !ok || u.ObjectID == "" {
			missingCount++
			if len(missing) < 20 {
				name := fmt.Sprintf("user %d", p)
				if ok {
					name = fmt.Sprintf("%s (%d)", u.Name(), p)
				}
				missing = append(missing, name)
			}
			continue
		}
		oid := strings.ToLower(u.ObjectID)
		if oid == ms.organizer {
			continue // the organiser mailbox is never put in a Team
		}
		desired[oid] = reconcile.Person{ProxyID: p, Name: u.Name(), Role: roles[p]}
	}
	if env.FallbackOwnerID != "" && !hasOwner(desired) {
		desired[strings.ToLower(env.FallbackOwnerID)] = reconcile.Person{Name: "sync.fallback_owner", Role: reconcile.RoleOwner}
	}
	if missingCount > 0 {
		more := ""
		if missingCount > len(missing) {
			more = fmt.Sprintf(" and %d more", missingCount-len(missing))
		}
		code := ms.sc.Courses[courseID].Code
		ms.r.note(reconcile.Finding{Kind: reconcile.FindingNoObjectID, Severity: reconcile.Warning, CourseID: courseID, Name: code,
			Message: fmt.Sprintf("%d of the course's people have no Microsoft Object ID and are not in its Team: %s%s", missingCount, strings.Join(missing, ", "), more),
			Fix:     "run sync-users, or link them by hand with: elentra-teams users link PROXY_ID OBJECT_ID"})
	}
	return desired
}

// listingFailed settles a Team whose listing failed: a new Team still
// replicating is taken as listed (add, never remove); any other failure is
// reported and the Team is left unlisted (nothing removed).
func (ms *memberSync) listingFailed(tm *reconcile.TeamMembers, lerr error) {
	rec := ms.sc.Records[tm.CourseID]
	if msgraph.IsNotFound(lerr) && ms.env.Now().Sub(rec.TeamCreatedAt) < replicationWindow {
		tm.Listed = true
		return
	}
	ms.r.fail(failure(reconcile.KindAddMembers, tm.CourseID, 0, "", fmt.Errorf("list the members of Team %s: %w", rec.GroupID, lerr)))
	tm.Listed = false
}

// addListing sets a Team's members as listed and counts those the run
// guard weighs. It returns the records of members that are neither in the
// Team nor wanted (a run stopped between a removal and its record): they
// are forgotten.
func (ms *memberSync) addListing(tm *reconcile.TeamMembers, members []msgraph.Member) (stale []store.MemberRecord) {
	tm.Listed = true
	present := map[string]bool{}
	for _, m := range members {
		uid := strings.ToLower(m.UserID)
		tm.Actual = append(tm.Actual, reconcile.Member{MembershipID: m.ID, UserID: uid, Owner: m.IsOwner()})
		present[uid] = true
		if !ms.protected[uid] && (tm.Managed[uid] || ms.env.Config.Sync.RemoveUnmanaged) {
			ms.managedTotal++
		}
	}
	for oid := range tm.Managed {
		if _, want := tm.Desired[oid]; !want && !present[oid] {
			stale = append(stale, store.MemberRecord{CourseID: tm.CourseID, ObjectID: oid})
		}
	}
	return stale
}

// plan plans a chunk's Teams and keeps their removals, and what the Teams'
// guards held, for removeAll: the plan returned holds the adds and role
// changes only.
func (ms *memberSync) plan(in reconcile.MembersInput) reconcile.Plan {
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
	return plan
}

// recordIntents records the adds and the role changes of the tool's
// members before the requests, in one statement for the chunk: a crash
// after Graph added someone must not leave a member the tool would never
// remove. A record of someone not (yet) in the Team is harmless: it only
// allows removing them.
func (ms *memberSync) recordIntents(ctx context.Context, actions []reconcile.Action) error {
	var intents []store.MemberRecord
	for _, a := range actions {
		switch a.Kind {
		case reconcile.KindAddMembers:
			for _, ad := range a.Adds {
				intents = append(intents, store.MemberRecord{CourseID: a.CourseID, ObjectID: ad.UserID, ProxyID: ad.ProxyID, Role: string(ad.Role)})
			}
		case reconcile.KindSetRole:
			if _, ours := ms.managed[a.CourseID][strings.ToLower(a.UserID)]; ours {
				intents = append(intents, store.MemberRecord{CourseID: a.CourseID, ObjectID: a.UserID, ProxyID: a.ProxyID, Role: string(a.Role)})
			}
		}
	}
	return ms.env.Store.RecordMembers(ctx, intents, ms.env.Now())
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
	return ms.apply(ctx, elentra.SortedIDs(teams), actions, func() {})
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
	for _, id := range elentra.SortedIDs(byCourse) {
		r.note(reconcile.Finding{Kind: reconcile.FindingAudienceDeleted, Severity: reconcile.Warning, CourseID: id, Name: sc.Courses[id].Code,
			Message: fmt.Sprintf("the course's audience names %s, which no longer exist in Elentra: nobody is added for them", strings.Join(byCourse[id], ", ")),
			Fix:     "update the course's audience in Elentra (Admin › Manage Courses › Enrolment)"})
	}
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
// memberSync.recordIntents) and what must be forgotten is collected.
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
