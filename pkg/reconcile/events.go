package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventState is where an event's meeting stands, as recorded in
// msteams_events.state. The records, the planner and the SQL that reads or
// writes the column all use these values.
type EventState string

// Meeting states.
const (
	EventStateNone      EventState = "none"      // never had a meeting
	EventStateIntent    EventState = "intent"    // POST /events about to be (or maybe) sent
	EventStateCreated   EventState = "created"   // the meeting exists; its join URL is not known yet
	EventStateScheduled EventState = "scheduled" // the meeting and its join URL are known
	EventStateCancelled EventState = "cancelled" // cancelled by the tool (or found deleted)
)

// LiveEventState reports whether a state stands for a meeting that exists
// or may exist.
func LiveEventState(s EventState) bool {
	return s == EventStateIntent || s == EventStateCreated || s == EventStateScheduled
}

// LinkTitle is the title of the event link the tool publishes.
const LinkTitle = "Join Microsoft Teams meeting"

// MarkerPropertyID is the single-value extended property every meeting the
// tool creates carries, so it is found again whatever happened to the
// tool's own rows.
const MarkerPropertyID = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ElentraTeamsKey"

// MaxEventDuration is the longest event that gets a meeting without
// --allow-long-events: longer ones are usually data-entry mistakes (a finish
// on the wrong day) and would block the organiser's calendar for days.
const MaxEventDuration = 24 * time.Hour

// MaxSubject is the longest subject sent to Outlook.
const MaxSubject = 255

// MarkerValue is the marker of event eventID made by installation inst: the
// installation is part of it so that two installations sharing a mailbox
// (staging beside production, whose databases usually share a name) never
// take each other's meetings for their own.
func MarkerValue(inst string, eventID int) string {
	return fmt.Sprintf("elentra-teams:%s/event/%d", inst, eventID)
}

// Marker is what a meeting's marker says: the installation that made it
// and the event, or, for a meeting made before installations existed, the
// database it was made for.
type Marker struct {
	Installation string
	// Database is set instead of Installation on an older marker
	// (elentra-teams/<database>/event/<id>).
	Database string
	EventID  int
}

// ParseMarker reads a marker value, of either form.
func ParseMarker(value string) (Marker, bool) {
	var m Marker
	var rest string
	if after, ok := strings.CutPrefix(value, "elentra-teams:"); ok {
		inst, tail, ok := strings.Cut(after, "/event/")
		if !ok || !validInstallation(inst) {
			return Marker{}, false
		}
		m.Installation, rest = inst, tail
	} else if after, ok := strings.CutPrefix(value, "elentra-teams/"); ok {
		db, tail, ok := strings.Cut(after, "/event/")
		if !ok || db == "" || strings.Contains(db, "/") {
			return Marker{}, false
		}
		m.Database, rest = db, tail
	} else {
		return Marker{}, false
	}
	id, err := strconv.Atoi(rest)
	if err != nil || id <= 0 || strconv.Itoa(id) != rest {
		return Marker{}, false
	}
	m.EventID = id
	return m, true
}

// validInstallation: an installation id is lower-case letters and digits.
func validInstallation(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// TransactionID is the transactionId of the create of a meeting: the same
// installation, event and generation always give the same id, so a POST
// re-sent after an unknown outcome is answered with the meeting it created,
// and another installation's create (which Outlook would answer with this
// one's meeting) never gives it. A new generation (after a cancel, or when
// the meeting was deleted in Outlook) gives a new id.
func TransactionID(inst string, eventID, generation int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("elentra-teams\x00installation\x00%s\x00%d\x00%d", inst, eventID, generation)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// EventSpec is what a meeting is created or updated with, and what its
// published link says.
type EventSpec struct {
	Subject       string    `json:"subject"`
	Body          string    `json:"body,omitempty"`
	Location      string    `json:"location,omitempty"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	TimeZone      string    `json:"time_zone"`
	Attendees     []string  `json:"attendees,omitempty"`
	TransactionID string    `json:"transaction_id,omitempty"`
	Generation    int       `json:"generation,omitempty"`
	ContentHash   string    `json:"content_hash,omitempty"`
	GraphEventID  string    `json:"graph_event_id,omitempty"`
	JoinURL       string    `json:"join_url,omitempty"`
	JoinableFrom  time.Time `json:"joinable_from,omitzero"`
	ElinkID       int       `json:"elink_id,omitempty"`
	// SentHashes are the FieldHashes to record once the action lands: what
	// the meeting then holds. "" keeps the recorded ones; a value that
	// names no field (an adoption of a meeting of unknown content) makes the
	// next plan send every field.
	SentHashes string `json:"sent_hashes,omitempty"`
	// Changed names the fields an update sends (EventField*): only those, so
	// that an unchanged body is never re-sent (Outlook may then drop or
	// replace the Teams join details it wrote into it).
	Changed []string `json:"changed,omitempty"`
}

// The fields of a meeting whose changes are tracked one by one.
const (
	EventFieldSubject   = "subject"
	EventFieldBody      = "body"
	EventFieldLocation  = "location"
	EventFieldTime      = "time" // start, end and their zone
	EventFieldAttendees = "attendees"
)

var eventFields = []string{EventFieldAttendees, EventFieldBody, EventFieldLocation, EventFieldSubject, EventFieldTime}

// FieldHashes hashes each tracked field of what is sent, as kept in
// msteams_events.sent_hashes: "attendees=…;body=…;…", keys in order.
func (s EventSpec) FieldHashes() string {
	att := append([]string(nil), s.Attendees...)
	for i := range att {
		att[i] = strings.ToLower(att[i])
	}
	sort.Strings(att)
	values := map[string]string{
		EventFieldAttendees: strings.Join(att, "\n"),
		EventFieldBody:      s.Body,
		EventFieldLocation:  s.Location,
		EventFieldSubject:   s.Subject,
		EventFieldTime:      fmt.Sprintf("%d\n%d\n%s", s.Start.Unix(), s.End.Unix(), s.TimeZone),
	}
	parts := make([]string, 0, len(eventFields))
	for _, f := range eventFields {
		sum := sha256.Sum256([]byte(values[f]))
		parts = append(parts, f+"="+hex.EncodeToString(sum[:8]))
	}
	return strings.Join(parts, ";")
}

// Hash is the content hash over everything sent (msteams_events.content_hash).
func (s EventSpec) Hash() string { return HashText(s.FieldHashes()) }

// UnknownSentHashes is recorded for a meeting adopted without knowing what
// it holds: it matches no field, so the next plan sends them all.
const UnknownSentHashes = "unknown"

// changedFields compares the field hashes last sent with those of s; every
// field counts as changed when nothing is known of what was sent.
func changedFields(sent string, s EventSpec) []string {
	old := map[string]string{}
	for _, kv := range strings.Split(sent, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			old[k] = v
		}
	}
	var out []string
	for _, kv := range strings.Split(s.FieldHashes(), ";") {
		k, v, _ := strings.Cut(kv, "=")
		if old[k] != v {
			out = append(out, k)
		}
	}
	return out
}

// EventWant is the Elentra side of one learning event.
type EventWant struct {
	EventID    int
	CourseID   int
	CourseCode string
	// Exists: the events row exists. A record without an EventWant, or with
	// Exists false, is an event deleted in Elentra.
	Exists bool
	// InScope: the event is switched on (itself, through its parent event,
	// or by sync.all_course_events) and its course is the organisation's.
	InScope bool
	// OutOfScope says why an existing event is not in scope.
	OutOfScope string
	// SwitchedOff: what took the event out of scope is an admin's switch
	// (the event's, its parent's or its course's, turned off on purpose):
	// its cancellation skips the per-course guard (the run guard counts it).
	SwitchedOff bool
	// InHorizon: it starts within sync.events_horizon. Only such events get
	// a new meeting; one that moved beyond keeps (and updates) its meeting.
	InHorizon bool
	// NoTeam: sync.event_requires_team and the course has no Team, so no new
	// meeting is made (an existing one is kept).
	NoTeam bool
	Title  string
	Start  time.Time
	Finish time.Time
	// Spec is the meeting as it should be (subject, body, location, times
	// in the Outlook zone, attendees).
	Spec EventSpec
}

// EventRecord is the tool's msteams_events row of an event, the part the
// planner reads (store.EventRecord holds it, read as it is).
type EventRecord struct {
	EventID       int
	CourseID      int
	State         EventState
	GraphEventID  string
	TransactionID string
	Generation    int
	JoinURL       string
	ElinkID       int
	// SentHashes are the FieldHashes of what was last sent (or, in state
	// intent, is being sent).
	SentHashes string
	Finish     time.Time
}

// Meeting is what Microsoft Graph says of an event's meeting.
type Meeting struct {
	// GraphEventID is the meeting found: by its marker in the calendar
	// listing, or the recorded one read on its own. "" when none was found.
	GraphEventID string
	JoinURL      string
	// Gone: the recorded meeting was looked for and does not exist any more
	// (deleted or cancelled in Outlook).
	Gone bool
}

// Link is an event link on Elentra's event page: the recorded one, or one
// with the tool's title found on the event (published by a run that could
// not record it).
type Link struct {
	ID           int
	URL          string
	Title        string
	ReleaseDate  time.Time
	ReleaseUntil time.Time
	// Published: listed on the event page with the link's own window.
	Published bool
}

// EventsInput is everything PlanEvents needs.
type EventsInput struct {
	Now time.Time
	// Installation is this installation's id (transactionIds are derived
	// from it).
	Installation string
	// WindowMinutes is personal_meeting_window_minutes: the link opens this
	// long before the event starts.
	WindowMinutes   int
	AllowLongEvents bool
	Events          []EventWant
	// Records are the tool's rows of the events in view: an event of a
	// record without an EventWant is treated as deleted, so the caller
	// leaves out the records a run must not touch (another --course,
	// --event, or a finished event).
	Records map[int]EventRecord
	// Meetings are what Graph showed, by event id (absent: none found).
	Meetings map[int]Meeting
	// Links are the events' links, by event id (absent: none).
	Links map[int]Link
	// Guards hold cancellations: per course over LiveByCourse (the live
	// meetings the tool holds in each course), per run over LiveTotal.
	Guards       Guards
	LiveByCourse map[int]int
	LiveTotal    int
}

// JoinableFrom is when an event's link opens: the window before its start.
func JoinableFrom(start time.Time, windowMinutes int) time.Time {
	return start.Add(-time.Duration(windowMinutes) * time.Minute)
}

// PlanEvents decides, for every event in view, whether its meeting must be
// created, adopted, fetched (its join URL), updated or cancelled, and
// whether its link on the event page must be published or removed. Bad
// event data is a finding and changes nothing.
func PlanEvents(in EventsInput) Plan {
	var p Plan
	var cancels []cancellation
	seen := map[int]bool{}
	for _, ev := range in.Events {
		seen[ev.EventID] = true
		rec, hasRec := in.Records[ev.EventID]
		if c := planEvent(&p, in, ev, rec, hasRec); c != nil {
			cancels = append(cancels, *c)
		}
	}
	ids := make([]int, 0, len(in.Records))
	for id := range in.Records {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	for _, id := range ids {
		rec := in.Records[id]
		if c := planEvent(&p, in, EventWant{EventID: id, CourseID: rec.CourseID}, rec, true); c != nil {
			cancels = append(cancels, *c)
		}
	}
	kept, held := guardCancellations(cancels, in.LiveByCourse, in.LiveTotal, in.Guards)
	p.Actions = append(p.Actions, kept...)
	p.Held = append(p.Held, held...)
	sortActions(p.Actions)
	sortFindings(p.Findings)
	return p
}

// badData says what is wrong with an event that should have a meeting, or "".
func badData(ev EventWant, allowLong bool) (kind FindingKind, msg, fix string) {
	switch {
	case strings.TrimSpace(ev.Title) == "":
		return FindingEventNoTitle, "the event has no title, so no meeting is made or changed", "give the event a title in Elentra"
	case !ev.Finish.After(ev.Start):
		return FindingEventBadTimes, fmt.Sprintf("the event finishes (%s) no later than it starts (%s), so no meeting is made or changed",
			ev.Finish.UTC().Format(time.RFC3339), ev.Start.UTC().Format(time.RFC3339)), "correct the event's times in Elentra"
	case ev.Finish.Sub(ev.Start) > MaxEventDuration && !allowLong:
		return FindingEventTooLong, fmt.Sprintf("the event lasts %s, more than 24 hours, so no meeting is made or changed", ev.Finish.Sub(ev.Start).Round(time.Minute)),
			"correct the event's finish in Elentra, or run with --allow-long-events if it is right"
	}
	return "", "", ""
}

// planEvent adds an event's actions to p; a cancellation of its meeting is
// returned instead, for the guards to pass or hold.
func planEvent(p *Plan, in EventsInput, ev EventWant, rec EventRecord, hasRec bool) *cancellation {
	id := ev.EventID
	live := hasRec && LiveEventState(rec.State)
	m, found := in.Meetings[id]
	found = found && m.GraphEventID != "" && !m.Gone
	link, hasLink := in.Links[id]

	if ev.Exists && !ev.Finish.After(in.Now) && ev.Finish.After(ev.Start) {
		return nil // finished: its meeting is history, left as it is
	}
	if ev.Exists && ev.InScope {
		if kind, msg, fix := badData(ev, in.AllowLongEvents); kind != "" {
			p.note(Finding{Kind: kind, Severity: Warning, CourseID: ev.CourseID, EventID: id, Name: ev.CourseCode, Message: msg, Fix: fix})
			return nil
		}
	}

	want := ev.Exists && ev.InScope
	moved := live && ev.Exists && rec.CourseID != 0 && ev.CourseID != rec.CourseID
	if !want || moved {
		why := ev.OutOfScope
		switch {
		case !ev.Exists:
			why = "the event was deleted in Elentra"
		case moved:
			why = fmt.Sprintf("the event moved from course %d to course %d", rec.CourseID, ev.CourseID)
			if want {
				why += "; a new meeting is made at the next run"
			}
		case why == "":
			why = "the event no longer gets a Teams meeting"
		}
		var cancel *cancellation
		switch {
		case live:
			gid := rec.GraphEventID
			if gid == "" && found {
				gid = m.GraphEventID // created by a run that could not record it
			}
			if m.Gone {
				gid = "" // nothing left to cancel: only the record changes
			}
			a := Action{Kind: KindCancelEvent, CourseID: rec.CourseID, EventID: id, Event: &EventSpec{GraphEventID: gid}, Reason: why}
			if gid == "" {
				p.add(a) // no meeting left to cancel: nothing a guard need hold
			} else {
				cancel = &cancellation{courseID: rec.CourseID, eventID: id, actions: []Action{a}}
			}
		case found:
			// A meeting with this event's marker that no row records (the
			// tool's rows were lost): it is this tool's, and unwanted.
			cancel = &cancellation{courseID: ev.CourseID, eventID: id,
				actions: []Action{{Kind: KindCancelEvent, CourseID: ev.CourseID, EventID: id, Event: &EventSpec{GraphEventID: m.GraphEventID}, Reason: why}}}
		}
		var unlink *Action
		switch {
		case hasLink:
			unlink = &Action{Kind: KindRemoveLink, CourseID: rec.CourseID, EventID: id, Event: &EventSpec{ElinkID: link.ID}, Reason: why}
		case hasRec && rec.ElinkID != 0:
			// The recorded link is gone already (deleted in Elentra): only
			// the record changes (ElinkID 0: nothing to delete).
			unlink = &Action{Kind: KindRemoveLink, CourseID: rec.CourseID, EventID: id, Event: &EventSpec{}, Reason: why + "; the link was already deleted"}
		}
		if cancel == nil {
			if unlink != nil {
				p.add(*unlink)
			}
			return nil
		}
		// The link goes with its meeting: held together, or made together.
		if unlink != nil {
			cancel.actions = append(cancel.actions, *unlink)
		}
		if cancel.courseID == 0 {
			cancel.courseID = ev.CourseID
		}
		cancel.switched = ev.Exists && ev.SwitchedOff && !moved
		return cancel
	}

	spec := ev.Spec
	joinable := JoinableFrom(ev.Start, in.WindowMinutes)
	publish := func(join string, reason string) {
		elink := 0
		if hasLink {
			elink = link.ID
		}
		p.add(Action{Kind: KindPublishLink, CourseID: ev.CourseID, EventID: id,
			Event: &EventSpec{JoinURL: join, JoinableFrom: joinable, Start: ev.Start, End: ev.Finish, ElinkID: elink}, Reason: reason})
	}
	ensureLink := func(join string) {
		switch {
		case !hasLink:
			publish(join, "the event page has no join link yet")
		case link.ID != rec.ElinkID:
			publish(join, "a join link published by an earlier run is adopted")
		case link.URL != join || link.Title != LinkTitle:
			publish(join, "the join link changed")
		case !link.ReleaseDate.Equal(joinable) || !link.ReleaseUntil.Equal(ev.Finish) || !link.Published:
			publish(join, fmt.Sprintf("the link opens %d minutes before the start and closes at the finish", in.WindowMinutes))
		}
	}
	create := func(generation int, txn, reason string) {
		s := spec
		s.Generation, s.TransactionID = generation, txn
		s.ContentHash, s.SentHashes = s.Hash(), s.FieldHashes()
		p.add(Action{Kind: KindCreateEvent, CourseID: ev.CourseID, EventID: id, Event: &s, Reason: reason})
		publish("", "publish the new meeting's join link")
	}
	// adopt records a meeting found by its marker, then brings it up to
	// date: what it holds is known only from sentHashes.
	adopt := func(sentHashes, reason string) {
		recorded := sentHashes
		if recorded == "" {
			recorded = UnknownSentHashes
		}
		p.add(Action{Kind: KindFetchEvent, CourseID: ev.CourseID, EventID: id,
			Event: &EventSpec{GraphEventID: m.GraphEventID, JoinURL: m.JoinURL, SentHashes: recorded}, Reason: reason})
		if changed := changedFields(sentHashes, spec); len(changed) > 0 {
			s := spec
			s.GraphEventID, s.Changed = m.GraphEventID, changed
			s.ContentHash, s.SentHashes = spec.Hash(), spec.FieldHashes()
			p.add(Action{Kind: KindUpdateEvent, CourseID: ev.CourseID, EventID: id, Event: &s, Reason: "bring the adopted meeting up to date: " + strings.Join(changed, ", ")})
		}
		ensureLink(m.JoinURL)
	}

	switch {
	case !live && found:
		adopt("", "a meeting carrying this event's marker exists (made by a run that could not record it): adopted, not duplicated")
		return nil
	case !live:
		if !ev.InHorizon {
			return nil
		}
		if ev.NoTeam {
			p.note(Finding{Kind: FindingEventNoTeam, Severity: Note, CourseID: ev.CourseID, EventID: id, Name: ev.CourseCode,
				Message: "the course has no Team yet, so the event gets no meeting (sync.event_requires_team)", Fix: "run sync-teams (sync does it first)"})
			return nil
		}
		gen := rec.Generation + 1
		create(gen, TransactionID(in.Installation, id, gen), "the event has no meeting")
		return nil
	case rec.State == EventStateIntent && found:
		adopt(rec.SentHashes, "a previous run created the meeting but could not record it: adopted, not duplicated")
		return nil
	case rec.State == EventStateIntent:
		txn := rec.TransactionID
		if txn == "" {
			txn = TransactionID(in.Installation, id, rec.Generation)
		}
		create(rec.Generation, txn, "a previous run may have sent the create: it is sent again with the same transactionId, which Outlook answers with the meeting it made")
		return nil
	case m.Gone:
		if !ev.InHorizon {
			p.note(Finding{Kind: FindingMeetingDeleted, Severity: Warning, CourseID: ev.CourseID, EventID: id, Name: ev.CourseCode,
				Message: "the event's meeting was deleted in Outlook; a new one is made once the event starts within sync.events_horizon"})
			return nil
		}
		gen := rec.Generation + 1
		create(gen, TransactionID(in.Installation, id, gen), "the meeting was deleted in Outlook: a new one is made")
		return nil
	}

	// A meeting is recorded: fetch its join URL, update it, keep its link.
	gid := rec.GraphEventID
	join := rec.JoinURL
	switch {
	case found && m.JoinURL != "" && m.JoinURL != rec.JoinURL:
		reason := "Outlook gave the meeting a new join link"
		if rec.JoinURL == "" {
			reason = "the meeting's join link is available now"
		}
		p.add(Action{Kind: KindFetchEvent, CourseID: ev.CourseID, EventID: id, Event: &EventSpec{GraphEventID: gid, JoinURL: m.JoinURL}, Reason: reason})
		join = m.JoinURL
	case join == "":
		p.add(Action{Kind: KindFetchEvent, CourseID: ev.CourseID, EventID: id, Event: &EventSpec{GraphEventID: gid},
			Reason: "the meeting was created without its join link: it is read again"})
	}
	if changed := changedFields(rec.SentHashes, spec); len(changed) > 0 {
		s := spec
		s.GraphEventID, s.Changed = gid, changed
		s.ContentHash, s.SentHashes = spec.Hash(), spec.FieldHashes()
		p.add(Action{Kind: KindUpdateEvent, CourseID: ev.CourseID, EventID: id, Event: &s, Reason: "changed in Elentra: " + strings.Join(changed, ", ")})
	}
	if join == "" {
		publish("", "publish the join link once it is known")
		return nil
	}
	ensureLink(join)
	return nil
}

// EventActionOrder is the order an event's own actions are applied in: a
// meeting must exist (or be adopted) and have its join URL before its link
// is published, and a link goes before its meeting is cancelled.
func EventActionOrder(k Kind) int {
	switch k {
	case KindCreateEvent:
		return 0
	case KindFetchEvent:
		return 1
	case KindUpdateEvent:
		return 2
	case KindPublishLink:
		return 3
	case KindRemoveLink:
		return 4
	case KindCancelEvent:
		return 5
	}
	return 6
}
