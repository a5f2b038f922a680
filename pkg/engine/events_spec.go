package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// addSpecs renders the meeting each in-scope event should have, keeping
// the attendees addAttendees found.
func (run *eventsRun) addSpecs() {
	if run.env.Config.Elentra.URL == "" && len(run.wants) > 0 {
		run.r.note(reconcile.Finding{Kind: reconcile.FindingNoElentraURL, Severity: reconcile.Note,
			Message: "elentra.url is not set, so meeting invitations do not link to the Elentra event page",
			Fix:     "set elentra.url to Elentra's ENTRADA_URL (or point elentra.settings_file at settings.inc.php)"})
	}
	for id, w := range run.wants {
		if !w.Exists || !w.InScope {
			continue
		}
		w.Spec = run.eventSpec(run.events[id], run.courses[w.CourseID], w.Spec.Attendees)
		run.wants[id] = w
	}
}

// eventURL is the event's page in Elentra (ENTRADA_URL/events?id=N, the
// form Elentra's own pages link to).
func eventURL(base string, eventID int) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/events?id=" + strconv.Itoa(eventID)
}

// eventSpec renders the meeting an event should have.
func (run *eventsRun) eventSpec(e elentra.Event, c elentra.Course, attendees []string) reconcile.EventSpec {
	title := strings.Join(strings.Fields(e.Title), " ")
	title, _ = repairDoubleEncoded(title)
	c.Code, _ = repairDoubleEncoded(c.Code)
	c.Name, _ = repairDoubleEncoded(c.Name)
	s := title
	if out, err := config.RenderTemplate(run.subject, map[string]any{"CourseCode": c.Code, "CourseName": c.Name, "Title": title, "ID": e.ID, "Start": e.Start.In(run.local)}); err == nil {
		if t := strings.Join(strings.Fields(out), " "); t != "" {
			s = t
		}
	}
	var body []string
	if u := eventURL(run.env.Config.Elentra.URL, e.ID); u != "" {
		body = append(body, "Learning event in Elentra: "+u)
	}
	if d := plainText(e.Description); d != "" {
		d, _ = repairDoubleEncoded(d)
		body = append(body, d)
	}
	location, _ := repairDoubleEncoded(strings.TrimSpace(e.Location))
	return reconcile.EventSpec{Subject: text.Truncate(s, reconcile.MaxSubject), Body: strings.Join(body, "\n\n"),
		Location: location, Start: e.Start.UTC(), End: e.Finish.UTC(), TimeZone: meetingZone(run.zone, e.Start, e.Finish), Attendees: attendees}
}

// meetingZone is the zone an event's start and end are sent in: the Outlook
// zone, unless one of them falls in the hour the zone repeats when summer
// time ends. Such a wall-clock time names two instants and Outlook may pick
// the wrong one, so that event is sent in UTC, which names exactly one.
func meetingZone(zone string, times ...time.Time) string {
	loc, err := msgraph.LoadZone(zone)
	if err != nil {
		return zone
	}
	for _, t := range times {
		if ambiguousWallClock(t, loc) {
			return "UTC"
		}
	}
	return zone
}

// ambiguousWallClock reports whether t's wall-clock time in loc is also the
// wall-clock time of another instant. Offsets change at most once in a day
// in every zone, so the offsets a day either side are the only other
// readings to try.
func ambiguousWallClock(t time.Time, loc *time.Location) bool {
	wall := t.In(loc)
	asUTC := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
	for _, probe := range []time.Time{t.Add(-24 * time.Hour), t.Add(24 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		other := asUTC.Add(-time.Duration(off) * time.Second)
		if !other.Equal(t) && other.In(loc).Format(time.DateTime) == wall.Format(time.DateTime) {
			return true
		}
	}
	return false
}
