package reconcile

import (
	"fmt"
	"sort"
	"strings"
)

// MatchStatus is the outcome of looking a user up in the directory, as
// recorded in msteams_users.match_status.
type MatchStatus string

// Match statuses.
const (
	MatchMatched   MatchStatus = "matched"
	MatchUnmatched MatchStatus = "unmatched"
	MatchAmbiguous MatchStatus = "ambiguous"
	MatchNoEmail   MatchStatus = "no_email"
)

// UserToMatch is an Elentra user without a Microsoft Object ID.
type UserToMatch struct {
	ProxyID int
	Name    string
	Email   string
}

// DirectoryUser is a user of the Microsoft directory.
type DirectoryUser struct {
	ID                string
	Mail              string
	UserPrincipalName string
}

// MatchResult is the outcome for one Elentra user.
type MatchResult struct {
	ProxyID    int
	Name       string
	Status     MatchStatus
	ObjectID   string   // when matched
	By         string   // the property that matched
	Candidates []string // when ambiguous
	Detail     string   // why, in words
}

// DirectoryIndex finds directory users by property, case-insensitively.
type DirectoryIndex struct {
	byMail, byUPN map[string][]string
}

// NewDirectoryIndex indexes directory users.
func NewDirectoryIndex(users []DirectoryUser) *DirectoryIndex {
	ix := &DirectoryIndex{byMail: map[string][]string{}, byUPN: map[string][]string{}}
	for _, u := range users {
		ix.Add(u)
	}
	return ix
}

// Add indexes one more directory user (duplicates by id are ignored).
func (ix *DirectoryIndex) Add(u DirectoryUser) {
	add := func(m map[string][]string, k string) {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			return
		}
		for _, id := range m[k] {
			if strings.EqualFold(id, u.ID) {
				return
			}
		}
		m[k] = append(m[k], strings.ToLower(u.ID))
	}
	add(ix.byMail, u.Mail)
	add(ix.byUPN, u.UserPrincipalName)
}

func (ix *DirectoryIndex) lookup(prop, value string) []string {
	v := strings.ToLower(strings.TrimSpace(value))
	switch prop {
	case "mail":
		return ix.byMail[v]
	case "userPrincipalName":
		return ix.byUPN[v]
	}
	return nil
}

// MatchUsers matches each user by the rules in order (identity.match): the
// first rule that finds exactly one directory user decides; two or more is
// ambiguous. A directory user that two Elentra users would both get (shared
// email), or that another Elentra user already holds, matches neither:
// linking the wrong person to a Team is worse than linking nobody.
func MatchUsers(users []UserToMatch, ix *DirectoryIndex, rules []string, taken map[string]int) []MatchResult {
	out := make([]MatchResult, 0, len(users))
	claims := map[string][]int{} // object id → indexes in out
	for _, u := range users {
		r := MatchResult{ProxyID: u.ProxyID, Name: u.Name, Status: MatchUnmatched}
		if strings.TrimSpace(u.Email) == "" {
			r.Status = MatchNoEmail
			r.Detail = "has no email address in Elentra"
			out = append(out, r)
			continue
		}
		r.Detail = fmt.Sprintf("no directory user has %s %s", strings.Join(rules, " or "), u.Email)
		for _, rule := range rules {
			c := ix.lookup(rule, u.Email)
			if len(c) == 1 {
				r.Status, r.ObjectID, r.By, r.Detail = MatchMatched, c[0], rule, ""
				break
			}
			if len(c) > 1 {
				r.Status, r.Candidates = MatchAmbiguous, append([]string(nil), c...)
				sort.Strings(r.Candidates)
				r.Detail = fmt.Sprintf("%d directory users have %s %s", len(c), rule, u.Email)
				break
			}
		}
		if r.Status == MatchMatched {
			claims[r.ObjectID] = append(claims[r.ObjectID], len(out))
		}
		out = append(out, r)
	}
	for id, idx := range claims {
		holder, held := taken[id]
		if len(idx) == 1 && !held {
			continue
		}
		for _, i := range idx {
			r := &out[i]
			r.Status, r.Candidates = MatchAmbiguous, []string{id}
			if held {
				r.Detail = fmt.Sprintf("directory user %s (%s %s) is already linked to Elentra user %d", id, r.By, strings.ToLower(usersEmail(users, r.ProxyID)), holder)
			} else {
				var others []string
				for _, j := range idx {
					if j != i {
						others = append(others, fmt.Sprint(out[j].ProxyID))
					}
				}
				r.Detail = fmt.Sprintf("Elentra users %s share the address that matches directory user %s", strings.Join(append([]string{fmt.Sprint(r.ProxyID)}, others...), ", "), id)
			}
			r.ObjectID, r.By = "", ""
		}
	}
	return out
}

func usersEmail(users []UserToMatch, proxyID int) string {
	for _, u := range users {
		if u.ProxyID == proxyID {
			return u.Email
		}
	}
	return ""
}

// MatchFindings turns unmatched, ambiguous and email-less users into findings.
func MatchFindings(results []MatchResult) []Finding {
	var fs []Finding
	for _, r := range results {
		switch r.Status {
		case MatchMatched:
			continue
		case MatchNoEmail:
			fs = append(fs, Finding{Kind: FindingUserNoEmail, Severity: Warning, ProxyID: r.ProxyID, Name: r.Name,
				Message: r.Detail, Fix: fmt.Sprintf("add the email in Elentra, or run: elentra-teams users link %d OBJECT_ID", r.ProxyID)})
		case MatchAmbiguous:
			fs = append(fs, Finding{Kind: FindingUserAmbiguous, Severity: Warning, ProxyID: r.ProxyID, Name: r.Name,
				Message: r.Detail, Fix: fmt.Sprintf("fix the duplicate address, or run: elentra-teams users link %d OBJECT_ID", r.ProxyID)})
		default:
			fs = append(fs, Finding{Kind: FindingUserUnmatched, Severity: Warning, ProxyID: r.ProxyID, Name: r.Name,
				Message: r.Detail, Fix: fmt.Sprintf("check the address in Elentra and the directory, or run: elentra-teams users link %d OBJECT_ID", r.ProxyID)})
		}
	}
	sortFindings(fs)
	return fs
}
