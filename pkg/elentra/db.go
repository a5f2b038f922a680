package elentra

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// identRE is what a schema, table or column name must look like before it is
// put, backquoted, into SQL: configuration never reaches a query unchecked.
var identRE = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)

// ValidIdent reports whether s may be used as a backquoted identifier.
func ValidIdent(s string) bool { return identRE.MatchString(s) }

// MaxInList is the most ids one query binds in an IN list; longer lists are
// cut into chunks of this size (one query per chunk, never one per id), which
// keeps each statement well under max_allowed_packet and the 65,535
// placeholders of a prepared statement.
const MaxInList = 5000

// DB is an open connection pool to Elentra's server plus the names of its two
// schemas. Every query names its tables with these schema names, so the
// connection's default database does not matter. It counts the queries it
// sends (QueryCount), so that tests can hold the number of queries per read
// constant in the size of the school.
type DB struct {
	x        *sqlx.DB
	name     string
	authName string
	queries  atomic.Int64

	objectIDColumn *ObjectIDColumn
	// Elentra's own Teams switches (SetCourseSwitch, SetEventSwitch).
	courseSwitch, eventSwitch *SwitchColumn
}

// Open connects to the server that cfg describes, checks that it answers, and
// returns the pool. Both schema names must be plain identifiers.
func Open(ctx context.Context, cfg config.Database) (*DB, error) {
	if !ValidIdent(cfg.Name) {
		return nil, fmt.Errorf("database.name %q is not a schema name (letters, digits, _ or $, at most 64)", cfg.Name)
	}
	if !ValidIdent(cfg.AuthName) {
		return nil, fmt.Errorf("database.auth_name %q is not a schema name (letters, digits, _ or $, at most 64)", cfg.AuthName)
	}
	dsn, err := DSN(cfg)
	if err != nil {
		return nil, err
	}
	x, err := sqlx.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", RedactDSN(dsn), err)
	}
	// A run uses a handful of connections (sync.concurrency workers and the
	// lock connection); a cap keeps a misconfigured concurrency from
	// exhausting Elentra's max_connections.
	x.SetMaxOpenConns(16)
	x.SetMaxIdleConns(8)
	x.SetConnMaxLifetime(10 * time.Minute)
	if err := x.PingContext(ctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("connect to %s: %w", RedactDSN(dsn), err)
	}
	return &DB{x: x, name: cfg.Name, authName: cfg.AuthName}, nil
}

// New wraps an already open pool; name and authName are the two schemas.
func New(x *sqlx.DB, name, authName string) (*DB, error) {
	if !ValidIdent(name) || !ValidIdent(authName) {
		return nil, fmt.Errorf("schema names %q and %q must be letters, digits, _ or $, at most 64", name, authName)
	}
	return &DB{x: x, name: name, authName: authName}, nil
}

// Close closes the pool.
func (db *DB) Close() error { return db.x.Close() }

// Name is Elentra's main schema (DATABASE_NAME), which also holds the tool's
// own msteams_ tables.
func (db *DB) Name() string { return db.name }

// AuthName is Elentra's authentication schema (AUTH_DATABASE).
func (db *DB) AuthName() string { return db.authName }

// SQLX is the underlying pool, for what the wrappers below do not cover (a
// dedicated connection for a named lock). Queries sent through it are not
// counted.
func (db *DB) SQLX() *sqlx.DB { return db.x }

// QueryCount is the number of statements sent through this DB so far.
func (db *DB) QueryCount() int64 { return db.queries.Load() }

// Table is the fully qualified, backquoted name of a table in the main schema.
// The name is a constant of the calling code; an invalid one is a bug.
func (db *DB) Table(table string) string { return qualify(db.name, table) }

// AuthTable is the fully qualified name of a table in the auth schema.
func (db *DB) AuthTable(table string) string { return qualify(db.authName, table) }

func qualify(schema, table string) string {
	if !ValidIdent(schema) || !ValidIdent(table) {
		panic(fmt.Sprintf("elentra: invalid identifier %q.%q", schema, table))
	}
	return "`" + schema + "`.`" + table + "`"
}

// Select runs a query and scans all rows into dest (a pointer to a slice).
func (db *DB) Select(ctx context.Context, dest any, query string, args ...any) error {
	db.queries.Add(1)
	return db.x.SelectContext(ctx, dest, query, args...)
}

// Get runs a query and scans its single row into dest; sql.ErrNoRows when
// there is none.
func (db *DB) Get(ctx context.Context, dest any, query string, args ...any) error {
	db.queries.Add(1)
	return db.x.GetContext(ctx, dest, query, args...)
}

// Exec runs a statement.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.queries.Add(1)
	return db.x.ExecContext(ctx, query, args...)
}

// Queryx runs a query and returns its rows for scanning one by one.
func (db *DB) Queryx(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	db.queries.Add(1)
	return db.x.QueryxContext(ctx, query, args...)
}

// In expands the slice arguments of query into IN lists (sqlx.In).
func In(query string, args ...any) (string, []any, error) {
	return sqlx.In(query, args...)
}

// UniqueIDs returns ids in ascending order, each once, without values < 1:
// Elentra's ids start at 1 and 0 means "none". It is never nil.
func UniqueIDs(ids []int) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SortedIDs returns the ids of a set in ascending order. It is never nil:
// an empty set is an empty list, which the reads take for "none", where
// some take nil for "all".
func SortedIDs[V any](set map[int]V) []int {
	out := make([]int, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// epoch converts an Elentra epoch-seconds value to UTC time; 0 (unset)
// becomes the zero time.
func epoch(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// unix converts back: the zero time is 0 (unset/open).
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// MySQL server error numbers the package reacts to.
const (
	errNoSuchTable    = 1146
	errNoSuchDatabase = 1049
	errDupFieldName   = 1060
	errDupKeyName     = 1061
	errUnknown        = 1105
)

// IsAlreadyThere reports whether err says that a column or index a
// statement adds exists already (a migration cut short is run again). The
// embedded engine of the tests says it with a generic error number.
func IsAlreadyThere(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	return me.Number == errDupFieldName || me.Number == errDupKeyName ||
		(me.Number == errUnknown && strings.Contains(me.Message, "already exists"))
}

// IsNoSuchTable reports whether err is MySQL's "table doesn't exist".
func IsNoSuchTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errNoSuchTable
}

func isNoSuchDatabase(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errNoSuchDatabase
}

// SelectIn runs a query whose last argument is an IN list once per
// MaxInList ids and gathers the rows: a set-based read that stays within
// the server's limits on placeholders however many ids there are. before
// are the arguments that come ahead of the list.
func SelectIn[T any, ID int | string](ctx context.Context, db *DB, query string, ids []ID, before ...any) ([]T, error) {
	var out []T
	for list := range slices.Chunk(ids, MaxInList) {
		q, args, err := In(query, append(append([]any(nil), before...), list)...)
		if err != nil {
			return nil, err
		}
		var part []T
		if err := db.Select(ctx, &part, q, args...); err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}
