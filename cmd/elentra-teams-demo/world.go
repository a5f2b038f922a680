package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/embedded"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	elentraschema "github.com/elentra-teams/elentra-teams/testdata/elentra"
)

// The demo tenant's ids: obviously not a real tenant or app registration.
const (
	demoTenantID = "00000000-0000-4000-8000-000000000001"
	demoClientID = "00000000-0000-4000-8000-000000000002"
	// The redirect URI registered for the tool. authorize --no-browser never
	// listens on it: the admin pastes the address the browser lands on.
	demoRedirectURI = "http://localhost:8400/callback"
	demoElentraURL  = "https://elentra.example.edu"
	demoTimezone    = "America/Toronto"
	schemaName      = "entrada"
	authSchemaName  = "entrada_auth"
)

// elentraMicrosoftJobs stand in for Elentra 1.22's own Teams jobs in its cron
// table, beside a job of another kind: setup --takeover must switch off the
// first and leave the last alone.
var elentraMicrosoftJobs = []string{
	"php artisan microsoft:sync-users",
	"php artisan microsoft:sync-teams",
	"php artisan microsoft:sync-events",
}

const elentraOtherJob = "php artisan queue:work --stop-when-empty"

// world is what the demo stands up before running the tool: the database
// server holding the school, the simulator holding its directory, and a
// temporary directory with the configuration and its secret files.
type world struct {
	school   *school.School
	sim      *graphsim.Sim
	graphURL string
	dbAddr   string // 127.0.0.1:port of the embedded server
	dir      string
	config   string // path of config.yaml
	// configText is what config.yaml holds, to show it.
	configText string
	// directoryUsers is the number of accounts in the simulated directory.
	directoryUsers int
	// clientSecret is the app registration's secret, generated; secrets are
	// all the generated fake secrets, so that a test can check none is
	// printed.
	clientSecret string
	secrets      []string

	closers []func()
}

// startWorld builds the school for now, loads it into a fresh embedded
// server, starts the simulator, and writes the configuration. close undoes
// it all, also after an error.
func startWorld(ctx context.Context, o options, now time.Time) (w *world, err error) {
	w = &world{}
	defer func() {
		if err != nil {
			w.close()
			w = nil
		}
	}()
	w.school = school.Generate(school.Spec{
		Seed: 1, Courses: o.courses, Learners: o.learners, Now: now, Timezone: demoTimezone,
		LearnersPerCourse: o.learnersPerCourse(), OwnersPerCourse: 4, EventsPerCourse: 4,
		// A fresh Elentra without the Teams settings: setup adds them.
		TeamsEnabled: false,
	})

	if err := w.startDatabase(ctx); err != nil {
		return nil, err
	}
	if err := w.startSimulator(); err != nil {
		return nil, err
	}
	if err := w.writeConfig(); err != nil {
		return nil, err
	}
	return w, nil
}

// learnersPerCourse keeps sections at about 150 learners, as a real class,
// but never fewer than one section per five courses, so that a small school
// still has learners in every Team.
func (o options) learnersPerCourse() int {
	return max(10, min(150, o.learners*5/max(1, o.courses)))
}

func (w *world) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// startDatabase starts the embedded server, creates Elentra's two schemas
// from the project's DDL and loads the school and Elentra's cron jobs.
func (w *world) startDatabase(ctx context.Context) error {
	dsn, stop, err := embedded.Start(ctx)
	if err != nil {
		return err
	}
	w.closers = append(w.closers, stop)
	server, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("embedded server address %q: %w", dsn, err)
	}
	w.dbAddr = server.Addr

	if err := loadSchemas(ctx, dsn); err != nil {
		return err
	}
	host, port, err := splitHostPort(w.dbAddr)
	if err != nil {
		return err
	}
	db, err := elentra.Open(ctx, config.Database{Host: host, Port: port, User: "root", Name: schemaName, AuthName: authSchemaName, TLS: "off"})
	if err != nil {
		return fmt.Errorf("open the embedded database: %w", err)
	}
	defer db.Close()
	if err := w.school.Load(ctx, db); err != nil {
		return fmt.Errorf("load the synthetic school: %w", err)
	}
	var rows []string
	var args []any
	for i, cmd := range append(append([]string(nil), elentraMicrosoftJobs...), elentraOtherJob) {
		rows = append(rows, "(?, ?, ?, 1)")
		args = append(args, i+1, cmd, "0 0 * * *")
	}
	if _, err := db.Exec(ctx, "INSERT INTO "+db.Table("cron")+" (id, command, schedule, active) VALUES "+strings.Join(rows, ", "), args...); err != nil {
		return fmt.Errorf("add Elentra's cron jobs: %w", err)
	}
	return nil
}

// loadSchemas creates Elentra's two schemas and runs the DDL in each, on one
// connection with the sql_mode of Elentra's dumps.
func loadSchemas(ctx context.Context, dsn string) error {
	pool, err := sqlx.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Connx(ctx)
	if err != nil {
		return fmt.Errorf("connect to the embedded server: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = '"+elentraschema.SQLMode+"'"); err != nil {
		return err
	}
	for _, s := range []struct{ name, ddl string }{{schemaName, elentraschema.Entrada}, {authSchemaName, elentraschema.Auth}} {
		for _, stmt := range append([]string{"CREATE DATABASE `" + s.name + "`", "USE `" + s.name + "`"}, elentraschema.Statements(s.ddl)...) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create Elentra's schema %s: %s: %w", s.name, firstLine(stmt), err)
			}
		}
	}
	return nil
}

// startSimulator serves the identity platform and Graph for the school's
// directory on a loopback port. Elentra's administrator is the account the
// simulated browser is signed in as.
func (w *world) startSimulator() error {
	var admin string
	for _, u := range w.school.Users {
		if u.ID == w.school.Edge.Admin {
			admin = u.DirectoryID
		}
	}
	if admin == "" {
		return errors.New("the synthetic school's administrator has no directory account")
	}
	var users []graphsim.User
	for _, u := range w.school.DirectoryUsers() {
		users = append(users, graphsim.User{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, Mailbox: u.Mailbox})
	}
	w.directoryUsers = len(users)

	clientSecret, err := fakeSecret("demo-client-secret-")
	if err != nil {
		return err
	}
	w.clientSecret = clientSecret
	w.secrets = append(w.secrets, clientSecret)
	w.sim = graphsim.New(graphsim.Seed{
		TenantID: demoTenantID, Users: users, SignedInUser: admin,
		Clients: []graphsim.Client{{ClientID: demoClientID, ClientSecret: clientSecret, RedirectURIs: []string{demoRedirectURI}}},
	}, graphsim.Options{})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the Graph simulator: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(w.serveGraph), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	w.closers = append(w.closers, func() { _ = srv.Close() })
	w.graphURL = "http://" + l.Addr().String()
	return nil
}

// serveGraph serves the simulator and keeps its replication fault to the
// first group created while it is on: the client waits out each such 404 for
// 10 s before retrying, as Microsoft advises, and one wait shows that as well
// as seventeen would.
func (w *world) serveGraph(rw http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
	w.sim.ServeHTTP(rec, r)
	if r.Method == http.MethodPost && r.URL.Path == "/v1.0/groups" && rec.status == http.StatusCreated {
		if f := w.sim.Faults(); f.NotFoundAfterCreate > 0 {
			f.NotFoundAfterCreate = 0
			w.sim.SetFaults(f)
		}
	}
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

// writeConfig writes config.yaml and the secret files it names into a new
// temporary directory.
func (w *world) writeConfig() error {
	dir, err := os.MkdirTemp("", "elentra-teams-demo-")
	if err != nil {
		return err
	}
	w.dir = dir
	w.closers = append(w.closers, func() { _ = os.RemoveAll(dir) })

	dbPassword, err := fakeSecret("demo-db-password-")
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	tokenKey := base64.StdEncoding.EncodeToString(key)
	w.secrets = append(w.secrets, dbPassword, tokenKey)
	files := map[string]string{
		"db-password":   dbPassword,
		"client-secret": w.clientSecret,
		"token-key":     tokenKey,
	}
	for name, value := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600); err != nil {
			return err
		}
	}
	host, port, err := splitHostPort(w.dbAddr)
	if err != nil {
		return err
	}
	w.configText = fmt.Sprintf(`# Written by elentra-teams-demo, removed when it ends.
database:
  host: %s
  port: %d
  user: root
  # the embedded server accepts any password; a real one goes in a file like this
  password_file: %s
  name: %s
  auth_name: %s
microsoft:
  tenant_id: %s
  client_id: %s
  client_secret_file: %s
  redirect_uri: %s
  # the simulator stands in for login.microsoftonline.com and graph.microsoft.com
  authority: %s
  graph_endpoint: %s
elentra:
  url: %s
  timezone: %s
sync:
  # a Teams meeting for every event of the enabled courses in the next 14 days
  all_course_events: true
  # the embedded engine loses concurrent writes from different connections;
  # on MySQL or MariaDB keep the default of 4
  concurrency: 1
token:
  encryption_key_file: %s
`, host, port, filepath.Join(dir, "db-password"), schemaName, authSchemaName,
		demoTenantID, demoClientID, filepath.Join(dir, "client-secret"), demoRedirectURI, w.graphURL, w.graphURL,
		demoElentraURL, demoTimezone, filepath.Join(dir, "token-key"))
	w.config = filepath.Join(dir, "config.yaml")
	return os.WriteFile(w.config, []byte(w.configText), 0o600)
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

func splitHostPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("server address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("server port %q: %w", portText, err)
	}
	return host, port, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
