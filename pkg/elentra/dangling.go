package elentra

import (
	"context"
	"fmt"
)

// DanglingAudience is a course_audience row whose learner or group no longer
// exists (Elentra has no foreign keys, so deleting a user or a cohort leaves
// the rows that named it).
type DanglingAudience struct {
	CourseID int    `db:"course_id"`
	Type     string `db:"audience_type"`
	Value    int    `db:"audience_value"`
}

// DanglingAudiences returns the active audience rows of the courses that
// point at a deleted user or group. One query per MaxInList courses.
func (db *DB) DanglingAudiences(ctx context.Context, courseIDs []int) ([]DanglingAudience, error) {
	rows, err := SelectIn[DanglingAudience](ctx, db, `SELECT ca.course_id, ca.audience_type, ca.audience_value FROM `+db.Table("course_audience")+` ca
		LEFT JOIN `+db.AuthTable("user_data")+` u ON ca.audience_type = 'proxy_id' AND u.id = ca.audience_value
		LEFT JOIN `+db.Table("groups")+` g ON ca.audience_type = 'group_id' AND g.group_id = ca.audience_value
		WHERE ca.course_id IN (?) AND ca.audience_active = 1
			AND ((ca.audience_type = 'proxy_id' AND u.id IS NULL) OR (ca.audience_type = 'group_id' AND g.group_id IS NULL))
		ORDER BY ca.course_id, ca.audience_type, ca.audience_value`, UniqueIDs(courseIDs))
	if err != nil {
		return nil, fmt.Errorf("read audience rows of deleted users and groups: %w", err)
	}
	return rows, nil
}
