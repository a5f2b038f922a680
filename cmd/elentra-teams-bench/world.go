package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	elentraschema "github.com/elentra-teams/elentra-teams/testdata/elentra"
)

// The benchmark tenant's ids: obviously not a real tenant or app
// registration.
const (
	benchTenantID    = "00000000-0000-4000-8000-00000000be01"
	benchClientID    = "00000000-0000-4000-8000-00000000be02"
	benchRedirectURI = "http://localhost:8400/callback"
	// Two service accounts that are in no course: the mailbox holding the
	// meetings (microsoft.organizer) and the owner of Teams whose course has
	// no Elentra owner (sync.fallback_owner).
	organizerID    = "00000000-0000-4000-8000-00000000be03"
	fallbackID     = "00000000-0000-4000-8000-00000000be04"
	schoolTimezone = "America/Toronto"
)

// world is what a benchmark stands up: the school in a pair of databases,
// the simulator serving its directory in a process of its own, and a
// directory with the tool's configuration.
type world struct {
	school  *school.School
	dir     string
	tool    string // path of the elentra-teams binary
	simPath string // path of the msgraph-sim binary
	spawner string // path of the spawner, which measures the tool's memory
	config  string // path of config.yaml
	secret  string // the seeded client's fake secret
	seed    string // path of the simulator's seed
	dbName  string
	server  *mysql.Config
	db      *elentra.DB // the bench's own connection, for churn and counts
	sim     *simProcess

	closers []func()
}

func (w *world) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// startWorld generates the school, loads it into a new pair of databases on
// the server of o.DSN, builds (or takes) the two binaries, starts the
// simulator, writes the configuration and runs the tool's setup and
// authorize. close undoes it all, also after an error.
func startWorld(ctx context.Context, o Options, sc Scenario, progress func(string, ...any)) (_ *world, err error) {
	// Not the named result: a return nil, err sets that to nil before the
	// deferred close runs.
	w := &world{}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	dir, err := os.MkdirTemp("", "elentra-teams-bench-")
	if err != nil {
		return nil, err
	}
	w.dir = dir
	w.closers = append(w.closers, func() { _ = os.RemoveAll(dir) })

	if w.tool, w.simPath, w.spawner, err = binaries(ctx, o, dir, progress); err != nil {
		return nil, err
	}
	progress("generating scenario %s: %d courses, %d learners, %d events in the horizon", sc.Name, sc.Spec.Courses, sc.Spec.Learners, sc.Spec.Events)
	w.school = school.Generate(sc.Spec)

	progress("loading the school into %s", redactedServer(o.DSN))
	if err := w.startDatabase(ctx, o.DSN); err != nil {
		return nil, err
	}
	if w.secret, err = fakeSecret("bench-fake-client-secret-"); err != nil {
		return nil, err
	}
	if err := w.writeSeed(); err != nil {
		return nil, err
	}
	w.sim, err = startSim(ctx, w.simPath, w.seed, o.simArgs(o.TimeScale), filepath.Join(dir, "sim.log"))
	if err != nil {
		return nil, err
	}
	w.closers = append(w.closers, w.sim.stop)
	if err := w.writeConfig(o); err != nil {
		return nil, err
	}
	for _, args := range [][]string{{"setup"}, {"authorize", "--timezone", schoolTimezone}} {
		if out, err := w.runQuiet(ctx, args...); err != nil {
			return nil, fmt.Errorf("elentra-teams %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return w, nil
}

// binaries returns the tool and simulator binaries (the given paths, or
// fresh builds into dir) and a fresh build of the spawner.
func binaries(ctx context.Context, o Options, dir string, progress func(string, ...any)) (tool, sim, spawner string, err error) {
	tool, sim = o.ToolPath, o.SimPath
	for _, b := range []struct {
		path *string
		pkg  string
	}{{&tool, "cmd/elentra-teams"}, {&sim, "cmd/msgraph-sim"}, {&spawner, "cmd/elentra-teams-bench/spawner"}} {
		if *b.path != "" {
			continue
		}
		if *b.path, err = build(ctx, b.pkg, dir, progress); err != nil {
			return "", "", "", err
		}
	}
	return tool, sim, spawner, nil
}

// build compiles a package of the module into dir.
func build(ctx context.Context, pkg, dir string, progress func(string, ...any)) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	progress("building %s", pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, modulePath+"/"+pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		if !inModule(ctx) {
			return "", fmt.Errorf("go build %s: %w: run elentra-teams-bench inside the elentra-teams repository, whose source it builds\n%s", pkg, err, msg)
		}
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// inModule reports whether the go command, here, builds this module.
func inModule(ctx context.Context) bool {
	out, err := exec.CommandContext(ctx, "go", "list", "-m").Output()
	return err == nil && strings.TrimSpace(string(out)) == modulePath
}

const modulePath = "github.com/elentra-teams/elentra-teams"

// startDatabase creates a pair of databases named after a random suffix,
// loads Elentra's DDL and the school, and registers their removal.
func (w *world) startDatabase(ctx context.Context, dsn string) error {
	server, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("--dsn is not a go-sql-driver DSN (user:password@tcp(127.0.0.1:3306)/)")
	}
	server.DBName = ""
	server.ParseTime = true
	w.server = server
	suffix := make([]byte, 5)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	w.dbName = "etbench_" + hex.EncodeToString(suffix)
	admin, err := sqlx.Open("mysql", server.FormatDSN())
	if err != nil {
		return err
	}
	defer func() { _ = admin.Close() }()
	for _, name := range []string{w.dbName, w.dbName + "_auth"} {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	w.closers = append(w.closers, func() { w.dropDatabases() })
	for _, s := range []struct{ name, ddl string }{{w.dbName, elentraschema.Entrada}, {w.dbName + "_auth", elentraschema.Auth}} {
		if err := loadDDL(ctx, server, s.name, s.ddl); err != nil {
			return fmt.Errorf("create Elentra's tables in %s: %w", s.name, err)
		}
	}
	db, err := elentra.Open(ctx, w.databaseConfig())
	if err != nil {
		return err
	}
	w.db = db
	w.closers = append(w.closers, func() { _ = db.Close() })
	return w.school.Load(ctx, db)
}

func (w *world) dropDatabases() {
	admin, err := sqlx.Open("mysql", w.server.FormatDSN())
	if err != nil {
		return
	}
	defer func() { _ = admin.Close() }()
	for _, name := range []string{w.dbName, w.dbName + "_auth"} {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
	}
}

// loadDDL runs ddl in schema on one connection, with the sql_mode of
// Elentra's dumps.
func loadDDL(ctx context.Context, server *mysql.Config, schema, ddl string) error {
	cfg := server.Clone()
	cfg.DBName = schema
	x, err := sqlx.Open("mysql", cfg.FormatDSN())
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
	for _, stmt := range elentraschema.Statements(ddl) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// databaseConfig reaches the benchmark's databases as a user's
// configuration would: by parts.
func (w *world) databaseConfig() config.Database {
	db := config.Database{User: w.server.User, Password: w.server.Passwd, Name: w.dbName, AuthName: w.dbName + "_auth", TLS: "off"}
	if w.server.Net == "unix" {
		db.Socket = w.server.Addr
	} else {
		host, port, err := net.SplitHostPort(w.server.Addr)
		if err != nil {
			host, port = w.server.Addr, "3306"
		}
		db.Host = host
		db.Port, _ = strconv.Atoi(port)
	}
	return db
}

// writeSeed writes the simulator's seed: the school's directory, the two
// service accounts, and the app registration.
func (w *world) writeSeed() error {
	var admin string
	var users []graphsim.User
	for _, u := range w.school.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	for _, u := range w.school.Users {
		if u.ID == w.school.Edge.Admin {
			admin = u.DirectoryID
		}
	}
	domain := w.school.Spec.Domain
	users = append(users,
		graphsim.User{ID: organizerID, DisplayName: "Teams Meetings", Mail: "teams-meetings@" + domain, UserPrincipalName: "teams-meetings@" + domain, Mailbox: true},
		graphsim.User{ID: fallbackID, DisplayName: "Teams Owner", Mail: "teams-owner@" + domain, UserPrincipalName: "teams-owner@" + domain, Mailbox: true})
	seed := graphsim.Seed{
		TenantID:     benchTenantID,
		Clients:      []graphsim.Client{{ClientID: benchClientID, ClientSecret: w.secret, RedirectURIs: []string{benchRedirectURI}}},
		Users:        users,
		SignedInUser: admin,
	}
	b, err := json.Marshal(seed)
	if err != nil {
		return err
	}
	w.seed = filepath.Join(w.dir, "seed.json")
	return os.WriteFile(w.seed, b, 0o600)
}

// writeConfig writes config.yaml and its secret files. Application mode:
// it is not bound by Microsoft's cap of 1,000 Teams per user, which a
// delegated account owning every Team of a large school would reach.
func (w *world) writeConfig(o Options) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	files := map[string]string{
		"client-secret": w.secret,
		"token-key":     base64.StdEncoding.EncodeToString(key),
		"db-password":   w.server.Passwd,
	}
	for name, value := range files {
		if err := os.WriteFile(filepath.Join(w.dir, name), []byte(value+"\n"), 0o600); err != nil {
			return err
		}
	}
	db := w.databaseConfig()
	var b strings.Builder
	b.WriteString("database:\n")
	if db.Socket != "" {
		fmt.Fprintf(&b, "  socket: %s\n", db.Socket)
	} else {
		fmt.Fprintf(&b, "  host: %s\n  port: %d\n", db.Host, db.Port)
	}
	fmt.Fprintf(&b, "  user: %s\n", db.User)
	if db.Password != "" {
		fmt.Fprintf(&b, "  password_file: %s\n", filepath.Join(w.dir, "db-password"))
	}
	fmt.Fprintf(&b, "  name: %s\n  auth_name: %s\n", db.Name, db.AuthName)
	fmt.Fprintf(&b, `microsoft:
  auth_mode: application
  tenant_id: %s
  client_id: %s
  client_secret_file: %s
  authority: %s
  graph_endpoint: %s
  organizer: %s
elentra:
  url: https://elentra.example.edu
  timezone: %s
sync:
  all_active_courses: true
  all_course_events: true
  fallback_owner: %s
  # a first sync of a large school changes hundreds of thousands of
  # memberships: the default cap of 5,000 would spread it over many runs
  max_actions: 10000000
`, benchTenantID, benchClientID, filepath.Join(w.dir, "client-secret"), w.sim.url, w.sim.url, organizerID, schoolTimezone, fallbackID)
	if o.Concurrency > 0 {
		fmt.Fprintf(&b, "  concurrency: %d\n", o.Concurrency)
	}
	fmt.Fprintf(&b, "token:\n  encryption_key_file: %s\n", filepath.Join(w.dir, "token-key"))
	w.config = filepath.Join(w.dir, "config.yaml")
	return os.WriteFile(w.config, []byte(b.String()), 0o600)
}

// toolEnv is the environment of the tool's processes: the bench's own, less
// every ELENTRA_TEAMS_ variable (the CI's test DSN, the bench switch), which
// the tool would read as configuration keys.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELENTRA_TEAMS_") {
			env = append(env, kv)
		}
	}
	return env
}

// runQuiet runs the tool with the benchmark's configuration and returns its
// combined output.
func (w *world) runQuiet(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, w.tool, append([]string{"--config", w.config}, args...)...)
	cmd.Env = toolEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// simProcess is msgraph-sim running as a process of its own, so that its
// memory is not the tool's and its work not the bench's.
type simProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	once sync.Once
}

// startSim starts the simulator and waits for the base URL it prints.
func startSim(ctx context.Context, path, seed string, args []string, logPath string) (*simProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, append([]string{"--listen", "127.0.0.1:0", "--seed", seed}, args...)...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start msgraph-sim: %w", err)
	}
	p := &simProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "http://") {
			p.stop()
			msg, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("msgraph-sim did not start: %s", strings.TrimSpace(string(msg)))
		}
		p.url = line
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("msgraph-sim printed no address within 30 s")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	return p, nil
}

// stop ends the simulator with SIGTERM (the clean stop it documents), then
// kills it if it lingers.
func (p *simProcess) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// requests returns the simulator's request log from entry from on.
func (p *simProcess) requests(ctx context.Context, from int) ([]logEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/_sim/requests", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the simulator's request log: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the simulator's request log: %s", resp.Status)
	}
	var log struct {
		Requests []logEntry `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		return nil, fmt.Errorf("decode the simulator's request log: %w", err)
	}
	if from > len(log.Requests) {
		return nil, fmt.Errorf("the simulator's request log holds %d entries, fewer than the %d already read", len(log.Requests), from)
	}
	return log.Requests[from:], nil
}

// fakeSecret is prefix and 16 random bytes in hex: unique per run, and
// plainly not a real credential.
func fakeSecret(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b), nil
}

// redactedServer names the server of a DSN without its password.
func redactedServer(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "the database server"
	}
	return cfg.User + "@" + cfg.Addr
}
