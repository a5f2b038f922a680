package check

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestExcessGrants(t *testing.T) {
	const user = " TO `u`@`%`"
	tests := []struct {
		name   string
		lines  []string
		excess []string
	}{
		{"root", []string{"GRANT ALL PRIVILEGES ON *.*" + user + " WITH GRANT OPTION", "GRANT PROXY ON ''@'%'" + user + " WITH GRANT OPTION"},
			[]string{"GRANT OPTION on *.*", "ALL PRIVILEGES on *.*", "PROXY", "GRANT OPTION"}},
		{"minimal", []string{
			"GRANT USAGE ON *.*" + user + " IDENTIFIED BY PASSWORD '*0123456789ABCDEF'",
			"GRANT SELECT ON `entrada_auth`.*" + user,
			"GRANT SELECT, CREATE, ALTER, INDEX ON `entrada`.*" + user,
			"GRANT INSERT, UPDATE, DELETE ON `entrada`.`settings`" + user,
			"GRANT SELECT (id, email), UPDATE (email) ON `entrada_auth`.`user_data`" + user,
		}, []string{"UPDATE on entrada_auth.user_data"}},
		{"Elentra's own user", []string{"GRANT ALL PRIVILEGES ON `entrada`.*" + user, "GRANT ALL PRIVILEGES ON `entrada\\_auth`.*" + user},
			[]string{"ALL PRIVILEGES on entrada.*", "ALL PRIVILEGES on entrada\\_auth.*"}},
		{"global and foreign", []string{"GRANT SUPER, FILE ON *.*" + user, "GRANT SELECT ON `mysql`.`user`" + user, "GRANT DROP ON `entrada`.*" + user, "GRANT INSERT ON `entrada_auth`.*" + user},
			[]string{"SUPER on *.*", "FILE on *.*", "SELECT on mysql.user", "DROP on entrada.*", "INSERT on entrada_auth.*"}},
		{"lower case and quotes", []string{"grant select on entrada.* to 'u'@'localhost'", `GRANT SELECT ON "entrada_auth".* TO 'u'@'localhost'`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			excess, unread := excessGrants(tt.lines, "entrada", "entrada_auth")
			if !reflect.DeepEqual(excess, tt.excess) {
				t.Errorf("excess = %q, want %q", excess, tt.excess)
			}
			if len(unread) > 0 {
				t.Errorf("unread = %q", unread)
			}
		})
	}
}

func TestRoleGrantsAreUnreadNotExcess(t *testing.T) {
	excess, unread := excessGrants([]string{"GRANT `sync_role`@`%` TO `u`@`%`"}, "entrada", "entrada_auth")
	if len(excess) != 0 || len(unread) != 1 {
		t.Errorf("excess %q unread %q, want none and the role line", excess, unread)
	}
}

func TestMinimalGrantsCoverWhatTheToolWrites(t *testing.T) {
	got := minimalGrants("'et'@'localhost'", "entrada", "entrada_auth", true)
	want := []string{
		"GRANT SELECT ON `entrada_auth`.* TO 'et'@'localhost';",
		"GRANT SELECT, CREATE, ALTER, INDEX ON `entrada`.* TO 'et'@'localhost';",
		"GRANT INSERT, UPDATE, DELETE ON `entrada`.`settings` TO 'et'@'localhost';",
		"GRANT INSERT, UPDATE, DELETE ON `entrada`.`cron` TO 'et'@'localhost';",
		"GRANT INSERT, UPDATE, DELETE ON `entrada`.`event_links` TO 'et'@'localhost';",
		"GRANT INSERT, UPDATE, DELETE ON `entrada`.`event_resource_entities` TO 'et'@'localhost';",
	}
	if !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("got\n%s\nwant to start with\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tbl := range toolTables {
		if !strings.Contains(strings.Join(got, "\n"), "`entrada`.`"+tbl+"`") {
			t.Errorf("no grant on the tool's table %s", tbl)
		}
	}
	for _, g := range minimalGrants("'et'@'localhost'", "entrada", "entrada_auth", false) {
		if strings.Contains(g, "`cron`") {
			t.Errorf("a grant on cron without a cron table: %s", g)
		}
	}
	// What we advise must pass our own check.
	if excess, _ := excessGrants(got, "entrada", "entrada_auth"); len(excess) > 0 {
		t.Errorf("the minimal grants are found excessive: %q", excess)
	}
}

// TestMinimalGrantsOnARealServer creates a user with the minimal grants and
// checks that the server's SHOW GRANTS for it reads as nothing excessive,
// and that with them the tool sets up, reads and writes what it must.
func TestMinimalGrantsOnARealServer(t *testing.T) {
	elentratest.RequireRealServer(t, "needs CREATE USER and GRANT")
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		_, err := store.Migrate(ctx, db)
		return err
	}))
	ctx := context.Background()
	user := "et_" + strings.TrimPrefix(tdb.Name, "et_")
	account := fmt.Sprintf("'%s'@'%%'", user)
	if _, err := tdb.Root.Exec("CREATE USER " + account + " IDENTIFIED BY 'fake-test-password'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = tdb.Root.Exec("DROP USER " + account) })
	for _, g := range minimalGrants(account, tdb.Name, tdb.AuthName, true) {
		if _, err := tdb.Root.Exec(g); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
	}
	var lines []string
	if err := tdb.Root.Select(&lines, "SHOW GRANTS FOR "+account); err != nil {
		t.Fatal(err)
	}
	excess, unread := excessGrants(lines, tdb.Name, tdb.AuthName)
	if len(excess) > 0 || len(unread) > 0 {
		t.Errorf("the server's grants for the minimal user read as excess %q, unread %q:\n%s", excess, unread, strings.Join(lines, "\n"))
	}

	cfg := tdb.Config
	cfg.User, cfg.Password = user, "fake-test-password"
	db, err := elentra.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Errorf("setup's migrations as the minimal user: %v", err)
	}
	if _, err := db.Users(ctx, []int{1}); err != nil {
		t.Errorf("reading users as the minimal user: %v", err)
	}
	if _, err := db.Exec(ctx, "UPDATE "+db.Table("cron")+" SET active = 0 WHERE command LIKE '%artisan microsoft:%'"); err != nil {
		t.Errorf("setup --takeover's write as the minimal user: %v", err)
	}
	if _, err := db.Exec(ctx, "DROP TABLE "+db.Table("settings")); err == nil {
		t.Error("the minimal user could drop Elentra's settings table")
	}
}
