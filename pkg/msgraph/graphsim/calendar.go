package graphsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

func init() {
	addMailboxRoute("POST", "/events", famOutlook, permCalWrite, (*Sim).createEvent)
	addMailboxRoute("GET", "/events", famOutlook, permCalRead, (*Sim).listEvents)
	addMailboxRoute("GET", "/events/{eventId}", famOutlook, permCalRead, (*Sim).getEvent)
	addMailboxRoute("PATCH", "/events/{eventId}", famOutlook, permCalWrite, (*Sim).patchEvent)
	addMailboxRoute("DELETE", "/events/{eventId}", famOutlook, permCalWrite, (*Sim).deleteEvent)
	addMailboxRoute("POST", "/events/{eventId}/cancel", famOutlook, permCalWrite, (*Sim).cancelEvent)
	addMailboxRoute("GET", "/calendarView", famOutlook, permCalRead, (*Sim).calendarView)
	addMailboxRoute("GET", "/calendar", famOutlook, permCalRead, (*Sim).getCalendar)
	addMailboxRoute("GET", "/outlook/supportedTimeZones", famOutlook, permMe, (*Sim).supportedTimeZones)
}

type mailbox struct {
	events map[string]*event
}

type extProp struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type event struct {
	id                    string
	subject               string
	bodyType, bodyContent string
	start, end            time.Time
	startTZ, endTZ        string
	location              any
	locations             any
	attendees             any
	isOnlineMeeting       bool
	provider              string
	joinURL               string
	joinAfterReads        int // the read on which joinUrl appears (fault); 0 = at once
	reads                 int
	transactionID         string
	ext                   []extProp
	created, modified     time.Time
	changes               int
	cancelled, deleted    bool
	isAllDay              bool
	showAs                string
	importance            string
	sensitivity           string
	isReminderOn          bool
	reminderMinutes       int
	categories            []string
	allowNewTimeProposals bool
	responseRequested     bool
	hideAttendees         bool
}

func (e *event) visibleJoinURL() string {
	if e.joinAfterReads > 0 && e.reads < e.joinAfterReads {
		return ""
	}
	return e.joinURL
}

func itemNotFound() *reply {
	return gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
}

// mailboxFor resolves the mailbox of /me or /users/{userId} and checks the
// caller may use it and that it exists.
func (s *Sim) mailboxFor(c *call) (*User, *mailbox, *reply) {
	var u *User
	if key, has := c.params["userId"]; has {
		u = s.userByKey(key)
		if u == nil {
			return nil, nil, gerr(404, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", key))
		}
		// A delegated token reaches only its own user's mailbox (no shared calendars here).
		if c.tok.userID != "" && !strings.EqualFold(u.ID, c.tok.userID) {
			return nil, nil, gerr(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		}
	} else {
		u = s.userByID(c.tok.userID)
		if u == nil {
			return nil, nil, gerr(404, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", c.tok.userID))
		}
	}
	if !s.hasMailbox(u) {
		return nil, nil, gerr(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
	}
	key := strings.ToLower(u.ID)
	mb := s.mailboxes[key]
	if mb == nil {
		mb = &mailbox{events: map[string]*event{}}
		s.mailboxes[key] = mb
	}
	return u, mb, nil
}

func (s *Sim) liveEvent(c *call, mb *mailbox) (*event, *reply) {
	e := mb.events[c.params["eventId"]]
	if e == nil || e.cancelled || e.deleted {
		return nil, itemNotFound()
	}
	return e, nil
}

// preferredZone reads Prefer: outlook.timezone="…"; times are UTC without it.
func (c *call) preferredZone() (*time.Location, string, *reply) {
	for _, h := range c.header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			k, v, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(k), "outlook.timezone") {
				continue
			}
			name := strings.Trim(strings.TrimSpace(v), `"`)
			loc, okk := resolveZone(name)
			if !okk {
				return nil, "", timeZoneNotSupported(name)
			}
			return loc, name, nil
		}
	}
	return time.UTC, "UTC", nil
}

func timeZoneNotSupported(name string) *reply {
	return gerr(400, "TimeZoneNotSupportedException", fmt.Sprintf("A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", name))
}

// parseDateTimeTimeZone reads a dateTimeTimeZone: a local dateTime without
// offset (up to 7 fraction digits) and a Windows, IANA or "UTC" timeZone.
func parseDateTimeTimeZone(raw json.RawMessage, prop string) (time.Time, string, *reply) {
	var dt map[string]json.RawMessage
	if err := json.Unmarshal(raw, &dt); err != nil || dt == nil {
		return time.Time{}, "", gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("%s must be a dateTimeTimeZone object.", prop))
	}
	for k := range dt {
		if k != "dateTime" && k != "timeZone" && !strings.HasPrefix(k, "@") {
			return time.Time{}, "", gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("Invalid property '%s' in %s.", k, prop))
		}
	}
	value, _ := getString(dt, "dateTime")
	zone, _ := getString(dt, "timeZone")
	if value == "" || zone == "" {
		return time.Time{}, "", gerr(400, "ErrorInvalidRequest", fmt.Sprintf("%s needs both dateTime and timeZone.", prop))
	}
	loc, okk := resolveZone(zone)
	if !okk {
		return time.Time{}, "", timeZoneNotSupported(zone)
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", value, loc)
	if err != nil {
		return time.Time{}, "", gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("%s.dateTime '%s' is not valid: a local date and time without offset is expected, the zone goes in timeZone.", prop, value))
	}
	return t, zone, nil
}

var eventBodyProperties = []string{"subject", "body", "start", "end", "location", "locations", "attendees",
	"isOnlineMeeting", "onlineMeetingProvider", "transactionId", "singleValueExtendedProperties", "allowNewTimeProposals",
	"isAllDay", "showAs", "importance", "sensitivity", "isReminderOn", "reminderMinutesBeforeStart", "categories",
	"responseRequested", "hideAttendees", "recurrence"}

var extPropID = regexp.MustCompile(`(?i)^String (\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\} (Name \S.*|Id 0x[0-9a-f]{1,4})|0x[0-9a-f]{4})$`)

func enumValue(obj map[string]json.RawMessage, key string, allowed ...string) (string, bool, *reply) {
	if !present(obj, key) {
		return "", false, nil
	}
	v, _ := getString(obj, key)
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a, true, nil
		}
	}
	return "", false, gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("'%s' is not a valid value for %s.", v, key))
}

// applyEventBody validates obj and applies it to e (creating or patching).
func (s *Sim) applyEventBody(c *call, e *event, obj map[string]json.RawMessage, creating bool) *reply {
	if present(obj, "recurrence") {
		return gerr(400, "ErrorInvalidRequest", "Recurring events are not supported by this simulator.")
	}
	if creating && (!present(obj, "start") || !present(obj, "end")) {
		return gerr(400, "ErrorInvalidRequest", "start and end are required.")
	}
	start, end := e.start, e.end
	startTZ, endTZ := e.startTZ, e.endTZ
	if present(obj, "start") {
		t, tz, rp := parseDateTimeTimeZone(obj["start"], "start")
		if rp != nil {
			return rp
		}
		start, startTZ = t, tz
	}
	if present(obj, "end") {
		t, tz, rp := parseDateTimeTimeZone(obj["end"], "end")
		if rp != nil {
			return rp
		}
		end, endTZ = t, tz
	}
	if end.Before(start) {
		return gerr(400, "ErrorInvalidRequest", "The end time of the event must not be before its start time.")
	}
	if _, has := obj["subject"]; has {
		if v, okk := getString(obj, "subject"); okk || !present(obj, "subject") {
			e.subject = v
		} else {
			return gerr(400, "UnableToDeserializePostBody", "subject must be a string.")
		}
	}
	if present(obj, "body") {
		var b map[string]any
		if err := json.Unmarshal(obj["body"], &b); err != nil {
			return gerr(400, "UnableToDeserializePostBody", "body must be an itemBody object.")
		}
		ct, _ := b["contentType"].(string)
		switch strings.ToLower(ct) {
		case "html":
			e.bodyType = "html"
		case "text", "":
			e.bodyType = "text"
		default:
			return gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("'%s' is not a valid body contentType.", ct))
		}
		e.bodyContent, _ = b["content"].(string)
	}
	for _, k := range []string{"location", "locations", "attendees"} {
		if _, has := obj[k]; !has {
			continue
		}
		var v any
		if err := json.Unmarshal(obj[k], &v); err != nil {
			return gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("%s is not valid JSON.", k))
		}
		switch k {
		case "location":
			e.location = v
		case "locations":
			e.locations = v
		default:
			if v != nil {
				if _, isList := v.([]any); !isList {
					return gerr(400, "UnableToDeserializePostBody", "attendees must be an array.")
				}
			}
			e.attendees = v
		}
	}
	if tx, has := getString(obj, "transactionId"); has && !creating && tx != e.transactionID {
		return gerr(400, "ErrorInvalidRequest", "transactionId cannot be changed.")
	}
	provider, hasProvider, rp := enumValue(obj, "onlineMeetingProvider", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown")
	if rp != nil {
		return rp
	}
	if present(obj, "isOnlineMeeting") {
		on, okk := getBool(obj, "isOnlineMeeting")
		if !okk {
			return gerr(400, "UnableToDeserializePostBody", "isOnlineMeeting must be a boolean.")
		}
		if !on && e.isOnlineMeeting {
			return gerr(400, "ErrorInvalidRequest", "An online meeting cannot be turned back into a plain event.")
		}
		if on && !e.isOnlineMeeting {
			if !hasProvider {
				provider = "teamsForBusiness" // the calendar's default provider
			}
			s.enableOnlineMeeting(c, e, provider)
		}
	} else if hasProvider && e.isOnlineMeeting && provider != e.provider {
		return gerr(400, "ErrorInvalidRequest", "The onlineMeetingProvider of an online meeting cannot be changed.")
	} else if hasProvider && !e.isOnlineMeeting {
		e.provider = provider
	}
	if present(obj, "singleValueExtendedProperties") {
		var props []map[string]json.RawMessage
		if err := json.Unmarshal(obj["singleValueExtendedProperties"], &props); err != nil {
			return gerr(400, "UnableToDeserializePostBody", "singleValueExtendedProperties must be an array of {id, value}.")
		}
		for _, p := range props {
			id, ok1 := getString(p, "id")
			val, ok2 := getString(p, "value")
			if !ok1 || !ok2 || len(p) != 2 || !extPropID.MatchString(id) {
				return gerr(400, "ErrorInvalidProperty", fmt.Sprintf("Invalid extended property: id '%s' must look like \"String {GUID} Name Name\" and value must be a string.", id))
			}
			replaced := false
			for i := range e.ext {
				if strings.EqualFold(e.ext[i].ID, id) {
					e.ext[i].Value = val
					replaced = true
				}
			}
			if !replaced {
				e.ext = append(e.ext, extProp{ID: id, Value: val})
			}
		}
	}
	for _, k := range []string{"allowNewTimeProposals", "isAllDay", "isReminderOn", "responseRequested", "hideAttendees"} {
		if !present(obj, k) {
			continue
		}
		b, okk := getBool(obj, k)
		if !okk {
			return gerr(400, "UnableToDeserializePostBody", fmt.Sprintf("%s must be a boolean.", k))
		}
		switch k {
		case "allowNewTimeProposals":
			e.allowNewTimeProposals = b
		case "isAllDay":
			e.isAllDay = b
		case "isReminderOn":
			e.isReminderOn = b
		case "responseRequested":
			e.responseRequested = b
		default:
			e.hideAttendees = b
		}
	}
	if v, has, rp := enumValue(obj, "showAs", "free", "tentative", "busy", "oof", "workingElsewhere", "unknown"); rp != nil {
		return rp
	} else if has {
		e.showAs = v
	}
	if v, has, rp := enumValue(obj, "importance", "low", "normal", "high"); rp != nil {
		return rp
	} else if has {
		e.importance = v
	}
	if v, has, rp := enumValue(obj, "sensitivity", "normal", "personal", "private", "confidential"); rp != nil {
		return rp
	} else if has {
		e.sensitivity = v
	}
	if present(obj, "reminderMinutesBeforeStart") {
		var n int
		if err := json.Unmarshal(obj["reminderMinutesBeforeStart"], &n); err != nil {
			return gerr(400, "UnableToDeserializePostBody", "reminderMinutesBeforeStart must be an integer.")
		}
		e.reminderMinutes = n
	}
	if present(obj, "categories") {
		cats, okk := getStrings(obj, "categories")
		if !okk {
			return gerr(400, "UnableToDeserializePostBody", "categories must be an array of strings.")
		}
		e.categories = cats
	}
	e.start, e.end, e.startTZ, e.endTZ = start, end, startTZ, endTZ
	return nil
}

// enableOnlineMeeting attaches a Teams meeting to e, unless the mailbox
// cannot host one (then the event stays plain with provider "unknown", as
// seen in microsoft-graph-docs issue #9741).
func (s *Sim) enableOnlineMeeting(c *call, e *event, provider string) {
	if s.faults.NoTeamsForBusiness || provider != "teamsForBusiness" {
		e.isOnlineMeeting = false
		e.provider = "unknown"
		return
	}
	e.isOnlineMeeting = true
	e.provider = "teamsForBusiness"
	// Like real links, the meeting thread is the base64 of a GUID string.
	thread := base64.StdEncoding.EncodeToString([]byte(deterministicGUID(e.id, "meeting")))
	ctx := fmt.Sprintf(`{"Tid":"%s","Oid":"%s"}`, s.seed.TenantID, c.tok.userID)
	e.joinURL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + thread +
		"%40thread.v2/0?context=" + strings.ReplaceAll(url.QueryEscape(ctx), "%3A", "%3a")
	e.joinAfterReads = s.faults.JoinURLAfterGets
}

func eventID(guid string) string {
	h := sha256.Sum256([]byte(guid))
	return "AAMkAD" + base64.RawURLEncoding.EncodeToString(h[:]) + "AAA="
}

func (s *Sim) createEvent(c *call) *reply {
	u, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	loc, tzName, rp := c.preferredZone()
	if rp != nil {
		return rp
	}
	obj, rp := c.object("microsoft.graph.event", eventBodyProperties...)
	if rp != nil {
		return rp
	}
	tx, _ := getString(obj, "transactionId")
	if tx != "" {
		// transactionId: "for the server to avoid redundant POST operations in case of client retries".
		for _, e := range mb.events {
			if !e.deleted && !e.cancelled && e.transactionID == tx {
				return s.answerEvent(c, u, e, loc, tzName, 201, false)
			}
		}
	}
	basis := u.ID + "/" + tx
	if tx == "" {
		basis = u.ID + "/#"
	}
	now := s.clock()
	e := &event{id: eventID(s.newID("event", basis)), transactionID: tx, created: now, modified: now,
		bodyType: "text", showAs: "busy", importance: "normal", sensitivity: "normal", isReminderOn: true,
		reminderMinutes: 15, allowNewTimeProposals: true, responseRequested: true}
	if rp := s.applyEventBody(c, e, obj, true); rp != nil {
		return rp
	}
	mb.events[e.id] = e
	return s.answerEvent(c, u, e, loc, tzName, 201, false)
}

func (s *Sim) eventJSON(c *call, u *User, e *event, loc *time.Location, tzName string) map[string]any {
	changeKey := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", e.id[len(e.id)-12:], e.changes)))
	var online any
	if join := e.visibleJoinURL(); e.isOnlineMeeting && join != "" {
		online = map[string]any{"joinUrl": join, "conferenceId": nil, "tollNumber": nil, "tollFreeNumbers": nil,
			"quickDial": nil, "phones": []any{}}
	}
	provider := e.provider
	if provider == "" {
		provider = "unknown"
	}
	location := e.location
	if location == nil {
		location = map[string]any{"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": map[string]any{}, "coordinates": map[string]any{}}
	}
	locations, attendees := e.locations, e.attendees
	if locations == nil {
		locations = []any{}
	}
	if attendees == nil {
		attendees = []any{}
	}
	cats := []any{}
	for _, ct := range e.categories {
		cats = append(cats, ct)
	}
	preview := e.bodyContent
	if len(preview) > 255 {
		preview = preview[:255]
	}
	return map[string]any{
		"@odata.etag": `W/"` + changeKey + `"`,
		"id":          e.id, "createdDateTime": isoUTC(e.created), "lastModifiedDateTime": isoUTC(e.modified),
		"changeKey": changeKey, "categories": cats, "transactionId": nilIfEmpty(e.transactionID),
		"originalStartTimeZone": e.startTZ, "originalEndTimeZone": e.endTZ,
		"iCalUId":                    "040000008200E00074C5B7101A82E008" + strings.ToUpper(strings.ReplaceAll(deterministicGUID(e.id, "ical"), "-", "")),
		"reminderMinutesBeforeStart": e.reminderMinutes, "isReminderOn": e.isReminderOn, "hasAttachments": false,
		"subject": e.subject, "bodyPreview": preview, "importance": e.importance, "sensitivity": e.sensitivity,
		"isAllDay": e.isAllDay, "isCancelled": e.cancelled, "isOrganizer": true, "responseRequested": e.responseRequested,
		"seriesMasterId": nil, "showAs": e.showAs, "type": "singleInstance",
		"webLink":          "https://outlook.office365.com/owa/?itemid=" + url.QueryEscape(e.id) + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl": nil, "isOnlineMeeting": e.isOnlineMeeting, "onlineMeetingProvider": provider,
		"allowNewTimeProposals": e.allowNewTimeProposals, "isDraft": false, "hideAttendees": e.hideAttendees,
		"occurrenceId": nil, "recurrence": nil,
		"responseStatus": map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"},
		"body":           map[string]any{"contentType": e.bodyType, "content": e.bodyContent},
		"start":          map[string]any{"dateTime": formatGraphTime(e.start.In(loc)), "timeZone": tzName},
		"end":            map[string]any{"dateTime": formatGraphTime(e.end.In(loc)), "timeZone": tzName},
		"location":       location, "locations": locations, "attendees": attendees,
		"organizer":     map[string]any{"emailAddress": map[string]any{"name": u.DisplayName, "address": u.Mail}},
		"onlineMeeting": online,
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// eventProperties are the names $select accepts on events.
var eventProperties = knownKeys((&Sim{}).eventJSON(&call{}, &User{}, &event{id: "AAMkADsample-event-id"}, time.UTC, "UTC"))

// expansion parses $expand=singleValueExtendedProperties($filter=id eq '…').
type expansion struct {
	ext    bool
	filter *compiledFilter
}

func (c *call) expansion() (*expansion, *reply) {
	raw := strings.TrimSpace(c.query.Get("$expand"))
	if raw == "" {
		return &expansion{}, nil
	}
	name, rest, hasOpts := strings.Cut(raw, "(")
	if !strings.EqualFold(strings.TrimSpace(name), "singleValueExtendedProperties") {
		return nil, gerr(400, "ErrorInvalidUrlQuery", fmt.Sprintf("The navigation property '%s' cannot be expanded by this simulator.", name))
	}
	x := &expansion{ext: true}
	if hasOpts {
		if !strings.HasSuffix(rest, ")") {
			return nil, gerr(400, "ErrorInvalidUrlQuery", "Unbalanced parentheses in $expand.")
		}
		opt := strings.TrimSuffix(rest, ")")
		k, v, _ := strings.Cut(opt, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "$filter") {
			return nil, gerr(400, "ErrorInvalidUrlQuery", "Only $filter is supported inside $expand.")
		}
		e, paths, err := parseFilter(v)
		if err != nil {
			return nil, gerr(400, "ErrorInvalidUrlQuery", fmt.Sprintf("Invalid $filter in $expand: %v.", err))
		}
		for _, p := range paths {
			if len(p) > 0 && !strings.EqualFold(p[0], "id") {
				return nil, gerr(400, "ErrorInvalidUrlQuery", "Extended properties can only be filtered by id.")
			}
		}
		x.filter = &compiledFilter{e}
	}
	return x, nil
}

func (e *event) extJSON(f *compiledFilter) []any {
	out := []any{}
	for _, p := range e.ext {
		m := map[string]any{"id": p.ID, "value": p.Value}
		if f.match(m) {
			out = append(out, m)
		}
	}
	return out
}

// eventView renders e for a read: $select, $expand, the Prefer zone.
func (s *Sim) eventView(c *call, u *User, e *event, loc *time.Location, tzName string, sel []string, x *expansion) map[string]any {
	out := project(s.eventJSON(c, u, e, loc, tzName), sel, "id")
	if x != nil && x.ext {
		out["singleValueExtendedProperties"] = e.extJSON(x.filter)
	}
	return out
}

func (s *Sim) answerEvent(c *call, u *User, e *event, loc *time.Location, tzName string, status int, read bool) *reply {
	sel, rp := c.selection("event", eventProperties)
	if rp != nil {
		return rp
	}
	x, rp := c.expansion()
	if rp != nil {
		return rp
	}
	if read {
		e.reads++
	}
	out := s.eventView(c, u, e, loc, tzName, sel, x)
	out["@odata.context"] = c.context(fmt.Sprintf("users('%s')/events/$entity", u.ID))
	rp = ok(status, out)
	if tzName != "UTC" || c.header.Get("Prefer") != "" {
		rp.with("Preference-Applied", fmt.Sprintf(`outlook.timezone="%s"`, tzName))
	}
	return rp
}

func (s *Sim) getEvent(c *call) *reply {
	u, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	e, rp := s.liveEvent(c, mb)
	if rp != nil {
		return rp
	}
	loc, tzName, rp := c.preferredZone()
	if rp != nil {
		return rp
	}
	return s.answerEvent(c, u, e, loc, tzName, 200, true)
}

func (s *Sim) patchEvent(c *call) *reply {
	u, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	e, rp := s.liveEvent(c, mb)
	if rp != nil {
		return rp
	}
	loc, tzName, rp := c.preferredZone()
	if rp != nil {
		return rp
	}
	obj, rp := c.object("microsoft.graph.event", eventBodyProperties...)
	if rp != nil {
		return rp
	}
	// Validate on a copy so a rejected PATCH changes nothing.
	draft := *e
	draft.ext = append([]extProp(nil), e.ext...)
	if rp := s.applyEventBody(c, &draft, obj, false); rp != nil {
		return rp
	}
	*e = draft
	e.changes++
	e.modified = s.clock()
	return s.answerEvent(c, u, e, loc, tzName, 200, false)
}

func (s *Sim) deleteEvent(c *call) *reply {
	_, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	e, rp := s.liveEvent(c, mb)
	if rp != nil {
		return rp
	}
	e.deleted = true
	return &reply{status: 204}
}

func (s *Sim) cancelEvent(c *call) *reply {
	_, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	e, rp := s.liveEvent(c, mb)
	if rp != nil {
		return rp
	}
	obj, rp := c.optionalObject("")
	if rp != nil {
		return rp
	}
	for k := range obj {
		if !strings.EqualFold(k, "comment") {
			return gerr(400, "ErrorInvalidRequest", fmt.Sprintf("Invalid parameter '%s': cancel takes only Comment.", k))
		}
		if _, okk := getString(obj, k); !okk && present(obj, k) {
			return gerr(400, "ErrorInvalidRequest", "Comment must be a string.")
		}
	}
	e.cancelled = true
	e.modified = s.clock()
	return &reply{status: 202}
}

func (s *Sim) sortedEvents(mb *mailbox, keep func(*event) bool) []*event {
	var list []*event
	for _, e := range mb.events {
		if !e.deleted && !e.cancelled && keep(e) {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].start.Equal(list[j].start) {
			return list[i].start.Before(list[j].start)
		}
		return list[i].id < list[j].id
	})
	return list
}

func (c *call) checkOrderBy() *reply {
	ob := strings.Join(strings.Fields(c.query.Get("$orderby")), " ")
	switch strings.ToLower(ob) {
	case "", "start/datetime", "start/datetime asc":
		return nil
	}
	return gerr(400, "ErrorInvalidUrlQuery", fmt.Sprintf("$orderby '%s' is not supported by this simulator; use start/dateTime.", ob))
}

func (s *Sim) listEvents(c *call) *reply {
	u, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	return s.answerEventList(c, u, mb, func(*event) bool { return true })
}

func (s *Sim) answerEventList(c *call, u *User, mb *mailbox, keep func(*event) bool) *reply {
	loc, tzName, rp := c.preferredZone()
	if rp != nil {
		return rp
	}
	sel, rp := c.selection("event", eventProperties)
	if rp != nil {
		return rp
	}
	x, rp := c.expansion()
	if rp != nil {
		return rp
	}
	f, rp := c.filter("event", "singleValueExtendedProperties", "subject", "transactionId", "isOnlineMeeting", "onlineMeetingProvider", "start", "end", "type", "categories", "showAs")
	if rp != nil {
		return rp
	}
	if rp := c.checkOrderBy(); rp != nil {
		return rp
	}
	size, rp := c.topSize(s.pageSize, 1000)
	if rp != nil {
		return rp
	}
	var matched []*event
	for _, e := range s.sortedEvents(mb, keep) {
		if f != nil {
			view := s.eventJSON(c, u, e, time.UTC, "UTC")
			view["singleValueExtendedProperties"] = e.extJSON(nil)
			if !f.match(toMap(view)) {
				continue
			}
		}
		matched = append(matched, e)
	}
	items := make([]any, len(matched))
	for i := range matched {
		items[i] = i
	}
	page, next, rp := c.page(items, size)
	if rp != nil {
		return rp
	}
	var value []any
	for _, idx := range page {
		e := matched[idx.(int)]
		e.reads++
		value = append(value, s.eventView(c, u, e, loc, tzName, sel, x))
	}
	rp = ok(200, c.collection(fmt.Sprintf("users('%s')/events", u.ID), value, next, nil))
	if c.header.Get("Prefer") != "" {
		rp.with("Preference-Applied", fmt.Sprintf(`outlook.timezone="%s"`, tzName))
	}
	return rp
}

// queryFold reads a query parameter whose name Graph matches case-insensitively.
func (c *call) queryFold(name string) string {
	for k, v := range c.query {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func parseWindowTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Sim) calendarView(c *call) *reply {
	u, mb, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	rawStart, rawEnd := c.queryFold("startDateTime"), c.queryFold("endDateTime")
	if rawStart == "" || rawEnd == "" {
		return gerr(400, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	from, ok1 := parseWindowTime(rawStart)
	to, ok2 := parseWindowTime(rawEnd)
	if !ok1 || !ok2 {
		return gerr(400, "ErrorInvalidParameter", "StartDateTime and EndDateTime must be ISO 8601 date-times.")
	}
	return s.answerEventList(c, u, mb, func(e *event) bool { return e.start.Before(to) && e.end.After(from) })
}

func (s *Sim) getCalendar(c *call) *reply {
	u, _, rp := s.mailboxFor(c)
	if rp != nil {
		return rp
	}
	allowed := []any{"teamsForBusiness"}
	def := "teamsForBusiness"
	if s.faults.NoTeamsForBusiness {
		allowed = []any{}
		def = "unknown"
	}
	full := map[string]any{
		"id": "AAMkADcalendar" + strings.ReplaceAll(deterministicGUID(u.ID, "calendar"), "-", ""), "name": "Calendar",
		"color": "auto", "hexColor": "", "isDefaultCalendar": true, "changeKey": "AAAAAA==", "canShare": true,
		"canViewPrivateItems": true, "canEdit": true, "isRemovable": false, "isTallyingResponses": true,
		"allowedOnlineMeetingProviders": allowed, "defaultOnlineMeetingProvider": def,
		"owner": map[string]any{"name": u.DisplayName, "address": u.Mail},
	}
	sel, rp := c.selection("calendar", knownKeys(full))
	if rp != nil {
		return rp
	}
	out := project(full, sel, "id")
	out["@odata.context"] = c.context(fmt.Sprintf("users('%s')/calendar/$entity", u.ID))
	return ok(200, out)
}

func (s *Sim) supportedTimeZones(c *call) *reply {
	if _, _, rp := s.mailboxFor(c); rp != nil {
		return rp
	}
	arg := strings.TrimSpace(c.fnArgs["supportedtimezones"])
	standard := "windows"
	if arg != "" {
		k, v, _ := strings.Cut(arg, "=")
		v = strings.TrimSpace(v)
		m := regexp.MustCompile(`(?i)^(microsoft\.graph\.timeZoneStandard)?'(Windows|Iana)'$`).FindStringSubmatch(v)
		if !strings.EqualFold(strings.TrimSpace(k), "TimeZoneStandard") || m == nil {
			return gerr(400, "ErrorInvalidParameter", fmt.Sprintf("Invalid function parameter '%s': TimeZoneStandard is microsoft.graph.timeZoneStandard'Windows' or 'Iana'.", arg))
		}
		standard = strings.ToLower(m[2])
	}
	var value []any
	if standard == "iana" {
		for _, n := range ianaZoneNames() {
			value = append(value, map[string]any{"alias": n, "displayName": n})
		}
	} else {
		for _, z := range windowsZones {
			value = append(value, map[string]any{"alias": z.ID, "displayName": z.DisplayName})
		}
	}
	return ok(200, map[string]any{"@odata.context": c.context("Collection(microsoft.graph.timeZoneInformation)"), "value": value})
}
