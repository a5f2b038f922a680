package elentra_test

import (
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

func TestDSNFromParts(t *testing.T) {
	tests := []struct {
		name      string
		db        config.Database
		wantNet   string
		wantAddr  string
		wantTLS   string
		wantError string
	}{
		{name: "host and port", db: config.Database{Host: "db.example.edu", Port: 3307}, wantNet: "tcp", wantAddr: "db.example.edu:3307"},
		{name: "default port", db: config.Database{Host: "db.example.edu"}, wantNet: "tcp", wantAddr: "db.example.edu:3306"},
		{name: "host:port in host wins over port", db: config.Database{Host: "db.example.edu:3310", Port: 3306}, wantNet: "tcp", wantAddr: "db.example.edu:3310"},
		{name: "IPv6 with port", db: config.Database{Host: "[::1]:3311"}, wantNet: "tcp", wantAddr: "[::1]:3311"},
		{name: "IPv6 without port", db: config.Database{Host: "::1", Port: 3306}, wantNet: "tcp", wantAddr: "[::1]:3306"},
		{name: "socket path as host", db: config.Database{Host: "/var/run/mysqld/mysqld.sock"}, wantNet: "unix", wantAddr: "/var/run/mysqld/mysqld.sock"},
		{name: "socket wins over host", db: config.Database{Host: "localhost", Socket: "/tmp/mysql.sock"}, wantNet: "unix", wantAddr: "/tmp/mysql.sock"},
		{name: "TLS verify", db: config.Database{Host: "h", TLS: "true"}, wantNet: "tcp", wantAddr: "h:3306", wantTLS: "true"},
		{name: "TLS skip-verify", db: config.Database{Host: "h", TLS: "skip-verify"}, wantNet: "tcp", wantAddr: "h:3306", wantTLS: "skip-verify"},
		{name: "TLS preferred", db: config.Database{Host: "h", TLS: "Preferred"}, wantNet: "tcp", wantAddr: "h:3306", wantTLS: "preferred"},
		{name: "TLS off", db: config.Database{Host: "h", TLS: "off"}, wantNet: "tcp", wantAddr: "h:3306"},
		{name: "bad TLS", db: config.Database{Host: "h", TLS: "maybe"}, wantError: "database.tls"},
		{name: "bad port in host", db: config.Database{Host: "h:99999"}, wantError: "bad port"},
		{name: "nothing to connect to", db: config.Database{}, wantError: "no database host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.db.User, tt.db.Password, tt.db.Name = "elentra", "fake-p@ss:w/rd", "entrada"
			dsn, err := elentra.DSN(tt.db)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("DSN error = %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				t.Fatalf("DSN %q does not parse: %v", elentra.RedactDSN(dsn), err)
			}
			if cfg.Net != tt.wantNet || cfg.Addr != tt.wantAddr {
				t.Errorf("address = %s(%s), want %s(%s)", cfg.Net, cfg.Addr, tt.wantNet, tt.wantAddr)
			}
			if cfg.TLSConfig != tt.wantTLS {
				t.Errorf("tls = %q, want %q", cfg.TLSConfig, tt.wantTLS)
			}
			if cfg.User != "elentra" || cfg.Passwd != "fake-p@ss:w/rd" || cfg.DBName != "entrada" {
				t.Errorf("user/password/db = %q/%q/%q, want them unchanged", cfg.User, cfg.Passwd, cfg.DBName)
			}
			if !cfg.ParseTime || cfg.Loc.String() != "UTC" || !strings.Contains(dsn, "charset=utf8mb4") || cfg.Collation != elentra.Collation {
				t.Errorf("parseTime=%v loc=%v collation=%q in %s, want true UTC charset=utf8mb4 %s", cfg.ParseTime, cfg.Loc, cfg.Collation, elentra.RedactDSN(dsn), elentra.Collation)
			}
			if cfg.Timeout != elentra.DialTimeout || cfg.ReadTimeout != elentra.ReadTimeout || cfg.WriteTimeout != elentra.WriteTimeout {
				t.Errorf("timeouts = %v/%v/%v", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
			}
		})
	}
}

func TestDSNFromConfiguredDSNKeepsItAndAddsDefaults(t *testing.T) {
	dsn, err := elentra.DSN(config.Database{DSN: "u:fake@tcp(10.0.0.5:3306)/?readTimeout=30s", Name: "entrada_staging"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "10.0.0.5:3306" || cfg.DBName != "entrada_staging" || !cfg.ParseTime || cfg.ReadTimeout.String() != "30s" || cfg.Loc.String() != "UTC" {
		t.Errorf("got addr=%s db=%s parseTime=%v readTimeout=%v loc=%v", cfg.Addr, cfg.DBName, cfg.ParseTime, cfg.ReadTimeout, cfg.Loc)
	}
	if _, err := elentra.DSN(config.Database{DSN: "u:secret-fake@tcp(h:3306/"}); err == nil || strings.Contains(err.Error(), "secret-fake") {
		t.Errorf("bad DSN error = %v; want an error that does not quote the password", err)
	}
}

func TestRedactDSNNeverPrintsThePassword(t *testing.T) {
	for _, dsn := range []string{
		"elentra:fake-secret@tcp(db:3306)/entrada?parseTime=true",
		"elentra:fake-secret@unix(/run/mysqld/mysqld.sock)/entrada",
		"elentra:fake@secret@tcp(db:3306)/entrada",
		"elentra:fake-secret@tcp(db:3306/broken",
	} {
		got := elentra.RedactDSN(dsn)
		if strings.Contains(got, "secret") {
			t.Errorf("RedactDSN(%q) = %q, still has the password", dsn, got)
		}
		if !strings.Contains(got, "elentra:***@") {
			t.Errorf("RedactDSN(%q) = %q, want user and *** kept", dsn, got)
		}
	}
	if got := elentra.RedactDSN("root@tcp(db:3306)/"); got != "root@tcp(db:3306)/" {
		t.Errorf("DSN without password changed: %q", got)
	}
}
