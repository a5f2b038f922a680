package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// file writes a file with a mode (chmod, whatever the umask).
func file(t *testing.T, path, text string, mode os.FileMode) string {
	t.Helper()
	write(t, path, text)
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// check-config names each file that gives a secret to every user of the
// machine, and a config file someone else may write.
func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	settings := `<?php
define("DATABASE_HOST", "db.example.edu");
define("DATABASE_PASS", "fake-db-password");
define("MS_OAUTH_CLIENT_SECRET", "fake-client-secret");
`
	// Elentra 1.9: the settings defer to config.inc.php, which holds the password.
	settings19 := `<?php
define("DATABASE_HOST", $config->database->host);
define("DATABASE_PASS", $config->database->password);
`
	configInc := `<?php
return array("database" => array("host" => "db.example.edu", "password" => "fake-db-password"));
`
	e22, e19 := filepath.Join(dir, "e22"), filepath.Join(dir, "e19")
	tests := []struct {
		name   string
		setup  func(c *config.Config)
		status Status
		says   []string
		fix    []string
	}{
		{"/dev/null as the config file", func(c *config.Config) { c.File = os.DevNull }, OK, []string{"no secret is readable"}, nil},
		{"nothing exposed", func(c *config.Config) {
			c.Microsoft.ClientCertificateFile = file(t, filepath.Join(dir, "ok", "app.pem"), "key", 0o640)
			c.Elentra.SettingsFile = file(t, filepath.Join(dir, "ok", "settings.inc.php"), settings, 0o640)
		}, OK, []string{"no secret is readable by every user, and no one else may write the config file"}, nil},
		{"client certificate", func(c *config.Config) {
			c.Microsoft.ClientCertificateFile = file(t, filepath.Join(dir, "cert", "app.pem"), "key", 0o644)
		}, Warn, []string{"microsoft.client_certificate_file " + filepath.Join(dir, "cert", "app.pem") + " is readable by every user (mode 0644)"},
			[]string{"run: chmod o-rwx " + filepath.Join(dir, "cert", "app.pem") + " "}},
		{"Elentra's settings", func(c *config.Config) {
			c.Elentra.SettingsFile = file(t, filepath.Join(e22, "settings.inc.php"), settings, 0o644)
		}, Warn, []string{"Elentra's " + filepath.Join(e22, "settings.inc.php") + " holds database.password and microsoft.client_secret and is readable by every user (mode 0644)"},
			[]string{"run: chmod o-rwx " + filepath.Join(e22, "settings.inc.php") + "; Elentra's web server keeps reading its settings as their owner or by group"}},
		{"Elentra 1.9's config.inc.php", func(c *config.Config) {
			c.Elentra.SettingsFile = file(t, filepath.Join(e19, "settings.inc.php"), settings19, 0o644)
			file(t, filepath.Join(e19, "config.inc.php"), configInc, 0o604)
		}, Warn, []string{"Elentra's " + filepath.Join(e19, "config.inc.php") + " holds database.password and is readable by every user (mode 0604)"},
			[]string{"run: chmod o-rwx " + filepath.Join(e19, "config.inc.php") + ";"}},
		{"a file Elentra's settings include", func(c *config.Config) {
			c.Elentra.SettingsFile = file(t, filepath.Join(dir, "inc", "settings.inc.php"), "<?php\nrequire_once __DIR__ . '/secrets.inc.php';\n", 0o644)
			file(t, filepath.Join(dir, "inc", "secrets.inc.php"), settings, 0o644)
		}, Warn, []string{"Elentra's " + filepath.Join(dir, "inc", "secrets.inc.php") + " holds database.password and microsoft.client_secret and is readable by every user (mode 0644)"},
			[]string{"run: chmod o-rwx " + filepath.Join(dir, "inc", "secrets.inc.php") + ";"}},
		{"config file every user may write", func(c *config.Config) {
			c.File = file(t, filepath.Join(dir, "w", "config.yaml"), "database:\n  host: db\n", 0o666)
		}, Warn, []string{"config file " + filepath.Join(dir, "w", "config.yaml") + " may be written by every user (mode 0666): whoever writes it can redirect microsoft.token_url"},
			[]string{"run: chmod o-rwx " + filepath.Join(dir, "w", "config.yaml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Defaults()
			tt.setup(&c)
			r := checkPermissions(context.Background(), &Env{Config: &c})
			if r.Status != tt.status {
				t.Errorf("status %s, want %s: %q", r.Status, tt.status, r.Message)
			}
			for _, s := range tt.says {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message %q does not say %q", r.Message, s)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(r.Fix, s) {
					t.Errorf("fix %q does not say %q", r.Fix, s)
				}
			}
			if strings.Contains(r.Message+r.Fix, "fake-") {
				t.Errorf("a secret in %q / %q", r.Message, r.Fix)
			}
		})
	}

	t.Run("config file owned by another user", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("only root can give a file to another user")
		}
		c := config.Defaults()
		c.File = file(t, filepath.Join(dir, "o", "config.yaml"), "database:\n  host: db\n", 0o640)
		if err := os.Chown(c.File, 65534, 0); err != nil {
			t.Fatal(err)
		}
		r := checkPermissions(context.Background(), &Env{Config: &c})
		if r.Status != Warn || !strings.Contains(r.Message, "config file "+c.File+" may be written by its owner ") ||
			!strings.Contains(r.Message, "who is neither root nor the user running elentra-teams") || !strings.Contains(r.Fix, "run: chown root "+c.File) {
			t.Errorf("got %+v", r)
		}
		if err := os.Chmod(c.File, 0o440); err != nil {
			t.Fatal(err)
		}
		if r := checkPermissions(context.Background(), &Env{Config: &c}); r.Status != OK {
			t.Errorf("an owner who may not write it: %+v", r)
		}
	})
}

// check-config warns when the database connection is plain TCP to another
// machine; a socket, a loopback address or TLS is fine.
func TestDatabaseTLS(t *testing.T) {
	tests := []struct {
		name   string
		db     config.Database
		status Status
		says   string
	}{
		{"off to another host", config.Database{Host: "db.example.edu", TLS: "off"}, Warn,
			"database.tls: TLS is off to db.example.edu:3306, which is not this machine"},
		{"unset to another host and port", config.Database{Host: "10.0.0.5:3307"}, Warn, "TLS is off to 10.0.0.5:3307"},
		{"verified", config.Database{Host: "db.example.edu", TLS: "true"}, OK, "database db.example.edu"},
		{"skip-verify", config.Database{Host: "db.example.edu", TLS: "skip-verify"}, OK, "database db.example.edu"},
		{"loopback", config.Database{Host: "127.0.0.1:3306"}, OK, "database 127.0.0.1:3306"},
		{"localhost", config.Database{Host: "localhost"}, OK, "database localhost"},
		{"socket", config.Database{Host: "db.example.edu", Socket: "/run/mysqld/mysqld.sock"}, OK, "database /run/mysqld/mysqld.sock"},
		{"socket as the host", config.Database{Host: "/run/mysqld/mysqld.sock"}, OK, "database /run/mysqld/mysqld.sock"},
		{"dsn to another host", config.Database{DSN: "elentra:fake-dsn-password@tcp(db.example.edu:3306)/entrada"}, Warn,
			"database.dsn: TLS is off to db.example.edu:3306"},
		{"dsn with TLS", config.Database{DSN: "elentra:fake-dsn-password@tcp(db.example.edu:3306)/entrada?tls=true"}, OK, "database database.dsn"},
		{"dsn over a socket", config.Database{DSN: "elentra:fake-dsn-password@unix(/run/mysqld/mysqld.sock)/entrada"}, OK, "database database.dsn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Defaults()
			db := tt.db
			db.User, db.Password, db.Name, db.AuthName, db.Port = "elentra", "fake-password", "entrada", "entrada_auth", 3306
			c.Database = db
			r := checkDatabaseConfig(context.Background(), &Env{Config: &c})
			if r.Status != tt.status || !strings.Contains(r.Message, tt.says) {
				t.Errorf("got %s %q, want %s saying %q", r.Status, r.Message, tt.status, tt.says)
			}
			if r.Status == Warn && !strings.Contains(r.Fix, "database.tls: true") {
				t.Errorf("fix %q", r.Fix)
			}
			if strings.Contains(r.Message+r.Fix, "fake-") {
				t.Errorf("a secret in %q / %q", r.Message, r.Fix)
			}
		})
	}
}
