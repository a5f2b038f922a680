package embedded_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/pkg/elentra/embedded"
)

func TestStartServesUntilStopped(t *testing.T) {
	dsn, stop, err := embedded.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxIdleConns(0) // every query dials, so the one after stop sees the closed listener
	if _, err := db.Exec("CREATE DATABASE demo_probe"); err != nil {
		t.Fatalf("create a database on the embedded server: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'demo_probe'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the new database is not listed: n=%d err=%v", n, err)
	}
	stop()
	if err := db.Ping(); err == nil {
		t.Error("the server still answers after stop")
	}
}
