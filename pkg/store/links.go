package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LinkResult says what `users link` does or did.
type LinkResult struct {
	ProxyID  int    `json:"proxy_id"`
	Name     string `json:"name"`
	ObjectID string `json:"object_id"`
	// Previous is the Object ID the user had before, and PreviousSource its
	// source; "" when none.
	Previous       string         `json:"previous_object_id"`
	PreviousSource ObjectIDSource `json:"previous_source"`
	// Change is false when the user already has this manual link.
	Change bool `json:"change"`
	// SharedWith are the other users whose Object ID this is (linked anyway
	// with force).
	SharedWith []int `json:"shared_with"`
}

// ObjectIDTakenError: the Object ID is another user's; --force links it
// anyway.
type ObjectIDTakenError struct {
	ObjectID string
	Holders  []string // "user 17 (Jane Doe, jane@…, matched by sync-users)"
}

func (e *ObjectIDTakenError) Error() string {
	return fmt.Sprintf("Object ID %s is already linked to %s; link it anyway with --force (one person with two Elentra accounts), or unlink that user first",
		e.ObjectID, strings.Join(e.Holders, " and "))
}

// PlanLink checks a manual link of proxyID to objectID (a GUID, checked by
// the caller): the user must exist (else *UnknownIDsError), and no other user
// may have this Object ID unless force (else *ObjectIDTakenError).
func (s *Store) PlanLink(ctx context.Context, proxyID int, objectID string, force bool) (*LinkResult, error) {
	objectID = strings.ToLower(strings.TrimSpace(objectID))
	// The user and whoever may hold the Object ID are read together.
	candidates, err := s.objectIDCandidates(ctx, objectID)
	if err != nil {
		return nil, err
	}
	users, err := s.Users(ctx, append(candidates, proxyID))
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(users, func(u User) bool { return u.ProxyID == proxyID })
	if i < 0 {
		return nil, &UnknownIDsError{Kind: "user", Problems: []string{fmt.Sprintf("user %d does not exist in Elentra", proxyID)}, Write: true}
	}
	u := users[i]
	res := &LinkResult{ProxyID: proxyID, Name: u.Name(), ObjectID: objectID,
		Previous: strings.ToLower(u.ObjectID), PreviousSource: u.ObjectIDSource, SharedWith: []int{}}
	res.Change = !(u.ObjectIDSource == SourceManual && strings.EqualFold(u.ObjectID, objectID))
	holders := holdersOf(users, objectID)
	var names []string
	for _, h := range holders {
		if h.ProxyID == proxyID {
			continue
		}
		res.SharedWith = append(res.SharedWith, h.ProxyID)
		names = append(names, fmt.Sprintf("user %d (%s, %s, %s)", h.ProxyID, h.Name(), h.Email, SourceText(h.ObjectIDSource)))
	}
	if len(names) > 0 && !force {
		return nil, &ObjectIDTakenError{ObjectID: objectID, Holders: names}
	}
	return res, nil
}

// ApplyLink stores the manual link; sync-users never overwrites it.
func (s *Store) ApplyLink(ctx context.Context, res *LinkResult, now time.Time) error {
	if !res.Change {
		return nil
	}
	return s.PutUser(ctx, UserRecord{ProxyID: res.ProxyID, ObjectID: res.ObjectID, Source: SourceManual}, now)
}

// UnlinkResult says what `users unlink` does or did.
type UnlinkResult struct {
	ProxyID  int    `json:"proxy_id"`
	ObjectID string `json:"object_id"`
	// Change is false when the user has no manual link.
	Change bool `json:"change"`
	// Source is the source of the Object ID the user keeps when there is no
	// manual link to remove ("" for none).
	Source ObjectIDSource `json:"source"`
}

// PlanUnlink finds the manual link of proxyID. A manual link of a user
// Elentra no longer has can still be removed; a user that has neither is an
// *UnknownIDsError.
func (s *Store) PlanUnlink(ctx context.Context, proxyID int) (*UnlinkResult, error) {
	records, err := s.UserRecords(ctx, []int{proxyID})
	if err != nil {
		return nil, err
	}
	res := &UnlinkResult{ProxyID: proxyID}
	if rec, ok := records[proxyID]; ok && rec.Source == SourceManual {
		res.ObjectID, res.Change = rec.ObjectID, true
		return res, nil
	}
	users, err := s.Users(ctx, []int{proxyID})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, &UnknownIDsError{Kind: "user", Problems: []string{fmt.Sprintf("user %d does not exist in Elentra", proxyID)}, Write: true}
	}
	res.ObjectID, res.Source = strings.ToLower(users[0].ObjectID), users[0].ObjectIDSource
	return res, nil
}

// ApplyUnlink removes the manual link: sync-users matches the user again at
// its next run.
func (s *Store) ApplyUnlink(ctx context.Context, res *UnlinkResult) error {
	if !res.Change {
		return nil
	}
	_, err := s.db.Exec(ctx, `DELETE FROM `+s.db.Table(UsersTable)+` WHERE proxy_id = ? AND source = ?`, res.ProxyID, SourceManual)
	if err != nil {
		return fmt.Errorf("unlink user %d: %w", res.ProxyID, err)
	}
	return nil
}

// SourceText says where an Object ID came from, in words.
func SourceText(source ObjectIDSource) string {
	switch source {
	case SourceManual:
		return "linked by hand"
	case SourceProfile:
		return "from elentra.object_id_column"
	case SourceMatched:
		return "matched by sync-users"
	}
	return string(source)
}
