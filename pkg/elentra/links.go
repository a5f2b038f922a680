package elentra

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// EntityTypeLink is event_resource_entities.entity_type for an event link
// (entity_value = event_links.elink_id).
const EntityTypeLink = 3

// EventLink is a link shown on an Elentra learning event: an event_links row
// and the event_resource_entities row (type 3) that lists it on the event
// page. The page makes the link clickable only from ReleaseDate to
// ReleaseUntil (zero = open).
type EventLink struct {
	ID           int // elink_id; 0 before it is inserted
	EventID      int
	Title        string
	URL          string
	Notes        string
	ReleaseDate  time.Time
	ReleaseUntil time.Time
	UpdatedDate  time.Time
	// UpdatedBy is the proxy id the change is recorded under (the tool uses
	// elentra.admin_user_id).
	UpdatedBy int

	// EntityID is the event_resource_entities row that shows the link; 0 when
	// there is none (a link the page does not list).
	EntityID           int
	EntityActive       bool
	EntityReleaseDate  time.Time
	EntityReleaseUntil time.Time
}

// Published reports whether the link is listed on the event page with the
// link's own release window: false for a link whose second write (see
// InsertEventLink and UpdateEventLink) did not land, which the next run
// finishes with UpdateEventLink.
func (l EventLink) Published() bool {
	return l.EntityID != 0 && l.EntityActive &&
		l.EntityReleaseDate.Equal(l.ReleaseDate) && l.EntityReleaseUntil.Equal(l.ReleaseUntil)
}

type linkRow struct {
	ID                 int           `db:"elink_id"`
	EventID            int           `db:"event_id"`
	URL                string        `db:"link"`
	Title              string        `db:"link_title"`
	Notes              string        `db:"link_notes"`
	ReleaseDate        int64         `db:"release_date"`
	ReleaseUntil       int64         `db:"release_until"`
	UpdatedDate        int64         `db:"updated_date"`
	UpdatedBy          int           `db:"updated_by"`
	EntityID           sql.NullInt64 `db:"entity_id"`
	EntityActive       sql.NullInt64 `db:"entity_active"`
	EntityReleaseDate  sql.NullInt64 `db:"entity_release_date"`
	EntityReleaseUntil sql.NullInt64 `db:"entity_release_until"`
}

func (db *DB) linkQuery(where string) string {
	return `SELECT l.elink_id, l.event_id, l.link, l.link_title, l.link_notes, l.release_date,
			l.release_until, l.updated_date, l.updated_by,
			ere.event_resource_entity_id AS entity_id, ere.active AS entity_active,
			ere.release_date AS entity_release_date, ere.release_until AS entity_release_until
		FROM ` + db.Table("event_links") + ` l
		LEFT JOIN ` + db.Table("event_resource_entities") + ` ere
			ON ere.entity_type = 3 AND ere.entity_value = l.elink_id
		WHERE ` + where
}

// EventLinks returns the links with these ids that exist, ordered by id. One
// query per MaxInList ids.
func (db *DB) EventLinks(ctx context.Context, elinkIDs []int) ([]EventLink, error) {
	return db.readLinks(ctx, "l.elink_id IN (?)", elinkIDs)
}

// EventLinksOfEvents returns every link of these events, ordered by id: how a
// run finds a link whose id it could not record before a crash (by its URL or
// title) and adopts it.
func (db *DB) EventLinksOfEvents(ctx context.Context, eventIDs []int) ([]EventLink, error) {
	return db.readLinks(ctx, "l.event_id IN (?)", eventIDs)
}

func (db *DB) readLinks(ctx context.Context, where string, ids []int) ([]EventLink, error) {
	rows, err := SelectIn[linkRow](ctx, db, db.linkQuery(where), UniqueIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("read event links: %w", err)
	}
	byID := map[int]EventLink{}
	for _, r := range rows {
		// Several entities for one link (someone re-added it by hand): the
		// lowest entity id stands for all, as UpdateEventLink writes them
		// all.
		if prev, ok := byID[r.ID]; ok && prev.EntityID != 0 && (!r.EntityID.Valid || int(r.EntityID.Int64) > prev.EntityID) {
			continue
		}
		byID[r.ID] = EventLink{
			ID: r.ID, EventID: r.EventID, Title: r.Title, URL: r.URL, Notes: r.Notes,
			ReleaseDate: epoch(r.ReleaseDate), ReleaseUntil: epoch(r.ReleaseUntil),
			UpdatedDate: epoch(r.UpdatedDate), UpdatedBy: r.UpdatedBy,
			EntityID: int(r.EntityID.Int64), EntityActive: r.EntityActive.Int64 == 1,
			EntityReleaseDate: epoch(r.EntityReleaseDate.Int64), EntityReleaseUntil: epoch(r.EntityReleaseUntil.Int64),
		}
	}
	out := make([]EventLink, 0, len(byID))
	for _, l := range byID {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// InsertEventLink publishes a new link on l.EventID and returns it with its
// ids. Elentra's two tables are MyISAM and InnoDB, so no transaction spans
// them; the writes are ordered so that a crash between them is harmless and
// repairable:
//  1. the event_links row (alone it is invisible: the page lists only links
//     that have an entity);
//  2. the event_resource_entities row that shows it.
//
// After a crash between 1 and 2, the link is found by EventLinksOfEvents (or
// EventLinks, when the caller recorded l.ID), Published is false, and
// UpdateEventLink adds the missing entity.
func (db *DB) InsertEventLink(ctx context.Context, l EventLink, now time.Time) (EventLink, error) {
	if l.ID != 0 {
		return l, fmt.Errorf("insert event link: link %d already exists (use UpdateEventLink)", l.ID)
	}
	if l.EventID <= 0 {
		return l, fmt.Errorf("insert event link: no event id")
	}
	l.UpdatedDate = time.Unix(now.Unix(), 0).UTC()
	res, err := db.Exec(ctx, `INSERT INTO `+db.Table("event_links")+`
		(event_id, required, timeframe, proxify, link, link_title, link_notes, accesses,
		 release_date, release_until, updated_date, updated_by)
		VALUES (?, 0, 'none', 0, ?, ?, ?, 0, ?, ?, ?, ?)`,
		l.EventID, l.URL, l.Title, l.Notes, unix(l.ReleaseDate), unix(l.ReleaseUntil), now.Unix(), l.UpdatedBy)
	if err != nil {
		return l, fmt.Errorf("insert event link for event %d: %w", l.EventID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return l, fmt.Errorf("insert event link for event %d: %w", l.EventID, err)
	}
	l.ID = int(id)
	if err := db.insertLinkEntity(ctx, &l, now); err != nil {
		return l, err
	}
	return l, nil
}

func (db *DB) insertLinkEntity(ctx context.Context, l *EventLink, now time.Time) error {
	res, err := db.Exec(ctx, `INSERT INTO `+db.Table("event_resource_entities")+`
		(event_id, entity_type, entity_value, release_date, release_until, updated_date, updated_by, active)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
		l.EventID, EntityTypeLink, l.ID, unix(l.ReleaseDate), unix(l.ReleaseUntil), now.Unix(), l.UpdatedBy)
	if err != nil {
		return fmt.Errorf("list event link %d on event %d: %w", l.ID, l.EventID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("list event link %d on event %d: %w", l.ID, l.EventID, err)
	}
	l.EntityID, l.EntityActive = int(id), true
	l.EntityReleaseDate, l.EntityReleaseUntil = l.ReleaseDate, l.ReleaseUntil
	return nil
}

// UpdateEventLink writes l's URL, title, notes and release window to link
// l.ID and its entity, and lists the link when it has no entity (finishing an
// interrupted InsertEventLink). Order: the event_links row first, then the
// entity; after a crash between them Published is false and the next call
// writes both again (both writes are idempotent).
func (db *DB) UpdateEventLink(ctx context.Context, l EventLink, now time.Time) (EventLink, error) {
	if l.ID <= 0 || l.EventID <= 0 {
		return l, fmt.Errorf("update event link: link and event ids are required")
	}
	l.UpdatedDate = time.Unix(now.Unix(), 0).UTC()
	if _, err := db.Exec(ctx, `UPDATE `+db.Table("event_links")+`
		SET link = ?, link_title = ?, link_notes = ?, release_date = ?, release_until = ?,
			updated_date = ?, updated_by = ?
		WHERE elink_id = ? AND event_id = ?`,
		l.URL, l.Title, l.Notes, unix(l.ReleaseDate), unix(l.ReleaseUntil), now.Unix(), l.UpdatedBy, l.ID, l.EventID); err != nil {
		return l, fmt.Errorf("update event link %d: %w", l.ID, err)
	}
	// RowsAffected cannot tell "gone" from "unchanged" (a second call in the
	// same second changes nothing), so the link is read back.
	links, err := db.EventLinks(ctx, []int{l.ID})
	if err != nil {
		return l, err
	}
	if len(links) == 0 || links[0].EventID != l.EventID {
		return l, fmt.Errorf("update event link %d: %w", l.ID, ErrLinkNotFound)
	}
	if links[0].EntityID == 0 {
		err := db.insertLinkEntity(ctx, &l, now)
		return l, err
	}
	if _, err := db.Exec(ctx, `UPDATE `+db.Table("event_resource_entities")+`
		SET event_id = ?, release_date = ?, release_until = ?, updated_date = ?, updated_by = ?, active = 1
		WHERE entity_type = 3 AND entity_value = ?`,
		l.EventID, unix(l.ReleaseDate), unix(l.ReleaseUntil), now.Unix(), l.UpdatedBy, l.ID); err != nil {
		return l, fmt.Errorf("update the listing of event link %d: %w", l.ID, err)
	}
	l.EntityID, l.EntityActive = links[0].EntityID, true
	l.EntityReleaseDate, l.EntityReleaseUntil = l.ReleaseDate, l.ReleaseUntil
	return l, nil
}

// ErrLinkNotFound is returned when an event link to update no longer exists
// (someone deleted it in Elentra): the caller publishes a new one.
var ErrLinkNotFound = errors.New("event link not found")

// DeleteEventLink removes link elinkID from its event page. Order: the entity
// first (the link disappears from the page), then the event_links row; after
// a crash between them the leftover row is invisible and a second call
// removes it. Deleting a link that is already gone is not an error.
func (db *DB) DeleteEventLink(ctx context.Context, elinkID int) error {
	if elinkID <= 0 {
		return fmt.Errorf("delete event link: no link id")
	}
	if _, err := db.Exec(ctx, `DELETE FROM `+db.Table("event_resource_entities")+`
		WHERE entity_type = 3 AND entity_value = ?`, elinkID); err != nil {
		return fmt.Errorf("unlist event link %d: %w", elinkID, err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM `+db.Table("event_links")+` WHERE elink_id = ?`, elinkID); err != nil {
		return fmt.Errorf("delete event link %d: %w", elinkID, err)
	}
	return nil
}
