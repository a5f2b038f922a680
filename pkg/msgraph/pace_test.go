package msgraph

import (
	"reflect"
	"testing"
	"time"
)

// Each call counts against the limit Microsoft's throttling page files it
// under, and a call naming a team against that team's 4 a second too.
func TestPaceKeysFollowMicrosoftsLimits(t *testing.T) {
	team := func(limit, id string) []paceKey { return []paceKey{{limit: limit}, {limit: "PerTeam", scope: id}} }
	tests := []struct {
		method, path string
		want         []paceKey
	}{
		{"POST", "/teams", []paceKey{{limit: "TeamCreate"}}},
		{"PUT", "/groups/G1/team", team("TeamFromGroup", "g1")},
		{"GET", "/teams/T1", team("TeamGet", "t1")},
		{"PATCH", "/teams/T1", team("TeamPatch", "t1")},
		{"GET", "/teams/T1/members?$top=999", team("TeamMembersList", "t1")},
		{"GET", "/teams/T1/operations/op1", team("TeamsOtherGet", "t1")},
		{"POST", "/teams/T1/members/add", team("TeamsOther", "t1")},
		{"DELETE", "/teams/T1/members/bWVt%2FYmVy", team("TeamsOther", "t1")},
		{"POST", "/teams/T%31/archive", team("TeamsOther", "t1")},
		{"GET", "/me/joinedTeams", []paceKey{{limit: "TeamGet"}}},
		{"POST", "/groups", []paceKey{{limit: "DirectoryWrites"}}},
		{"PATCH", "/groups/G1", []paceKey{{limit: "DirectoryWrites"}}},
		{"GET", "/groups?$filter=mailNickname eq 'x'", nil},
		{"GET", "/users", nil},
		{"POST", "/users/U1/events", nil},
		{"POST", "/$batch", nil},
	}
	for _, tt := range tests {
		if got := paceKeys(tt.method, tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("paceKeys(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	batch := &request{method: "POST", path: "/$batch", body: []byte(`{"requests":[
		{"id":"1","method":"GET","url":"/teams/A/members"},{"id":"2","method":"get","url":"/teams/B/members"},
		{"id":"3","method":"GET","url":"/users?$filter=mail eq 'x'"}]}`)}
	want := append(team("TeamMembersList", "a"), team("TeamMembersList", "b")...)
	if got := batch.paceKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("the items of a $batch count one by one: got %v, want %v", got, want)
	}
}

// The pacer holds half of Microsoft's bucket and refills at its rate:
// PUT team is 6 a second, so 3 go at once, the next ones a sixth of a
// second apart, and a second of quiet refills the 3.
func TestPacerReservesAtMicrosoftsRate(t *testing.T) {
	var p pacer
	now := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	key := []paceKey{{limit: "TeamFromGroup"}}
	var waits []time.Duration
	for range 5 {
		waits = append(waits, p.reserve(now, key))
	}
	sixth := time.Second / 6
	want := []time.Duration{0, 0, 0, sixth, 2 * sixth}
	for i := range want {
		if d := waits[i] - want[i]; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("waits = %v, want %v", waits, want)
			break
		}
	}
	// 2 s later the debt of 2 is paid and the bucket is full again (3).
	later := now.Add(2 * time.Second)
	for i := range 4 {
		w := p.reserve(later, key)
		if (i < 3 && w != 0) || (i == 3 && (w < sixth-time.Microsecond || w > sixth+time.Microsecond)) {
			t.Errorf("after a pause, reservation %d waits %v", i+1, w)
		}
	}
	// A request that counts against two limits waits for the slower one.
	if w := p.reserve(later, []paceKey{{limit: "TeamGet"}, {limit: "TeamFromGroup"}}); w < 2*sixth-time.Microsecond {
		t.Errorf("a call on two limits waits %v, want the TeamFromGroup wait of %v", w, 2*sixth)
	}
}
