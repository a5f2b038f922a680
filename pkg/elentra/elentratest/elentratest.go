// Package elentratest gives each test its own Elentra-shaped pair of
// databases on a real MySQL/MariaDB server, or on an embedded in-process
// server when none is configured.
//
// Server choice:
//   - ELENTRA_TEAMS_TEST_DSN set (go-sql-driver form, e.g.
//     "user:pass@tcp(127.0.0.1:3306)/"; any database part is ignored): that
//     server. The user must be able to create and drop databases. Sessions
//     run with MariaDB's strict sql_mode, so an insert that leaves out a NOT
//     NULL column without a default fails as on a real Elentra.
//   - unset: go-mysql-server in-process on 127.0.0.1 at a random port, started
//     once per test binary, so that `go test ./...` passes with only Go.
//     Real reports which; RequireRealServer skips a test that needs what the
//     embedded engine lacks (MyISAM's 3-byte utf8, KILL CONNECTION, …).
//
// Test sizes: ELENTRA_TEAMS_TEST_SIZE=large makes Large report true, for tests
// that then use the large synthetic school (2,000 courses, 30,000 learners);
// the default is small, for CI.
package elentratest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/embedded"
	elentraschema "github.com/elentra-teams/elentra-teams/testdata/elentra"
)

// Environment variables the package reads.
const (
	EnvDSN  = "ELENTRA_TEAMS_TEST_DSN"
	EnvSize = "ELENTRA_TEAMS_TEST_SIZE"
)

// StrictSQLMode is MariaDB's default sql_mode, which Elentra runs under on a
// stock server; test sessions use it so that strictness errors show up here.
const StrictSQLMode = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"

// Real reports whether tests run against a real server (ELENTRA_TEAMS_TEST_DSN).
func Real() bool { return os.Getenv(EnvDSN) != "" }

// Large reports whether ELENTRA_TEAMS_TEST_SIZE=large asks for large tests.
func Large() bool { return strings.EqualFold(os.Getenv(EnvSize), "large") }

// RequireRealServer skips t, saying why, when tests run on the embedded
// engine. It never skips on a real server.
func RequireRealServer(t testing.TB, why string) {
	t.Helper()
	if !Real() {
		t.Skipf("needs a real MySQL/MariaDB server (set %s): %s", EnvDSN, why)
	}
}

// TestDB is one test's pair of databases.
type TestDB struct {
	// Config reaches the databases (host, port, user, password, both names),
	// as a user's configuration would.
	Config config.Database
	// DB is the opened data layer over Config.
	DB *elentra.DB
	// Root is a pool with the server-level test user, default database the
	// main schema; not counted by DB.QueryCount.
	Root *sqlx.DB
	// Name and AuthName are the two schemas (et_<rand>, et_<rand>_auth).
	Name, AuthName string
	// Embedded says the server is an in-process one (it loses concurrent
	// writes from different connections: run syncs one at a time).
	Embedded bool
}

// Option changes what New prepares.
type Option func(*options)

type options struct {
	setup  []func(ctx context.Context, db *elentra.DB) error
	name   string
	second bool
}

// WithName names the main schema (the auth schema is name + "_auth")
// instead of a random name: the same name on two servers, as staging and
// production usually have.
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// OnSecondServer puts the databases on a second server: an embedded one
// of its own, whatever ELENTRA_TEAMS_TEST_DSN says, so that a test can
// hold two installations of the same database name, or restore one
// server's dump on another. Two embedded servers in one process answer
// the same @@server_uuid and @@port; only a real server beside an
// embedded one differ as two machines do (RequireRealServer).
func OnSecondServer() Option {
	return func(o *options) { o.second = true }
}

// WithSetup runs fn on the fresh databases before New returns, e.g.
// store.Migrate to add the tool's own tables.
func WithSetup(fn func(ctx context.Context, db *elentra.DB) error) Option {
	return func(o *options) { o.setup = append(o.setup, fn) }
}

// New creates a pair of databases from testdata/elentra's DDL, opens them, and
// drops them when t ends.
func New(t testing.TB, opts ...Option) *TestDB {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	server, err := serverConfig()
	if o.second {
		server, err = secondServerConfig()
	}
	if err != nil {
		t.Fatalf("test database server: %v", err)
	}
	name := "et_" + randomSuffix(t)
	if o.name != "" {
		name = o.name
	}
	tdb := &TestDB{Name: name, AuthName: name + "_auth", Embedded: isEmbedded(server)}

	admin, err := openPool(server, "")
	if err != nil {
		t.Fatalf("connect to the test server %s: %v", elentra.RedactDSN(server.FormatDSN()), err)
	}
	defer func() { _ = admin.Close() }()
	for _, s := range []string{"CREATE DATABASE `" + tdb.Name + "`", "CREATE DATABASE `" + tdb.AuthName + "`"} {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() { tdb.drop(t, server) })

	if err := loadSchema(ctx, server, tdb.Name, elentraschema.Entrada); err != nil {
		t.Fatalf("load the Elentra schema: %v", err)
	}
	if err := loadSchema(ctx, server, tdb.AuthName, elentraschema.Auth); err != nil {
		t.Fatalf("load the Elentra auth schema: %v", err)
	}

	tdb.Config = configFor(server, tdb.Name, tdb.AuthName)
	tdb.DB, err = elentra.Open(ctx, tdb.Config)
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	t.Cleanup(func() { _ = tdb.DB.Close() })
	tdb.Root, err = openPool(server, tdb.Name)
	if err != nil {
		t.Fatalf("open the test database as root: %v", err)
	}
	t.Cleanup(func() { _ = tdb.Root.Close() })

	for _, fn := range o.setup {
		if err := fn(ctx, tdb.DB); err != nil {
			t.Fatalf("set up the test database: %v", err)
		}
	}
	return tdb
}

// Exec runs a statement on the main schema as the test user, failing t on
// error. Name auth tables with AuthTable.
func (tdb *TestDB) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := tdb.Root.Exec(query, args...); err != nil {
		t.Fatalf("exec %s: %v", oneLine(query), err)
	}
}

// Table is the qualified name of a table in the main schema.
func (tdb *TestDB) Table(name string) string { return "`" + tdb.Name + "`.`" + name + "`" }

// AuthTable is the qualified name of a table in the auth schema.
func (tdb *TestDB) AuthTable(name string) string { return "`" + tdb.AuthName + "`.`" + name + "`" }

func (tdb *TestDB) drop(t testing.TB, server *mysql.Config) {
	admin, err := openPool(server, "")
	if err != nil {
		t.Errorf("drop test databases: %v", err)
		return
	}
	defer func() { _ = admin.Close() }()
	for _, n := range []string{tdb.Name, tdb.AuthName} {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + n + "`"); err != nil {
			t.Errorf("drop test database %s: %v", n, err)
		}
	}
}

var (
	embeddedOnce sync.Once
	embeddedDSN  string
	embeddedErr  error
)

var (
	secondOnce sync.Once
	secondDSN  string
	secondErr  error
)

// secondServerConfig is an embedded server of its own (OnSecondServer).
func secondServerConfig() (*mysql.Config, error) {
	secondOnce.Do(func() {
		secondDSN, _, secondErr = embedded.Start(context.Background())
	})
	if secondErr != nil {
		return nil, secondErr
	}
	cfg, err := mysql.ParseDSN(secondDSN)
	if err != nil {
		return nil, err
	}
	cfg.DBName = ""
	return cfg, nil
}

// serverConfig returns the server to use, with no database selected.
func serverConfig() (*mysql.Config, error) {
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		embeddedOnce.Do(func() {
			// Started once per test binary and left running: the process
			// ends with the tests, and each test drops its own databases.
			embeddedDSN, _, embeddedErr = embedded.Start(context.Background())
		})
		if embeddedErr != nil {
			return nil, embeddedErr
		}
		dsn = embeddedDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s is not a go-sql-driver DSN (user:pass@tcp(127.0.0.1:3306)/)", EnvDSN)
	}
	cfg.DBName = ""
	return cfg, nil
}

// openPool opens a pool on the server with the strict sql_mode set on every
// connection.
func openPool(server *mysql.Config, dbName string) (*sqlx.DB, error) {
	cfg := server.Clone()
	cfg.DBName = dbName
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'" + sessionSQLMode(server) + "'"
	cfg.Params["charset"] = "utf8mb4"
	x, err := sqlx.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	if err := x.Ping(); err != nil {
		_ = x.Close()
		return nil, err
	}
	return x, nil
}

// sessionSQLMode is StrictSQLMode where the server knows all of it; the
// embedded engine rejects NO_AUTO_CREATE_USER (removed in MySQL 8).
func sessionSQLMode(server *mysql.Config) string {
	if !isEmbedded(server) {
		return StrictSQLMode
	}
	return "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
}

// isEmbedded reports whether server is one of the in-process servers.
func isEmbedded(server *mysql.Config) bool {
	for _, dsn := range []string{embeddedDSN, secondDSN} {
		if c, err := mysql.ParseDSN(dsn); dsn != "" && err == nil && c.Addr == server.Addr {
			return true
		}
	}
	return false
}

// loadSchema runs ddl in schema on one connection, with the sql_mode of
// Elentra's dumps.
func loadSchema(ctx context.Context, server *mysql.Config, schema, ddl string) error {
	x, err := openPool(server, schema)
	if err != nil {
		return err
	}
	defer func() { _ = x.Close() }()
	conn, err := x.Connx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = '"+elentraschema.SQLMode+"'"); err != nil {
		return err
	}
	for _, s := range elentraschema.Statements(ddl) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", oneLine(s), err)
		}
	}
	return nil
}

// configFor is the configuration a user would write for these databases:
// parts rather than a DSN, so that tests also exercise elentra.DSN.
func configFor(server *mysql.Config, name, authName string) config.Database {
	db := config.Database{
		User: server.User, Password: server.Passwd, Name: name, AuthName: authName, TLS: "off",
	}
	if server.Net == "unix" {
		db.Socket = server.Addr
	} else {
		db.Host = server.Addr // host:port, as Elentra's DATABASE_HOST allows
		db.Port = 3306
	}
	if server.TLSConfig != "" {
		db.TLS = server.TLSConfig
	}
	return db
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	return hex.EncodeToString(b)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
