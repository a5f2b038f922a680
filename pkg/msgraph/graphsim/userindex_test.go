package graphsim

import (
	"strings"
	"testing"
)

// The user index must find exactly whom the scan in directory order it
// replaced found: equal keys for strings EqualFold calls equal, different
// keys otherwise, Unicode's odd folds included.
func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	words := []string{
		"AdeleV@contoso.onmicrosoft.com", "adelev@CONTOSO.onmicrosoft.com", "adelev@contoso.onmicrosoft.co",
		"k", "K", "\u212a", // Kelvin sign folds to k
		"s", "S", "\u017f", // long s folds to s
		"Σ", "σ", "ς", "zoë", "ZOË", "zoe",
		"6F2A8B1C-0000-4000-8000-00000000AAAA", "6f2a8b1c-0000-4000-8000-00000000aaaa", "",
	}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v; EqualFold says %v", a, b, got, want)
			}
		}
	}
}

// A look-up by id or UPN finds the first user in directory order, in any
// letter case, and sees users added or replaced later.
func TestUserLookupsFollowTheDirectory(t *testing.T) {
	s := New(Seed{TenantID: "t", Users: []User{
		{ID: "AAAA", UserPrincipalName: "first@example.edu"},
		{ID: "BBBB", UserPrincipalName: "aaaa"}, // a UPN equal to the first user's id
	}}, Options{})
	if u := s.userByKey("aaaa"); u == nil || u.ID != "AAAA" {
		t.Errorf("userByKey(aaaa) = %+v, want the first user, whose id it is", u)
	}
	if u := s.userByKey("FIRST@example.EDU"); u == nil || u.ID != "AAAA" {
		t.Errorf("userByKey by UPN in other case = %+v, want AAAA", u)
	}
	if u := s.userByID("bbbb"); u == nil || u.UserPrincipalName != "aaaa" {
		t.Errorf("userByID(bbbb) = %+v, want the second user", u)
	}
	if j := s.cachedUserJSON(s.userByID("bbbb")); j["userPrincipalName"] != "aaaa" {
		t.Errorf("cached JSON of bbbb = %v", j)
	}
	s.AddUser(User{ID: "cccc", UserPrincipalName: "new@example.edu"})
	s.AddUser(User{ID: "bbbb", UserPrincipalName: "renamed@example.edu"})
	// A filtered listing sees the replaced user, not what was cached.
	if j := s.cachedUserJSON(s.userByID("bbbb")); j["userPrincipalName"] != "renamed@example.edu" {
		t.Errorf("after the replacement, the JSON a filter matches is %v", j)
	}
	if u := s.userByKey("NEW@example.edu"); u == nil || u.ID != "cccc" {
		t.Errorf("an added user is not found by UPN: %+v", u)
	}
	if u := s.userByKey("renamed@example.edu"); u == nil || !strings.EqualFold(u.ID, "bbbb") {
		t.Errorf("a replaced user is not found by its new UPN: %+v", u)
	}
	if u := s.userByKey("aaaa"); u == nil || u.ID != "AAAA" {
		t.Errorf("after the replacement, userByKey(aaaa) = %+v, want AAAA", u)
	}
	s.Reset()
	if u := s.userByKey("new@example.edu"); u != nil {
		t.Errorf("Reset keeps an added user: %+v", u)
	}
}
