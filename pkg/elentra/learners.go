package elentra

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Optimizer hints for the two paths of Learners: drive from the course's
// audience rows (found by the course_id index) and hash-join the rest. The
// in-process engine of the tests (go-mysql-server) otherwise picks nested
// loops over the cyclic join graph and takes minutes; MariaDB before 12 reads
// these as comments, MySQL 8 follows the same sensible order.
const (
	proxyPathHint = "/*+ JOIN_ORDER(ca, c, cp, u, ua) HASH_JOIN(ca,c) HASH_JOIN(ca,cp) HASH_JOIN(ca,u) HASH_JOIN(u,ua) */"
	groupPathHint = "/*+ JOIN_ORDER(ca, c, cp, g, gm, ua, u) HASH_JOIN(ca,c) HASH_JOIN(ca,cp) HASH_JOIN(ca,g) HASH_JOIN(g,gm) HASH_JOIN(gm,ua) HASH_JOIN(ua,u) */"
)

// Learners returns the learners of each course (course id → proxy ids,
// ascending, without duplicates) as of now, for application appID (Elentra's
// AUTH_APP_ID). Courses without learners are absent from the map.
//
// A user is a learner of a course when either
//   - a course_audience row of type proxy_id names them, or
//   - a course_audience row of type group_id names a groups row they are a
//     group_members row of,
//
// and every date and flag on the way holds at now (the package documentation
// lists the clauses). Both paths are one UNION query (per MaxInList courses),
// whatever the number of courses or groups.
func (db *DB) Learners(ctx context.Context, courseIDs []int, appID int, now time.Time) (map[int][]int, error) {
	t := now.Unix()
	out := map[int][]int{}
	for _, chunk := range chunks(uniqueIDs(courseIDs)) {
		// The clauses shared by both paths: the audience row, its period and
		// enrolment window, and the user's student access in the course's
		// organisation. Bound once per path.
		audience := `ca.course_id IN (?) AND ca.audience_active = 1
				AND cp.start_date <= ? AND cp.finish_date >= ?
				AND ca.enroll_start <= ?
				AND (ca.enroll_finish = 0 OR ca.enroll_finish >= ?)`
		access := `ua.app_id = ? AND ua.organisation_id = c.organisation_id
				AND ua.account_active = 'true' AND ua.` + "`group`" + ` = 'student'
				AND ua.access_starts <= ?
				AND (ua.access_expires = 0 OR ua.access_expires > ?)`
		q := `SELECT ` + proxyPathHint + ` ca.course_id, u.id AS proxy_id
			FROM ` + db.Table("course_audience") + ` ca
			JOIN ` + db.Table("courses") + ` c ON c.course_id = ca.course_id
			JOIN ` + db.Table("curriculum_periods") + ` cp ON cp.cperiod_id = ca.cperiod_id
			JOIN ` + db.AuthTable("user_data") + ` u ON u.id = ca.audience_value
			JOIN ` + db.AuthTable("user_access") + ` ua ON ua.user_id = u.id
			WHERE ca.audience_type = 'proxy_id' AND ` + audience + ` AND ` + access + `
		UNION
		SELECT ` + groupPathHint + ` ca.course_id, u.id AS proxy_id
			FROM ` + db.Table("course_audience") + ` ca
			JOIN ` + db.Table("courses") + ` c ON c.course_id = ca.course_id
			JOIN ` + db.Table("curriculum_periods") + ` cp ON cp.cperiod_id = ca.cperiod_id
			JOIN ` + db.Table("groups") + ` g ON g.group_id = ca.audience_value
			JOIN ` + db.Table("group_members") + ` gm ON gm.group_id = g.group_id
			JOIN ` + db.AuthTable("user_data") + ` u ON u.id = gm.proxy_id
			JOIN ` + db.AuthTable("user_access") + ` ua ON ua.user_id = u.id
			WHERE ca.audience_type = 'group_id' AND ` + audience + `
				AND g.group_active = 1
				AND (g.start_date IS NULL OR g.start_date <= ?)
				AND (g.expire_date IS NULL OR g.expire_date = 0 OR g.expire_date >= ?)
				AND gm.member_active = 1
				AND gm.start_date <= ?
				AND (gm.finish_date = 0 OR gm.finish_date >= ?)
				AND ` + access
		args := []any{
			chunk, t, t, t, t, appID, t, t, // proxy_id path
			chunk, t, t, t, t, t, t, t, t, appID, t, t, // group_id path
		}
		q, args, err := In(q, args...)
		if err != nil {
			return nil, err
		}
		rows, err := db.Queryx(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read course learners: %w", err)
		}
		for rows.Next() {
			var courseID, proxyID int
			if err := rows.Scan(&courseID, &proxyID); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("read course learners: %w", err)
			}
			out[courseID] = append(out[courseID], proxyID)
		}
		if err := rows.Err(); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read course learners: %w", err)
		}
		_ = rows.Close()
	}
	// UNION removed the duplicates of the two paths; sorting makes the result
	// comparable from run to run.
	for id, learners := range out {
		sort.Ints(learners)
		out[id] = learners
	}
	return out, nil
}
