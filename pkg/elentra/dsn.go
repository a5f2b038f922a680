package elentra

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// Connection timeouts. A cron job must fail rather than hang on a dead server;
// the read timeout is generous because the set-based reads of a large school
// return tens of thousands of rows in one result.
const (
	DialTimeout  = 10 * time.Second
	ReadTimeout  = 5 * time.Minute
	WriteTimeout = 1 * time.Minute
)

// Collation is the connection collation: utf8mb4, so that names such as
// "Zoë" or emoji in a description survive whatever Elentra's 3-byte utf8 tables
// hold.
const Collation = "utf8mb4_unicode_ci"

// DSN builds the go-sql-driver DSN for db: from db.DSN when set (adding
// parseTime, UTC and the timeouts where it leaves them out), else from its
// parts. Host may be "host", "host:port", "[v6]:port" or, as Elentra's
// DATABASE_HOST allows, a socket path starting with "/"; Socket wins over Host.
// TLS is off (or ""/false), true, skip-verify or preferred. The default
// database is db.Name (unless db.DSN names one).
func DSN(db config.Database) (string, error) {
	var cfg *mysql.Config
	if db.DSN != "" {
		parsed, err := mysql.ParseDSN(db.DSN)
		if err != nil {
			// The driver's message may quote the DSN, password included.
			return "", fmt.Errorf("database.dsn is not a valid go-sql-driver DSN (user:password@tcp(host:3306)/entrada)")
		}
		cfg = parsed
		if cfg.DBName == "" {
			cfg.DBName = db.Name
		}
	} else {
		cfg = mysql.NewConfig()
		cfg.User = db.User
		cfg.Passwd = db.Password
		cfg.DBName = db.Name
		if err := setAddress(cfg, db); err != nil {
			return "", err
		}
		switch strings.ToLower(strings.TrimSpace(db.TLS)) {
		case "", "off", "false":
		case "true", "skip-verify", "preferred":
			cfg.TLSConfig = strings.ToLower(strings.TrimSpace(db.TLS))
		default:
			return "", fmt.Errorf("database.tls %q is not a TLS mode (use off, true, skip-verify or preferred)", db.TLS)
		}
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Collation == "" {
		if err := cfg.Apply(mysql.Charset("utf8mb4", Collation)); err != nil {
			return "", fmt.Errorf("database connection charset: %w", err)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = ReadTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = WriteTimeout
	}
	return cfg.FormatDSN(), nil
}

func setAddress(cfg *mysql.Config, db config.Database) error {
	port := db.Port
	if port == 0 {
		port = 3306
	}
	host := strings.TrimSpace(db.Host)
	switch {
	case db.Socket != "":
		cfg.Net, cfg.Addr = "unix", db.Socket
	case strings.HasPrefix(host, "/"):
		cfg.Net, cfg.Addr = "unix", host
	case host == "":
		return fmt.Errorf("no database host or socket is configured")
	default:
		cfg.Net = "tcp"
		if h, p, err := net.SplitHostPort(host); err == nil {
			// DATABASE_HOST "db.example.edu:3307": the port in the host wins,
			// since Elentra has no separate port setting.
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("database host %q has a bad port", host)
			}
			cfg.Addr = net.JoinHostPort(h, p)
		} else {
			cfg.Addr = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
		}
	}
	return nil
}

// RedactDSN returns dsn with its password replaced by "***", for messages and
// logs. A DSN that does not parse is redacted from its first ":" to its last
// "@", so that no form of it can leak a password.
func RedactDSN(dsn string) string {
	if cfg, err := mysql.ParseDSN(dsn); err == nil {
		if cfg.Passwd == "" {
			return dsn
		}
		cfg.Passwd = "***"
		return cfg.FormatDSN()
	}
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if colon := strings.Index(dsn[:at], ":"); colon >= 0 {
			return dsn[:colon+1] + "***" + dsn[at:]
		}
	}
	return dsn
}
