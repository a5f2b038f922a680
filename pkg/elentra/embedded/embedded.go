// Package embedded runs a MySQL-compatible server in-process (go-mysql-server
// with in-memory storage), for tests and the demo on a machine that has no
// MySQL or MariaDB. The production binary never imports it.
package embedded

import (
	"context"
	"fmt"
	"net"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"
)

// Start listens on 127.0.0.1 at a free port and serves an empty in-memory
// server that accepts user root without a password and lets clients create
// and drop databases. dsnPrefix is a go-sql-driver DSN without a database
// ("root:@tcp(127.0.0.1:PORT)/"); stop closes the server and forgets its data.
func Start(ctx context.Context) (dsnPrefix string, stop func(), err error) {
	// go-mysql-server logs every connection at info level through logrus;
	// tests and the demo want only its errors.
	logrus.SetLevel(logrus.ErrorLevel)
	provider := memory.NewDBProvider()
	engine := sqle.NewDefault(provider)

	// Reserve a free port first: the server's own listener does not tell which
	// port ":0" became before Start blocks.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("embedded mysql: reserve a port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", nil, fmt.Errorf("embedded mysql: release the port: %w", err)
	}

	cfg := server.Config{Protocol: "tcp", Address: addr}
	srv, err := server.NewServer(cfg, engine, sql.NewContext, memory.NewSessionBuilder(provider), nil)
	if err != nil {
		return "", nil, fmt.Errorf("embedded mysql: %w", err)
	}
	go func() { _ = srv.Start() }()
	stop = func() { _ = srv.Close() }
	return fmt.Sprintf("root:@tcp(%s)/", addr), stop, nil
}
