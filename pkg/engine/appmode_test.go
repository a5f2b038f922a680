package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

// without drops accounts from every Team of a map.
func without(teams map[string]map[string]string, ids ...string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, m := range teams {
		c := map[string]string{}
		for u, r := range m {
			c[u] = r
		}
		for _, id := range ids {
			delete(c, strings.ToLower(id))
		}
		out[k] = c
	}
	return out
}

// directoryUser picks a school user with a directory account who is in no
// course (a staff account), to be the organiser or the fallback owner.
func (h *harness) staffAccount(t *testing.T, skip ...string) string {
	t.Helper()
	inCourse := map[string]bool{}
	for _, m := range h.expected(nil) {
		for u := range m {
			inCourse[u] = true
		}
	}
	for _, u := range h.school.DirectoryUsers() {
		id := strings.ToLower(u.ID)
		if inCourse[id] || id == h.admin {
			continue
		}
		used := false
		for _, s := range skip {
			used = used || s == id
		}
		if !used {
			return id
		}
	}
	t.Fatal("no staff account in the school")
	return ""
}

// Application mode ends with the same Teams and members as delegated mode:
// the authorizing account aside, and with sync.fallback_owner owning the
// Teams of courses without an Elentra owner. The organiser is in no Team.
func TestApplicationMode(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	organizer := h.staffAccount(t)
	fallback := h.staffAccount(t, organizer)
	h.cfg.Microsoft = config.Microsoft{AuthMode: "application", TenantID: tenant, ClientID: "22222222-3333-4444-5555-666666666666",
		ClientSecret: "fake-secret", Authority: h.srv.URL, GraphEndpoint: h.srv.URL, Organizer: organizer}
	h.cfg.Sync.FallbackOwner = fallback
	ts, err := auth.AppTokenSource(context.Background(), h.cfg.Microsoft, func() time.Time { return h.now })
	if err != nil {
		t.Fatal(err)
	}
	app := func(e *engine.Env) {
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, TokenSource: ts, Clock: func() time.Time { return h.now },
			Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
		e.AdminObjectID = ""
		e.Mailbox = organizer
		e.FallbackOwnerID = fallback
	}
	if rep, err := h.sync(app); err != nil {
		t.Fatalf("%v %+v", err, rep.AllFailures())
	}
	got := h.actual()
	want := without(h.expected(nil), h.admin)
	// the fallback owner owns exactly the Teams without another owner
	standIns := 0
	for nick, m := range got {
		if m[fallback] == "owner" {
			standIns++
		}
		others := 0
		for u, r := range m {
			if r == "owner" && u != fallback {
				others++
			}
		}
		if (m[fallback] == "owner") != (others == 0) {
			t.Errorf("Team %s: fallback owner %q with %d other owners", nick, m[fallback], others)
		}
		if _, in := m[organizer]; in {
			t.Errorf("the organiser is in Team %s", nick)
		}
	}
	if standIns == 0 {
		t.Error("no Team has the fallback owner: the school should have a course without an owner")
	}
	compare(t, want, without(got, fallback))
	if n := writes(h.sim.Counters()); n == 0 {
		t.Fatal("nothing was written")
	}
	c0 := writes(h.sim.Counters())
	if _, err := h.sync(app); err != nil {
		t.Fatal(err)
	}
	if n := writes(h.sim.Counters()) - c0; n != 0 {
		t.Errorf("the second run wrote %d times", n)
	}
}

// With sync.admin_leaves_teams the authorizing account leaves every Team a
// course owner owns, and stays only where it is the only owner; otherwise
// the Teams are those of a plain delegated sync.
func TestAdminLeavesTeams(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) { c.Sync.AdminLeavesTeams = true })
	for i := 0; i < 2; i++ { // created and filled, then left
		if rep, err := h.sync(nil); err != nil {
			t.Fatalf("run %d: %v %+v", i, err, rep.AllFailures())
		}
	}
	got := h.actual()
	compare(t, without(h.expected(nil), h.admin), without(got, h.admin))
	stays := 0
	for nick, m := range got {
		others := 0
		for u, r := range m {
			if r == "owner" && u != h.admin {
				others++
			}
		}
		_, admin := m[h.admin]
		if admin != (others == 0) {
			t.Errorf("Team %s: authorizing account present %v with %d other owners", nick, admin, others)
		}
		if admin {
			stays++
		}
	}
	if stays == 0 || stays == len(got) {
		t.Errorf("the account stays in %d of %d Teams: the school should have Teams with and without course owners", stays, len(got))
	}
	c0 := writes(h.sim.Counters())
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	if n := writes(h.sim.Counters()) - c0; n != 0 {
		t.Errorf("the third run wrote %d times", n)
	}
}

// sync.team_template educationClass makes the Teams with POST /teams bound
// to the course's group (PUT /groups/{id}/team knows no template).
func TestEducationClassTemplate(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	organizer := h.staffAccount(t)
	fallback := h.staffAccount(t, organizer)
	h.cfg.Microsoft = config.Microsoft{AuthMode: "application", TenantID: tenant, ClientID: "22222222-3333-4444-5555-666666666666",
		ClientSecret: "fake-secret", Authority: h.srv.URL, GraphEndpoint: h.srv.URL, Organizer: organizer}
	h.cfg.Sync.FallbackOwner = fallback
	h.cfg.Sync.TeamTemplate = "educationClass"
	if err := h.cfg.Validate(config.NeedSync); err != nil {
		t.Fatal(err)
	}
	ts, err := auth.AppTokenSource(context.Background(), h.cfg.Microsoft, func() time.Time { return h.now })
	if err != nil {
		t.Fatal(err)
	}
	rep, err := h.sync(func(e *engine.Env) {
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, TokenSource: ts, Clock: func() time.Time { return h.now },
			Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
		e.AdminObjectID, e.Mailbox, e.FallbackOwnerID = "", organizer, fallback
	})
	if err != nil {
		t.Fatalf("%v %+v", err, rep.AllFailures())
	}
	c := h.sim.Counters()
	if c.ByRoute["POST /teams"] != len(h.expected(nil)) || c.ByRoute["PUT /groups/{id}/team"] != 0 {
		t.Errorf("routes %v: want one POST /teams per course and no PUT", c.ByRoute)
	}
	compare(t, without(h.expected(nil), h.admin), without(h.actual(), fallback))
}
