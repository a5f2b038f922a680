package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// MySQL server errors the connection check explains.
const (
	errAccessDenied   = 1045
	errUnknownDB      = 1049
	errDBAccessDenied = 1044
)

func checkConnect(ctx context.Context, e *Env) Result {
	d := e.Config.Database
	db, err := e.OpenDB(ctx, e.Config)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			switch me.Number {
			case errUnknownDB:
				return fail(fmt.Sprintf("the server has no schema %s%s", d.Name, e.source("database.name")),
					"set database.name to Elentra's DATABASE_NAME (or point --elentra-settings at Elentra's settings file)")
			case errAccessDenied:
				return fail(fmt.Sprintf("the server refused user %s%s: %s", d.User, e.source("database.user"), me.Message),
					"check database.user and database.password (or database.password_file), and that this user may connect from this machine")
			case errDBAccessDenied:
				return fail(fmt.Sprintf("user %s may not use schema %s: %s", d.User, d.Name, me.Message),
					"grant the user the privileges that check-config lists under database.privileges (SELECT on both schemas at least)")
			}
		}
		return fail("cannot reach Elentra's database: "+text.OneLine(strings.TrimPrefix(err.Error(), "cannot reach Elentra's database: ")),
			"check database.host, database.port (or database.socket) and that this machine may connect to the server")
	}
	e.db = db
	e.store = store.New(db)
	var version, user string
	_ = db.Get(ctx, &version, `SELECT VERSION()`)
	_ = db.Get(ctx, &user, `SELECT CURRENT_USER()`)
	msg := "connected"
	if user != "" {
		msg += " as " + user
	}
	if version != "" {
		msg += " (server " + version + ")"
	}
	return pass("%s", msg)
}

// The Elentra tables the tool reads or writes, by schema.
var (
	mainTables = []string{"settings", "courses", "curriculum_periods", "course_audience", "course_contacts", "groups",
		"group_members", "course_groups", "course_group_audience", "events", "event_audience", "event_contacts",
		"event_links", "event_resource_entities"}
	authTables = []string{"user_data", "user_access"}
)

func checkSchemas(ctx context.Context, e *Env) Result {
	db := e.db
	var problems []string
	for _, s := range []struct {
		key, schema string
		tables      []string
	}{{"database.name", db.Name(), mainTables}, {"database.auth_name", db.AuthName(), authTables}} {
		// One probe per table rather than a read of information_schema,
		// which some servers answer slowly and the embedded engine unsafely.
		var missing []string
		for _, t := range s.tables {
			ok, err := db.HasTable(ctx, s.schema, t)
			if err != nil {
				return fail("cannot read "+s.schema+"."+t+": "+text.OneLine(err.Error()),
					"grant database.user SELECT on "+s.schema+" (see database.privileges)")
			}
			if !ok {
				missing = append(missing, t)
			}
		}
		switch {
		case len(missing) == len(s.tables):
			problems = append(problems, fmt.Sprintf("%s (%s%s) holds none of Elentra's tables", s.schema, s.key, e.source(s.key)))
		case len(missing) > 0:
			problems = append(problems, fmt.Sprintf("%s lacks Elentra's tables %s", s.schema, strings.Join(missing, ", ")))
		}
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "),
			"set database.name and database.auth_name to Elentra's DATABASE_NAME and AUTH_DATABASE (or point --elentra-settings at Elentra's settings file)")
	}
	return pass("Elentra's tables are in %s and %s", db.Name(), db.AuthName())
}

func checkMigrations(ctx context.Context, e *Env) Result {
	pending, err := store.Pending(ctx, e.db)
	if err != nil {
		return fail("cannot read the tool's schema version: "+text.OneLine(err.Error()), "run 'elentra-teams setup'")
	}
	all, err := store.Migrations()
	if err != nil {
		return fail(err.Error(), "report this as a bug of elentra-teams")
	}
	if len(pending) > 0 {
		var names []string
		for _, m := range pending {
			names = append(names, fmt.Sprintf("%04d %s", m.Version, m.Description))
		}
		what := "the tool's tables are not there yet"
		if len(pending) < len(all) {
			what = "the tool's tables are older than this version"
		}
		return fail(fmt.Sprintf("%s: %d migration(s) pending (%s)", what, len(pending), strings.Join(names, ", ")),
			"run 'elentra-teams setup' (it creates or upgrades the msteams_ tables and changes nothing else without asking)")
	}
	version := 0
	if len(all) > 0 {
		version = all[len(all)-1].Version
	}
	return pass("the tool's tables in %s are current (version %d)", e.db.Name(), version)
}

// checkInstallation shows the installation's id and where it is bound, and
// fails on a database copied from another installation (the syncs write
// nothing to Microsoft there until setup says which it is).
func checkInstallation(ctx context.Context, e *Env) Result {
	inst, err := store.New(e.db).CheckInstallation(ctx)
	var ce *store.CopyError
	var ne *store.NoInstallationError
	switch {
	case errors.As(err, &ce):
		fix := "a copy (staging restored from production's dump): run 'elentra-teams setup --new-installation'; the same installation on a new database server: run 'elentra-teams setup --moved'"
		return fail(text.OneLine(err.Error()), fix)
	case errors.As(err, &ne):
		return fail(ne.Error(), "run 'elentra-teams setup'")
	case err != nil:
		return fail("cannot read the installation: "+text.OneLine(err.Error()), "check the database privileges (database.privileges)")
	}
	msg := fmt.Sprintf("installation %s, bound to %s", inst.ID, inst.Server)
	if inst.PreviousID != "" {
		msg += fmt.Sprintf(" (made from a copy of installation %s's database)", inst.PreviousID)
	}
	return pass("%s", msg)
}

func checkTeamsEnabled(ctx context.Context, e *Env) Result {
	org := e.Config.Elentra.OrganisationID
	rows, err := e.db.SettingRows(ctx, []string{elentra.SettingTeamsEnabled}, org)
	if err != nil {
		return fail("cannot read Elentra's settings: "+text.OneLine(err.Error()), "check that database.user may read the settings table")
	}
	r, found := elentra.EffectiveSetting(rows, elentra.SettingTeamsEnabled)
	if !found {
		return fail(fmt.Sprintf("Elentra's setting microsoft_teams_enabled is absent for organisation %d: the integration is off and every sync stops at once", org),
			"run 'elentra-teams setup' (it inserts microsoft_teams_enabled = 1)")
	}
	if strings.TrimSpace(r.Value) != "1" {
		return fail(fmt.Sprintf("Elentra's setting microsoft_teams_enabled is %q (setting_id %d): the integration is switched off and every sync stops at once", r.Value, r.ID),
			"run 'elentra-teams setup --enable' to switch it on")
	}
	return pass("Elentra's setting microsoft_teams_enabled is 1")
}

func checkMeetingWindow(ctx context.Context, e *Env) Result {
	v, found, err := e.db.Setting(ctx, elentra.SettingMeetingWindow, e.Config.Elentra.OrganisationID)
	if err != nil {
		return fail("cannot read Elentra's settings: "+text.OneLine(err.Error()), "check that database.user may read the settings table")
	}
	return meetingWindowResult(v, found)
}

// meetingWindowResult judges personal_meeting_window_minutes: how long
// before an event its join link becomes clickable. The window it names is
// the one the syncs use (elentra.MeetingWindow).
func meetingWindowResult(v string, found bool) Result {
	if !found {
		return warn(fmt.Sprintf("Elentra's setting %s is absent: meeting links open %d minutes before each event (the default)", elentra.SettingMeetingWindow, elentra.DefaultMeetingWindow),
			"run 'elentra-teams setup' to record the default, or insert the setting with the window you want")
	}
	n, unused := elentra.MeetingWindow(v, found)
	switch {
	case unused != "":
		return warn(unused, elentra.MeetingWindowFix)
	case n == 0:
		return warn("Elentra's setting personal_meeting_window_minutes is 0: meeting links open only when events start, so nobody can join early", elentra.MeetingWindowFix)
	}
	return pass("meeting links open %d minutes before each event (personal_meeting_window_minutes)", n)
}

func checkElentraCron(ctx context.Context, e *Env) Result {
	ok, err := e.db.HasTable(ctx, e.db.Name(), "cron")
	if err != nil {
		return fail(text.OneLine(err.Error()), "grant database.user SELECT on "+e.db.Name()+" (see database.privileges)")
	}
	if !ok {
		return pass("Elentra has no cron table (it has one from 1.22): no Elentra job syncs Teams beside this tool")
	}
	cron, err := e.db.ElentraCronJobs(ctx)
	if err != nil {
		return fail(text.OneLine(err.Error()), "check that database.user may read Elentra's cron table")
	}
	if active := cron.Active(); len(active) > 0 {
		rows := make([]string, len(active))
		for i, j := range active {
			rows[i] = j.String()
		}
		return fail(fmt.Sprintf("Elentra's own Microsoft jobs are active in its cron table (%s): they sync the same tenant as this tool, so both create, rename and remove", elentra.CronJobIDs(active)),
			"run 'elentra-teams setup --takeover' to switch them off (this tool does their work); 'elentra-teams setup --takeover --dry-run' lists them first").with(rows...)
	}
	if len(cron.Jobs) > 0 {
		return pass("Elentra's own Microsoft jobs are switched off in its cron table (%s)", elentra.CronJobIDs(cron.Jobs))
	}
	return pass("no row of Elentra's cron table names a Microsoft or Teams job")
}

func checkAdmin(ctx context.Context, e *Env) Result {
	id := e.Config.Elentra.AdminUserID
	users, err := e.store.Users(ctx, []int{id})
	if err != nil {
		return fail("cannot read Elentra's users: "+text.OneLine(err.Error()), "check that database.user may read "+e.db.AuthName()+".user_data")
	}
	if len(users) == 0 {
		return fail(fmt.Sprintf("Elentra has no user %d (elentra.admin_user_id)", id),
			"set elentra.admin_user_id to the proxy id of Elentra's medtech:admin user (1 on a standard installation)")
	}
	u := users[0]
	e.admin = &u
	name := u.FullName()
	switch {
	case u.Email == "" && u.ObjectID == "":
		return fail(fmt.Sprintf("Elentra user %d (%s) has neither an email nor a Microsoft Object ID: authorize cannot tell its account", id, name),
			fmt.Sprintf("give user %d an email in Elentra, or run 'elentra-teams users link %d OBJECT_ID'", id, id))
	case u.ObjectID == "":
		return pass("Elentra user %d is %s <%s> (its Object ID is recorded when it authorizes)", id, name, u.Email)
	}
	return pass("Elentra user %d is %s <%s>, Object ID %s (%s)", id, name, u.Email, strings.ToLower(u.ObjectID), u.ObjectIDSource)
}
