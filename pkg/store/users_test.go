package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func migrated(t *testing.T) *elentratest.TestDB {
	t.Helper()
	return elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		_, err := store.Migrate(ctx, db)
		return err
	}))
}

func TestPutUserRoundTripsAndReplaces(t *testing.T) {
	ctx := context.Background()
	tdb := migrated(t)
	s := store.New(tdb.DB)
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

	first := store.UserRecord{ProxyID: 7, Source: store.SourceMatched, MatchKey: "k1", MatchStatus: reconcile.MatchUnmatched, CheckedAt: t0}
	if err := s.PutUser(ctx, first, t0); err != nil {
		t.Fatal(err)
	}
	second := store.UserRecord{ProxyID: 7, ObjectID: "0f8fad5b-d9cb-469f-a165-70867728950e", Source: store.SourceManual}
	if err := s.PutUser(ctx, second, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserRecords(ctx, []int{7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("UserRecords = %d records, want 1 (user 8 has none)", len(got))
	}
	r := got[7]
	if r.ObjectID != second.ObjectID || r.Source != store.SourceManual || r.MatchKey != "" || !r.CheckedAt.IsZero() || !r.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("record after replace = %+v", r)
	}

	if err := s.DeleteUser(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, 7); err != nil {
		t.Errorf("deleting an absent record: %v", err)
	}
	got, _ = s.UserRecords(ctx, []int{7})
	if len(got) != 0 {
		t.Errorf("record still there after DeleteUser: %+v", got)
	}
}

func TestPutUserRejectsUnknownSource(t *testing.T) {
	tdb := migrated(t)
	err := store.New(tdb.DB).PutUser(context.Background(), store.UserRecord{ProxyID: 1, Source: "guess"}, time.Now())
	if err == nil {
		t.Error("PutUser accepted source \"guess\"")
	}
}
