package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

const syncLong = `

Every sync reads Elentra and Microsoft Teams, plans what to change, and
applies the plan: a second run in a row changes nothing. It runs under a lock
(another run holding it: exit 5) and only while Elentra's setting
microsoft_teams_enabled is 1. --dry-run prints the plan and writes nothing.
--quiet prints only what failed and the guards that held, for cron, and that
the integration is switched off when the command's previous run (its record
in msteams_runs) did not find it so: once per change, not every run. Findings
(users without a Microsoft account, courses without an owner, guards that
held) are reported and never change the exit code; exit 3 means some changes
failed and the rest applied.

Removals, meeting cancellations and archives pass guards (sync.*guard*): a
guard that holds makes none of the changes it covers and says how to go ahead.
--force turns them off for the courses or events of --course and --event; at a
terminal without those, it shows what the guards held, with the counts, and
makes it only when you answer y. Without a terminal (cron) --force needs
--course or --event (exit 2).`

func newSyncCmd(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "sync",
		Short: "Run sync-users, sync-teams, sync-members and sync-events in order, under one lock",
		Long: `Run the whole sync under one lock: users, then Teams, then members, then
events' meetings. This is what cron runs.` + syncLong,
		Example: `  elentra-teams sync --dry-run
  elentra-teams sync --quiet          # in cron: prints only failures and held guards
  elentra-teams sync --course 101 --output json`,
		Args: cobra.NoArgs,
	}
	return syncCommand(f, runF, c, &syncOptions{command: "sync", needs: needsSync,
		steps: []engine.Step{engine.UsersStep, engine.TeamsStep, engine.MembersStep, engine.EventsStep}}, true)
}

func newSyncUsersCmd(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "sync-users",
		Short: "Fill in missing Microsoft Object IDs by matching Elentra users to the directory",
		Long: `Match the learners and contacts of enabled courses (or, with --all, every active
user) that have no Microsoft Object ID to directory users, by identity.match
(default: Elentra's email = mail, then = userPrincipalName; case-insensitive).
Hand-made links (users link) and the site's own column are never overwritten.
A user who matches nobody, or more than one directory user, is named in the
report and not looked up again until their email or identity.match changes.` + syncLong,
		Example: `  elentra-teams sync-users --dry-run
  elentra-teams sync-users --all`,
		Args: cobra.NoArgs,
	}
	o := &syncOptions{command: "sync-users", needs: needsSync, steps: []engine.Step{engine.UsersStep}}
	syncCommand(f, runF, c, o, false)
	c.Flags().BoolVar(&o.all, "all", false, "match every active user, not only those of enabled courses")
	return c
}

func newSyncTeamsCmd(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "sync-teams",
		Short: "Create, rename, archive and unarchive one Team per enabled course",
		Long: `Give each enabled course with a current curriculum period a Team: a private
Microsoft 365 group with a nickname made from the organisation and course ids
(found again after any crash, never duplicated), then its Team. Rename it when
the course's name changes; apply sync.course_end when the course is disabled
or ends; unarchive it when the course is current again.` + syncLong,
		Example: `  elentra-teams sync-teams --dry-run
  elentra-teams sync-teams --course 101`,
		Args: cobra.NoArgs,
	}
	return syncCommand(f, runF, c, &syncOptions{command: "sync-teams", needs: needsSync, steps: []engine.Step{engine.TeamsStep}}, false)
}

func newSyncMembersCmd(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "sync-members",
		Short: "Make each Team's owners and members match the course",
		Long: `Reconcile each Team with its course: learners become members, contacts of
sync.owner_contact_types (and courses.pcoord_id) owners, contacts of
sync.member_contact_types members. Only members this tool added are removed
(unless sync.remove_unmanaged), never the authorizing account, never when
Microsoft's list came back empty, and no more than sync.removal_guard_percent
of those the tool manages in a Team, nor sync.run_removal_guard_percent of all
of them, in one run.` + syncLong,
		Example: `  elentra-teams sync-members --dry-run
  elentra-teams sync-members --course 101 --force`,
		Args: cobra.NoArgs,
	}
	return syncCommand(f, runF, c, &syncOptions{command: "sync-members", needs: needsSync, steps: []engine.Step{engine.MembersStep}}, false)
}

func newSyncEventsCmd(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "sync-events",
		Short: "Keep a Teams meeting for each enabled learning event, its link on the event page",
		Long: `Give each enabled learning event (events enable; with sync.all_course_events
every event of a synced course; a child event follows its parent) that starts
within sync.events_horizon a Teams meeting: an Outlook event in the
authorizing account's calendar, in its Outlook time zone, titled by
sync.event_subject_template, inviting sync.event_attendees. Its join link is
published on the Elentra event page as an event link that opens
personal_meeting_window_minutes (default 10) before the start and closes at
the finish. A changed title, time, location or description updates the
meeting and the link; an event deleted, switched off or moved to another
course has its meeting cancelled and its link removed. An event that moves
beyond the horizon keeps its meeting. Events that finish before they start,
last over 24 hours (unless --allow-long-events) or have no title are reported
and left alone.` + syncLong,
		Example: `  elentra-teams sync-events --dry-run
  elentra-teams sync-events --event 5012`,
		Args: cobra.NoArgs,
	}
	return syncCommand(f, runF, c, &syncOptions{command: "sync-events", needs: needsEvent, steps: []engine.Step{engine.EventsStep}}, true)
}

// syncRun builds the engine's environment (database, token, Graph client)
// and runs the steps, then prints the report.
func syncRun(ctx context.Context, o *syncOptions) error {
	f := o.f
	cfg, err := f.Config(o.needs)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	sess, err := f.Session(ctx, cfg, st)
	if err != nil {
		return err
	}
	graph := f.Graph(cfg, sess.ts)
	env := &engine.Env{
		DB: st.DB(), Store: st, Graph: graph, Config: cfg, Now: f.Now, Logger: f.Logger,
		DryRun: o.dryRun, Force: o.force, CourseIDs: o.courses, EventIDs: o.events, AllUsers: o.all, AllowLongEvents: o.allowLong,
		AdminObjectID: sess.account, OutlookTimezone: sess.timezone, Mailbox: sess.mailbox,
		ExitCode: ExitCodeOf,
	}
	if cfg.Sync.FallbackOwner != "" {
		u, err := graph.GetUser(ctx, cfg.Sync.FallbackOwner)
		if err != nil {
			return &config.Error{Key: "sync.fallback_owner", Problem: fmt.Sprintf("cannot find directory user %q: %v", cfg.Sync.FallbackOwner, err),
				Fix: "name an existing user by object id or userPrincipalName"}
		}
		env.FallbackOwnerID = strings.ToLower(u.ID)
	}
	var bars *progressBars
	if f.IO.StderrIsTerminal() && !o.quiet {
		bars = &progressBars{w: f.IO.ErrOut}
		env.Progress = bars.update
	}
	if o.force && len(o.courses) == 0 && len(o.events) == 0 && !o.dryRun {
		// At a terminal (checkForce): the guards stay on, and what they
		// hold is shown and applied only when the person says so.
		env.Force = false
		env.Confirm = func(step string, held []reconcile.Held) bool {
			if bars != nil {
				bars.finish()
			}
			return confirmHeld(f.IO, step, held)
		}
	}
	rep, err := engine.Run(ctx, env, o.command, o.steps...)
	if bars != nil {
		bars.finish() // before the report, on the same terminal
	}
	// A run refused before its steps began (the lock held, a copied
	// database) reported nothing: only its error is said, on stderr.
	if rep != nil && (rep.Ran || rep.Disabled != "") {
		if f.JSON() {
			if werr := writeJSON(f, rep); werr != nil {
				return werr
			}
		} else {
			printReport(f.IO.Out, rep, o.quiet)
		}
	}
	return err
}

// confirmHeld shows what a step's guards held back and asks whether to
// apply it.
func confirmHeld(io *IOStreams, step string, held []reconcile.Held) bool {
	n := 0
	fmt.Fprintf(io.ErrOut, "%s: the guards held back these changes:\n", step)
	for _, h := range held {
		fd := h.Finding
		fd.Fix = ""
		fmt.Fprintf(io.ErrOut, "  ! %s\n", describeFinding(fd))
		n += h.Count()
	}
	return io.Confirm(fmt.Sprintf("Make these %d changes now?", n))
}

// printReport writes the text summary: what changed, what failed, what was
// found. Quiet keeps only the failures and the guards that held (cron mails
// whatever is printed).
func printReport(w io.Writer, rep *engine.Report, quiet bool) {
	if rep.Disabled != "" {
		// An admin may have switched it off on purpose: cron says so once,
		// at the first run that finds it off, not at every run.
		if !quiet || rep.DisabledChanged {
			fmt.Fprintln(w, rep.Disabled)
		}
		return
	}
	reports := rep.Steps
	if len(reports) == 0 {
		reports = []*engine.Report{rep}
	}
	if !quiet {
		verb := "changed"
		if rep.DryRun {
			verb = "would change"
		}
		for _, r := range reports {
			fmt.Fprintf(w, "%s: %s\n", r.Command, countsLine(r, verb))
		}
		if rep.DryRun {
			for _, r := range reports {
				for _, a := range r.Plan {
					fmt.Fprintf(w, "  %s\n", describeAction(a))
				}
			}
		}
	}
	failures := rep.AllFailures()
	if total := len(failures) + rep.FailuresLeftOut(); total > 0 {
		fmt.Fprintf(w, "%d failed:\n", total)
		for i, fl := range failures {
			if i == 50 {
				break
			}
			fmt.Fprintf(w, "  %s\n", describeFailure(fl))
		}
		switch {
		case total > 50 && rep.FailuresLeftOut() > 0:
			fmt.Fprintf(w, "  … and %d more (--output json lists the first %d of each step)\n", total-min(50, len(failures)), engine.MaxFailuresListed)
		case total > 50:
			fmt.Fprintf(w, "  … and %d more (--output json lists them all)\n", total-50)
		}
	}
	if quiet {
		// A guard that held needs a person: cron mails it.
		for _, fd := range rep.AllFindings() {
			if reconcile.IsGuard(fd.Kind) {
				fmt.Fprintf(w, "! %s\n", describeFinding(fd))
			}
		}
		return
	}
	findings := rep.AllFindings()
	var warnings []reconcile.Finding
	notes := 0
	for _, fd := range findings {
		if fd.Severity == reconcile.Warning {
			warnings = append(warnings, fd)
		} else {
			notes++
		}
	}
	for i, fd := range warnings {
		if i == 30 {
			fmt.Fprintf(w, "! … and %d more warnings (--output json lists them all)\n", len(warnings)-30)
			break
		}
		fmt.Fprintf(w, "! %s\n", describeFinding(fd))
	}
	if notes > 0 {
		fmt.Fprintf(w, "(%d notes on skipped courses or events: --output json lists them)\n", notes)
	}
	if rep.Stopped != "" {
		fmt.Fprintf(w, "stopped: %s\n", rep.Stopped)
	}
}

func countsLine(r *engine.Report, verb string) string {
	kinds := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		c := r.Counts[reconcile.Kind(k)]
		n := c.Applied
		if r.DryRun {
			n = c.Planned
		}
		if n == 0 && c.Failed == 0 && c.Deferred == 0 {
			continue
		}
		p := fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n)
		if c.Failed > 0 {
			p += fmt.Sprintf(" (%d failed)", c.Failed)
		}
		if c.Deferred > 0 {
			p += fmt.Sprintf(" (%d deferred)", c.Deferred)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "nothing to change"
	}
	return verb + ": " + strings.Join(parts, ", ")
}

func describeAction(a reconcile.Action) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(string(a.Kind), "_", " "))
	if a.CourseID != 0 {
		fmt.Fprintf(&b, " course %d", a.CourseID)
	}
	if a.EventID != 0 {
		fmt.Fprintf(&b, " event %d", a.EventID)
	}
	switch a.Kind {
	case reconcile.KindCreateTeam:
		fmt.Fprintf(&b, " %q (%s)", a.DisplayName, a.MailNickname)
	case reconcile.KindAddMembers:
		owners := 0
		for _, ad := range a.Adds {
			if ad.Role == reconcile.RoleOwner {
				owners++
			}
		}
		fmt.Fprintf(&b, ": %d members, %d owners", len(a.Adds)-owners, owners)
	case reconcile.KindSetRole:
		fmt.Fprintf(&b, ": user %s → %s", a.UserID, a.Role)
	case reconcile.KindRemoveMember:
		fmt.Fprintf(&b, ": user %s", a.UserID)
	case reconcile.KindMatchUser:
		fmt.Fprintf(&b, " %d → %s", a.ProxyID, a.UserID)
	case reconcile.KindCreateEvent:
		if e := a.Event; e != nil {
			fmt.Fprintf(&b, " %q %s–%s (%s)", e.Subject, e.Start.UTC().Format("2006-01-02 15:04"), e.End.UTC().Format("15:04 UTC"), e.TimeZone)
		}
	case reconcile.KindUpdateEvent:
		if e := a.Event; e != nil {
			fmt.Fprintf(&b, " %q: %s", e.Subject, strings.Join(e.Changed, ", "))
		}
	case reconcile.KindPublishLink:
		if e := a.Event; e != nil && !e.JoinableFrom.IsZero() {
			fmt.Fprintf(&b, ": opens %s, closes %s", e.JoinableFrom.UTC().Format("2006-01-02 15:04 UTC"), e.End.UTC().Format("2006-01-02 15:04 UTC"))
		}
	}
	if a.Reason != "" {
		b.WriteString(" — " + a.Reason)
	}
	return b.String()
}

func describeFailure(fl engine.Failure) string {
	var where []string
	if fl.CourseID != 0 {
		where = append(where, fmt.Sprintf("course %d", fl.CourseID))
	}
	if fl.EventID != 0 {
		where = append(where, fmt.Sprintf("event %d", fl.EventID))
	}
	if fl.ProxyID != 0 {
		where = append(where, fmt.Sprintf("user %d", fl.ProxyID))
	} else if fl.UserID != "" {
		where = append(where, "user "+fl.UserID)
	}
	s := strings.ReplaceAll(string(fl.Kind), "_", " ")
	if len(where) > 0 {
		s += " (" + strings.Join(where, ", ") + ")"
	}
	if fl.Code != "" {
		s += " [" + fl.Code + "]"
	}
	return s + ": " + text.OneLine(fl.Message)
}

func describeFinding(fd reconcile.Finding) string {
	var where []string
	if fd.CourseID != 0 {
		c := fmt.Sprintf("course %d", fd.CourseID)
		if fd.Name != "" {
			c += " " + fd.Name
		}
		where = append(where, c)
	} else if fd.ProxyID != 0 {
		u := fmt.Sprintf("user %d", fd.ProxyID)
		if fd.Name != "" {
			u += " " + fd.Name
		}
		where = append(where, u)
	}
	if fd.EventID != 0 {
		where = append(where, fmt.Sprintf("event %d", fd.EventID))
	}
	s := fd.Message
	if len(where) > 0 {
		s = strings.Join(where, ", ") + ": " + s
	}
	if fd.Fix != "" {
		s += " — " + fd.Fix
	}
	return s
}
