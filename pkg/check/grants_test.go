package check

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

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
		if why := mayNotGrant(tdb.Root, err); why != "" {
			t.Skip(why)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = tdb.Root.Exec("DROP USER " + account) })
	for _, g := range minimalGrants(account, tdb.Name, tdb.AuthName, true) {
		if _, err := tdb.Root.Exec(g); err != nil {
			if why := mayNotGrant(tdb.Root, err); why != "" {
				t.Skip(why)
			}
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
	if _, err := store.New(db).Users(ctx, []int{1}); err != nil {
		t.Errorf("reading users as the minimal user: %v", err)
	}
	if _, err := db.Exec(ctx, "UPDATE "+db.Table("cron")+" SET active = 0 WHERE command LIKE '%artisan microsoft:%'"); err != nil {
		t.Errorf("setup --takeover's write as the minimal user: %v", err)
	}
	if _, err := db.Exec(ctx, "DROP TABLE "+db.Table("settings")); err == nil {
		t.Error("the minimal user could drop Elentra's settings table")
	}
}

// mayNotGrant says why the tests' server account cannot create a user and
// grant it privileges, from the error of trying: "" when the error is not a
// refusal of the account's own rights, or when the account holds GRANT
// OPTION (a refusal is then a failure of the grants, not of the account).
// An account may create and drop the test databases without either: the
// README asks for both only for this test.
func mayNotGrant(db *sqlx.DB, err error) string {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return ""
	}
	const fix = "give the account of ELENTRA_TEAMS_TEST_DSN CREATE USER and GRANT OPTION (GRANT ALL ON *.* TO … WITH GRANT OPTION) to run it"
	switch me.Number {
	case 1227: // ER_SPECIFIC_ACCESS_DENIED_ERROR: CREATE USER is missing
		return "the tests' server account may not create users (" + me.Message + "): " + fix
	case 1044, 1045, 1142, 1410: // access denied (to the database, the server, a table); may not create a user with GRANT
		var lines []string
		if db.Select(&lines, "SHOW GRANTS") != nil {
			return ""
		}
		for _, l := range lines {
			if strings.Contains(strings.ToUpper(l), "GRANT OPTION") {
				return ""
			}
		}
		return "the tests' server account may not grant privileges (it has no GRANT OPTION): " + fix
	}
	return ""
}

// TestMayNotGrant: an account with every privilege but GRANT OPTION is told
// apart from one whose grants fail for another reason.
func TestMayNotGrant(t *testing.T) {
	elentratest.RequireRealServer(t, "needs CREATE USER and GRANT")
	tdb := elentratest.New(t)
	user := "et_ng_" + strings.TrimPrefix(tdb.Name, "et_")
	account := fmt.Sprintf("'%s'@'%%'", user)
	for _, stmt := range []string{"CREATE USER " + account + " IDENTIFIED BY 'fake-test-password'", "GRANT ALL ON *.* TO " + account} {
		if _, err := tdb.Root.Exec(stmt); err != nil {
			if why := mayNotGrant(tdb.Root, err); why != "" {
				t.Skip(why)
			}
			t.Fatal(err)
		}
		if strings.HasPrefix(stmt, "CREATE") {
			t.Cleanup(func() { _, _ = tdb.Root.Exec("DROP USER " + account) })
		}
	}
	cfg := tdb.Config
	cfg.User, cfg.Password = user, "fake-test-password"
	db, err := elentra.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.SQLX().Exec("GRANT SELECT ON " + tdb.Name + ".* TO " + account)
	if err == nil {
		t.Fatal("an account without GRANT OPTION granted a privilege")
	}
	if why := mayNotGrant(db.SQLX(), err); !strings.Contains(why, "may not grant privileges (it has no GRANT OPTION)") || !strings.Contains(why, "ELENTRA_TEAMS_TEST_DSN") {
		t.Errorf("without GRANT OPTION: %q (error %v)", why, err)
	}
	// The same refusal met by an account that holds GRANT OPTION is a
	// failure, not a reason to skip.
	if why := mayNotGrant(tdb.Root, err); why != "" {
		t.Errorf("an account with GRANT OPTION is told to skip: %q", why)
	}
	if why := mayNotGrant(tdb.Root, errors.New("some other error")); why != "" {
		t.Errorf("another error is told to skip: %q", why)
	}
}
