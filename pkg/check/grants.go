package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// The database privileges elentra-teams needs, and no more:
//
//	GRANT SELECT ON `entrada_auth`.* TO 'elentra_teams'@'host';
//	GRANT SELECT, CREATE, ALTER, INDEX ON `entrada`.* TO 'elentra_teams'@'host';
//	GRANT INSERT, UPDATE, DELETE ON `entrada`.`settings` TO 'elentra_teams'@'host';
//	GRANT INSERT, UPDATE, DELETE ON `entrada`.`cron` TO 'elentra_teams'@'host';      (Elentra 1.22)
//	GRANT INSERT, UPDATE, DELETE ON `entrada`.`event_links` TO 'elentra_teams'@'host';
//	GRANT INSERT, UPDATE, DELETE ON `entrada`.`event_resource_entities` TO 'elentra_teams'@'host';
//	GRANT INSERT, UPDATE, DELETE ON `entrada`.`msteams_…` TO 'elentra_teams'@'host';  (each of the tool's tables, after setup)
//
// SELECT on both schemas reads courses, audiences, events and users; CREATE,
// ALTER and INDEX let `setup` create and upgrade the msteams_ tables; the
// writes are limited to the settings setup inserts, the cron rows `setup
// --takeover` switches off, the event links the tool publishes, and its own
// tables. Named locks (GET_LOCK) need no privilege. Anything more (ALL
// PRIVILEGES, a global privilege such as SUPER or FILE, DROP, GRANT OPTION,
// any privilege on another schema, a write on the auth schema) is reported by
// the database.privileges check.

// writeTables are Elentra's tables the tool writes.
var writeTables = []string{"settings", "cron", "event_links", "event_resource_entities"}

// toolTables are the tool's own tables, written by every sync.
var toolTables = []string{store.VersionTable, store.CoursesTable, store.MembershipsTable, store.EventsTable,
	store.UsersTable, store.TokensTable, store.RunsTable, store.InstallationTable, store.SetAsideTable}

// grant is one line of SHOW GRANTS.
type grant struct {
	privs       []string // upper case; column lists removed
	schema      string   // "*" for every schema; unquoted, wildcard escapes kept
	table       string   // "*" for every table
	grantOption bool
	line        string
}

// parseGrant reads "GRANT privs ON target TO user [IDENTIFIED …] [WITH GRANT
// OPTION]". A role grant (no ON) and anything unreadable give ok=false.
func parseGrant(line string) (grant, bool) {
	g := grant{line: line}
	up := strings.ToUpper(line)
	if !strings.HasPrefix(up, "GRANT ") {
		return g, false
	}
	on := strings.Index(up, " ON ")
	if on < 0 {
		return g, false
	}
	to := strings.Index(up[on:], " TO ")
	if to < 0 {
		return g, false
	}
	to += on
	g.grantOption = strings.Contains(up[to:], "WITH GRANT OPTION")
	for _, p := range splitOutsideParens(line[len("GRANT "):on]) {
		p = strings.ToUpper(strings.TrimSpace(p))
		if i := strings.IndexByte(p, '('); i >= 0 {
			p = strings.TrimSpace(p[:i]) // column privilege: SELECT (a, b)
		}
		if p != "" {
			g.privs = append(g.privs, p)
		}
	}
	target := strings.TrimSpace(line[on+len(" ON ") : to])
	for _, kw := range []string{"TABLE ", "FUNCTION ", "PROCEDURE ", "PACKAGE BODY ", "PACKAGE "} {
		if strings.HasPrefix(strings.ToUpper(target), kw) {
			target = strings.TrimSpace(target[len(kw):])
			break
		}
	}
	schema, table, ok := splitTarget(target)
	if !ok {
		return g, false
	}
	g.schema, g.table = schema, table
	return g, true
}

func splitOutsideParens(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// splitTarget splits `db`.`table`, db.*, *.* or ”@'%' (PROXY) into its
// unquoted parts.
func splitTarget(t string) (schema, table string, ok bool) {
	var parts []string
	var cur strings.Builder
	quote := rune(0)
	for _, r := range t {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '`' || r == '\'' || r == '"':
			quote = r
		case r == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		case r == '@':
			return "", "", false // a user (PROXY ON ''@'%')
		default:
			cur.WriteRune(r)
		}
	}
	parts = append(parts, cur.String())
	switch len(parts) {
	case 1:
		return "*", strings.TrimSpace(parts[0]), true // a table of the default database
	case 2:
		return strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), true
	}
	return "", "", false
}

// schemaIs compares a grant's schema with a name, undoing the \_ and \%
// escapes SHOW GRANTS prints.
func schemaIs(granted, name string) bool {
	g := strings.NewReplacer(`\_`, "_", `\%`, "%").Replace(granted)
	return strings.EqualFold(g, name)
}

// The privileges allowed on the main schema (schema-wide or on a table);
// the auth schema allows SELECT only.
var mainAllowed = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true,
	"CREATE": true, "ALTER": true, "INDEX": true, "USAGE": true, "LOCK TABLES": true, "SHOW VIEW": true}

// excessGrants lists what the grants give beyond what the tool needs, one
// phrase per finding, and the lines it could not read.
func excessGrants(lines []string, mainSchema, authSchema string) (excess, unread []string) {
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			excess = append(excess, s)
		}
	}
	for _, l := range lines {
		g, ok := parseGrant(l)
		if !ok {
			if strings.HasPrefix(strings.ToUpper(l), "GRANT PROXY ON") {
				add("PROXY")
				if strings.Contains(strings.ToUpper(l), "WITH GRANT OPTION") {
					add("GRANT OPTION")
				}
				continue
			}
			unread = append(unread, l)
			continue
		}
		where := fmt.Sprintf("on %s.%s", g.schema, g.table)
		if g.grantOption {
			add("GRANT OPTION " + where)
		}
		for _, p := range g.privs {
			switch {
			case p == "USAGE":
			case g.schema == "*" && g.table == "*":
				add(p + " on *.*")
			case p == "ALL PRIVILEGES" || p == "ALL":
				add("ALL PRIVILEGES " + where)
			case schemaIs(g.schema, authSchema):
				if p != "SELECT" {
					add(p + " " + where)
				}
			case schemaIs(g.schema, mainSchema):
				if !mainAllowed[p] {
					add(p + " " + where)
				}
			default:
				add(p + " " + where)
			}
		}
	}
	return excess, unread
}

// minimalGrants are the GRANT statements of the package comment for a user.
func minimalGrants(user, mainSchema, authSchema string, withCron bool) []string {
	q := func(id string) string { return "`" + strings.ReplaceAll(id, "`", "``") + "`" }
	out := []string{
		fmt.Sprintf("GRANT SELECT ON %s.* TO %s;", q(authSchema), user),
		fmt.Sprintf("GRANT SELECT, CREATE, ALTER, INDEX ON %s.* TO %s;", q(mainSchema), user),
	}
	for _, t := range append(append([]string(nil), writeTables...), toolTables...) {
		if t == "cron" && !withCron {
			continue
		}
		out = append(out, fmt.Sprintf("GRANT INSERT, UPDATE, DELETE ON %s.%s TO %s;", q(mainSchema), q(t), user))
	}
	return out
}

// accountOf quotes CURRENT_USER()'s "user@host" as 'user'@'host'.
func accountOf(current string) (user, host string) {
	i := strings.LastIndexByte(current, '@')
	if i < 0 {
		return current, "%"
	}
	return current[:i], current[i+1:]
}

func checkPrivileges(ctx context.Context, e *Env) Result {
	var lines []string
	if err := e.db.Select(ctx, &lines, `SHOW GRANTS FOR CURRENT_USER()`); err != nil {
		return Result{Status: Skip, Message: "skipped: the server does not show this user's grants (" + text.OneLine(err.Error()) + ")"}
	}
	var current string
	_ = e.db.Get(ctx, &current, `SELECT CURRENT_USER()`)
	excess, unread := excessGrants(lines, e.db.Name(), e.db.AuthName())
	_, host := accountOf(current)
	if len(excess) == 0 {
		msg := "database user " + current + " has no privilege beyond what the tool needs"
		if len(unread) > 0 {
			msg += fmt.Sprintf(" (%d grant line(s) not understood, e.g. a role: not checked)", len(unread))
		}
		return pass("%s", msg)
	}
	withCron, _ := e.db.HasTable(ctx, e.db.Name(), "cron")
	dedicated := "'elentra_teams'@'" + strings.ReplaceAll(host, "'", "''") + "'"
	details := append([]string{"CREATE USER " + dedicated + " IDENTIFIED BY '<a new password>';"},
		minimalGrants(dedicated, e.db.Name(), e.db.AuthName(), withCron)...)
	return warn(fmt.Sprintf("database user %s has more privileges than the tool needs: %s", current, strings.Join(excess, ", ")),
		"give elentra-teams a user of its own with only these privileges (run the msteams_ lines after setup created the tables), and set database.user to it").with(details...)
}
