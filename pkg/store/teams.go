package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// CoursesTable maps courses to their groups and Teams.
const CoursesTable = "msteams_courses"

// TeamRecord is a row of msteams_courses: what the planner reads of it
// (course, state, group, the name and description hash last sent) is a
// reconcile.TeamRecord, handed to it as it is read.
type TeamRecord struct {
	reconcile.TeamRecord
	Enabled           bool
	MailNickname      string // intended
	GraphMailNickname string // as Graph kept it
	GraphDisplayName  string // as Graph kept it
	IntentAt          time.Time
	TeamCreatedAt     time.Time
	LastSyncedAt      time.Time
	LastError         string
	LastErrorAt       time.Time
}

type teamRow struct {
	CourseID          int                 `db:"course_id"`
	Enabled           bool                `db:"enabled"`
	State             reconcile.TeamState `db:"state"`
	GroupID           sql.NullString      `db:"group_id"`
	MailNickname      sql.NullString      `db:"mail_nickname"`
	GraphMailNickname sql.NullString      `db:"graph_mail_nickname"`
	DisplayName       sql.NullString      `db:"display_name"`
	GraphDisplayName  sql.NullString      `db:"graph_display_name"`
	DescriptionHash   sql.NullString      `db:"description_hash"`
	IntentAt          sql.NullTime        `db:"intent_at"`
	TeamCreatedAt     sql.NullTime        `db:"team_created_at"`
	LastSyncedAt      sql.NullTime        `db:"last_synced_at"`
	LastError         sql.NullString      `db:"last_error"`
	LastErrorAt       sql.NullTime        `db:"last_error_at"`
}

const teamColumns = `course_id, enabled, state, group_id, mail_nickname, graph_mail_nickname, display_name, graph_display_name,
	description_hash, intent_at, team_created_at, last_synced_at, last_error, last_error_at`

// TeamRecords returns the rows of these courses (all rows when courseIDs is
// nil), by course id. One query per elentra.MaxInList ids.
func (s *Store) TeamRecords(ctx context.Context, courseIDs []int) (map[int]TeamRecord, error) {
	var rows []teamRow
	base := `SELECT ` + teamColumns + ` FROM ` + s.db.Table(CoursesTable)
	if courseIDs == nil {
		if err := s.db.Select(ctx, &rows, base); err != nil {
			return nil, fmt.Errorf("read course records: %w", err)
		}
	} else {
		var err error
		if rows, err = elentra.SelectIn[teamRow](ctx, s.db, base+` WHERE course_id IN (?)`, courseIDs); err != nil {
			return nil, fmt.Errorf("read course records: %w", err)
		}
	}
	out := make(map[int]TeamRecord, len(rows))
	for _, r := range rows {
		out[r.CourseID] = TeamRecord{
			TeamRecord: reconcile.TeamRecord{CourseID: r.CourseID, State: r.State, GroupID: r.GroupID.String,
				DisplayName: r.DisplayName.String, DescriptionHash: r.DescriptionHash.String},
			Enabled: r.Enabled, MailNickname: r.MailNickname.String, GraphMailNickname: r.GraphMailNickname.String,
			GraphDisplayName: r.GraphDisplayName.String, IntentAt: r.IntentAt.Time, TeamCreatedAt: r.TeamCreatedAt.Time,
			LastSyncedAt: r.LastSyncedAt.Time, LastError: r.LastError.String, LastErrorAt: r.LastErrorAt.Time,
		}
	}
	return out, nil
}

// TeamIntent is recorded before a group is created, so that a crash between
// the create and its record leaves a row saying "look this nickname up".
type TeamIntent struct {
	CourseID     int
	MailNickname string
}

// RecordTeamIntents marks courses as about to get a group, in one statement
// per 1,000 courses. A course that already has a group keeps its state.
func (s *Store) RecordTeamIntents(ctx context.Context, intents []TeamIntent, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	for part := range slices.Chunk(intents, 1000) {
		var b strings.Builder
		args := make([]any, 0, len(part)*5)
		b.WriteString(`INSERT INTO ` + s.db.Table(CoursesTable) + ` (course_id, mail_nickname, state, intent_at, installation_id, created_at, updated_at) VALUES `)
		for i, in := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?)`)
			args = append(args, in.CourseID, in.MailNickname, reconcile.StateGroupIntent, now, nullString(s.installation), now, now)
		}
		b.WriteString(` ON DUPLICATE KEY UPDATE
			state = IF(group_id IS NULL OR group_id = '', VALUES(state), state),
			mail_nickname = IF(group_id IS NULL OR group_id = '', VALUES(mail_nickname), mail_nickname),
			intent_at = IF(group_id IS NULL OR group_id = '', VALUES(intent_at), intent_at),
			installation_id = IF(group_id IS NULL OR group_id = '', VALUES(installation_id), installation_id),
			updated_at = VALUES(updated_at)`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record the intent to create groups: %w", err)
		}
	}
	return nil
}

// GroupResult is what Graph kept when a group was created or adopted.
type GroupResult struct {
	GroupID           string
	GraphMailNickname string
	GraphDisplayName  string
	DisplayName       string // the name sent
	DescriptionHash   string
	HasTeam           bool
}

// RecordGroup stores a created or adopted group (state group, or team when
// it already is one) and clears the last error.
func (s *Store) RecordGroup(ctx context.Context, courseID int, g GroupResult, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	state := reconcile.StateGroup
	var created sql.NullTime
	if g.HasTeam {
		state = reconcile.StateTeam
		created = sql.NullTime{Time: now, Valid: true}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(CoursesTable)+`
		(course_id, group_id, graph_mail_nickname, graph_display_name, display_name, description_hash, state, team_created_at,
		 last_synced_at, installation_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE group_id = VALUES(group_id), graph_mail_nickname = VALUES(graph_mail_nickname),
			graph_display_name = VALUES(graph_display_name), display_name = VALUES(display_name),
			description_hash = VALUES(description_hash), state = VALUES(state),
			team_created_at = COALESCE(team_created_at, VALUES(team_created_at)), last_synced_at = VALUES(last_synced_at),
			installation_id = VALUES(installation_id), last_error = NULL, last_error_at = NULL, updated_at = VALUES(updated_at)`,
		courseID, g.GroupID, nullString(g.GraphMailNickname), nullString(g.GraphDisplayName), nullString(g.DisplayName),
		nullString(g.DescriptionHash), state, created, now, nullString(s.installation), now, now)
	if err != nil {
		return fmt.Errorf("record the group of course %d: %w", courseID, err)
	}
	return nil
}

// RecordTeamState sets a course's state (team, archived) after it landed.
func (s *Store) RecordTeamState(ctx context.Context, courseID int, state reconcile.TeamState, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(CoursesTable)+` SET state = ?,
		team_created_at = IF(?, COALESCE(team_created_at, ?), team_created_at),
		last_synced_at = ?, last_error = NULL, last_error_at = NULL, updated_at = ? WHERE course_id = ?`,
		state, state == reconcile.StateTeam, now, now, now, courseID)
	if err != nil {
		return fmt.Errorf("record the Team of course %d: %w", courseID, err)
	}
	return nil
}

// RecordRename stores the name and description last sent, and the name
// Graph kept.
func (s *Store) RecordRename(ctx context.Context, courseID int, displayName, graphDisplayName, descriptionHash string, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(CoursesTable)+` SET display_name = COALESCE(?, display_name),
		graph_display_name = COALESCE(?, graph_display_name), description_hash = COALESCE(?, description_hash),
		last_synced_at = ?, last_error = NULL, last_error_at = NULL, updated_at = ? WHERE course_id = ?`,
		nullString(displayName), nullString(graphDisplayName), nullString(descriptionHash), now, now, courseID)
	if err != nil {
		return fmt.Errorf("record the new name of course %d: %w", courseID, err)
	}
	return nil
}

// RecordCourseError keeps the last error of a course for status and check-config.
func (s *Store) RecordCourseError(ctx context.Context, courseID int, msg string, now time.Time) error {
	return s.recordLastError(ctx, CoursesTable, "course_id", courseID, msg, now, "course")
}

// recordLastError keeps the last error of a course or event row, creating
// the row when there is none, so status and check-config can show it.
func (s *Store) recordLastError(ctx context.Context, table, key string, id int, msg string, now time.Time, what string) error {
	now = now.UTC().Truncate(time.Second)
	msg = text.Truncate(msg, 2000)
	_, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(table)+` (`+key+`, last_error, last_error_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_error = VALUES(last_error), last_error_at = VALUES(last_error_at),
		updated_at = VALUES(updated_at)`, id, msg, now, now, now)
	if err != nil {
		return fmt.Errorf("record the error of %s %d: %w", what, id, err)
	}
	return nil
}

// MembershipsTable records the memberships this tool added.
const MembershipsTable = "msteams_memberships"

// MemberRecord is a membership the tool added (or bound at creation).
type MemberRecord struct {
	CourseID int
	ObjectID string // lower-case
	ProxyID  int
	Role     string
}

// ManagedMembers returns, per course, the members this tool added: their
// Object IDs (lower-case) and the role each was given ("owner" or
// "member"). Rows are scanned one at a time into the map, which holds no
// more than an Object ID per membership: a large school has hundreds of
// thousands. One query per elentra.MaxInList courses.
func (s *Store) ManagedMembers(ctx context.Context, courseIDs []int) (map[int]map[string]string, error) {
	out := map[int]map[string]string{}
	for list := range slices.Chunk(courseIDs, elentra.MaxInList) {
		q, args, err := elentra.In(`SELECT course_id, object_id, role FROM `+s.db.Table(MembershipsTable)+
			` WHERE added_by_tool = 1 AND course_id IN (?)`, list)
		if err != nil {
			return nil, err
		}
		if err := s.scanManaged(ctx, q, args, out); err != nil {
			return nil, fmt.Errorf("read managed memberships: %w", err)
		}
	}
	return out, nil
}

func (s *Store) scanManaged(ctx context.Context, q string, args []any, out map[int]map[string]string) error {
	rows, err := s.db.Queryx(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	var (
		courseID int
		objectID string
		role     []byte
	)
	for rows.Next() {
		if err := rows.Scan(&courseID, &objectID, &role); err != nil {
			return err
		}
		if out[courseID] == nil {
			out[courseID] = map[string]string{}
		}
		// one shared string per role, not one per row
		r := "member"
		if string(role) == "owner" {
			r = "owner"
		}
		out[courseID][strings.ToLower(objectID)] = r
	}
	return rows.Err()
}

// RecordMembers stores memberships the tool added, one statement per 1,000.
func (s *Store) RecordMembers(ctx context.Context, recs []MemberRecord, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	for part := range slices.Chunk(recs, 1000) {
		var b strings.Builder
		args := make([]any, 0, len(part)*6)
		b.WriteString(`INSERT INTO ` + s.db.Table(MembershipsTable) + ` (course_id, object_id, proxy_id, role, added_by_tool, installation_id, added_at, updated_at) VALUES `)
		for i, r := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, 1, ?, ?, ?)`)
			args = append(args, r.CourseID, strings.ToLower(r.ObjectID), sql.NullInt64{Int64: int64(r.ProxyID), Valid: r.ProxyID != 0}, r.Role, nullString(s.installation), now, now)
		}
		b.WriteString(` ON DUPLICATE KEY UPDATE role = VALUES(role), proxy_id = COALESCE(VALUES(proxy_id), proxy_id),
			added_by_tool = 1, installation_id = VALUES(installation_id), updated_at = VALUES(updated_at)`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record memberships: %w", err)
		}
	}
	return nil
}

// ForgetMembers deletes the records of memberships of any courses (removed
// from their Teams, or never added), in one statement per 500.
func (s *Store) ForgetMembers(ctx context.Context, recs []MemberRecord) error {
	for part := range slices.Chunk(recs, 500) {
		var b strings.Builder
		args := make([]any, 0, 2*len(part))
		b.WriteString(`DELETE FROM ` + s.db.Table(MembershipsTable) + ` WHERE `)
		for i, r := range part {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(`(course_id = ? AND object_id = ?)`)
			args = append(args, r.CourseID, strings.ToLower(r.ObjectID))
		}
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("forget removed memberships: %w", err)
		}
	}
	return nil
}
