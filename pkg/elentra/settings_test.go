package elentra_test

import (
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// personal_meeting_window_minutes: one rule for check-config, the syncs and
// setup. A whole number from 0 to 1440 is used as it is; anything else
// gives the guide's 10 minutes, and says so.
func TestMeetingWindow(t *testing.T) {
	for _, tt := range []struct {
		value   string
		found   bool
		minutes int
		says    string // in the sentence on a value not used; "" when used
	}{
		{"", false, 10, ""},
		{"10", true, 10, ""},
		{" 15 ", true, 15, ""},
		{"0", true, 0, ""},
		{"1440", true, 1440, ""},
		{"ten", true, 10, `is "ten", not a whole number of minutes: meeting links open 10 minutes before each event`},
		{"10.5", true, 10, `is "10.5", not a whole number of minutes`},
		{"-30", true, 10, "is -30, less than 0 (links would open after events start): meeting links open 10 minutes before each event"},
		{"1441", true, 10, "is 1441, more than a day (were hours meant?): meeting links open 10 minutes before each event"},
		{"2880", true, 10, "is 2880, more than a day"},
	} {
		n, unused := elentra.MeetingWindow(tt.value, tt.found)
		if n != tt.minutes {
			t.Errorf("MeetingWindow(%q, %v) = %d minutes, want %d", tt.value, tt.found, n, tt.minutes)
		}
		switch {
		case tt.says == "" && unused != "":
			t.Errorf("MeetingWindow(%q, %v) says %q of a value it uses", tt.value, tt.found, unused)
		case tt.says != "" && !strings.Contains(unused, tt.says):
			t.Errorf("MeetingWindow(%q, %v) says %q, want it to say %q", tt.value, tt.found, unused, tt.says)
		case tt.says != "" && !strings.HasPrefix(unused, "Elentra's setting personal_meeting_window_minutes is "):
			t.Errorf("MeetingWindow(%q) says %q: not the setting's name first", tt.value, unused)
		}
	}
}
