package elentra

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// EventFilter selects learning events. When CourseIDs or EventIDs is
// non-empty, an event matches when its course is in CourseIDs or its id is in
// EventIDs (the events of enabled courses plus individually enabled events);
// when both are empty every event matches, so a caller with nothing enabled
// should not call. From and To bound event_start (From <= start < To); a zero
// bound is open.
type EventFilter struct {
	CourseIDs []int
	EventIDs  []int
	From      time.Time
	To        time.Time
}

// Event is an Elentra learning event. Times are UTC; zero when unset.
type Event struct {
	ID       int
	ParentID int // 0 when the event is not a child event
	CourseID int
	Title    string
	// Description is event_description (HTML as Elentra stores it).
	Description string
	Location    string
	Start       time.Time
	Finish      time.Time
	// DurationMinutes is event_duration.
	DurationMinutes int
	ReleaseDate     time.Time
	ReleaseUntil    time.Time
	UpdatedDate     time.Time
	UpdatedBy       int
}

type eventRow struct {
	ID           int            `db:"event_id"`
	ParentID     sql.NullInt64  `db:"parent_id"`
	CourseID     int            `db:"course_id"`
	Title        string         `db:"event_title"`
	Description  sql.NullString `db:"event_description"`
	Location     sql.NullString `db:"event_location"`
	Start        int64          `db:"event_start"`
	Finish       int64          `db:"event_finish"`
	Duration     int            `db:"event_duration"`
	ReleaseDate  int64          `db:"release_date"`
	ReleaseUntil int64          `db:"release_until"`
	UpdatedDate  int64          `db:"updated_date"`
	UpdatedBy    int            `db:"updated_by"`
}

// Events returns the events f selects, ordered by start then id. One query,
// or one per MaxInList ids of each list when they are longer.
func (db *DB) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	courseIDs, eventIDs := UniqueIDs(f.CourseIDs), UniqueIDs(f.EventIDs)
	if (len(f.CourseIDs) > 0 || len(f.EventIDs) > 0) && len(courseIDs) == 0 && len(eventIDs) == 0 {
		return nil, nil
	}
	byID := map[int]eventRow{}
	run := func(courses, events []int) error {
		var where, or []string
		var args []any
		if len(courses) > 0 {
			or = append(or, "e.course_id IN (?)")
			args = append(args, courses)
		}
		if len(events) > 0 {
			or = append(or, "e.event_id IN (?)")
			args = append(args, events)
		}
		if len(or) > 0 {
			where = append(where, "("+strings.Join(or, " OR ")+")")
		}
		if !f.From.IsZero() {
			where = append(where, "e.event_start >= ?")
			args = append(args, f.From.Unix())
		}
		if !f.To.IsZero() {
			where = append(where, "e.event_start < ?")
			args = append(args, f.To.Unix())
		}
		q := `SELECT e.event_id, e.parent_id, e.course_id, e.event_title, e.event_description,
			e.event_location, e.event_start, e.event_finish, e.event_duration,
			e.release_date, e.release_until, e.updated_date, e.updated_by
			FROM ` + db.Table("events") + ` e`
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q, args, err := In(q, args...)
		if err != nil {
			return err
		}
		var part []eventRow
		if err := db.Select(ctx, &part, q, args...); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		for _, r := range part {
			byID[r.ID] = r
		}
		return nil
	}
	if len(courseIDs) <= MaxInList && len(eventIDs) <= MaxInList {
		if err := run(courseIDs, eventIDs); err != nil {
			return nil, err
		}
	} else {
		for c := range slices.Chunk(courseIDs, MaxInList) {
			if err := run(c, nil); err != nil {
				return nil, err
			}
		}
		for c := range slices.Chunk(eventIDs, MaxInList) {
			if err := run(nil, c); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Event, 0, len(byID))
	for _, r := range byID {
		out = append(out, Event{
			ID: r.ID, ParentID: int(r.ParentID.Int64), CourseID: r.CourseID, Title: r.Title,
			Description: r.Description.String, Location: r.Location.String,
			Start: epoch(r.Start), Finish: epoch(r.Finish), DurationMinutes: r.Duration,
			ReleaseDate: epoch(r.ReleaseDate), ReleaseUntil: epoch(r.ReleaseUntil),
			UpdatedDate: epoch(r.UpdatedDate), UpdatedBy: r.UpdatedBy,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Event audience types (event_audience.audience_type).
const (
	AudienceProxyID  = "proxy_id"
	AudienceCohort   = "cohort"
	AudienceGroupID  = "group_id"
	AudienceCourseID = "course_id"
)

// EventAudience is one event_audience row. Value is kept as Elentra stores it
// (varchar): a proxy id, a groups id (cohort), a course_groups id (group_id)
// or a course id (course_id).
type EventAudience struct {
	EventID int    `db:"event_id"`
	Type    string `db:"audience_type"`
	Value   string `db:"audience_value"`
}

// EventAudiences returns the audience rows of the events, ordered by event,
// type and value. One query per MaxInList events.
func (db *DB) EventAudiences(ctx context.Context, eventIDs []int) ([]EventAudience, error) {
	out, err := SelectIn[EventAudience](ctx, db, `SELECT event_id, audience_type, audience_value
		FROM `+db.Table("event_audience")+` WHERE event_id IN (?)`, UniqueIDs(eventIDs))
	if err != nil {
		return nil, fmt.Errorf("read event audiences: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.EventID != b.EventID {
			return a.EventID < b.EventID
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Value < b.Value
	})
	return out, nil
}

// GroupMember is a member of a cohort (groups) or of a small group inside a
// course (course_groups): whom an event of that audience invites.
type GroupMember struct {
	GroupID int `db:"group_id"`
	ProxyID int `db:"proxy_id"`
}

// CohortMembers returns the active members of these cohorts (groups rows)
// as of now, by the cohort rule of Learners, ordered by cohort and user.
// One query per MaxInList cohorts.
func (db *DB) CohortMembers(ctx context.Context, groupIDs []int, now time.Time) ([]GroupMember, error) {
	return db.groupMembers(ctx, groupIDs, `SELECT gm.group_id, gm.proxy_id
		FROM `+db.Table("groups")+` g JOIN `+db.Table("group_members")+` gm ON gm.group_id = g.group_id
		WHERE `+cohortMemberActive+` AND g.group_id IN (?)`, cohortMemberArgs(now.Unix())...)
}

// CourseGroupMembers returns the active members of these course groups
// (course_groups rows) as of now, ordered by group and user. One query per
// MaxInList groups.
func (db *DB) CourseGroupMembers(ctx context.Context, cgroupIDs []int, now time.Time) ([]GroupMember, error) {
	t := now.Unix()
	return db.groupMembers(ctx, cgroupIDs, `SELECT cga.cgroup_id AS group_id, cga.proxy_id
		FROM `+db.Table("course_groups")+` cg JOIN `+db.Table("course_group_audience")+` cga ON cga.cgroup_id = cg.cgroup_id
		WHERE cg.active = 1 AND cga.active = 1 AND cga.start_date <= ? AND (cga.finish_date = 0 OR cga.finish_date >= ?)
			AND cg.cgroup_id IN (?)`, t, t)
}

// groupMembers runs query, whose IN list of group ids comes last after the
// arguments before, and orders its rows.
func (db *DB) groupMembers(ctx context.Context, ids []int, query string, before ...any) ([]GroupMember, error) {
	out, err := SelectIn[GroupMember](ctx, db, query, UniqueIDs(ids), before...)
	if err != nil {
		return nil, fmt.Errorf("read group members: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GroupID != out[j].GroupID {
			return out[i].GroupID < out[j].GroupID
		}
		return out[i].ProxyID < out[j].ProxyID
	})
	return out, nil
}

// EventContact is one event_contacts row: a teacher, tutor, TA or auditor.
type EventContact struct {
	EventID int    `db:"event_id"`
	ProxyID int    `db:"proxy_id"`
	Role    string `db:"contact_role"`
	Order   int    `db:"contact_order"`
}

// EventContacts returns the contacts of the events, ordered by event, order
// and user. One query per MaxInList events.
func (db *DB) EventContacts(ctx context.Context, eventIDs []int) ([]EventContact, error) {
	out, err := SelectIn[EventContact](ctx, db, `SELECT event_id, proxy_id, contact_role, contact_order
		FROM `+db.Table("event_contacts")+` WHERE event_id IN (?) AND proxy_id > 0`, UniqueIDs(eventIDs))
	if err != nil {
		return nil, fmt.Errorf("read event contacts: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.EventID != b.EventID {
			return a.EventID < b.EventID
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.ProxyID < b.ProxyID
	})
	return out, nil
}
