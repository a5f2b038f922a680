package elentratest_test

import (
	"context"
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
