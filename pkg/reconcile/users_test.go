package reconcile

import (
	"strings"
	"testing"
)

func TestMatchUsers(t *testing.T) {
	dir := NewDirectoryIndex([]DirectoryUser{
		{ID: "ID-ALICE", Mail: "Alice@Example.edu", UserPrincipalName: "alice@example.onmicrosoft.com"},
		{ID: "id-bob", Mail: "", UserPrincipalName: "bob@example.edu"},
		{ID: "id-carol1", Mail: "carol@example.edu", UserPrincipalName: "carol1@example.edu"},
		{ID: "id-carol2", Mail: "carol@example.edu", UserPrincipalName: "carol2@example.edu"},
		{ID: "id-dan", Mail: "dan@example.edu", UserPrincipalName: "dan@example.edu"},
		{ID: "id-erin", Mail: "erin@example.edu", UserPrincipalName: "erin@example.edu"},
		{ID: "id-fay", Mail: "fay@example.edu", UserPrincipalName: "fay@example.edu"},
	})
	users := []UserToMatch{
		{ProxyID: 1, Name: "Alice", Email: "alice@example.EDU"}, // mail, case-insensitive
		{ProxyID: 2, Name: "Bob", Email: "bob@example.edu"},     // only the UPN matches
		{ProxyID: 3, Name: "Carol", Email: "carol@example.edu"}, // two directory users
		{ProxyID: 4, Name: "Dan", Email: "dan@example.edu"},     // shared with 5
		{ProxyID: 5, Name: "Dan Jr", Email: "DAN@example.edu"},
		{ProxyID: 6, Name: "Gus", Email: "gus@example.edu"},   // nobody
		{ProxyID: 7, Name: "Hal", Email: " "},                 // no email
		{ProxyID: 8, Name: "Erin", Email: "erin@example.edu"}, // already linked to 99
		{ProxyID: 9, Name: "Fay", Email: "fay@example.edu"},
	}
	res := MatchUsers(users, dir, []string{"mail", "userPrincipalName"}, map[string]int{"id-erin": 99})
	want := map[int]string{1: "matched id-alice by mail", 2: "matched id-bob by userPrincipalName", 3: "ambiguous", 4: "ambiguous", 5: "ambiguous",
		6: "unmatched", 7: "no_email", 8: "ambiguous", 9: "matched id-fay by mail"}
	for _, r := range res {
		got := string(r.Status)
		if r.Status == MatchMatched {
			got += " " + r.ObjectID + " by " + r.By
		}
		if got != want[r.ProxyID] {
			t.Errorf("user %d: %s (%s), want %s", r.ProxyID, got, r.Detail, want[r.ProxyID])
		}
	}
	if !strings.Contains(res[3].Detail, "share the address") || !strings.Contains(res[7].Detail, "already linked to Elentra user 99") {
		t.Errorf("details %q / %q", res[3].Detail, res[7].Detail)
	}
	// UPN only
	res = MatchUsers(users[:1], dir, []string{"userPrincipalName"}, nil)
	if res[0].Status != MatchUnmatched {
		t.Errorf("alice by UPN only: %+v", res[0])
	}
	fs := MatchFindings(MatchUsers(users, dir, []string{"mail", "userPrincipalName"}, nil))
	var kinds []string
	for _, f := range fs {
		kinds = append(kinds, string(f.Kind))
		if f.Name == "" || f.ProxyID == 0 || !strings.Contains(f.Fix, "users link") {
			t.Errorf("finding %+v lacks name, id or fix", f)
		}
	}
	if strings.Join(kinds, ",") != "user_ambiguous,user_ambiguous,user_ambiguous,user_no_email,user_unmatched" {
		t.Errorf("findings %v", kinds)
	}
}
