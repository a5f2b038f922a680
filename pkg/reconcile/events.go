package reconcile

import "time"

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
	ContentHash   string    `json:"content_hash,omitempty"`
	GraphEventID  string    `json:"graph_event_id,omitempty"`
	JoinURL       string    `json:"join_url,omitempty"`
	JoinableFrom  time.Time `json:"joinable_from,omitempty"`
	ElinkID       int       `json:"elink_id,omitempty"`
}
