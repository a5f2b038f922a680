package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// listDirectoryAbove: with more users to match than this, one paged listing
// of the directory (999 a page) is cheaper than filter look-ups in $batch
// (one request per 20 look-ups, one look-up per user and rule).
const listDirectoryAbove = 100

// MatchKey identifies what a match was tried with: the address and the
// rule. A failed match is not tried again until either changes.
func MatchKey(email string, rules []string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email)) + "|" + strings.Join(rules, ",")))
	return hex.EncodeToString(sum[:])
}

func syncUsers(ctx context.Context, env *Env, r *Report) error {
	cfg := env.Config
	var users []store.User
	if env.AllUsers {
		ids, err := env.DB.ActiveUserIDs(ctx, cfg.Elentra.AppID, cfg.Elentra.OrganisationID, env.Now())
		if err != nil {
			return err
		}
		if users, err = env.Store.Users(ctx, ids); err != nil {
			return err
		}
	} else {
		sc, err := readScope(ctx, env, needOwners|needMembers)
		if err != nil {
			return err
		}
		for _, u := range sc.Users {
			users = append(users, u)
		}
		sort.Slice(users, func(i, j int) bool { return users[i].ProxyID < users[j].ProxyID })
	}

	rules := cfg.Identity.Match
	var without []int
	linked := map[string]int{}
	for _, u := range users {
		if u.ObjectID == "" {
			without = append(without, u.ProxyID)
		} else {
			linked[strings.ToLower(u.ObjectID)] = u.ProxyID
		}
	}
	records, err := env.Store.UserRecords(ctx, without)
	if err != nil {
		return err
	}
	var toMatch []reconcile.UserToMatch
	var remembered []reconcile.MatchResult
	for _, u := range users {
		if u.ObjectID != "" {
			continue
		}
		rec, ok := records[u.ProxyID]
		key := MatchKey(u.Email, rules)
		if ok && rec.MatchKey == key && rec.MatchStatus != "" && rec.MatchStatus != reconcile.MatchMatched {
			// Tried with this address and rule before: report, don't look up.
			remembered = append(remembered, reconcile.MatchResult{ProxyID: u.ProxyID, Name: u.Name(), Status: rec.MatchStatus,
				Detail: rememberedDetail(rec.MatchStatus, u.Email, rules)})
			continue
		}
		toMatch = append(toMatch, reconcile.UserToMatch{ProxyID: u.ProxyID, Name: u.Name(), Email: u.Email})
	}

	ix, lookupFailed, err := directoryFor(ctx, env, toMatch, rules)
	if err != nil {
		return err
	}
	if len(lookupFailed) > 0 {
		// Users whose look-up failed are neither matched nor remembered as
		// unmatched: the next run looks them up again.
		kept := toMatch[:0]
		for _, u := range toMatch {
			if err, failed := lookupFailed[u.ProxyID]; failed {
				f := failure(reconcile.KindMatchUser, 0, 0, "", err)
				f.ProxyID = u.ProxyID
				r.fail(f)
				continue
			}
			kept = append(kept, u)
		}
		toMatch = kept
	}
	// Which matched accounts other Elentra users already hold.
	var candidates []string
	results := reconcile.MatchUsers(toMatch, ix, rules, linked)
	for _, res := range results {
		if res.Status == reconcile.MatchMatched {
			candidates = append(candidates, res.ObjectID)
		}
	}
	if len(candidates) > 0 {
		holders, err := env.Store.ObjectIDHolders(ctx, candidates)
		if err != nil {
			return err
		}
		for id, p := range holders {
			linked[id] = p
		}
		results = reconcile.MatchUsers(toMatch, ix, rules, linked)
	}

	emails := map[int]string{}
	for _, u := range users {
		emails[u.ProxyID] = u.Email
	}
	plan := reconcile.Plan{Findings: reconcile.MatchFindings(append(results, remembered...))}
	for _, res := range results {
		if res.Status == reconcile.MatchMatched {
			plan.Actions = append(plan.Actions, reconcile.Action{Kind: reconcile.KindMatchUser, ProxyID: res.ProxyID, UserID: res.ObjectID,
				Reason: fmt.Sprintf("%s matches by %s", res.Name, res.By)})
		}
	}
	r.planned(plan)
	if env.DryRun || len(results) == 0 {
		return nil
	}
	now := env.Now()
	recs := make([]store.UserRecord, 0, len(results))
	for _, res := range results {
		recs = append(recs, store.UserRecord{ProxyID: res.ProxyID, ObjectID: res.ObjectID, Source: store.SourceMatched,
			MatchKey: MatchKey(emails[res.ProxyID], rules), MatchStatus: res.Status, CheckedAt: now})
	}
	if err := env.Store.PutUsers(ctx, recs, now); err != nil {
		return err
	}
	r.applied(reconcile.KindMatchUser, len(plan.Actions))
	return nil
}

func rememberedDetail(status reconcile.MatchStatus, email string, rules []string) string {
	switch status {
	case reconcile.MatchNoEmail:
		return "has no email address in Elentra"
	case reconcile.MatchAmbiguous:
		return fmt.Sprintf("%s matched more than one directory user (or one another Elentra user holds) when last looked up", email)
	}
	return fmt.Sprintf("no directory user had %s %s when last looked up (tried again when the address or identity.match changes)", strings.Join(rules, " or "), email)
}

// directoryFor finds the directory users the matches need: filter look-ups
// in $batch for a few users, one paged listing of the directory for many.
// The second result names the users whose look-up failed.
func directoryFor(ctx context.Context, env *Env, users []reconcile.UserToMatch, rules []string) (*reconcile.DirectoryIndex, map[int]error, error) {
	ix := reconcile.NewDirectoryIndex(nil)
	var lookups []reconcile.UserToMatch
	for _, u := range users {
		if strings.TrimSpace(u.Email) != "" {
			lookups = append(lookups, u)
		}
	}
	if len(lookups) == 0 {
		return ix, nil, nil
	}
	if len(lookups) > listDirectoryAbove {
		err := env.Graph.ListUsers(ctx, func(page []msgraph.User) error {
			addDirectoryUsers(ix, page)
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list the directory: %w", err)
		}
		return ix, nil, nil
	}
	var reqs []msgraph.UserLookup
	var owner []int // the user each look-up is for
	for _, u := range lookups {
		for _, rule := range rules {
			reqs = append(reqs, msgraph.UserLookup{Property: rule, Value: strings.TrimSpace(u.Email)})
			owner = append(owner, u.ProxyID)
		}
	}
	found, err := env.Graph.FindUsersEach(ctx, reqs)
	if err != nil {
		return nil, nil, fmt.Errorf("look users up in the directory: %w", err)
	}
	failed := map[int]error{}
	for i, res := range found {
		if res.Err != nil {
			failed[owner[i]] = fmt.Errorf("look the user up in the directory: %w", res.Err)
			continue
		}
		addDirectoryUsers(ix, res.Found)
	}
	return ix, failed, nil
}

func addDirectoryUsers(ix *reconcile.DirectoryIndex, users []msgraph.User) {
	for _, u := range users {
		ix.Add(reconcile.DirectoryUser{ID: u.ID, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName})
	}
}
