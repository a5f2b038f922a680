package elentra

import (
	"context"
	"fmt"
	"time"
)

// ActiveUserIDs returns every user with an active access row for appID in
// the organisation at now (any group: learners, faculty, staff), ascending.
// sync-users --all matches them all. One query.
func (db *DB) ActiveUserIDs(ctx context.Context, appID, organisationID int, now time.Time) ([]int, error) {
	t := now.Unix()
	var ids []int
	err := db.Select(ctx, &ids, `SELECT DISTINCT u.id FROM `+db.AuthTable("user_data")+` u
		JOIN `+db.AuthTable("user_access")+` ua ON ua.user_id = u.id
		WHERE ua.app_id = ? AND ua.organisation_id = ? AND ua.account_active = 'true'
			AND ua.access_starts <= ? AND (ua.access_expires = 0 OR ua.access_expires > ?)
		ORDER BY u.id`, appID, organisationID, t, t)
	if err != nil {
		return nil, fmt.Errorf("read active users: %w", err)
	}
	return ids, nil
}
