package check

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// How many names a message shows before "and N more".
const namesShown = 5

func checkCoursesEnabled(ctx context.Context, e *Env) Result {
	a, err := e.readAudience(ctx)
	if err != nil {
		return fail("cannot read the enabled courses: "+text.OneLine(err.Error()), "check that database.user may read Elentra's course tables")
	}
	ids := a.EnabledIDs()
	if len(ids) == 0 {
		if e.Config.Sync.AllActiveCourses && e.Config.Elentra.CourseSwitchColumn != "" {
			return warn("sync.all_active_courses is on, but every active course of organisation "+fmt.Sprint(e.Config.Elentra.OrganisationID)+" is switched off (courses disable, or Elentra's course switch elentra.course_switch_column): sync has nothing to do",
				"check elentra.course_switch_column and elentra.course_switch_on ('elentra-teams courses list' says what switches each course)")
		}
		if e.Config.Sync.AllActiveCourses {
			return warn("sync.all_active_courses is on, but Elentra has no active course in organisation "+fmt.Sprint(e.Config.Elentra.OrganisationID)+": sync has nothing to do",
				"check elentra.organisation_id, and that courses are active in Elentra")
		}
		fix := "run 'elentra-teams courses enable COURSE_ID…' ('elentra-teams courses list' shows them), or set sync.all_active_courses: true"
		if e.Config.Elentra.CourseSwitchColumn != "" {
			fix = "switch courses on in Elentra (elentra.course_switch_column " + e.Config.Elentra.CourseSwitchColumn + " holding " + fmt.Sprintf("%q", e.Config.Elentra.CourseSwitchOn) + "), or " + fix
		}
		return warn("no course is switched on: sync has nothing to do", fix)
	}
	current := 0
	for _, id := range ids {
		if a.Current(id) {
			current++
		}
	}
	return pass("%d course(s) enabled, %d of them active in a current curriculum period (the others get no Team)", len(ids), current)
}

// checkObjectIDs: people a Team should hold who have no Microsoft Object ID
// are left out of it (the guide's "learner not enrolled").
func checkObjectIDs(ctx context.Context, e *Env) Result {
	a, err := e.readAudience(ctx)
	if err != nil {
		return fail("cannot read the enabled courses' people: "+text.OneLine(err.Error()), "check that database.user may read Elentra's course tables")
	}
	missing := map[int]bool{}
	total := map[int]bool{}
	for _, id := range a.EnabledIDs() {
		for p := range a.Roles[id] {
			u, ok := a.Users[p]
			if !ok {
				continue // no such Elentra user: nobody to look up
			}
			total[p] = true
			if u.ObjectID == "" {
				missing[p] = true
			}
		}
	}
	if len(missing) == 0 {
		return pass("every one of the %d learners and contacts of the enabled courses has a Microsoft Object ID", len(total))
	}
	ids := elentra.SortedIDs(missing)
	var names []string
	for _, p := range ids[:min(len(ids), namesShown)] {
		names = append(names, fmt.Sprintf("%s (%d)", a.Users[p].Name(), p))
	}
	more := ""
	if len(ids) > namesShown {
		more = fmt.Sprintf(" and %d more", len(ids)-namesShown)
	}
	return warn(fmt.Sprintf("%d of the %d learners and contacts of the enabled courses have no Microsoft Object ID, so they are left out of their Teams: %s%s",
		len(ids), len(total), strings.Join(names, ", "), more),
		"run 'elentra-teams sync-users' to match them by email; link the ones it cannot match with 'elentra-teams users link PROXY_ID OBJECT_ID' ('elentra-teams users list --unmatched' lists them)")
}

func courseName(c elentra.Course) string {
	if c.Code != "" {
		return fmt.Sprintf("%s (%d)", c.Code, c.ID)
	}
	return fmt.Sprintf("course %d", c.ID)
}

// checkOwners: a Team without an Elentra owner is owned by the authorizing
// account alone, and nobody at the school can manage it.
func checkOwners(ctx context.Context, e *Env) Result {
	a, err := e.readAudience(ctx)
	if err != nil {
		return fail("cannot read the enabled courses' contacts: "+text.OneLine(err.Error()), "check that database.user may read Elentra's course tables")
	}
	var without []string
	n := 0
	for _, id := range a.EnabledIDs() {
		if !a.Current(id) {
			continue
		}
		n++
		if a.Count(id, reconcile.RoleOwner) == 0 {
			without = append(without, courseName(a.Courses[id]))
		}
	}
	if len(without) == 0 {
		return pass("each of the %d current enabled courses has an owner in Elentra", n)
	}
	more := ""
	shown := without
	if len(shown) > namesShown {
		more = fmt.Sprintf(" and %d more", len(shown)-namesShown)
		shown = shown[:namesShown]
	}
	consequence := "only the authorizing account owns their Teams"
	if m := e.Config.Microsoft; m.Application() {
		consequence = "they get no Team in application mode"
		if e.Config.Sync.FallbackOwner != "" {
			consequence = "sync.fallback_owner " + e.Config.Sync.FallbackOwner + " owns their Teams"
		}
	}
	return warn(fmt.Sprintf("%d enabled course(s) have no owner in Elentra (a contact of sync.owner_contact_types %s): %s: %s%s",
		len(without), strings.Join(e.Config.Sync.OwnerContactTypes, ", "), consequence, strings.Join(shown, ", "), more),
		"add a director or coordinator to each course's contacts in Elentra, or widen sync.owner_contact_types")
}

func checkCourseErrors(ctx context.Context, e *Env) Result {
	recs, err := e.store.TeamRecords(ctx, nil)
	if err != nil {
		return fail(text.OneLine(err.Error()), "run 'elentra-teams setup'")
	}
	var failed []store.TeamRecord
	for _, r := range recs {
		if r.LastError != "" {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return pass("no course failed at its last sync")
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].CourseID < failed[j].CourseID })
	var details []string
	for _, r := range failed[:min(len(failed), namesShown)] {
		when := ""
		if !r.LastErrorAt.IsZero() {
			when = " at " + r.LastErrorAt.UTC().Format("2006-01-02 15:04") + " UTC"
		}
		details = append(details, fmt.Sprintf("course %d%s: %s", r.CourseID, when, text.OneLine(text.Shorten(r.LastError, 200))))
	}
	if len(failed) > namesShown {
		details = append(details, fmt.Sprintf("… and %d more ('elentra-teams status' lists them)", len(failed)-namesShown))
	}
	return warn(fmt.Sprintf("%d course(s) failed at their last sync", len(failed)),
		"read the errors below ('elentra-teams status' shows them all); the next sync retries, and a fixed cause clears them").with(details...)
}

// The jobs a schedule must run; `sync` runs them all.
var jobs = []string{"sync-users", "sync-teams", "sync-members", "sync-events"}

// staleAfter: a job last run longer ago than this is not running from cron
// (a daily schedule plus slack).
const staleAfter = 26 * time.Hour

// unfinishedAfter: a run without an end this old was killed or crashed.
const unfinishedAfter = 6 * time.Hour

// lastRun is the latest real (not dry) run of one command.
type lastRun struct {
	Command  string         `db:"command"`
	Started  time.Time      `db:"started_at"`
	Finished sql.NullTime   `db:"finished_at"`
	ExitCode sql.NullInt64  `db:"exit_code"`
	Error    sql.NullString `db:"error"`
}

func (e *Env) lastRuns(ctx context.Context) (map[string]lastRun, error) {
	t := e.db.Table(store.RunsTable)
	var rows []lastRun
	err := e.db.Select(ctx, &rows, `SELECT r.command, r.started_at, r.finished_at, r.exit_code, r.error FROM `+t+` r
		JOIN (SELECT command, MAX(run_id) AS run_id FROM `+t+` WHERE dry_run = 0 GROUP BY command) l ON l.run_id = r.run_id`)
	if err != nil {
		return nil, fmt.Errorf("read the last runs: %w", err)
	}
	out := map[string]lastRun{}
	for _, r := range rows {
		r.Started = r.Started.UTC()
		out[r.Command] = r
	}
	return out, nil
}

func checkRuns(ctx context.Context, e *Env) Result {
	last, err := e.lastRuns(ctx)
	if err != nil {
		return fail(text.OneLine(err.Error()), "run 'elentra-teams setup'")
	}
	return runsResult(last, e.now())
}

// runsResult judges the last run of each job (its own command or sync,
// whichever is later).
func runsResult(last map[string]lastRun, now time.Time) Result {
	if len(last) == 0 {
		return warn("no sync has run yet", "run 'elentra-teams sync' once by hand, then let cron run it (see cron.entry)")
	}
	var never, stale, bad []string
	var newest lastRun
	for _, job := range jobs {
		r, ok := last[job]
		if s, has := last["sync"]; has && (!ok || s.Started.After(r.Started)) {
			r, ok = s, true
		}
		if !ok {
			never = append(never, job)
			continue
		}
		if r.Started.After(newest.Started) {
			newest = r
		}
		age := now.Sub(r.Started)
		switch {
		case !r.Finished.Valid && age > unfinishedAfter:
			bad = append(bad, fmt.Sprintf("%s started %s ago and never finished (killed, or the machine stopped)", r.Command, text.Ago(age)))
		case r.ExitCode.Valid && r.ExitCode.Int64 != 0:
			msg := fmt.Sprintf("the last %s exited %d", r.Command, r.ExitCode.Int64)
			if r.Error.Valid && r.Error.String != "" {
				msg += ": " + text.OneLine(text.Shorten(r.Error.String, 160))
			}
			bad = append(bad, msg)
		case age > staleAfter:
			stale = append(stale, fmt.Sprintf("%s last ran %s ago", r.Command, text.Ago(age)))
		}
	}
	var parts []string
	if len(never) > 0 {
		parts = append(parts, strings.Join(never, ", ")+" never ran")
	}
	parts = append(parts, dedupe(bad)...)
	parts = append(parts, dedupe(stale)...)
	if len(parts) > 0 {
		fix := "check that cron runs 'elentra-teams sync' (see cron.entry) and read the errors of its last run ('elentra-teams status')"
		return warn(strings.Join(parts, "; "), fix)
	}
	return pass("the last %s ran %s ago and exited 0", newest.Command, text.Ago(now.Sub(newest.Started)))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
