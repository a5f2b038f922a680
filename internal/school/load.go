package school

import (
	"context"
	"fmt"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// rowsPerInsert bounds one multi-row INSERT: large enough that 30,000 users
// load in a few dozen statements, small enough to stay under the 65,535
// placeholders of a prepared statement and a default max_allowed_packet.
const rowsPerInsert = 1000

// Load inserts the school into db's two schemas (which must hold Elentra's
// tables, empty) with multi-row INSERTs. On MariaDB the Large school loads in
// seconds; the embedded test engine checks keys by scanning its tables, so
// its loading time grows with the square of the school (Small: about two
// seconds; Large: minutes — use a real server for it).
func (s *School) Load(ctx context.Context, db *elentra.DB) error {
	loaders := []struct {
		table string
		cols  []string
		n     int
		row   func(i int) []any
	}{
		{db.AuthTable("organisations"), []string{"organisation_id", "organisation_title", "organisation_active"}, len(s.Organisations), func(i int) []any {
			o := s.Organisations[i]
			return []any{o.ID, o.Title, boolInt(o.Active)}
		}},
		{db.AuthTable("user_data"), []string{"id", "username", "firstname", "lastname", "email", "organisation_id", "uuid"}, len(s.Users), func(i int) []any {
			u := s.Users[i]
			return []any{u.ID, u.Username, u.FirstName, u.LastName, u.Email, u.OrganisationID, objectID(s.Spec.Seed+1, u.ID)}
		}},
		{db.AuthTable("user_access"), []string{"id", "user_id", "app_id", "organisation_id", "account_active", "access_starts", "access_expires", "`group`", "`role`"}, len(s.Access), func(i int) []any {
			a := s.Access[i]
			active := "true"
			if !a.Active {
				active = "false"
			}
			return []any{a.ID, a.UserID, a.AppID, a.OrganisationID, active, a.Starts, a.Expires, a.Group, a.Role}
		}},
		{db.Table("settings"), []string{"setting_id", "shortname", "organisation_id", "value"}, len(s.Settings), func(i int) []any {
			st := s.Settings[i]
			var org any
			if st.OrganisationID != 0 {
				org = st.OrganisationID
			}
			return []any{st.ID, st.Shortname, org, st.Value}
		}},
		{db.Table("curriculum_lu_types"), []string{"curriculum_type_id", "curriculum_type_name"}, len(s.CurriculumTypes), func(i int) []any {
			c := s.CurriculumTypes[i]
			return []any{c.ID, c.Name}
		}},
		{db.Table("curriculum_periods"), []string{"cperiod_id", "curriculum_type_id", "curriculum_period_title", "start_date", "finish_date", "active"}, len(s.Periods), func(i int) []any {
			p := s.Periods[i]
			return []any{p.ID, p.TypeID, p.Title, p.Start, p.Finish, 1}
		}},
		{db.Table("courses"), []string{"course_id", "organisation_id", "curriculum_type_id", "pcoord_id", "course_name", "course_code", "course_description", "course_active"}, len(s.Courses), func(i int) []any {
			c := s.Courses[i]
			return []any{c.ID, c.OrganisationID, c.TypeID, c.PcoordID, c.Name, c.Code, c.Description, boolInt(c.Active)}
		}},
		{db.Table("course_audience"), []string{"caudience_id", "course_id", "audience_type", "audience_value", "cperiod_id", "enroll_start", "enroll_finish", "audience_active"}, len(s.Audience), func(i int) []any {
			a := s.Audience[i]
			return []any{a.ID, a.CourseID, a.Type, a.Value, a.PeriodID, a.EnrollStart, a.EnrollFinish, boolInt(a.Active)}
		}},
		{db.Table("groups"), []string{"group_id", "group_name", "group_type", "start_date", "expire_date", "group_active"}, len(s.Groups), func(i int) []any {
			gr := s.Groups[i]
			return []any{gr.ID, gr.Name, gr.Type, nullable(gr.Start), nullable(gr.Expire), boolInt(gr.Active)}
		}},
		{db.Table("group_members"), []string{"gmember_id", "group_id", "proxy_id", "start_date", "finish_date", "member_active"}, len(s.Members), func(i int) []any {
			m := s.Members[i]
			return []any{m.ID, m.GroupID, m.ProxyID, m.Start, m.Finish, boolInt(m.Active)}
		}},
		{db.Table("course_contacts"), []string{"contact_id", "course_id", "proxy_id", "contact_type", "contact_order"}, len(s.Contacts), func(i int) []any {
			c := s.Contacts[i]
			return []any{c.ID, c.CourseID, c.ProxyID, c.Type, c.Order}
		}},
		{db.Table("events"), []string{"event_id", "parent_id", "course_id", "event_title", "event_description", "event_location", "event_start", "event_finish", "event_duration", "updated_date", "updated_by"}, len(s.Events), func(i int) []any {
			e := s.Events[i]
			var parent any
			if e.ParentID != 0 {
				parent = e.ParentID
			}
			return []any{e.ID, parent, e.CourseID, e.Title, e.Description, e.Location, e.Start, e.Finish, e.Duration, e.UpdatedDate, 1}
		}},
		{db.Table("event_audience"), []string{"eaudience_id", "event_id", "audience_type", "audience_value"}, len(s.EventAudience), func(i int) []any {
			a := s.EventAudience[i]
			return []any{a.ID, a.EventID, a.Type, a.Value}
		}},
		{db.Table("event_contacts"), []string{"econtact_id", "event_id", "proxy_id", "contact_role", "contact_order"}, len(s.EventContacts), func(i int) []any {
			c := s.EventContacts[i]
			return []any{c.ID, c.EventID, c.ProxyID, c.Role, c.Order}
		}},
	}
	for _, l := range loaders {
		if err := insertRows(ctx, db, l.table, l.cols, l.n, l.row); err != nil {
			return err
		}
	}
	return nil
}

func insertRows(ctx context.Context, db *elentra.DB, table string, cols []string, n int, row func(i int) []any) error {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < n; start += rowsPerInsert {
		end := min(n, start+rowsPerInsert)
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, row(i)...)
		}
		if _, err := db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("load %s rows %d-%d: %w", table, start, end-1, err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullable(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
