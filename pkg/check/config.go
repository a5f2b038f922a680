package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// configResult turns a configuration error into a failed check.
func configResult(err error) Result {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return fail(err.Error(), "fix the configuration")
	}
	msg := ce.Problem
	if ce.Key != "" {
		msg = ce.Key + ": " + msg
	}
	if ce.Source != "" {
		msg += " (from " + ce.Source + ")"
	}
	fix := ce.Fix
	if fix == "" {
		fix = "see docs/configuration.md"
	}
	return fail(msg, fix)
}

// validate reads the secret files of one part of the configuration (the
// loader reads those it can and leaves the errors to the commands that need
// them) and runs the configuration's own validation of that part.
func (e *Env) validate(c *config.Config, need config.Need) error {
	err := c.ReadSecretFiles(need)
	if err == nil {
		err = c.Validate(need)
	}
	return e.annotate(err)
}

// annotate fills in where the key of a configuration error got its value,
// and for a key left unset, why Elentra's settings did not give it.
func (e *Env) annotate(err error) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Source == "" && e.Source != nil {
		ce.Source = e.Source(ce.Key)
	}
	if why, ok := e.Elentra.Why(ce.Key); ok && ce.Problem == "not set" {
		ce.Problem = "not set (" + why + ")"
	}
	return err
}

// checkConfigFile: the configuration could be read at all (YAML, known keys,
// values of the right type, secret files readable).
func checkConfigFile(_ context.Context, e *Env) Result {
	if e.LoadErr != nil {
		return configResult(e.LoadErr)
	}
	if e.Config == nil {
		return fail("no configuration was loaded", "report this as a bug of elentra-teams")
	}
	c := e.Config
	var read []string
	if c.File != "" {
		read = append(read, "config file "+c.File)
	}
	if c.Elentra.SettingsFile != "" {
		read = append(read, "Elentra's settings "+c.Elentra.SettingsFile)
	}
	if c.File == "" {
		where := strings.Join(e.ConfigPaths, " or ")
		if where == "" {
			where = "the default places"
		}
		msg := "no config file (none at " + where + "): the configuration comes from this shell's environment"
		if len(read) > 0 {
			msg += " and " + strings.Join(read, ", ")
		}
		return warn(msg, "cron does not see this shell's ELENTRA_TEAMS_* variables: write /etc/elentra-teams/config.yaml (or pass --config) so that cron runs with the same configuration")
	}
	return pass("configuration read from %s", strings.Join(read, " and "))
}

// checkPermissions: a secret readable by every user of the machine (in the
// config file, a *_file, the client certificate, Elentra's settings files),
// and a config file someone else may write: whoever writes it can point
// microsoft.token_url at a server of theirs and receive the client secret
// and the tokens.
func checkPermissions(_ context.Context, e *Env) Result {
	if runtime.GOOS == "windows" {
		return pass("file permissions are not checked on Windows")
	}
	c := e.Config
	var problems, readable, foreign []string
	if c.File != "" {
		var secrets []string
		for _, k := range config.Keys() {
			if k.Secret && e.FileKeys[k.Path] {
				secrets = append(secrets, k.Path)
			}
		}
		if len(secrets) > 0 {
			if mode, ok := worldReadable(c.File); ok {
				problems = append(problems, fmt.Sprintf("config file %s holds %s and is readable by every user (mode %04o)", c.File, strings.Join(secrets, ", "), mode))
				readable = append(readable, c.File)
			}
		}
		if who, owner := othersMayWrite(c.File); who != "" {
			problems = append(problems, fmt.Sprintf("config file %s may be written by %s: whoever writes it can redirect microsoft.token_url and receive the client secret and the tokens", c.File, who))
			if owner {
				foreign = append(foreign, c.File)
			} else if !slices.Contains(readable, c.File) {
				readable = append(readable, c.File)
			}
		}
	}
	for _, f := range []struct{ key, path string }{
		{"database.password_file", c.Database.PasswordFile},
		{"microsoft.client_secret_file", c.Microsoft.ClientSecretFile},
		{"microsoft.client_certificate_file", c.Microsoft.ClientCertificateFile},
		{"token.encryption_key_file", c.Token.EncryptionKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if mode, ok := worldReadable(f.path); ok {
			problems = append(problems, fmt.Sprintf("%s %s is readable by every user (mode %04o)", f.key, f.path, mode))
			readable = append(readable, f.path)
		}
	}
	elentraFiles := 0
	for _, f := range elentraSecretFiles(c.Elentra.SettingsFile) {
		if mode, ok := worldReadable(f.path); ok {
			problems = append(problems, fmt.Sprintf("Elentra's %s holds %s and is readable by every user (mode %04o)", f.path, strings.Join(f.secrets, " and "), mode))
			readable = append(readable, f.path)
			elentraFiles++
		}
	}
	if len(problems) == 0 {
		return pass("no secret is readable by every user, and no one else may write the config file")
	}
	var fix []string
	if len(readable) > 0 {
		f := "run: chmod o-rwx " + strings.Join(readable, " ")
		if len(readable) > elentraFiles {
			f += " (root and the elentra-teams group keep access; move the secrets to *_file keys if the config file must stay readable)"
		}
		fix = append(fix, f)
	}
	if elentraFiles > 0 {
		fix = append(fix, "Elentra's web server keeps reading its settings as their owner or by group")
	}
	if len(foreign) > 0 {
		fix = append(fix, "run: chown root "+strings.Join(foreign, " ")+" (only root, or the user that runs the tool, may own the config file)")
	}
	return warn(strings.Join(problems, "; "), strings.Join(fix, "; "))
}

// worldReadable reports whether others may read the regular file path, with
// its mode.
func worldReadable(path string) (os.FileMode, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	mode := fi.Mode().Perm()
	return mode, mode&0o004 != 0
}

// othersMayWrite says who, besides root and the user running the tool, may
// write path: "every user (mode 0666)", or its owner when that is another
// user (owner is then true); "" when no one else may.
func othersMayWrite(path string) (who string, owner bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false // /dev/null, the empty configuration
	}
	mode := fi.Mode().Perm()
	if mode&0o002 != 0 {
		return fmt.Sprintf("every user (mode %04o)", mode), false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 || int(st.Uid) == os.Getuid() || mode&0o200 == 0 {
		return "", false
	}
	name := fmt.Sprint(st.Uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return "its owner " + name + ", who is neither root nor the user running elentra-teams", true
}

// elentraFile is one of Elentra's settings files and the secrets it gives.
type elentraFile struct {
	path    string
	secrets []string
}

// elentraSecretFiles reads Elentra's settings files again and returns those
// that give a secret as a literal (settings*.inc.php or a file it includes:
// DATABASE_PASS and MS_OAUTH_CLIENT_SECRET; Elentra 1.9's config.inc.php:
// the database password), with the secrets' keys.
func elentraSecretFiles(settings string) []elentraFile {
	if settings == "" {
		return nil
	}
	es, err := config.ReadElentraSettings(settings)
	if err != nil {
		return nil
	}
	var out []elentraFile
	for _, path := range es.Paths {
		f := elentraFile{path: path}
		for _, k := range config.Keys() {
			if k.Secret && es.Files[k.Path] == path {
				f.secrets = append(f.secrets, k.Path)
			}
		}
		if len(f.secrets) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func checkDatabaseConfig(_ context.Context, e *Env) Result {
	if err := e.validate(e.Config, config.NeedDatabase); err != nil {
		return configResult(err)
	}
	d := e.Config.Database
	where := d.Host
	switch {
	case d.DSN != "":
		where = "database.dsn"
	case d.Socket != "":
		where = d.Socket
	}
	if addr, plain := plaintextToAnotherHost(d); plain {
		key := "database.tls"
		if d.DSN != "" {
			key = "database.dsn"
		}
		return warn(fmt.Sprintf("%s: TLS is off to %s, which is not this machine: the database password and every row read cross the network unencrypted", key, addr),
			"set database.tls: true (or skip-verify for a server with a self-signed certificate), or reach the server over its socket or a tunnel")
	}
	return pass("database %s, schemas %s and %s", where, d.Name, d.AuthName)
}

// plaintextToAnotherHost reports whether the connection goes without TLS over
// TCP to a host that is not this machine, and that host's address (never the
// credentials). A Unix socket is this machine.
func plaintextToAnotherHost(d config.Database) (string, bool) {
	dsn, err := elentra.DSN(d)
	if err != nil {
		return "", false
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil || mc.Net == "unix" || (mc.TLSConfig != "" && mc.TLSConfig != "false") {
		return "", false
	}
	host, _, err := net.SplitHostPort(mc.Addr)
	if err != nil {
		host = mc.Addr
	}
	if config.IsLoopbackHost(host) {
		return "", false
	}
	return mc.Addr, true
}

// checkMicrosoftConfig: tenant and client GUIDs, URLs. The client secret has
// its own check, so that a missing secret and a mistyped GUID are both said.
func checkMicrosoftConfig(_ context.Context, e *Env) Result {
	c := *e.Config
	c.Microsoft.ClientSecretFile = ""
	if c.Microsoft.ClientSecret == "" {
		c.Microsoft.ClientSecret = "checked by config.client_secret"
	}
	if err := e.validate(&c, config.NeedMicrosoft); err != nil {
		return configResult(err)
	}
	m := c.Microsoft
	return pass("tenant %s, client %s", m.TenantID, m.ClientID)
}

func checkClientSecret(_ context.Context, e *Env) Result {
	if e.Config.Microsoft.ClientSecretFile != "" {
		if err := e.Config.ReadSecretFiles(config.NeedMicrosoft); err != nil {
			return configResult(e.annotate(err))
		}
	}
	m := e.Config.Microsoft
	if m.ClientSecret == "" {
		msg := "microsoft.client_secret is not set"
		if why, ok := e.Elentra.Why("microsoft.client_secret"); ok {
			msg += " (" + why + ")"
		}
		return fail(msg,
			"set ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET, or microsoft.client_secret_file naming a file that holds the client secret's Value")
	}
	key := "microsoft.client_secret"
	if m.ClientSecretFile != "" {
		key = "microsoft.client_secret_file"
	}
	if config.IsGUID(strings.TrimSpace(m.ClientSecret)) {
		return warn("microsoft.client_secret"+e.source(key)+" has the form of a GUID: that is the secret's ID, not its Value (Microsoft answers AADSTS7000215)",
			"copy the Value column of the client secret (shown once, when it is created; else create a new secret)")
	}
	return pass("microsoft.client_secret is set%s", e.source(key))
}

// elentraRedirectPath is where Elentra 1.22 receives its own sign-in: a
// redirect URI for this tool only, never that page, since Elentra may
// redeem a code sent there before authorize can.
const elentraRedirectPath = "/api/ms-graph-oauth.php"

func checkRedirectURI(_ context.Context, e *Env) Result {
	c := e.Config
	if c.Microsoft.Application() {
		return pass("application mode: no one signs in, so no redirect URI is used")
	}
	r := c.Microsoft.RedirectURI
	const localFix = "register http://localhost:8400/callback in the app registration (Authentication, Web) and set microsoft.redirect_uri to it"
	if addr, ok := auth.LoopbackListenAddr(r); ok {
		if strings.HasSuffix(addr, ":80") {
			if u, err := url.Parse(r); err == nil && u.Port() == "" {
				return warn(fmt.Sprintf("microsoft.redirect_uri %s names no port: authorize listens on %s, which only root may do (else run authorize --no-browser and finish by pasting)", r, addr),
					"give it a port above 1024 in both the app registration and microsoft.redirect_uri, e.g. http://localhost:8400/callback")
			}
		}
		return pass("microsoft.redirect_uri %s is on this machine: authorize listens on %s and finishes the sign-in itself", r, addr)
	}
	u, err := url.Parse(r)
	if err == nil && strings.HasSuffix(strings.ToLower(u.Path), elentraRedirectPath) {
		return warn(fmt.Sprintf("microsoft.redirect_uri %s is Elentra's own sign-in page: Elentra may redeem the code sent there before authorize can (AADSTS54005); otherwise authorize finishes by pasting the address", r),
			"give this tool a redirect URI of its own: "+localFix)
	}
	if err == nil && config.IsLoopbackHost(u.Hostname()) {
		return warn(fmt.Sprintf("microsoft.redirect_uri %s is on this machine but not plain http, so authorize cannot answer it and finishes by pasting the address", r), localFix)
	}
	return warn(fmt.Sprintf("microsoft.redirect_uri %s is not on this machine: the sign-in code goes to that server, and authorize finishes by pasting the address", r), localFix)
}

// Microsoft's hosts for the identity platform (authority, auth_url,
// token_url) and for Graph (graph_endpoint), national clouds included.
var (
	microsoftLoginHosts = []string{"login.microsoftonline.com", "login.microsoft.com", "login.windows.net",
		"login.microsoftonline.us", "login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}
	microsoftGraphHosts = []string{"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"}
)

// checkEndpoints: the client secret, the refresh token and every access
// token go to the configured endpoints, so one that is neither Microsoft's
// nor this machine (the simulator, a tunnel) is worth a second look.
func checkEndpoints(_ context.Context, e *Env) Result {
	m := e.Config.Microsoft
	var elsewhere []string
	local := false
	for _, k := range []struct {
		key, val string
		hosts    []string
	}{
		{"microsoft.authority", m.Authority, microsoftLoginHosts},
		{"microsoft.auth_url", m.AuthURL, microsoftLoginHosts},
		{"microsoft.token_url", m.TokenURL, microsoftLoginHosts},
		{"microsoft.graph_endpoint", m.GraphEndpoint, microsoftGraphHosts},
	} {
		if k.val == "" || (k.key == "microsoft.authority" && m.AuthURL != "" && m.TokenURL != "") {
			continue // not set, or not used
		}
		u, err := url.Parse(k.val)
		if err != nil {
			continue // config.microsoft says so
		}
		h := strings.ToLower(u.Hostname())
		switch {
		case config.IsLoopbackHost(h):
			local = true
		case !slices.Contains(k.hosts, h):
			elsewhere = append(elsewhere, k.key+" "+k.val)
		}
	}
	if len(elsewhere) > 0 {
		return warn(fmt.Sprintf("%s: neither Microsoft's nor this machine, yet the client secret, the refresh token and the access tokens are sent there", strings.Join(elsewhere, ", ")),
			"remove the key to use Microsoft's endpoint, unless the host is a proxy your school runs and trusts")
	}
	if local {
		return pass("the endpoints are Microsoft's or on this machine (a simulator?)")
	}
	return pass("the endpoints are Microsoft's")
}

func checkTokenKey(_ context.Context, e *Env) Result {
	if err := e.validate(e.Config, config.NeedTokenKey); err != nil {
		return configResult(err)
	}
	key := "token.encryption_key"
	if e.Config.Token.EncryptionKeyFile != "" {
		key = "token.encryption_key_file"
	}
	return pass("token.encryption_key is 32 bytes%s", e.source(key))
}

func checkSyncConfig(_ context.Context, e *Env) Result {
	if err := e.validate(e.Config, config.NeedSync); err != nil {
		return configResult(err)
	}
	s := e.Config.Sync
	scope := "courses switched on with 'courses enable'"
	if e.Config.Elentra.CourseSwitchColumn != "" {
		scope += " or by Elentra's course switch (elentra.course_switch_column)"
	}
	if s.AllActiveCourses {
		scope = "every active course no switch turns off (sync.all_active_courses)"
	}
	owners := append([]string(nil), s.OwnerContactTypes...)
	sort.Strings(owners)
	return pass("sync covers %s; owners: %s", scope, strings.Join(owners, ", "))
}

func checkTimezoneConfig(_ context.Context, e *Env) Result {
	if err := e.validate(e.Config, config.NeedTimezone); err != nil {
		return configResult(err)
	}
	return pass("elentra.timezone %s%s", e.Config.Elentra.Timezone, e.source("elentra.timezone"))
}
