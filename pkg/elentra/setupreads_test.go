package elentra_test

import (
	"context"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestSettingRowsAndWhichOfThemGovern(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	tdb.Exec(t, `INSERT INTO settings (setting_id, shortname, organisation_id, value) VALUES
		(1, 'user_menu_ordering', NULL, 'global-old'),
		(2, 'user_menu_ordering', NULL, 'global-new'),
		(3, 'USER_MENU_ORDERING', 1, 'org-old'),
		(4, 'user_menu_ordering', 1, 'org-new'),
		(5, 'user_menu_ordering', 2, 'other-org'),
		(6, 'microsoft_teams_enabled', NULL, '1')`)
	rows, err := tdb.DB.SettingRows(ctx, []string{elentra.SettingUserMenu, elentra.SettingTeamsEnabled}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if want := []int{1, 2, 6, 3, 4}; !equalInts(ids, want) {
		t.Errorf("SettingRows ids = %v, want %v (global rows first, organisation 2's left out)", ids, want)
	}
	for _, r := range rows {
		if r.ID == 3 && r.Shortname != elentra.SettingUserMenu {
			t.Errorf("row 3 named %q, want the name asked for", r.Shortname)
		}
	}

	if r, ok := elentra.EffectiveSetting(rows, elentra.SettingUserMenu); !ok || r.ID != 4 {
		t.Errorf("EffectiveSetting = %+v, %v; want the organisation's newest row 4", r, ok)
	}
	if r, ok := elentra.EffectiveSetting(rows, elentra.SettingTeamsEnabled); !ok || r.ID != 6 || !r.Global() {
		t.Errorf("EffectiveSetting(teams enabled) = %+v, %v; want global row 6", r, ok)
	}
	if _, ok := elentra.EffectiveSetting(rows, elentra.SettingMeetingWindow); ok {
		t.Errorf("EffectiveSetting found a setting that has no row")
	}
	var gov []int
	for _, r := range elentra.GoverningSettingRows(rows, elentra.SettingUserMenu) {
		gov = append(gov, r.ID)
	}
	if !equalInts(gov, []int{3, 4}) {
		t.Errorf("GoverningSettingRows = %v, want the organisation's rows 3 and 4", gov)
	}
	gov = nil
	for _, r := range elentra.GoverningSettingRows(rows, elentra.SettingTeamsEnabled) {
		gov = append(gov, r.ID)
	}
	if !equalInts(gov, []int{6}) {
		t.Errorf("GoverningSettingRows without an organisation row = %v, want the global row 6", gov)
	}

	// Settings keeps its rule on top of SettingRows.
	got, err := tdb.DB.Settings(ctx, []string{elentra.SettingUserMenu}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[elentra.SettingUserMenu] != "other-org" {
		t.Errorf("organisation 2 reads %q, want its own row", got[elentra.SettingUserMenu])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHasTable(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	for _, tc := range []struct {
		schema, table string
		want          bool
	}{
		{tdb.Name, "settings", true},
		{tdb.AuthName, "user_data", true},
		{tdb.Name, "no_such_table", false},
		{"et_no_such_schema", "settings", false},
	} {
		got, err := tdb.DB.HasTable(ctx, tc.schema, tc.table)
		if err != nil || got != tc.want {
			t.Errorf("HasTable(%s, %s) = %v, %v; want %v", tc.schema, tc.table, got, err, tc.want)
		}
	}
	if _, err := tdb.DB.HasTable(ctx, tdb.Name, "settings`; DROP TABLE settings; --"); err == nil {
		t.Errorf("HasTable accepted a table name that is not an identifier")
	}
}

func TestUsersWithObjectIDFollowsThePrecedence(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t, withStore())
	const shared = "0f8fad5b-d9cb-469f-a165-70867728950e"
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+` (id, username, firstname, lastname, email, uuid) VALUES
		(1, 'a', 'A', 'One', 'a@x.edu', NULL),
		(2, 'b', 'B', 'Two', 'b@x.edu', ?),
		(3, 'c', 'C', 'Three', 'c@x.edu', ?),
		(4, 'd', 'D', 'Four', 'd@x.edu', NULL)`, shared, shared)
	tdb.Exec(t, `INSERT INTO msteams_users (proxy_id, object_id, source, match_status, updated_at) VALUES
		(1, ?, 'matched', 'matched', NOW()),
		(3, '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'manual', NULL, NOW()),
		(4, ?, 'matched', 'ambiguous', NOW())`, "0F8FAD5B-D9CB-469F-A165-70867728950E", shared)
	if err := tdb.DB.SetObjectIDColumn(tdb.AuthName + ".user_data.id.uuid"); err != nil {
		t.Fatal(err)
	}
	users, err := store.New(tdb.DB).UsersWithObjectID(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, u := range users {
		ids = append(ids, u.ProxyID)
	}
	// 1: a match, in other letter case; 2: the site's column. Not 3, whose
	// manual link wins over the column, nor 4, whose match was ambiguous.
	if !equalInts(ids, []int{1, 2}) {
		t.Errorf("UsersWithObjectID = %v, want [1 2]", ids)
	}
	if none, err := store.New(tdb.DB).UsersWithObjectID(ctx, "9a8b7c6d-0000-4000-8000-000000000000"); err != nil || len(none) != 0 {
		t.Errorf("an Object ID nobody has: %+v, %v", none, err)
	}
}
