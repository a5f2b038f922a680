package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// RunsTable records every run of a sync command.
const RunsTable = "msteams_runs"

// Run is a row of msteams_runs.
type Run struct {
	ID       int64      `db:"run_id" json:"run_id"`
	Command  string     `db:"command" json:"command"`
	Started  time.Time  `db:"started_at" json:"started_at"`
	Finished *time.Time `db:"finished_at" json:"finished_at,omitempty"`
	ExitCode *int       `db:"exit_code" json:"exit_code,omitempty"`
	DryRun   bool       `db:"dry_run" json:"dry_run"`
	Summary  string     `db:"summary" json:"summary,omitempty"`
	Error    string     `db:"error" json:"error,omitempty"`
	Host     string     `db:"host" json:"host,omitempty"`
	PID      int        `db:"pid" json:"pid,omitempty"`
}

// StartRun records that a run of command began, and returns its id.
func (s *Store) StartRun(ctx context.Context, command string, now time.Time) (int64, error) {
	host, _ := os.Hostname()
	res, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(RunsTable)+` (command, started_at, dry_run, host, pid) VALUES (?, ?, 0, ?, ?)`,
		command, now.UTC(), host, os.Getpid())
	if err != nil {
		return 0, fmt.Errorf("record the run: %w", err)
	}
	return res.LastInsertId()
}

// FinishRun records how a run ended: exit code, a JSON summary of counts, the
// JSON report and the error that stopped it, if any.
func (s *Store) FinishRun(ctx context.Context, id int64, now time.Time, exitCode int, summary, report, errText string) error {
	_, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(RunsTable)+` SET finished_at = ?, exit_code = ?, summary = ?, report = ?, error = ? WHERE run_id = ?`,
		now.UTC(), exitCode, summary, report, sql.NullString{String: errText, Valid: errText != ""}, id)
	if err != nil {
		return fmt.Errorf("record the end of run %d: %w", id, err)
	}
	return nil
}

// LastRunSummary returns the summary of the latest run of command (by run
// id; dry runs are never recorded), "" while that run has not finished;
// found is false when the command never ran.
func (s *Store) LastRunSummary(ctx context.Context, command string) (summary string, found bool, err error) {
	var rows []sql.NullString
	err = s.db.Select(ctx, &rows, `SELECT summary FROM `+s.db.Table(RunsTable)+` WHERE command = ? AND dry_run = 0 ORDER BY run_id DESC LIMIT 1`, command)
	if err != nil {
		return "", false, fmt.Errorf("read the last %s run: %w", command, err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0].String, true, nil
}

type runRow struct {
	ID       int64          `db:"run_id"`
	Command  string         `db:"command"`
	Started  time.Time      `db:"started_at"`
	Finished sql.NullTime   `db:"finished_at"`
	ExitCode sql.NullInt64  `db:"exit_code"`
	DryRun   bool           `db:"dry_run"`
	Summary  sql.NullString `db:"summary"`
	Error    sql.NullString `db:"error"`
	Host     sql.NullString `db:"host"`
	PID      sql.NullInt64  `db:"pid"`
}

// RecentRuns returns the last runs, newest first (limit per command when
// perCommand is true, else in all).
func (s *Store) RecentRuns(ctx context.Context, limit int) ([]Run, error) {
	var rows []runRow
	err := s.db.Select(ctx, &rows, `SELECT run_id, command, started_at, finished_at, exit_code, dry_run, summary, error, host, pid
		FROM `+s.db.Table(RunsTable)+` ORDER BY started_at DESC, run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read recent runs: %w", err)
	}
	out := make([]Run, 0, len(rows))
	for _, r := range rows {
		run := Run{ID: r.ID, Command: r.Command, Started: r.Started.UTC(), DryRun: r.DryRun, Summary: r.Summary.String,
			Error: r.Error.String, Host: r.Host.String, PID: int(r.PID.Int64)}
		if r.Finished.Valid {
			t := r.Finished.Time.UTC()
			run.Finished = &t
		}
		if r.ExitCode.Valid {
			c := int(r.ExitCode.Int64)
			run.ExitCode = &c
		}
		out = append(out, run)
	}
	return out, nil
}
