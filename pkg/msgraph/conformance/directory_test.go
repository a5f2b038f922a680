package conformance_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

func TestUsers(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)

	me := must(e.client.Me(e.ctx))(t)
	if me.ID != adminID || me.UserPrincipalName != "medtech.admin@school.example.edu" || me.DisplayName != "Medtech Admin" {
		t.Errorf("Me = %+v", me)
	}

	for _, key := range []string{danaID, "ddirector@school.example.edu"} {
		u, err := e.client.GetUser(e.ctx, key)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", key, err)
		}
		if u.ID != danaID || u.Mail != "dana.director@school.example.edu" {
			t.Errorf("GetUser(%s) = %+v", key, u)
		}
	}
	// A UPN starting with "$" must travel in the key form, or Graph answers 400.
	if u, err := e.client.GetUser(e.ctx, "$sstudent@school.example.edu"); err != nil || u.ID != samID {
		t.Errorf("GetUser($ UPN) = %+v, %v", u, err)
	}
	if _, err := e.client.GetUser(e.ctx, "nobody@school.example.edu"); !msgraph.IsNotFound(err) {
		t.Errorf("GetUser(unknown) error = %v, want not found", err)
	}

	// A quote in the value is doubled in the filter; the simulator reads it back.
	found := must(e.client.FindUsers(e.ctx, "mail", "lee.olearner@school.example.edu"))(t)
	if len(found) != 1 || found[0].ID != leeID {
		t.Errorf("FindUsers(mail) = %+v", found)
	}
	obrien := "5e1f0000-0000-4000-8000-0000000000a1"
	e.sim.AddUser(graphsim.User{ID: obrien, DisplayName: "O'Brien", Mail: "o'brien@school.example.edu", UserPrincipalName: "o'brien@school.example.edu"})
	found = must(e.client.FindUsers(e.ctx, "mail", "o'brien@school.example.edu"))(t)
	if len(found) != 1 || found[0].ID != obrien {
		t.Errorf("FindUsers(quoted mail) = %+v", found)
	}
	// A quote in a UPN travels in the key form users('o''brien@…').
	if u, err := e.client.GetUser(e.ctx, "o'brien@school.example.edu"); err != nil || u.ID != obrien {
		t.Errorf("GetUser(quoted UPN) = %+v, %v", u, err)
	}
	found = must(e.client.FindUsers(e.ctx, "userPrincipalName", "nobody@school.example.edu"))(t)
	if len(found) != 0 {
		// Not found is an empty answer, not an error.
		t.Errorf("FindUsers(no match) = %+v", found)
	}
}

// ListUsers asks for 999 a page; the directory needs more than that to page.
func TestListUsersPagesThroughTheDirectory(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	added := e.addUsers("5e1f1111", 1200)
	var pages []int
	seen := map[string]bool{}
	err := e.client.ListUsers(e.ctx, func(page []msgraph.User) error {
		pages = append(pages, len(page))
		for _, u := range page {
			if seen[u.ID] {
				t.Errorf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := len(seed().Users) + len(added)
	if !slices.Equal(pages, []int{999, total - 999}) {
		t.Errorf("page sizes = %v, want [999 %d]", pages, total-999)
	}
	for _, id := range append([]string{adminID, patID}, added...) {
		if !seen[id] {
			t.Errorf("user %s missing from the listing", id)
		}
	}

	// An error from the callback stops the listing after the first page.
	stop := errors.New("enough")
	calls := 0
	err = e.client.ListUsers(e.ctx, func([]msgraph.User) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("ListUsers with a failing callback: err %v after %d pages", err, calls)
	}
}

func TestGroups(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	g := must(e.client.CreateGroup(e.ctx, msgraph.GroupCreate{
		DisplayName: "MED101 Anatomy", Description: "Elentra course 101", MailNickname: "elentra-course-101",
		Visibility: "Private", OwnerIDs: []string{adminID, danaID}, MemberIDs: []string{leeID},
		ResourceBehaviorOptions: []string{"WelcomeEmailDisabled"},
	}))(t)
	if g.ID == "" || g.MailNickname != "elentra-course-101" || g.DisplayName != "MED101 Anatomy" || g.Visibility != "Private" || g.HasTeam() {
		t.Errorf("CreateGroup = %+v", g)
	}

	got := must(e.client.GetGroup(e.ctx, g.ID))(t)
	if got.ID != g.ID || got.Description != "Elentra course 101" || got.HasTeam() {
		t.Errorf("GetGroup = %+v", got)
	}

	// A second create with the same nickname is the conflict the tool adopts from.
	_, err := e.client.CreateGroup(e.ctx, msgraph.GroupCreate{DisplayName: "again", MailNickname: "elentra-course-101", OwnerIDs: []string{adminID}})
	if !msgraph.IsConflict(err) {
		t.Errorf("duplicate nickname: err %v, want a conflict", err)
	}
	byNick := must(e.client.FindGroupsByMailNickname(e.ctx, "elentra-course-101"))(t)
	if len(byNick) != 1 || byNick[0].ID != g.ID {
		t.Errorf("FindGroupsByMailNickname = %+v", byNick)
	}
	if none := must(e.client.FindGroupsByMailNickname(e.ctx, "elentra-course-999"))(t); len(none) != 0 {
		t.Errorf("FindGroupsByMailNickname(absent) = %+v", none)
	}
	e.newGroup("elentra-course-102")
	e.newGroup("other-group")
	searched := must(e.client.SearchGroupsByMailNickname(e.ctx, "elentra"))(t)
	var nicks []string
	for _, s := range searched {
		nicks = append(nicks, s.MailNickname)
	}
	slices.Sort(nicks)
	if !slices.Equal(nicks, []string{"elentra-course-101", "elentra-course-102"}) {
		t.Errorf("SearchGroupsByMailNickname(elentra) = %v", nicks)
	}

	name, desc := "MED101 Anatomy (2025)", "renamed"
	if err := e.client.UpdateGroup(e.ctx, g.ID, msgraph.GroupUpdate{DisplayName: &name, Description: &desc}); err != nil {
		t.Fatal(err)
	}
	got = must(e.client.GetGroup(e.ctx, g.ID))(t)
	if got.DisplayName != name || got.Description != desc {
		t.Errorf("after UpdateGroup: %+v", got)
	}
	if _, err := e.client.GetGroup(e.ctx, "5e1f0000-dead-4000-8000-000000000000"); !msgraph.IsNotFound(err) {
		t.Errorf("GetGroup(unknown) = %v, want not found", err)
	}
}
