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

// CourseFilter selects courses. Zero fields select everything.
type CourseFilter struct {
	// OrganisationID keeps the courses of one organisation; 0 keeps all.
	OrganisationID int
	// IDs keeps these courses; empty keeps all.
	IDs []int
	// ActiveOnly keeps courses with course_active = 1.
	ActiveOnly bool
}

// Period is a curriculum period (a term): start and finish in UTC.
type Period struct {
	ID     int
	Title  string
	Start  time.Time
	Finish time.Time
}

// Course is an Elentra course and its current curriculum period.
type Course struct {
	ID             int
	OrganisationID int
	Code           string
	Name           string
	Description    string
	Active         bool
	// CurriculumTypeID is the curriculum type ("Term 1", "Clerkship") whose
	// periods the course runs in.
	CurriculumTypeID int
	// PcoordID is the legacy program coordinator column; 0 is none.
	PcoordID int
	// Period is the period of the course's curriculum type that covers now,
	// nil when none does.
	Period *Period
}

type courseRow struct {
	ID               int            `db:"course_id"`
	OrganisationID   int            `db:"organisation_id"`
	Code             string         `db:"course_code"`
	Name             string         `db:"course_name"`
	Description      sql.NullString `db:"course_description"`
	Active           int            `db:"course_active"`
	CurriculumTypeID int            `db:"curriculum_type_id"`
	PcoordID         int            `db:"pcoord_id"`
	PeriodID         sql.NullInt64  `db:"cperiod_id"`
	PeriodTitle      sql.NullString `db:"curriculum_period_title"`
	PeriodStart      sql.NullInt64  `db:"start_date"`
	PeriodFinish     sql.NullInt64  `db:"finish_date"`
}

// Courses returns the courses f selects, ordered by id, each with its current
// curriculum period: the period of its curriculum type with start_date <= now
// <= finish_date. When several cover now, the one that started last wins
// (then the highest id), so the choice is the same on every run.
//
// One query (per MaxInList ids in f.IDs): periods are joined, not looked up
// per course.
func (db *DB) Courses(ctx context.Context, f CourseFilter, now time.Time) ([]Course, error) {
	ids := UniqueIDs(f.IDs)
	if len(f.IDs) > 0 && len(ids) == 0 {
		return nil, nil
	}
	var rows []courseRow
	run := func(idChunk []int) error {
		var where []string
		args := []any{now.Unix(), now.Unix()}
		if f.OrganisationID != 0 {
			where = append(where, "c.organisation_id = ?")
			args = append(args, f.OrganisationID)
		}
		if len(idChunk) > 0 {
			where = append(where, "c.course_id IN (?)")
			args = append(args, idChunk)
		}
		if f.ActiveOnly {
			where = append(where, "c.course_active = 1")
		}
		q := `SELECT c.course_id, c.organisation_id, c.course_code, c.course_name, c.course_description,
			c.course_active, c.curriculum_type_id, c.pcoord_id,
			cp.cperiod_id, cp.curriculum_period_title, cp.start_date, cp.finish_date
		FROM ` + db.Table("courses") + ` c
		LEFT JOIN ` + db.Table("curriculum_periods") + ` cp
			ON cp.curriculum_type_id = c.curriculum_type_id AND c.curriculum_type_id <> 0
			AND cp.start_date <= ? AND cp.finish_date >= ?`
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q, args, err := In(q, args...)
		if err != nil {
			return err
		}
		var part []courseRow
		if err := db.Select(ctx, &part, q, args...); err != nil {
			return fmt.Errorf("read courses: %w", err)
		}
		rows = append(rows, part...)
		return nil
	}
	if len(ids) == 0 {
		if err := run(nil); err != nil {
			return nil, err
		}
	} else {
		for c := range slices.Chunk(ids, MaxInList) {
			if err := run(c); err != nil {
				return nil, err
			}
		}
	}

	// Sorted here rather than by ORDER BY: the choice among several current
	// periods must not depend on the server's sort of NULLs.
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.PeriodStart.Int64 != b.PeriodStart.Int64 {
			return a.PeriodStart.Int64 > b.PeriodStart.Int64
		}
		return a.PeriodID.Int64 > b.PeriodID.Int64
	})
	var out []Course
	for i, r := range rows {
		if i > 0 && rows[i-1].ID == r.ID {
			continue
		}
		c := Course{
			ID: r.ID, OrganisationID: r.OrganisationID, Code: r.Code, Name: r.Name,
			Description: r.Description.String, Active: r.Active == 1,
			CurriculumTypeID: r.CurriculumTypeID, PcoordID: r.PcoordID,
		}
		if r.PeriodID.Valid {
			c.Period = &Period{
				ID: int(r.PeriodID.Int64), Title: r.PeriodTitle.String,
				Start: epoch(r.PeriodStart.Int64), Finish: epoch(r.PeriodFinish.Int64),
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Contact types of course_contacts, and the pseudo-type of courses.pcoord_id.
const (
	ContactDirector      = "director"
	ContactCCoordinator  = "ccoordinator"
	ContactPCoordinator  = "pcoordinator"
	ContactFaculty       = "faculty"
	ContactEvaluationRep = "evaluationrep"
	ContactStudentRep    = "studentrep"
	ContactTA            = "ta"
	// ContactPcoordID marks the legacy courses.pcoord_id owner.
	ContactPcoordID = "pcoord_id"
)

// Contact is one course contact: a course_contacts row, or the course's
// pcoord_id (Type "pcoord_id", Order 0).
type Contact struct {
	CourseID int    `db:"course_id"`
	ProxyID  int    `db:"proxy_id"`
	Type     string `db:"contact_type"`
	Order    int    `db:"contact_order"`
}

// Contacts returns the contacts of the courses, ordered by course, type,
// order and user: every course_contacts row, plus each course's pcoord_id when
// it is non-zero and names an existing user (Elentra's ACL treats that column
// as an owner too). One query per MaxInList courses.
func (db *DB) Contacts(ctx context.Context, courseIDs []int) ([]Contact, error) {
	var out []Contact
	for chunk := range slices.Chunk(UniqueIDs(courseIDs), MaxInList) {
		q := `SELECT cc.course_id, cc.proxy_id, cc.contact_type, cc.contact_order
			FROM ` + db.Table("course_contacts") + ` cc
			WHERE cc.course_id IN (?) AND cc.proxy_id > 0
		UNION ALL
		SELECT c.course_id, c.pcoord_id, 'pcoord_id', 0
			FROM ` + db.Table("courses") + ` c
			JOIN ` + db.AuthTable("user_data") + ` u ON u.id = c.pcoord_id
			WHERE c.course_id IN (?) AND c.pcoord_id <> 0`
		q, args, err := In(q, chunk, chunk)
		if err != nil {
			return nil, err
		}
		var part []Contact
		if err := db.Select(ctx, &part, q, args...); err != nil {
			return nil, fmt.Errorf("read course contacts: %w", err)
		}
		out = append(out, part...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CourseID != b.CourseID {
			return a.CourseID < b.CourseID
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.ProxyID < b.ProxyID
	})
	return out, nil
}
