package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// teamsInput builds the planner's view of every course in scope, and the
// findings about Elentra's data on the way (text that was double-encoded or
// lost characters, codes two courses share, courses with no name).
func teamsInput(env *Env, sc *scope, n *names) (reconcile.TeamsInput, []reconcile.Finding) {
	var findings []reconcile.Finding
	in := reconcile.TeamsInput{Records: map[int]reconcile.TeamRecord{}, CourseEnd: env.Config.Sync.CourseEnd,
		AdminObjectID: env.AdminObjectID, OwnerRequired: env.Config.Microsoft.Application(), StandInOwner: env.FallbackOwnerID,
		Guards: env.guards()}
	ids := map[int]bool{}
	for id := range sc.Enabled {
		ids[id] = true
	}
	for id, r := range sc.Records {
		in.Records[id] = r.TeamRecord
		if r.GroupID != "" {
			ids[id] = true
		}
	}
	codes := map[string][]int{}
	for _, id := range elentra.SortedIDs(ids) {
		if c, ok := sc.Courses[id]; ok && strings.TrimSpace(c.Code) != "" {
			k := strings.ToLower(strings.TrimSpace(c.Code))
			codes[k] = append(codes[k], id)
		}
	}
	for _, id := range elentra.SortedIDs(ids) {
		c, exists := sc.Courses[id]
		course := reconcile.Course{CourseID: id, Exists: exists, Enabled: sc.Enabled[id]}
		if exists {
			c, findings = cleanCourseText(c, findings)
			if others := codes[strings.ToLower(strings.TrimSpace(c.Code))]; len(others) > 1 && sc.Enabled[id] {
				findings = append(findings, reconcile.Finding{Kind: reconcile.FindingDuplicateCourseCode, Severity: reconcile.Note, CourseID: id, Name: c.Code,
					Message: fmt.Sprintf("courses %s share the code %q: their Teams may share a name", text.JoinInts(others), c.Code),
					Fix:     "add {{.ID}} or {{.Period}} to sync.team_name_template, or give the courses distinct codes"})
			}
			owners, without := sc.ownerIDs(env, id)
			course.OrganisationID = c.OrganisationID
			course.Code, course.Name = c.Code, c.Name
			course.Active, course.CurrentPeriod = c.Active, c.Period != nil
			course.DisplayName = n.displayName(c)
			course.Description = plainText(c.Description)
			course.MailNickname = reconcile.MailNickname(env.Config.Sync.GroupPrefix, env.Installation, c.OrganisationID, c.ID, c.Code)
			course.NicknameKey = reconcile.NicknameKey(env.Config.Sync.GroupPrefix, env.Installation, c.OrganisationID, c.ID)
			if r := sc.Records[id]; r.State == reconcile.StateGroupIntent && r.MailNickname != "" {
				// A run meant to create the group under this nickname
				// (perhaps before installation ids, or under another
				// group_prefix): it is looked up, and made, as it was meant.
				if key, ok := reconcile.NicknameKeyOf(r.MailNickname, c.OrganisationID, c.ID); ok {
					course.MailNickname, course.NicknameKey = r.MailNickname, key
				}
			}
			course.OwnerIDs, course.OwnersWithoutID = owners, without
		}
		in.Courses = append(in.Courses, course)
	}
	return in, findings
}

// cleanCourseText repairs double-encoded text in a course's code, name and
// description, and notes what was repaired and what lost characters.
func cleanCourseText(c elentra.Course, fs []reconcile.Finding) (elentra.Course, []reconcile.Finding) {
	var repaired, lost []string
	for _, f := range []struct {
		what string
		s    *string
	}{{"code", &c.Code}, {"name", &c.Name}, {"description", &c.Description}} {
		if fixed, ok := repairDoubleEncoded(*f.s); ok {
			*f.s = fixed
			repaired = append(repaired, f.what)
		}
		if lostCharacters(*f.s) {
			lost = append(lost, f.what)
		}
	}
	if len(repaired) > 0 {
		fs = append(fs, reconcile.Finding{Kind: reconcile.FindingTextDoubleEncoded, Severity: reconcile.Note, CourseID: c.ID, Name: c.Code,
			Message: fmt.Sprintf("the course's %s came back double-encoded from Elentra's database; the Team uses the repaired text %q", strings.Join(repaired, " and "), c.Name),
			Fix:     "fix the text in Elentra (it was written through a latin1 connection)"})
	}
	if len(lost) > 0 {
		fs = append(fs, reconcile.Finding{Kind: reconcile.FindingTextLostCharacters, Severity: reconcile.Note, CourseID: c.ID, Name: c.Code,
			Message: fmt.Sprintf("the course's %s holds '?' where Elentra's database could not store a character: %q", strings.Join(lost, " and "), c.Name),
			Fix:     "retype the text in Elentra; the Team takes it as it is"})
	}
	if strings.TrimSpace(c.Code) == "" && strings.TrimSpace(c.Name) == "" {
		fs = append(fs, reconcile.Finding{Kind: reconcile.FindingCourseWithoutName, Severity: reconcile.Warning, CourseID: c.ID,
			Message: fmt.Sprintf("the course has neither code nor name; its Team is named \"Course %d\"", c.ID), Fix: "name the course in Elentra"})
	}
	return c, fs
}

func syncTeams(ctx context.Context, env *Env, r *Report) error {
	sc, err := readScope(ctx, env, needOwners)
	if err != nil {
		return err
	}
	n, err := newNames(env)
	if err != nil {
		return err
	}
	in, dataFindings := teamsInput(env, sc, n)
	plan := reconcile.PlanTeams(in)
	plan.Findings = append(plan.Findings, dataFindings...)
	plan.Actions = append(plan.Actions, env.release(r, "sync-teams", plan.Held)...)
	r.planned(plan)
	if env.DryRun || plan.Empty() {
		return nil
	}
	actions := capPlan(env, r, plan)

	// Intent first, in one statement: a crash after POST /groups leaves a
	// row that makes the next run look the nickname up instead of creating.
	var intents []store.TeamIntent
	var fresh []reconcile.Action
	for _, a := range actions {
		if a.Kind == reconcile.KindCreateTeam && a.GroupID == "" {
			intents = append(intents, store.TeamIntent{CourseID: a.CourseID, MailNickname: a.MailNickname})
			fresh = append(fresh, a)
		}
	}
	if err := env.Store.RecordTeamIntents(ctx, intents, env.Now()); err != nil {
		return err
	}
	found := lookupGroups(ctx, env, fresh)

	t := &teamsApplier{env: env, r: r, sc: sc, found: found}
	tick := env.progress("sync-teams", len(actions))
	return forEach(ctx, env.Config.Sync.Concurrency, actions, func(ctx context.Context, a reconcile.Action) {
		t.apply(ctx, a)
		tick()
	})
}

// lookupGroups asks Graph, 20 courses a $batch, which groups already carry
// each nickname (a group created by a run that crashed before recording it,
// or by a copy of this tool whose tables were lost), by course.
func lookupGroups(ctx context.Context, env *Env, creates []reconcile.Action) map[int]msgraph.Lookup[msgraph.Group] {
	out := map[int]msgraph.Lookup[msgraph.Group]{}
	if len(creates) == 0 {
		return out
	}
	keys := make([]string, len(creates))
	for i, a := range creates {
		// By the unchanging key: the code after it may have changed since.
		keys[i] = a.NicknameKey
	}
	found, err := env.Graph.FindGroupsByNicknameKeys(ctx, keys)
	for i, a := range creates {
		if err != nil {
			out[a.CourseID] = msgraph.Lookup[msgraph.Group]{Err: err}
			continue
		}
		out[a.CourseID] = found[i]
	}
	return out
}

type teamsApplier struct {
	env   *Env
	r     *Report
	sc    *scope
	found map[int]msgraph.Lookup[msgraph.Group]
}

func (t *teamsApplier) apply(ctx context.Context, a reconcile.Action) {
	var err error
	switch a.Kind {
	case reconcile.KindCreateTeam:
		err = t.create(ctx, a)
	case reconcile.KindRenameTeam:
		err = t.rename(ctx, a)
	case reconcile.KindArchiveTeam:
		if err = t.env.Graph.ArchiveTeam(ctx, a.GroupID); err == nil {
			err = t.env.Store.RecordTeamState(ctx, a.CourseID, reconcile.StateArchived, t.env.Now())
		}
	case reconcile.KindUnarchive:
		if err = t.env.Graph.UnarchiveTeam(ctx, a.GroupID); err == nil {
			err = t.env.Store.RecordTeamState(ctx, a.CourseID, reconcile.StateTeam, t.env.Now())
		}
	default:
		return
	}
	if err != nil {
		t.r.fail(failure(a.Kind, a.CourseID, 0, "", err))
		if rerr := t.env.Store.RecordCourseError(context.WithoutCancel(ctx), a.CourseID, err.Error(), t.env.Now()); rerr != nil && t.env.Logger != nil {
			t.env.Logger.Warn("could not record a course's error", "course", a.CourseID, "error", rerr)
		}
		return
	}
	t.r.applied(a.Kind, 1)
}

// create makes (or adopts) the course's group, then its Team.
func (t *teamsApplier) create(ctx context.Context, a reconcile.Action) error {
	env := t.env
	groupID := a.GroupID
	desc := ""
	if a.Description != nil {
		desc = *a.Description
	}
	if groupID == "" {
		g, err := t.findOrCreateGroup(ctx, a, desc)
		if err != nil {
			return err
		}
		if g.HasTeam() {
			return nil // adopted a complete Team
		}
		groupID = g.ID
	}
	if err := t.teamify(ctx, groupID); err != nil {
		return fmt.Errorf("make the group %s a Team: %w", groupID, err)
	}
	return env.Store.RecordTeamState(ctx, a.CourseID, reconcile.StateTeam, env.Now())
}

// teamify makes the group a Team: PUT /groups/{id}/team for the standard
// template, or POST /teams with the group bound and another template
// (sync.team_template: educationClass, application mode), polled to the end.
// A Team already on the group counts as done either way.
func (t *teamsApplier) teamify(ctx context.Context, groupID string) error {
	tmpl := t.env.Config.Sync.TeamTemplate
	if tmpl == "" || tmpl == "standard" {
		_, err := t.env.Graph.CreateTeamFromGroup(ctx, groupID)
		return err
	}
	_, err := t.env.Graph.CreateTeam(ctx, msgraph.TeamCreate{Template: tmpl, GroupID: groupID})
	if msgraph.IsConflict(err) {
		return nil
	}
	return err
}

func (t *teamsApplier) findOrCreateGroup(ctx context.Context, a reconcile.Action, desc string) (*msgraph.Group, error) {
	env := t.env
	lk := t.found[a.CourseID]
	if lk.Err != nil {
		return nil, fmt.Errorf("look up groups named %s: %w", a.MailNickname, lk.Err)
	}
	cands := lk.Found
	if len(cands) == 0 && t.sc.Records[a.CourseID].State == reconcile.StateGroupIntent {
		// A previous run meant to create it: a naming policy may have added
		// a prefix or suffix to the nickname, so search for it inside one.
		found, err := t.searchNickname(ctx, a.NicknameKey)
		if err != nil {
			return nil, err
		}
		cands = found
	}
	switch len(cands) {
	case 0:
	case 1:
		return t.adopt(ctx, a, cands[0])
	default:
		var ids []string
		for _, g := range cands {
			ids = append(ids, g.ID)
		}
		return nil, fmt.Errorf("%d groups carry the nickname %s (%s): none is adopted and none created; delete the extra ones in Microsoft Entra", len(cands), a.MailNickname, strings.Join(ids, ", "))
	}
	// The owners bound at creation are recorded as the tool's before the
	// create: a crash right after it must not leave owners the tool would
	// never demote or remove.
	if err := t.recordBoundOwners(ctx, a); err != nil {
		return nil, err
	}
	g, err := env.Graph.CreateGroup(ctx, msgraph.GroupCreate{
		DisplayName: a.DisplayName, Description: desc, MailNickname: a.MailNickname, Visibility: "Private",
		OwnerIDs: a.OwnerIDs, ResourceBehaviorOptions: []string{"WelcomeEmailDisabled"},
	})
	if err != nil {
		if msgraph.HasCode(err, "ObjectConflict") {
			// Created meanwhile, or by the request whose answer was lost
			// (a run killed right after it), maybe under a naming policy's
			// prefix or suffix: adopted. Microsoft refuses a second group
			// of the nickname at once, but lists the first only once the
			// directory has replicated it: that is waited out.
			g, ferr := t.findConflicting(ctx, a)
			if ferr != nil {
				return nil, ferr
			}
			if g != nil {
				return t.adopt(ctx, a, *g)
			}
			return nil, fmt.Errorf("create the group %s: Microsoft says a group of this nickname exists, but does not list it after %s (directory replication); the next run adopts it", a.MailNickname, time.Duration(replicationWaits)*env.replicationDelay())
		}
		if errors.Is(err, msgraph.ErrOutcomeUnknown) {
			return nil, fmt.Errorf("create the group %s: %w; the next run looks it up before creating", a.MailNickname, err)
		}
		return nil, fmt.Errorf("create the group %s: %w", a.MailNickname, err)
	}
	if err := env.Store.RecordGroup(ctx, a.CourseID, store.GroupResult{GroupID: g.ID, GraphMailNickname: g.MailNickname,
		GraphDisplayName: g.DisplayName, DisplayName: a.DisplayName, DescriptionHash: reconcile.HashText(desc)}, env.Now()); err != nil {
		return nil, err
	}
	return g, nil
}

// replicationWaits is how many times a group Microsoft says exists is
// looked for again, replicationDelay apart: Microsoft's advice for its
// replication delay after a create (three tries, 10 seconds apart).
const replicationWaits = 3

func (env *Env) replicationDelay() time.Duration {
	if env.ReplicationDelay > 0 {
		return env.ReplicationDelay
	}
	return msgraph.DefaultTeamCreate404Delay
}

// findConflicting looks for the group whose nickname refused a create, by
// its nickname, then by its key inside a naming policy's, waiting out the
// directory's replication. nil: not listed yet.
func (t *teamsApplier) findConflicting(ctx context.Context, a reconcile.Action) (*msgraph.Group, error) {
	for try := 0; ; try++ {
		gs, err := t.env.Graph.FindGroupsByMailNickname(ctx, a.MailNickname)
		if err == nil && len(gs) == 0 {
			gs, err = t.searchNickname(ctx, a.NicknameKey)
		}
		switch {
		case err != nil:
			return nil, fmt.Errorf("look up the group %s that Microsoft says exists: %w", a.MailNickname, err)
		case len(gs) == 1:
			return &gs[0], nil
		case len(gs) > 1:
			return nil, fmt.Errorf("%d groups carry the nickname %s: none is adopted and none created; delete the extra ones in Microsoft Entra", len(gs), a.MailNickname)
		case try == replicationWaits:
			return nil, nil
		}
		if err := t.env.sleep(ctx, t.env.replicationDelay()); err != nil {
			return nil, err
		}
	}
}

// recordBoundOwners marks the Elentra owners bound when the group was
// created as added by this tool (the authorizing account needs no record:
// it is never removed). An adopted group carries the tool's own nickname,
// so it was created the same way, by a run that did not live to record it.
func (t *teamsApplier) recordBoundOwners(ctx context.Context, a reconcile.Action) error {
	var recs []store.MemberRecord
	for _, id := range a.OwnerIDs {
		if !strings.EqualFold(id, t.env.AdminObjectID) && !strings.EqualFold(id, t.env.FallbackOwnerID) {
			recs = append(recs, store.MemberRecord{CourseID: a.CourseID, ObjectID: id, Role: string(reconcile.RoleOwner)})
		}
	}
	return t.env.Store.RecordMembers(ctx, recs, t.env.Now())
}

// searchNickname finds the groups whose nickname holds the key, as a
// tenant's naming policy keeps it (prefix + nickname + suffix): a search by
// the key's words, then only the candidates that hold the whole key.
func (t *teamsApplier) searchNickname(ctx context.Context, nick string) ([]msgraph.Group, error) {
	words := strings.FieldsFunc(strings.ToLower(nick), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	found, err := t.env.Graph.SearchGroupsByMailNicknameWords(ctx, words)
	if err != nil {
		return nil, fmt.Errorf("search groups named like %s: %w", nick, err)
	}
	var out []msgraph.Group
	for _, g := range found {
		if containsNickname(g.MailNickname, nick) {
			out = append(out, g)
		}
	}
	return out, nil
}

// containsNickname reports whether kept holds the key nick whole, between
// separators (or the ends), so that elentra-o1-c1 is not found inside
// elentra-o1-c12.
func containsNickname(kept, nick string) bool {
	kept, nick = strings.ToLower(kept), strings.ToLower(nick)
	for i := strings.Index(kept, nick); i >= 0; {
		end := i + len(nick)
		if (i == 0 || !isAlnum(kept[i-1])) && (end == len(kept) || !isAlnum(kept[end])) {
			return true
		}
		next := strings.Index(kept[i+1:], nick)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

func isAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// adopt records an existing group as the course's, instead of creating one.
func (t *teamsApplier) adopt(ctx context.Context, a reconcile.Action, g msgraph.Group) (*msgraph.Group, error) {
	if t.env.Logger != nil {
		t.env.Logger.Info("adopted an existing group", "course", a.CourseID, "group", g.ID, "mailNickname", g.MailNickname)
	}
	err := t.env.Store.RecordGroup(ctx, a.CourseID, store.GroupResult{GroupID: g.ID, GraphMailNickname: g.MailNickname,
		GraphDisplayName: g.DisplayName, DisplayName: g.DisplayName, DescriptionHash: reconcile.HashText(g.Description),
		HasTeam: g.HasTeam()}, t.env.Now())
	if err != nil {
		return nil, err
	}
	if err := t.recordBoundOwners(ctx, a); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *teamsApplier) rename(ctx context.Context, a reconcile.Action) error {
	env := t.env
	upd := msgraph.GroupUpdate{Description: a.Description}
	if a.DisplayName != "" {
		upd.DisplayName = &a.DisplayName
	}
	if err := env.Graph.UpdateGroup(ctx, a.GroupID, upd); err != nil {
		return fmt.Errorf("rename the group %s: %w", a.GroupID, err)
	}
	kept := ""
	if a.DisplayName != "" {
		// A naming policy may change the name: keep what Graph kept.
		if g, err := env.Graph.GetGroup(ctx, a.GroupID); err == nil {
			kept = g.DisplayName
		}
	}
	hash := ""
	if a.Description != nil {
		hash = reconcile.HashText(*a.Description)
	}
	return env.Store.RecordRename(ctx, a.CourseID, a.DisplayName, kept, hash, env.Now())
}
