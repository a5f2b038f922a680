package msgraph

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ItemBody is an event body.
type ItemBody struct {
	ContentType string `json:"contentType"` // "text" or "HTML"
	Content     string `json:"content"`
}

// Location is where an event takes place.
type Location struct {
	DisplayName string `json:"displayName"`
}

// EmailAddress names an attendee.
type EmailAddress struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
}

// Attendee is an event attendee; Type is "required", "optional" or "resource".
type Attendee struct {
	EmailAddress EmailAddress `json:"emailAddress"`
	Type         string       `json:"type,omitempty"`
}

// SingleValueExtendedProperty is a MAPI property on an event. The tool keeps
// its marker in one, id like "String {guid} Name ElentraTeamsKey".
type SingleValueExtendedProperty struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// OnlineMeetingInfo is the Teams meeting of an event. Use JoinURL, not the
// deprecated onlineMeetingUrl.
type OnlineMeetingInfo struct {
	JoinURL      string `json:"joinUrl"`
	ConferenceID string `json:"conferenceId,omitempty"`
	TollNumber   string `json:"tollNumber,omitempty"`
}

// EventInput is the body of an event create or update. Zero fields are not
// sent, so a PATCH carries only what changes; to clear the attendees send a
// non-nil empty slice.
type EventInput struct {
	Subject                       string                        `json:"subject,omitempty"`
	Body                          *ItemBody                     `json:"body,omitempty"`
	Start                         *DateTimeTimeZone             `json:"start,omitempty"`
	End                           *DateTimeTimeZone             `json:"end,omitempty"`
	Location                      *Location                     `json:"location,omitempty"`
	Attendees                     []Attendee                    `json:"attendees,omitzero"`
	IsOnlineMeeting               *bool                         `json:"isOnlineMeeting,omitempty"`
	OnlineMeetingProvider         string                        `json:"onlineMeetingProvider,omitempty"` // "teamsForBusiness"
	AllowNewTimeProposals         *bool                         `json:"allowNewTimeProposals,omitempty"`
	TransactionID                 string                        `json:"transactionId,omitempty"`
	SingleValueExtendedProperties []SingleValueExtendedProperty `json:"singleValueExtendedProperties,omitzero"`

	// ResponseTimeZone, when set, is sent as Prefer: outlook.timezone="…" so
	// start and end come back in that zone rather than UTC. Not part of the body.
	ResponseTimeZone string `json:"-"`
}

// Event is an Outlook calendar event.
type Event struct {
	ID                            string                        `json:"id"`
	ChangeKey                     string                        `json:"changeKey"`
	Subject                       string                        `json:"subject"`
	Body                          ItemBody                      `json:"body"`
	Start                         DateTimeTimeZone              `json:"start"`
	End                           DateTimeTimeZone              `json:"end"`
	Location                      Location                      `json:"location"`
	Attendees                     []Attendee                    `json:"attendees"`
	IsOnlineMeeting               bool                          `json:"isOnlineMeeting"`
	OnlineMeetingProvider         string                        `json:"onlineMeetingProvider"`
	OnlineMeeting                 *OnlineMeetingInfo            `json:"onlineMeeting"`
	IsCancelled                   bool                          `json:"isCancelled"`
	TransactionID                 string                        `json:"transactionId"`
	SingleValueExtendedProperties []SingleValueExtendedProperty `json:"singleValueExtendedProperties"`
	WebLink                       string                        `json:"webLink"`
}

// JoinURL returns onlineMeeting.joinUrl, or "" when the meeting has none
// (yet: Outlook sometimes adds it after the create).
func (e Event) JoinURL() string {
	if e.OnlineMeeting == nil {
		return ""
	}
	return e.OnlineMeeting.JoinURL
}

// ExtendedProperty returns the value of the extended property id (ids compared
// without case: Outlook may normalise the spelling it was given).
func (e Event) ExtendedProperty(id string) (string, bool) {
	for _, p := range e.SingleValueExtendedProperties {
		if strings.EqualFold(p.ID, id) {
			return p.Value, true
		}
	}
	return "", false
}

// EventOptions shape a GET of events.
type EventOptions struct {
	Select                   []string // properties to return; empty = Graph's default set
	ExpandExtendedPropertyID string   // expand this single-value extended property
	TimeZone                 string   // Prefer: outlook.timezone for start and end
}

func (o EventOptions) query(q query) query {
	if len(o.Select) > 0 {
		q = q.add("$select", strings.Join(o.Select, ","))
	}
	if o.ExpandExtendedPropertyID != "" {
		q = q.add("$expand", expandExtendedProperty(o.ExpandExtendedPropertyID))
	}
	return q
}

func expandExtendedProperty(id string) string {
	return "singleValueExtendedProperties($filter=id eq " + odataString(id) + ")"
}

func preferTimeZone(r *request, zone string) *request {
	if zone == "" {
		return r
	}
	return r.withHeader("Prefer", `outlook.timezone="`+zone+`"`)
}

func eventsPath(mailbox string) string { return mailboxPath(mailbox) + "/events" }

func eventPath(mailbox, id string) string { return eventsPath(mailbox) + "/" + escapeSegment(id) }

// CreateEvent creates an event in the mailbox ("me" or a user id): POST
// /{mailbox}/events → 201. With a TransactionID Outlook answers a repeated
// create with the first event, so the POST is re-sent after an unknown
// outcome; without one, an unknown outcome matches ErrOutcomeUnknown.
func (c *Client) CreateEvent(ctx context.Context, mailbox string, in EventInput) (*Event, error) {
	req, err := newRequest(http.MethodPost, eventsPath(mailbox), nil).withBody(in)
	if err != nil {
		return nil, err
	}
	preferTimeZone(req, in.ResponseTimeZone)
	var e Event
	if _, err := c.call(ctx, req, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetEvent returns one event of the mailbox.
func (c *Client) GetEvent(ctx context.Context, mailbox, id string, opts EventOptions) (*Event, error) {
	if id == "" {
		return nil, errorf(http.MethodGet, eventsPath(mailbox), "empty event id")
	}
	req := preferTimeZone(newRequest(http.MethodGet, eventPath(mailbox, id), opts.query(nil)), opts.TimeZone)
	var e Event
	if _, err := c.call(ctx, req, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// UpdateEvent patches an event (PATCH → 200 with the event). Only the
// non-zero fields of patch are sent.
func (c *Client) UpdateEvent(ctx context.Context, mailbox, id string, patch EventInput) (*Event, error) {
	if id == "" {
		return nil, errorf(http.MethodPatch, eventsPath(mailbox), "empty event id")
	}
	req, err := newRequest(http.MethodPatch, eventPath(mailbox, id), nil).withBody(patch)
	if err != nil {
		return nil, err
	}
	preferTimeZone(req, patch.ResponseTimeZone)
	var e Event
	if _, err := c.call(ctx, req, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// CancelEvent cancels a meeting the mailbox organises and tells its
// attendees (POST …/cancel → 202). Afterwards GET answers 404
// ErrorItemNotFound: the caller treats that as done.
func (c *Client) CancelEvent(ctx context.Context, mailbox, id, comment string) error {
	if id == "" {
		return errorf(http.MethodPost, eventsPath(mailbox), "empty event id")
	}
	body := map[string]string{}
	if comment != "" {
		body["Comment"] = comment
	}
	req, err := newRequest(http.MethodPost, eventPath(mailbox, id)+"/cancel", nil).withBody(body)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, req, nil)
	return err
}

// DeleteEvent deletes an event without notifying attendees (→ 204).
func (c *Client) DeleteEvent(ctx context.Context, mailbox, id string) error {
	if id == "" {
		return errorf(http.MethodDelete, eventsPath(mailbox), "empty event id")
	}
	_, err := c.call(ctx, newRequest(http.MethodDelete, eventPath(mailbox, id), nil), nil)
	return err
}

// CalendarViewOptions shape CalendarView.
type CalendarViewOptions struct {
	Select                   []string
	ExpandExtendedPropertyID string
	TimeZone                 string // Prefer: outlook.timezone
	PageSize                 int    // $top; default 100
}

// CalendarView returns the events of the mailbox that overlap [start, end),
// occurrences of series expanded, following paging.
func (c *Client) CalendarView(ctx context.Context, mailbox string, start, end time.Time, opts CalendarViewOptions) ([]Event, error) {
	path := mailboxPath(mailbox) + "/calendarView"
	if !end.After(start) {
		return nil, errorf(http.MethodGet, path, "end %s is not after start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	top := opts.PageSize
	if top <= 0 {
		top = 100
	}
	q := query{}.
		add("startDateTime", start.UTC().Format("2006-01-02T15:04:05Z")).
		add("endDateTime", end.UTC().Format("2006-01-02T15:04:05Z"))
	q = EventOptions{Select: opts.Select, ExpandExtendedPropertyID: opts.ExpandExtendedPropertyID}.query(q)
	q = q.add("$top", strconv.Itoa(top))
	req := preferTimeZone(newRequest(http.MethodGet, path, q), opts.TimeZone)
	return listAll[Event](ctx, c, req)
}

// FindEventsByExtendedProperty returns the events of the mailbox whose
// extended property propID has value, with that property expanded: how the
// tool adopts a meeting it created before a crash.
func (c *Client) FindEventsByExtendedProperty(ctx context.Context, mailbox, propID, value string) ([]Event, error) {
	if propID == "" {
		return nil, errorf(http.MethodGet, eventsPath(mailbox), "empty extended property id")
	}
	q := query{}.
		add("$filter", "singleValueExtendedProperties/Any(ep: ep/id eq "+odataString(propID)+" and ep/value eq "+odataString(value)+")").
		add("$expand", expandExtendedProperty(propID))
	return listAll[Event](ctx, c, newRequest(http.MethodGet, eventsPath(mailbox), q))
}

// Calendar is the default calendar of a mailbox.
type Calendar struct {
	ID                            string   `json:"id"`
	AllowedOnlineMeetingProviders []string `json:"allowedOnlineMeetingProviders"`
	DefaultOnlineMeetingProvider  string   `json:"defaultOnlineMeetingProvider"`
}

// AllowsTeamsMeetings reports whether teamsForBusiness is an allowed provider.
func (cal Calendar) AllowsTeamsMeetings() bool {
	for _, p := range cal.AllowedOnlineMeetingProviders {
		if strings.EqualFold(p, "teamsForBusiness") {
			return true
		}
	}
	return false
}

// GetCalendar returns the mailbox's default calendar with its online meeting
// providers.
func (c *Client) GetCalendar(ctx context.Context, mailbox string) (*Calendar, error) {
	q := query{}.add("$select", "allowedOnlineMeetingProviders,defaultOnlineMeetingProvider")
	var cal Calendar
	if _, err := c.call(ctx, newRequest(http.MethodGet, mailboxPath(mailbox)+"/calendar", q), &cal); err != nil {
		return nil, err
	}
	return &cal, nil
}

// TimeZoneInformation is one time zone the mailbox server knows.
type TimeZoneInformation struct {
	Alias       string `json:"alias"`
	DisplayName string `json:"displayName"`
}

// SupportedTimeZones lists the time zones of the mailbox's server, in the
// "Windows" (default when empty) or "Iana" standard.
func (c *Client) SupportedTimeZones(ctx context.Context, mailbox, standard string) ([]TimeZoneInformation, error) {
	path := mailboxPath(mailbox) + "/outlook/supportedTimeZones"
	switch {
	case standard == "" || strings.EqualFold(standard, "Windows"):
	case strings.EqualFold(standard, "Iana"):
		path += "(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')"
	default:
		return nil, errorf(http.MethodGet, path, "time zone standard %q: want Windows or Iana", standard)
	}
	return listAll[TimeZoneInformation](ctx, c, newRequest(http.MethodGet, path, nil))
}
