package elentratest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

func TestNewCreatesBothSchemasAndDropsThem(t *testing.T) {
	var name, auth string
	t.Run("inner", func(t *testing.T) {
		tdb := elentratest.New(t)
		name, auth = tdb.Name, tdb.AuthName
		for _, c := range []struct{ schema, table string }{
			{tdb.Name, "courses"}, {tdb.Name, "event_resource_entities"}, {tdb.AuthName, "user_data"}, {tdb.AuthName, "user_access"},
		} {
			ok, err := tdb.DB.HasTable(context.Background(), c.schema, c.table)
			if err != nil || !ok {
				t.Errorf("HasTable(%s.%s) = %v, %v; want true", c.schema, c.table, ok, err)
			}
		}
	})
	other := elentratest.New(t)
	for _, n := range []string{name, auth} {
		var count int
		if err := other.Root.Get(&count, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", n); err != nil {
			t.Fatal(err)
		}
		if count != 0 {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func TestRequireRealServerSkipsOnlyOnTheEmbeddedEngine(t *testing.T) {
	var skipped bool
	t.Run("needs a real server", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		elentratest.RequireRealServer(t, "checking the helper itself")
	})
	if skipped == elentratest.Real() {
		t.Errorf("RequireRealServer skipped=%v with Real()=%v, want a skip exactly on the embedded engine", skipped, elentratest.Real())
	}
}

func TestSessionsUseStrictSQLMode(t *testing.T) {
	tdb := elentratest.New(t)
	var mode string
	if err := tdb.Root.Get(&mode, "SELECT @@SESSION.sql_mode"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mode, "STRICT_TRANS_TABLES") {
		t.Errorf("test session sql_mode = %q, want STRICT_TRANS_TABLES as MariaDB's default", mode)
	}
}

func TestElentraTablesAreMyISAMWithThreeByteUTF8(t *testing.T) {
	elentratest.RequireRealServer(t, "the embedded engine has no MyISAM and stores utf8 as it likes")
	tdb := elentratest.New(t)
	var engine, collation string
	if err := tdb.Root.QueryRow("SELECT engine, table_collation FROM information_schema.tables WHERE table_schema = ? AND table_name = 'courses'", tdb.Name).Scan(&engine, &collation); err != nil {
		t.Fatal(err)
	}
	if engine != "MyISAM" || !strings.HasPrefix(collation, "utf8_") && !strings.HasPrefix(collation, "utf8mb3_") {
		t.Errorf("courses is %s/%s, want MyISAM with 3-byte utf8 like Elentra", engine, collation)
	}
	// Elentra's 3-byte utf8 cannot store a 4-byte character: strict mode
	// rejects it, which is why the tool's own tables are utf8mb4.
	_, err := tdb.Root.Exec("INSERT INTO courses (course_name) VALUES (?)", "Cardiology \U0001F493")
	if err == nil {
		t.Error("a 4-byte character was stored in a utf8 (3-byte) column")
	}
}
