package reconcile

// Severity of a finding: warnings are shown as `!`, notes only in reports.
type Severity string

const (
	Warning Severity = "warning"
	Note    Severity = "note"
)

// Finding is something a person may need to know: a skipped user, course or
// event with the reason, a guard that held. Findings never change the exit code.
type Finding struct {
	Kind     FindingKind `json:"kind"`
	Severity Severity    `json:"severity"`
	CourseID int         `json:"course_id,omitempty"`
	EventID  int         `json:"event_id,omitempty"`
	ProxyID  int         `json:"proxy_id,omitempty"`
	Name     string      `json:"name,omitempty"`
	Message  string      `json:"message"`
	Fix      string      `json:"fix,omitempty"`
}

// FindingKind names what a finding is about. It is the "kind" of the JSON
// reports and of msteams_runs' stored reports, so the strings never change;
// docs/operations.md lists them.
type FindingKind string

// Finding kinds of sync-users: people without a Microsoft Object ID.
const (
	FindingUserNoEmail   FindingKind = "user_no_email"  // the user has no email to match
	FindingUserAmbiguous FindingKind = "user_ambiguous" // more than one directory user, or one another user holds
	FindingUserUnmatched FindingKind = "user_unmatched" // no directory user has the address
)

// Finding kinds of sync-teams.
const (
	FindingCourseNotCurrent    FindingKind = "course_not_current"    // no Team: the course is not active in a current period
	FindingNoOwner             FindingKind = "no_owner"              // no Elentra owner with an Object ID
	FindingCourseWithoutName   FindingKind = "course_without_name"   // neither code nor name: the Team is "Course ID"
	FindingDuplicateCourseCode FindingKind = "duplicate_course_code" // courses whose Teams may share a name
	FindingTextDoubleEncoded   FindingKind = "text_double_encoded"   // a course's text repaired from latin1 double encoding
	FindingTextLostCharacters  FindingKind = "text_lost_characters"  // a course's text holds '?' for characters the database lost
)

// Finding kinds of sync-members.
const (
	FindingNoTeamYet        FindingKind = "no_team_yet"        // the course has no Team to sync
	FindingNoObjectID       FindingKind = "no_object_id"       // people of the course without an Object ID
	FindingAudienceDeleted  FindingKind = "audience_deleted"   // the audience names cohorts or course lists that are gone
	FindingTeamTooLarge     FindingKind = "team_too_large"     // beyond Teams' limits: membership not synced
	FindingMembersNotListed FindingKind = "members_not_listed" // the Team's listing failed: nothing changed in it
)

// Finding kinds of sync-events.
const (
	FindingEventNoTitle              FindingKind = "event_no_title"              // no meeting for an event without a title
	FindingEventBadTimes             FindingKind = "event_bad_times"             // the event finishes no later than it starts
	FindingEventTooLong              FindingKind = "event_too_long"              // longer than MaxEventDuration without --allow-long-events
	FindingEventNoTeam               FindingKind = "event_no_team"               // sync.event_requires_team and the course has no Team
	FindingMeetingDeleted            FindingKind = "meeting_deleted"             // the meeting was deleted in Outlook
	FindingDuplicateMeetings         FindingKind = "duplicate_meetings"          // several meetings carry one event's marker
	FindingOtherInstallationMeetings FindingKind = "other_installation_meetings" // meetings another installation made, left alone
	FindingMeetingNotOnline          FindingKind = "meeting_not_online"          // Outlook made the event without a Teams meeting
	FindingJoinURLPending            FindingKind = "join_url_pending"            // the join link is not known yet
	FindingAttendeeNoObjectID        FindingKind = "attendee_no_object_id"       // invitees without an Object ID
	FindingNoElentraURL              FindingKind = "no_elentra_url"              // invitations cannot link to the event page
	FindingNoOutlookTimezone         FindingKind = "no_outlook_timezone"         // meetings made in elentra.timezone
	FindingMeetingWindow             FindingKind = "meeting_window"              // personal_meeting_window_minutes is not a number of minutes
)

// Finding kinds of any sync.
const (
	FindingMaxActions     FindingKind = "max_actions"     // sync.max_actions reached: the rest waits for the next run
	FindingGuardConfirmed FindingKind = "guard_confirmed" // held changes confirmed at the terminal and applied
)

// Guards, as the kinds of the findings they write when they hold (see
// Guards).
const (
	GuardTeamRemoval  FindingKind = "removal_guard"
	GuardRunRemoval   FindingKind = "run_removal_guard"
	GuardCourseCancel FindingKind = "cancel_guard"
	GuardRunCancel    FindingKind = "run_cancel_guard"
	GuardRunArchive   FindingKind = "run_archive_guard"
)

// IsGuard reports whether a finding's kind is a guard that held: a person
// must look (the run cannot go on with those changes by itself), so it is
// printed even where a run prints only what failed.
func IsGuard(kind FindingKind) bool {
	switch kind {
	case GuardTeamRemoval, GuardRunRemoval, GuardCourseCancel, GuardRunCancel, GuardRunArchive:
		return true
	}
	return false
}
