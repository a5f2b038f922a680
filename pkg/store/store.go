// Package store keeps the tool's own tables (msteams_*, InnoDB, utf8mb4, in
// Elentra's DATABASE_NAME): their embedded, versioned migrations and the
// functions that read and write them. Commands add their own functions on
// *Store as they need them.
package store

import (
	"database/sql"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// Store reads and writes the tool's tables through an Elentra DB.
type Store struct {
	db *elentra.DB
	// installation is the id the mappings it records are marked with
	// (CheckInstallation sets it); "" marks nothing.
	installation string
}

// New returns a Store over db.
func New(db *elentra.DB) *Store { return &Store{db: db} }

// DB is the underlying Elentra connection.
func (s *Store) DB() *elentra.DB { return s.db }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
