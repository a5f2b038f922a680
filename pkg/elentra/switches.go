package elentra

import (
	"context"
	"fmt"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// SwitchColumn is one of Elentra's own Teams switches: a column keyed by
// course_id (or event_id) and the value in it that means "on".
type SwitchColumn struct {
	config.Column
	On string
}

// SetCourseSwitch makes CourseSwitches read Elentra's course switch from
// spec (elentra.course_switch_column), on meaning "on"
// (elentra.course_switch_on); "" stops it.
func (db *DB) SetCourseSwitch(spec, on string) error {
	c, err := parseSwitch("elentra.course_switch_column", spec, on)
	db.courseSwitch = c
	return err
}

// SetEventSwitch is SetCourseSwitch for the event switch
// (elentra.event_switch_column, elentra.event_switch_on).
func (db *DB) SetEventSwitch(spec, on string) error {
	c, err := parseSwitch("elentra.event_switch_column", spec, on)
	db.eventSwitch = c
	return err
}

func parseSwitch(key, spec, on string) (*SwitchColumn, error) {
	if spec == "" {
		return nil, nil
	}
	c, err := config.ParseColumn(key, spec)
	if err != nil {
		return nil, err
	}
	return &SwitchColumn{Column: c, On: on}, nil
}

// CourseSwitch is Elentra's course switch CourseSwitches reads, nil when
// none is configured.
func (db *DB) CourseSwitch() *SwitchColumn { return db.courseSwitch }

// EventSwitch is Elentra's event switch EventSwitches reads, nil when none
// is configured.
func (db *DB) EventSwitch() *SwitchColumn { return db.eventSwitch }

type switchRow struct {
	ID int  `db:"id"`
	On bool `db:"is_on"`
}

// CourseSwitches reads what Elentra's course switch says of the courses of
// an organisation: true for a course whose column holds the "on" value,
// false for one that holds another value. A course without a row, or whose
// value is NULL, is absent: the switch says nothing of it. The value is
// compared as MySQL compares the column with the text of the "on" value (a
// number column numerically, a text column by its collation); a course with
// several rows is on when one of them says so. One query; none, and a nil
// map, when no course switch is configured.
func (db *DB) CourseSwitches(ctx context.Context, organisationID int) (map[int]bool, error) {
	c := db.courseSwitch
	if c == nil {
		return nil, nil
	}
	return db.readSwitches(ctx, "elentra.course_switch_column", c, `
		JOIN `+db.Table("courses")+` c ON c.course_id = s.`+"`"+c.KeyColumn+"`"+`
		WHERE c.organisation_id = ?`, organisationID)
}

// EventSwitches is CourseSwitches for learning events: the events of the
// organisation's courses that finish at or after from, or have a child
// event that does (its switch may carry the child); every event when from
// is zero. One query; none, and a nil map, when no event switch is
// configured.
func (db *DB) EventSwitches(ctx context.Context, organisationID int, from time.Time) (map[int]bool, error) {
	c := db.eventSwitch
	if c == nil {
		return nil, nil
	}
	where := `
		JOIN ` + db.Table("events") + ` e ON e.event_id = s.` + "`" + c.KeyColumn + "`" + `
		JOIN ` + db.Table("courses") + ` c ON c.course_id = e.course_id
		WHERE c.organisation_id = ?`
	args := []any{organisationID}
	if !from.IsZero() {
		where += ` AND (e.event_finish >= ? OR EXISTS (SELECT 1 FROM ` + db.Table("events") + ` ch
			WHERE ch.parent_id = e.event_id AND ch.event_finish >= ?))`
		args = append(args, from.Unix(), from.Unix())
	}
	return db.readSwitches(ctx, "elentra.event_switch_column", c, where, args...)
}

// readSwitches reads a switch column: by key, whether one of its non-NULL
// values is the "on" value. join names the switch table s's rows to keep.
func (db *DB) readSwitches(ctx context.Context, key string, c *SwitchColumn, join string, args ...any) (map[int]bool, error) {
	value := "s.`" + c.ValueColumn + "`"
	q := `SELECT s.` + "`" + c.KeyColumn + "`" + ` AS id, MAX(` + value + ` = ?) = 1 AS is_on
		FROM ` + qualify(c.Schema, c.Table) + ` s` + join + ` AND ` + value + ` IS NOT NULL
		GROUP BY s.` + "`" + c.KeyColumn + "`"
	var rows []switchRow
	if err := db.Select(ctx, &rows, q, append([]any{c.On}, args...)...); err != nil {
		return nil, fmt.Errorf("read Elentra's switch %s (%s): %w", c.String(), key, err)
	}
	out := make(map[int]bool, len(rows))
	for _, r := range rows {
		out[r.ID] = r.On
	}
	return out, nil
}

// ColumnInfo is one column of a table, as information_schema has it.
type ColumnInfo struct {
	Schema   string `db:"table_schema"`
	Table    string `db:"table_name"`
	Column   string `db:"column_name"`
	DataType string `db:"data_type"` // tinyint, varchar, enum, …
}

// Columns returns every column of the tables in these schemas (Elentra's
// two, and any schema a key names), ordered by schema, table and position.
// One query on information_schema.
func (db *DB) Columns(ctx context.Context, schemas []string) ([]ColumnInfo, error) {
	var out []ColumnInfo
	q, args, err := In(`SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS column_name,
			LOWER(DATA_TYPE) AS data_type
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?)
		ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, schemas)
	if err != nil {
		return nil, err
	}
	if err := db.Select(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("read the columns of %v: %w", schemas, err)
	}
	return out, nil
}
