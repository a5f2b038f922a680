package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// syncAll runs what cron runs: users, Teams, members, meetings.
func (h *harness) syncAll(edit func(*engine.Env)) (*engine.Report, error) {
	return engine.Run(context.Background(), h.env(edit), "sync", engine.UsersStep, engine.TeamsStep, engine.MembersStep, engine.EventsStep)
}

func (h *harness) installation() *store.Installation {
	h.t.Helper()
	inst, err := store.ReadInstallation(context.Background(), h.tdb.DB)
	if err != nil || inst == nil {
		h.t.Fatalf("installation: %v, %v", inst, err)
	}
	return inst
}

// tenant is everything the tenant holds, by object id: each Team (name,
// nickname, archived, members and roles) and each meeting (subject,
// times, attendees, cancelled), as JSON, to see what a run touched.
func (h *harness) tenant() map[string]string {
	out := map[string]string{}
	st := h.sim.State()
	for _, tm := range st.Teams {
		sort.Slice(tm.Members, func(i, j int) bool { return tm.Members[i].UserID < tm.Members[j].UserID })
		js, _ := json.Marshal(tm)
		out["team "+tm.ID] = string(js)
	}
	for _, e := range st.Events {
		js, _ := json.Marshal(e)
		out["meeting "+e.ID] = string(js)
	}
	return out
}

// untouched fails for every object of before that is gone or changed.
func untouched(t *testing.T, before, after map[string]string) {
	t.Helper()
	changed := 0
	for id, was := range before {
		if now, ok := after[id]; !ok || now != was {
			changed++
			if changed <= 5 {
				t.Errorf("production's %s changed:\n  was %s\n  now %s", id, was, now)
			}
		}
	}
	if changed > 5 {
		t.Errorf("... %d of production's %d objects changed in all", changed, len(before))
	}
}

func installationConfig(c *config.Config) {
	c.Sync.AllCourseEvents = true
	c.Elentra.URL = elentraURL
}

// Staging beside production on one tenant, the usual way: the same
// database name, the same organiser mailbox, the default group prefix.
// Production syncs; staging (the same school, some courses and events
// switched off) syncs; production's Teams, members and meetings are
// untouched, staging made its own and says what it left alone, and neither
// then touches the other's.
func TestTwoInstallationsShareATenant(t *testing.T) {
	prod := newHarness(t, eventsSchool(), installationConfig)
	if rep, err := prod.syncAll(nil); err != nil {
		t.Fatalf("production: %v (%+v)", err, rep.AllFailures())
	}
	before := prod.tenant()
	prodID := prod.installation().ID

	staging := prod.twin(t, installationConfig, func(ctx context.Context, db *elentra.DB) error {
		return school0(prod).Load(ctx, db)
	})
	stagingID := staging.installation().ID
	if stagingID == prodID {
		t.Fatalf("two installations share the id %s", prodID)
	}
	// Staging switches some courses and events off.
	var offCourses, offEvents []int
	for _, c := range staging.school.Courses[:2] {
		offCourses = append(offCourses, c.ID)
	}
	for id := range staging.expectedMeetings() {
		if len(offEvents) < 2 {
			offEvents = append(offEvents, id)
		}
	}
	for _, id := range offCourses {
		staging.exec("INSERT INTO "+staging.tdb.Table("msteams_courses")+" (course_id, enabled, switched_at, created_at, updated_at) VALUES (?, 0, ?, ?, ?)", id, staging.now, staging.now, staging.now)
	}
	for _, id := range offEvents {
		staging.exec("INSERT INTO "+staging.tdb.Table("msteams_events")+" (event_id, enabled, switched_at, created_at, updated_at) VALUES (?, 0, ?, ?, ?)", id, staging.now, staging.now, staging.now)
	}

	rep, err := staging.syncAll(nil)
	if err != nil {
		t.Fatalf("staging: %v (%+v)", err, rep.AllFailures())
	}
	after := staging.tenant()
	untouched(t, before, after)
	if len(after) <= len(before) {
		t.Errorf("staging made nothing of its own: %d objects before, %d after", len(before), len(after))
	}
	for _, tm := range staging.sim.State().Teams {
		if _, prods := before["team "+tm.ID]; !prods && !strings.Contains(tm.MailNickname, "-"+stagingID+"-") {
			t.Errorf("staging's Team %s has nickname %s, without its installation %s", tm.ID, tm.MailNickname, stagingID)
		}
	}
	left := findingsOf(rep, "other_installation_meetings")
	if len(left) != 1 || !strings.Contains(left[0].Message, "installation "+prodID) || !strings.Contains(left[0].Message, "("+stagingID+")") {
		t.Errorf("staging does not say it left production's meetings alone: %+v", left)
	}

	// Neither then writes: staging is in step, and production takes
	// nothing of staging's for its own.
	for _, h := range []*harness{staging, prod} {
		w := writes(h.sim.Counters())
		rep, err := h.syncAll(nil)
		if err != nil {
			t.Fatalf("%s again: %v", h.tdb.Name, err)
		}
		if n := writes(h.sim.Counters()) - w; n != 0 {
			t.Errorf("a second sync wrote %d times (%v)", n, rep.Counts)
		}
	}
	untouched(t, before, staging.tenant())
}

// school0 is the school a harness was loaded with.
func school0(h *harness) interface {
	Load(ctx context.Context, db *elentra.DB) error
} {
	return h.school
}

// restore copies every row of from's two schemas into to's, as a dump of
// production restored on another server does.
func restore(t *testing.T, from, to *elentratest.TestDB) {
	t.Helper()
	for _, schema := range [][2]string{{from.Name, to.Name}, {from.AuthName, to.AuthName}} {
		var tables []string
		if err := from.Root.Select(&tables, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name", schema[0]); err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			src, dst := fmt.Sprintf("`%s`.`%s`", schema[0], table), fmt.Sprintf("`%s`.`%s`", schema[1], table)
			if _, err := to.Root.Exec("DELETE FROM " + dst); err != nil {
				t.Fatalf("empty %s: %v", dst, err)
			}
			rows, err := from.Root.Queryx("SELECT * FROM " + src)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			var all [][]any
			for rows.Next() {
				vals, err := rows.SliceScan()
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, vals)
			}
			rows.Close()
			marks := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
			quoted := make([]string, len(cols))
			for i, c := range cols {
				quoted[i] = "`" + c + "`"
			}
			for start := 0; start < len(all); start += 200 {
				part := all[start:min(start+200, len(all))]
				var args []any
				var vals []string
				for _, r := range part {
					vals = append(vals, marks)
					args = append(args, r...)
				}
				q := "INSERT INTO " + dst + " (" + strings.Join(quoted, ",") + ") VALUES " + strings.Join(vals, ",")
				if _, err := to.Root.Exec(q, args...); err != nil {
					t.Fatalf("restore %s: %v", dst, err)
				}
			}
		}
	}
}

// A staging database restored from production's dump on another server
// carries production's installation id and its records: it is told apart
// by the server it runs on, and writes nothing to Microsoft until `setup
// --new-installation` gives it its own id and sets production's records
// aside; it then makes its own Teams and meetings and leaves production's
// alone. The installation's own database is refused a new id, and a
// database that really moved keeps its own with `setup --moved`.
func TestCopiedDatabaseIsToldApart(t *testing.T) {
	elentratest.RequireRealServer(t, "two embedded servers in one process share @@server_uuid and @@port: only a real server beside the embedded one differ as two machines do")
	ctx := context.Background()
	prod := newHarness(t, eventsSchool(), installationConfig)
	if rep, err := prod.syncAll(nil); err != nil {
		t.Fatalf("production: %v (%+v)", err, rep.AllFailures())
	}
	before := prod.tenant()
	prodInst := prod.installation()
	count := func(h *harness, q string) int {
		var n int
		if err := h.tdb.Root.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		return n
	}
	prodTeams := count(prod, "SELECT COUNT(*) FROM "+prod.tdb.Table("msteams_courses")+" WHERE group_id IS NOT NULL")
	prodMembers := count(prod, "SELECT COUNT(*) FROM "+prod.tdb.Table("msteams_memberships"))
	prodMeetings := count(prod, "SELECT COUNT(*) FROM "+prod.tdb.Table("msteams_events")+" WHERE graph_event_id IS NOT NULL")

	staging := prod.twin(t, installationConfig, func(context.Context, *elentra.DB) error { return nil })
	restore(t, prod.tdb, staging.tdb)
	if got := staging.installation(); got.ID != prodInst.ID {
		t.Fatalf("the restored database has installation %s, want production's %s", got.ID, prodInst.ID)
	}

	// Detected: nothing is sent to Microsoft, exit 1, naming both ways on.
	n := len(staging.sim.Requests())
	_, err := staging.syncAll(nil)
	var ce *store.CopyError
	if !errors.As(err, &ce) {
		t.Fatalf("the copy synced: %v, want a *store.CopyError (exit 1)", err)
	}
	for _, want := range []string{"installation " + prodInst.ID, "setup --new-installation", "setup --moved", "hostname "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if sent := len(staging.sim.Requests()) - n; sent != 0 {
		t.Errorf("the copy sent %d requests to Microsoft", sent)
	}

	// The installation's own database is no copy: no new id for it.
	if _, err := store.NewInstallation(ctx, prod.tdb.DB, prod.now, false, false); !errors.Is(err, store.ErrNotACopy) {
		t.Errorf("production's new installation: %v, want refused", err)
	}

	res, err := store.NewInstallation(ctx, staging.tdb.DB, staging.now, false, false)
	if err != nil {
		t.Fatal(err)
	}
	a := res.SetAside
	if !res.Copy || res.ID == prodInst.ID || res.Previous.ID != prodInst.ID || a.Teams != prodTeams || a.Memberships != prodMembers || a.Meetings != prodMeetings {
		t.Errorf("new installation %+v; set aside %d Teams, %d memberships, %d meetings; production has %d, %d, %d",
			res, a.Teams, a.Memberships, a.Meetings, prodTeams, prodMembers, prodMeetings)
	}
	aside, err := store.New(staging.tdb.DB).SetAside(ctx)
	if err != nil || len(aside) != 1 || aside[0].InstallationID != prodInst.ID || aside[0].Teams != prodTeams {
		t.Errorf("status lists set aside %+v (%v)", aside, err)
	}

	rep, err := staging.syncAll(nil)
	if err != nil {
		t.Fatalf("staging after --new-installation: %v (%+v)", err, rep.AllFailures())
	}
	untouched(t, before, staging.tenant())
	if len(staging.tenant()) <= len(before) {
		t.Error("staging made no Teams or meetings of its own")
	}
	if left := findingsOf(rep, "other_installation_meetings"); len(left) == 0 || !strings.Contains(left[0].Message, prodInst.ID) {
		t.Errorf("staging does not say what it left alone: %+v", left)
	}
	if _, err := store.NewInstallation(ctx, staging.tdb.DB, staging.now, false, false); !errors.Is(err, store.ErrNotACopy) {
		t.Errorf("a second --new-installation: %v, want refused", err)
	}

	// Production's database moved to another server: told apart the same
	// way, and `setup --moved` keeps its id and its records.
	prod.exec("UPDATE " + prod.tdb.Table(store.InstallationTable) + " SET server_port = server_port + 1")
	if _, err := prod.syncAll(nil); !errors.As(err, &ce) {
		t.Fatalf("a moved database synced without setup --moved: %v", err)
	}
	inst, _, diff, err := store.Moved(ctx, prod.tdb.DB, prod.now, false)
	if err != nil || inst.ID != prodInst.ID || len(diff) != 1 || !strings.HasPrefix(diff[0], "port ") {
		t.Fatalf("moved: %+v %v %v", inst, diff, err)
	}
	w := writes(prod.sim.Counters())
	if _, err := prod.syncAll(nil); err != nil {
		t.Fatal(err)
	}
	if n := writes(prod.sim.Counters()) - w; n != 0 {
		t.Errorf("after setup --moved production rewrote %d things: its records were lost", n)
	}
}

// Upgrading: the groups and meetings an installation recorded before
// installation ids existed stay its own (no duplicate, nothing cancelled),
// and a group a run meant to create then, under the older nickname, is
// found by that nickname.
func TestUpgradeKeepsEarlierRecords(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, eventsSchool(), installationConfig)
	if rep, err := h.syncAll(nil); err != nil {
		t.Fatalf("sync: %v (%+v)", err, rep.AllFailures())
	}
	// What the earlier version left: its meetings' markers name the
	// database, no record names an installation, and there is none.
	g := h.env(nil).Graph
	inst := h.installation().ID
	for _, rec := range h.eventRecords() {
		if rec.GraphEventID == "" {
			continue
		}
		// PATCH the marker as the earlier version wrote it.
		if _, err := g.UpdateEvent(ctx, "me", rec.GraphEventID, legacyMarker(h.tdb.Name, rec.EventID)); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"msteams_courses", "msteams_memberships", "msteams_events"} {
		h.exec("UPDATE " + h.tdb.Table(table) + " SET installation_id = NULL")
	}
	h.exec("DELETE FROM " + h.tdb.Table(store.InstallationTable))
	// A course whose group an earlier run created, then died before
	// recording it: its intent names the older nickname.
	course := h.school.Courses[0]
	var rec store.TeamRecord
	if recs, err := store.New(h.tdb.DB).TeamRecords(ctx, []int{course.ID}); err != nil {
		t.Fatal(err)
	} else {
		rec = recs[course.ID]
	}
	legacyNick := reconcile.MailNickname("elentra", "", course.OrganisationID, course.ID, "legacy")
	h.renameNickname(rec.GroupID, legacyNick)
	h.exec("UPDATE "+h.tdb.Table("msteams_courses")+" SET group_id = NULL, state = 'group_intent', mail_nickname = ? WHERE course_id = ?", legacyNick, course.ID)

	// The upgrade: setup's migration makes the installation.
	if _, err := store.Migrate(ctx, h.tdb.DB); err != nil {
		t.Fatal(err)
	}
	upgraded := h.installation().ID
	if upgraded == inst {
		t.Fatalf("the id did not change (%s): the test did not undo it", inst)
	}
	w := writes(h.sim.Counters())
	rep, err := h.syncAll(nil)
	if err != nil {
		t.Fatalf("sync after the upgrade: %v (%+v)", err, rep.AllFailures())
	}
	if n := writes(h.sim.Counters()) - w; n != 0 {
		t.Errorf("the sync after the upgrade wrote %d times (%v): the earlier records are not its own", n, rep.Counts)
	}
	if left := findingsOf(rep, "other_installation_meetings"); len(left) != 0 {
		t.Errorf("its own earlier meetings were taken for another installation's: %+v", left)
	}
	if recs, _ := store.New(h.tdb.DB).TeamRecords(ctx, []int{course.ID}); recs[course.ID].GroupID != rec.GroupID {
		t.Errorf("the group meant under the older nickname was not adopted: %+v", recs[course.ID])
	}
	noDuplicates(t, h)
}

// legacyMarker is the marker the versions before installation ids wrote.
func legacyMarker(db string, eventID int) msgraph.EventInput {
	return msgraph.EventInput{SingleValueExtendedProperties: []msgraph.SingleValueExtendedProperty{
		{ID: reconcile.MarkerPropertyID, Value: fmt.Sprintf("elentra-teams/%s/event/%d", db, eventID)}}}
}

// renameNickname changes a group's mailNickname on the simulator, as an
// earlier version's create left it (the client never sends one).
func (h *harness) renameNickname(groupID, nick string) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]string{"mailNickname": nick})
	req, _ := http.NewRequest(http.MethodPatch, h.srv.URL+"/v1.0/groups/"+groupID, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		h.t.Fatalf("PATCH mailNickname: %s", resp.Status)
	}
}
