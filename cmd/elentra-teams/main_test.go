package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/cli"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"elentra-teams": func() { os.Exit(cli.Main()) },
	})
}

// Keys of testscript's Env.Values.
type valueKey string

const (
	// keyT holds the script's testing.TB, for commands that create
	// resources cleaned up with the script.
	keyT valueKey = "t"
	// keyDB holds the script's *scriptDB.
	keyDB valueKey = "db"
)

// scriptDB is the database pair a script made with elentra-db.
type scriptDB struct {
	tdb *elentratest.TestDB
	// serialised says the script holds embeddedScripts.
	serialised bool
}

// embeddedScripts lets one script at a time use the embedded engine. Its
// in-memory storage is not safe for concurrent sessions: a statement that
// reads information_schema.tables takes a copy of every table of every
// database and writes the copies back when it commits, undoing what another
// script's connection wrote meanwhile. A real server needs no such care.
var embeddedScripts sync.Mutex

// TestScripts runs the command-line contract in testdata/script/*.txtar.
// testscript gives each script a minimal environment of its own, so no
// ELENTRA_TEAMS_* variable of the caller leaks in; ELENTRA_TEAMS_TEST_DSN
// is read by this process, which creates the scripts' databases.
func TestScripts(t *testing.T) {
	binDir := buildBinary(t)
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Values[keyT] = env.T()
			env.Values[keyDB] = &scriptDB{}
			if binDir != "" {
				env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			}
			return nil
		},
		Cmds: withSimCmds(map[string]func(*testscript.TestScript, bool, []string){
			"exits":      exits,
			"elentra-db": elentraDB,
			"sql":        sqlCmd,
		}),
	})
}

// buildBinary builds the production binary for the scripts and returns its
// directory. The test binary links the embedded database server, whose
// regular-expression engine takes about 0.4 s to initialise in every process:
// run as each script's elentra-teams (testscript's self-exec), it would make
// the scripts ten times slower. The production binary links none of it, and
// is what users run. Without a go command (a test binary copied elsewhere),
// the scripts fall back to the self-exec registered in TestMain.
func buildBinary(t *testing.T) string {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Logf("no go command (%v): the scripts run the test binary as elentra-teams", err)
		return ""
	}
	dir := t.TempDir()
	name := "elentra-teams"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	build := exec.Command(goCmd, "build", "-o", filepath.Join(dir, name), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// exits N CMD ARGS… runs a command and fails unless it exits with code N;
// stdout and stderr are kept for the next assertions, as exec keeps them.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit code", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// tinySchool is the school of `elentra-db --school tiny`: every edge case of
// the generator (ten courses reach all the course cases) in a few hundred
// rows, so that a script stays well under a second.
func tinySchool(now time.Time) school.Spec {
	return school.Spec{
		Seed: 1, Courses: 10, Learners: 40, LearnersPerCourse: 10, OwnersPerCourse: 2,
		EventsPerCourse: 2, TeamsEnabled: true, Now: now,
	}
}

// elentra-db [--school tiny|small] [--setup] gives the script a fresh pair of
// Elentra-shaped databases, dropped when the script ends: with --school, a
// synthetic school generated for the present moment (the command under test
// reads the real clock); with --setup, the tool's tables. It exports the
// ELENTRA_TEAMS_DATABASE_* variables that reach it, elentra.timezone, and
// $DB and $AUTHDB, the two schema names.
func elentraDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: elentra-db [--school tiny|small] [--setup]")
	}
	var spec *school.Spec
	setup := false
	now := time.Now().UTC()
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--setup":
			setup = true
		case "--school":
			if i+1 >= len(args) {
				ts.Fatalf("elentra-db: --school needs tiny or small")
			}
			i++
			switch args[i] {
			case "tiny":
				s := tinySchool(now)
				spec = &s
			case "small":
				s := school.Small()
				s.Now = now
				spec = &s
			default:
				ts.Fatalf("elentra-db: --school %q: use tiny or small", args[i])
			}
		default:
			ts.Fatalf("elentra-db: unknown argument %q", args[i])
		}
	}
	tb, ok := ts.Value(keyT).(testing.TB)
	if !ok {
		ts.Fatalf("elentra-db: the script's testing.TB is missing")
	}
	sdb := ts.Value(keyDB).(*scriptDB)
	if !elentratest.Real() && !sdb.serialised {
		embeddedScripts.Lock()
		sdb.serialised = true
		ts.Defer(embeddedScripts.Unlock)
	}
	tdb := elentratest.New(tb)
	ctx := context.Background()
	if spec != nil {
		if err := school.Generate(*spec).Load(ctx, tdb.DB); err != nil {
			ts.Fatalf("elentra-db: load the school: %v", err)
		}
	}
	if setup {
		if _, err := store.Migrate(ctx, tdb.DB); err != nil {
			ts.Fatalf("elentra-db: migrate: %v", err)
		}
	}
	sdb.tdb = tdb

	c := tdb.Config
	vars := map[string]string{
		"ELENTRA_TEAMS_DATABASE_HOST":      c.Host,
		"ELENTRA_TEAMS_DATABASE_SOCKET":    c.Socket,
		"ELENTRA_TEAMS_DATABASE_PORT":      strconv.Itoa(c.Port),
		"ELENTRA_TEAMS_DATABASE_USER":      c.User,
		"ELENTRA_TEAMS_DATABASE_PASSWORD":  c.Password,
		"ELENTRA_TEAMS_DATABASE_NAME":      c.Name,
		"ELENTRA_TEAMS_DATABASE_AUTH_NAME": c.AuthName,
		"ELENTRA_TEAMS_DATABASE_TLS":       c.TLS,
		"ELENTRA_TEAMS_ELENTRA_TIMEZONE":   "America/Toronto",
		"DB":                               tdb.Name,
		"AUTHDB":                           tdb.AuthName,
	}
	for k, v := range vars {
		if v == "" || (k == "ELENTRA_TEAMS_DATABASE_PORT" && c.Port == 0) {
			continue
		}
		ts.Setenv(k, v)
	}
}

// sql 'STATEMENT' [ARGS…] runs one statement on the script's database (the
// main schema is the default; name auth tables $AUTHDB.table), with the
// arguments bound. A query prints its rows to stdout, columns separated by a
// tab, NULL as NULL. With !, the statement must fail.
func sqlCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: sql 'STATEMENT' [ARGS...]")
	}
	sdb, _ := ts.Value(keyDB).(*scriptDB)
	if sdb == nil || sdb.tdb == nil {
		ts.Fatalf("sql: run elentra-db first")
	}
	bound := make([]any, len(args)-1)
	for i, a := range args[1:] {
		bound[i] = a
	}
	err := runSQL(sdb.tdb, args[0], bound, ts.Stdout())
	switch {
	case neg && err == nil:
		ts.Fatalf("sql: %s succeeded, want an error", args[0])
	case !neg && err != nil:
		ts.Fatalf("sql: %v", err)
	case neg:
		fmt.Fprintln(ts.Stderr(), err)
	}
}

// cell writes a value the same way whichever protocol the driver used (a
// statement with arguments comes back in the binary protocol, with times
// already parsed): NULL, text as is, times as MySQL prints them.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.DateTime)
	}
	return fmt.Sprint(v)
}

func runSQL(tdb *elentratest.TestDB, query string, args []any, w interface{ Write([]byte) (int, error) }) error {
	verb := strings.ToUpper(strings.Fields(query + " x")[0])
	if verb != "SELECT" && verb != "SHOW" && verb != "WITH" && verb != "DESCRIBE" {
		_, err := tdb.Root.Exec(query, args...)
		return err
	}
	rows, err := tdb.Root.Query(query, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			cells[i] = cell(v)
		}
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return rows.Err()
}
