package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// ErrLocked means another run holds the lock.
var ErrLocked = errors.New("another elentra-teams run holds the lock")

// RunLock is a MySQL named lock held on a dedicated connection for a whole
// run. Named locks belong to a connection: if that connection dies (server
// restart, KILL CONNECTION), the lock is gone and another run may start, so
// the holder watches its connection and reports the loss on Lost.
type RunLock struct {
	Name string

	conn     *sqlx.Conn
	lost     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	lostOnce sync.Once
	err      error
}

// AcquireRunLock takes the named lock for purpose without waiting: held by
// another connection → ErrLocked. The connection is checked every interval.
func AcquireRunLock(ctx context.Context, db *elentra.DB, purpose string, interval time.Duration) (*RunLock, error) {
	name := LockName(db.Name(), purpose)
	conn, err := db.SQLX().Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("take the run lock: %w", err)
	}
	var got sql.NullInt64
	if err := conn.GetContext(ctx, &got, `SELECT GET_LOCK(?, 0)`, name); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take the run lock %s: %w", name, err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return nil, fmt.Errorf("%w (%s); this run does nothing", ErrLocked, name)
	}
	l := &RunLock{Name: name, conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch(interval)
	return l, nil
}

func (l *RunLock) watch(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.Check(context.Background()); err != nil {
				return
			}
		}
	}
}

// Check asks the server whether this connection still holds the lock; if
// not, Lost is closed and the error says why.
func (l *RunLock) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var holder sql.NullInt64
	var self int64
	err := l.conn.QueryRowxContext(ctx, `SELECT IS_USED_LOCK(?), CONNECTION_ID()`, l.Name).Scan(&holder, &self)
	if err == nil && (!holder.Valid || holder.Int64 != self) {
		err = errors.New("the server no longer holds it for this run")
	}
	if err != nil {
		l.markLost(fmt.Errorf("the run lock %s was lost (%v); stopped applying so two runs never write at once", l.Name, err))
	}
	return err
}

func (l *RunLock) markLost(err error) {
	l.lostOnce.Do(func() {
		l.err = err
		close(l.lost)
	})
}

// Lost is closed when the lock's connection is gone.
func (l *RunLock) Lost() <-chan struct{} { return l.lost }

// Err says why the lock was lost (nil while held).
func (l *RunLock) Err() error {
	select {
	case <-l.lost:
		return l.err
	default:
		return nil
	}
}

// Release frees the lock and its connection.
func (l *RunLock) Release() {
	close(l.stop)
	<-l.done
	_, _ = l.conn.ExecContext(context.Background(), `SELECT RELEASE_LOCK(?)`, l.Name)
	_ = l.conn.Close()
}
