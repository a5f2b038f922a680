package elentra

import (
	"io"
	"log"

	"github.com/go-sql-driver/mysql"
)

// The driver prints connection trouble ("packets.go: unexpected EOF") to
// stderr with the standard logger, outside slog and the quiet default level,
// and cron would mail it. Every such problem also comes back as an error, or
// the pool reconnects, so the driver's own log is discarded.
func init() {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
}
