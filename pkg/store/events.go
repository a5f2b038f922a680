package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// EventsTable maps learning events to their Teams meetings.
const EventsTable = "msteams_events"

// EventRecord is a row of msteams_events: what the planner reads of it
// (event, course, state, meeting, link, what was sent, finish) is a
// reconcile.EventRecord, handed to it as it is read.
type EventRecord struct {
	reconcile.EventRecord
	Enabled bool
	// SwitchedAt is when an admin last switched the event on or off (zero:
	// never, the policy decides).
	SwitchedAt time.Time
	// ElentraWasOn: a sync-events read Elentra's event switch saying on for
	// the event, and it has held a value since (elentra_on).
	ElentraWasOn bool
	Start        time.Time
	Mailbox      string
	JoinableFrom time.Time
	ContentHash  string
	IntentAt     time.Time
	LastError    string
	LastErrorAt  time.Time
	LastSyncedAt time.Time
}

// Switch is the event's switch: the tool's (an admin's `events disable`
// is Switch.Off), and elentra what Elentra's event switch says of it now.
func (r EventRecord) Switch(elentra ElentraSwitch) Switch {
	return Switch{Enabled: r.Enabled, SwitchedAt: r.SwitchedAt, Elentra: elentra, ElentraWasOn: r.ElentraWasOn}
}

type eventRecordRow struct {
	EventID       int                  `db:"event_id"`
	Enabled       bool                 `db:"enabled"`
	SwitchedAt    sql.NullTime         `db:"switched_at"`
	ElentraWasOn  bool                 `db:"elentra_on"`
	CourseID      sql.NullInt64        `db:"course_id"`
	Start         sql.NullInt64        `db:"start"`
	Finish        sql.NullInt64        `db:"finish"`
	Mailbox       sql.NullString       `db:"mailbox"`
	GraphEventID  sql.NullString       `db:"graph_event_id"`
	TransactionID sql.NullString       `db:"transaction_id"`
	Generation    int                  `db:"generation"`
	JoinURL       sql.NullString       `db:"join_url"`
	JoinableFrom  sql.NullInt64        `db:"joinable_from"`
	ElinkID       sql.NullInt64        `db:"elink_id"`
	ContentHash   sql.NullString       `db:"content_hash"`
	SentHashes    sql.NullString       `db:"sent_hashes"`
	State         reconcile.EventState `db:"state"`
	IntentAt      sql.NullTime         `db:"intent_at"`
	LastError     sql.NullString       `db:"last_error"`
	LastErrorAt   sql.NullTime         `db:"last_error_at"`
	LastSyncedAt  sql.NullTime         `db:"last_synced_at"`
}

const eventRecordColumns = `event_id, enabled, switched_at, elentra_on, course_id, start, finish, mailbox, graph_event_id, transaction_id,
	generation, join_url, joinable_from, elink_id, content_hash, sent_hashes, state, intent_at, last_error, last_error_at, last_synced_at`

func epochTime(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}

func nullEpoch(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.Unix(), Valid: !t.IsZero()}
}

func (r eventRecordRow) record() EventRecord {
	return EventRecord{
		EventRecord: reconcile.EventRecord{EventID: r.EventID, CourseID: int(r.CourseID.Int64), State: r.State,
			GraphEventID: r.GraphEventID.String, TransactionID: r.TransactionID.String, Generation: r.Generation,
			JoinURL: r.JoinURL.String, ElinkID: int(r.ElinkID.Int64), SentHashes: r.SentHashes.String, Finish: epochTime(r.Finish)},
		Enabled: r.Enabled, SwitchedAt: r.SwitchedAt.Time, ElentraWasOn: r.ElentraWasOn, Start: epochTime(r.Start), Mailbox: r.Mailbox.String,
		JoinableFrom: epochTime(r.JoinableFrom), ContentHash: r.ContentHash.String, IntentAt: r.IntentAt.Time,
		LastError: r.LastError.String, LastErrorAt: r.LastErrorAt.Time, LastSyncedAt: r.LastSyncedAt.Time,
	}
}

// EventRecords returns the rows of these events (all rows when eventIDs is
// nil), by event id. One query per elentra.MaxInList ids.
func (s *Store) EventRecords(ctx context.Context, eventIDs []int) (map[int]EventRecord, error) {
	base := `SELECT ` + eventRecordColumns + ` FROM ` + s.db.Table(EventsTable)
	var rows []eventRecordRow
	if eventIDs == nil {
		if err := s.db.Select(ctx, &rows, base); err != nil {
			return nil, fmt.Errorf("read event records: %w", err)
		}
	} else {
		var err error
		if rows, err = elentra.SelectIn[eventRecordRow](ctx, s.db, base+` WHERE event_id IN (?)`, slices.Sorted(slices.Values(eventIDs))); err != nil {
			return nil, fmt.Errorf("read event records: %w", err)
		}
	}
	out := make(map[int]EventRecord, len(rows))
	for _, r := range rows {
		out[r.EventID] = r.record()
	}
	return out, nil
}

// EventRecordsToSync returns, in one query, the rows sync-events looks at:
// every admin's switch (on or off), and every meeting (live or cancelled:
// its generation must go on counting) or link the tool holds for an event
// not finished by now (by the finish last recorded). Finished events' rows
// are history and are not read.
func (s *Store) EventRecordsToSync(ctx context.Context, now time.Time) (map[int]EventRecord, error) {
	var rows []eventRecordRow
	err := s.db.Select(ctx, &rows, `SELECT `+eventRecordColumns+` FROM `+s.db.Table(EventsTable)+`
		WHERE enabled = 1 OR switched_at IS NOT NULL
			OR ((state IN (?, ?, ?, ?) OR elink_id IS NOT NULL) AND (finish IS NULL OR finish >= ?))`,
		reconcile.EventStateIntent, reconcile.EventStateCreated, reconcile.EventStateScheduled, reconcile.EventStateCancelled, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("read event records: %w", err)
	}
	out := make(map[int]EventRecord, len(rows))
	for _, r := range rows {
		out[r.EventID] = r.record()
	}
	return out, nil
}

// EventIntent is recorded before a meeting is created, so that a crash
// between the POST and its record leaves a row that makes the next run look
// the meeting up (by its marker), or send the same transactionId again.
type EventIntent struct {
	EventID       int
	CourseID      int
	Start, Finish time.Time
	Mailbox       string
	Generation    int
	TransactionID string
	// SentHashes and ContentHash are those of what the POST sends.
	SentHashes  string
	ContentHash string
	// ElentraOn is what elentra_on holds from now (Switch.NextElentraWasOn).
	ElentraOn bool
}

// RecordEventIntents marks events as about to get a meeting, one statement
// per 1,000 events. A meeting recorded before (cancelled, or found deleted)
// is forgotten; the event's link stays recorded, to be pointed at the new
// meeting.
func (s *Store) RecordEventIntents(ctx context.Context, intents []EventIntent, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	for part := range slices.Chunk(intents, 1000) {
		var b strings.Builder
		args := make([]any, 0, len(part)*15)
		b.WriteString(`INSERT INTO ` + s.db.Table(EventsTable) + ` (event_id, course_id, start, finish, mailbox, generation,
			transaction_id, sent_hashes, content_hash, state, intent_at, installation_id, elentra_on, created_at, updated_at) VALUES `)
		for i, in := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			args = append(args, in.EventID, in.CourseID, nullEpoch(in.Start), nullEpoch(in.Finish), nullString(in.Mailbox), in.Generation,
				in.TransactionID, in.SentHashes, in.ContentHash, reconcile.EventStateIntent, now, nullString(s.installation), in.ElentraOn, now, now)
		}
		b.WriteString(` ON DUPLICATE KEY UPDATE course_id = VALUES(course_id), start = VALUES(start), finish = VALUES(finish),
			mailbox = VALUES(mailbox), generation = VALUES(generation), transaction_id = VALUES(transaction_id),
			sent_hashes = VALUES(sent_hashes), content_hash = VALUES(content_hash), state = VALUES(state),
			graph_event_id = NULL, join_url = NULL, intent_at = VALUES(intent_at), installation_id = VALUES(installation_id),
			elentra_on = VALUES(elentra_on), updated_at = VALUES(updated_at)`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record the intent to create meetings: %w", err)
		}
	}
	return nil
}

// MeetingResult is a meeting as it landed: created, adopted or updated.
type MeetingResult struct {
	EventID       int
	CourseID      int
	Start, Finish time.Time
	Mailbox       string
	GraphEventID  string
	// JoinURL is the meeting's join URL as now known ("" when Outlook has
	// not given one yet: state created).
	JoinURL string
	// SentHashes and ContentHash are those of what the meeting now holds;
	// "" keeps the recorded ones (an adoption that sends nothing).
	SentHashes  string
	ContentHash string
}

// RecordMeeting stores a meeting that landed and clears the last error.
func (s *Store) RecordMeeting(ctx context.Context, m MeetingResult, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	state := reconcile.EventStateScheduled
	if m.JoinURL == "" {
		state = reconcile.EventStateCreated
	}
	_, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(EventsTable)+` (event_id, course_id, start, finish, mailbox, graph_event_id,
			join_url, sent_hashes, content_hash, state, last_synced_at, installation_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE course_id = VALUES(course_id), start = VALUES(start), finish = VALUES(finish),
			mailbox = VALUES(mailbox), graph_event_id = VALUES(graph_event_id), join_url = VALUES(join_url),
			sent_hashes = COALESCE(VALUES(sent_hashes), sent_hashes), content_hash = COALESCE(VALUES(content_hash), content_hash),
			state = VALUES(state), last_synced_at = VALUES(last_synced_at), installation_id = VALUES(installation_id),
			last_error = NULL, last_error_at = NULL, updated_at = VALUES(updated_at)`,
		m.EventID, m.CourseID, nullEpoch(m.Start), nullEpoch(m.Finish), nullString(m.Mailbox), m.GraphEventID,
		nullString(m.JoinURL), nullString(m.SentHashes), nullString(m.ContentHash), state, now, nullString(s.installation), now, now)
	if err != nil {
		return fmt.Errorf("record the meeting of event %d: %w", m.EventID, err)
	}
	return nil
}

// RecordEventLink stores the link published on the event page and when it
// opens.
func (s *Store) RecordEventLink(ctx context.Context, eventID, elinkID int, joinableFrom time.Time, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(EventsTable)+` SET elink_id = ?, joinable_from = ?, last_synced_at = ?,
		last_error = NULL, last_error_at = NULL, updated_at = ? WHERE event_id = ?`,
		elinkID, nullEpoch(joinableFrom), now, now, eventID)
	if err != nil {
		return fmt.Errorf("record the link of event %d: %w", eventID, err)
	}
	return nil
}

// RecordEventLinkRemoved forgets the link of an event once it is deleted.
func (s *Store) RecordEventLinkRemoved(ctx context.Context, eventID int, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(EventsTable)+` SET elink_id = NULL, joinable_from = NULL, last_synced_at = ?,
		updated_at = ? WHERE event_id = ?`, now, now, eventID)
	if err != nil {
		return fmt.Errorf("forget the link of event %d: %w", eventID, err)
	}
	return nil
}

// RecordEventCancelled marks an event's meeting cancelled; its Graph id
// stays for reference, its join URL goes.
func (s *Store) RecordEventCancelled(ctx context.Context, eventID int, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(EventsTable)+` SET state = ?, join_url = NULL, last_synced_at = ?,
		last_error = NULL, last_error_at = NULL, updated_at = ? WHERE event_id = ?`,
		reconcile.EventStateCancelled, now, now, eventID)
	if err != nil {
		return fmt.Errorf("record the cancelled meeting of event %d: %w", eventID, err)
	}
	return nil
}

// RecordEventError keeps the last error of an event for status and
// `events list`.
func (s *Store) RecordEventError(ctx context.Context, eventID int, msg string, now time.Time) error {
	return s.recordLastError(ctx, EventsTable, "event_id", eventID, msg, now, "event")
}
