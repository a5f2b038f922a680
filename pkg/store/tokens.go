package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
)

// TokensTable holds the OAuth tokens, encrypted by pkg/auth before they get here.
const TokensTable = "msteams_tokens"

// The Store is the database side of auth's token vault.
var _ auth.TokenTable = (*Store)(nil)

type tokenRow struct {
	Name            string         `db:"name"`
	AccessTokenEnc  []byte         `db:"access_token_enc"`
	RefreshTokenEnc []byte         `db:"refresh_token_enc"`
	Expiry          sql.NullTime   `db:"expiry"`
	Scopes          sql.NullString `db:"scopes"`
	AccountObjectID sql.NullString `db:"account_object_id"`
	AccountUPN      sql.NullString `db:"account_upn"`
	ClientType      sql.NullString `db:"client_type"`
	OutlookTimezone sql.NullString `db:"outlook_timezone"`
	AuthorizedAt    sql.NullTime   `db:"authorized_at"`
	RefreshUsedAt   sql.NullTime   `db:"refresh_used_at"`
	Version         int            `db:"version"`
}

// GetToken returns the token row name, or nil when there is none.
func (s *Store) GetToken(ctx context.Context, name string) (*auth.StoredToken, error) {
	var r tokenRow
	err := s.db.Get(ctx, &r, `SELECT name, access_token_enc, refresh_token_enc, expiry, scopes, account_object_id, account_upn,
		client_type, outlook_timezone, authorized_at, refresh_used_at, version FROM `+s.db.Table(TokensTable)+` WHERE name = ?`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the stored token: %w", err)
	}
	return &auth.StoredToken{
		Name: r.Name, AccessTokenEnc: r.AccessTokenEnc, RefreshTokenEnc: r.RefreshTokenEnc, Expiry: r.Expiry.Time.UTC(),
		Scopes: r.Scopes.String, AccountObjectID: r.AccountObjectID.String, AccountUPN: r.AccountUPN.String,
		ClientType: r.ClientType.String, OutlookTimezone: r.OutlookTimezone.String,
		AuthorizedAt: r.AuthorizedAt.Time.UTC(), RefreshUsedAt: r.RefreshUsedAt.Time.UTC(), Version: r.Version,
	}, nil
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()}
}

// PutToken inserts or replaces the row (a new authorization) and sets t.Version.
func (s *Store) PutToken(ctx context.Context, t *auth.StoredToken) error {
	var cur int
	err := s.db.Get(ctx, &cur, `SELECT version FROM `+s.db.Table(TokensTable)+` WHERE name = ?`, t.Name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the stored token: %w", err)
	}
	t.Version = cur + 1
	_, err = s.db.Exec(ctx, `INSERT INTO `+s.db.Table(TokensTable)+`
		(name, access_token_enc, refresh_token_enc, expiry, scopes, account_object_id, account_upn, client_type,
		 outlook_timezone, authorized_at, refresh_used_at, version, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP())
		ON DUPLICATE KEY UPDATE access_token_enc = VALUES(access_token_enc), refresh_token_enc = VALUES(refresh_token_enc),
			expiry = VALUES(expiry), scopes = VALUES(scopes), account_object_id = VALUES(account_object_id),
			account_upn = VALUES(account_upn), client_type = VALUES(client_type), outlook_timezone = VALUES(outlook_timezone),
			authorized_at = VALUES(authorized_at), refresh_used_at = VALUES(refresh_used_at), version = VALUES(version),
			updated_at = VALUES(updated_at)`,
		t.Name, t.AccessTokenEnc, t.RefreshTokenEnc, nullTime(t.Expiry), t.Scopes, nullString(t.AccountObjectID),
		nullString(t.AccountUPN), nullString(t.ClientType), nullString(t.OutlookTimezone), nullTime(t.AuthorizedAt),
		nullTime(t.RefreshUsedAt), t.Version)
	if err != nil {
		return fmt.Errorf("store the token: %w", err)
	}
	return nil
}

// SwapToken writes a refreshed token only if nobody else wrote since
// fromVersion (the UPDATE's WHERE is the compare-and-swap), and reports
// whether it did.
func (s *Store) SwapToken(ctx context.Context, t *auth.StoredToken, fromVersion int) (bool, error) {
	res, err := s.db.Exec(ctx, `UPDATE `+s.db.Table(TokensTable)+`
		SET access_token_enc = ?, refresh_token_enc = ?, expiry = ?, scopes = ?, refresh_used_at = ?,
			version = version + 1, updated_at = UTC_TIMESTAMP()
		WHERE name = ? AND version = ?`,
		t.AccessTokenEnc, t.RefreshTokenEnc, nullTime(t.Expiry), t.Scopes, nullTime(t.RefreshUsedAt), t.Name, fromVersion)
	if err != nil {
		return false, fmt.Errorf("store the refreshed token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 1 {
		t.Version = fromVersion + 1
	}
	return n == 1, nil
}

// DeleteToken removes a stored token (absent is not an error).
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM `+s.db.Table(TokensTable)+` WHERE name = ?`, name)
	return err
}
