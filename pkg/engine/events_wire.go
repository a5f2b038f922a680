package engine

import (
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// eventInput is the body of a create (fields nil: everything) or of an
// update (only the fields named).
func eventInput(spec reconcile.EventSpec, fields []string) (msgraph.EventInput, error) {
	send := map[string]bool{}
	for _, f := range fields {
		send[f] = true
	}
	all := fields == nil
	var in msgraph.EventInput
	if all || send[reconcile.EventFieldSubject] {
		in.Subject = spec.Subject
	}
	if all || send[reconcile.EventFieldBody] {
		in.Body = &msgraph.ItemBody{ContentType: "text", Content: spec.Body}
	}
	if all || send[reconcile.EventFieldLocation] {
		in.Location = &msgraph.Location{DisplayName: spec.Location}
	}
	if all || send[reconcile.EventFieldTime] {
		start, err := msgraph.NewDateTimeTimeZone(spec.Start, spec.TimeZone)
		if err != nil {
			return in, err
		}
		end, err := msgraph.NewDateTimeTimeZone(spec.End, spec.TimeZone)
		if err != nil {
			return in, err
		}
		in.Start, in.End = &start, &end
	}
	if all || send[reconcile.EventFieldAttendees] {
		in.Attendees = make([]msgraph.Attendee, 0, len(spec.Attendees))
		for _, addr := range spec.Attendees {
			in.Attendees = append(in.Attendees, msgraph.Attendee{EmailAddress: msgraph.EmailAddress{Address: addr}, Type: "required"})
		}
	}
	if all {
		// Learners cannot propose another time for a timetabled event.
		no := false
		in.AllowNewTimeProposals = &no
	}
	return in, nil
}
