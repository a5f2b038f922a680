package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBulkAdd is Graph's limit of members per POST /teams/{id}/members/add.
const maxBulkAdd = 200

// Member is a team membership (aadUserConversationMember). ID is the
// membership id, opaque: it is what PATCH and DELETE take, not the user id.
type Member struct {
	ID          string   `json:"id"`
	UserID      string   `json:"userId"`
	DisplayName string   `json:"displayName"`
	Email       string   `json:"email"`
	Roles       []string `json:"roles"`
}

// IsOwner reports whether roles holds "owner".
func (m Member) IsOwner() bool {
	return slices.ContainsFunc(m.Roles, func(r string) bool { return strings.EqualFold(r, "owner") })
}

func membersPath(teamID string) string { return "/teams/" + escapeSegment(teamID) + "/members" }

// ListMembers returns every member of the team, following paging.
func (c *Client) ListMembers(ctx context.Context, teamID string) ([]Member, error) {
	if teamID == "" {
		return nil, errorf(http.MethodGet, "/teams", "empty team id")
	}
	members, err := listAll[Member](ctx, c, newRequest(http.MethodGet, membersPath(teamID), nil))
	if err == nil && members == nil {
		members = []Member{}
	}
	return members, err
}

// ListMembersOfTeams lists the members of many teams through $batch, 20
// teams a request, following each team's @odata.nextLink. The first map
// holds the members of every team that answered (an empty, non-nil slice for
// a team without members); the second the error of every team that did not
// (e.g. 404 for a team not replicated yet). The error is for the batch as a
// whole.
func (c *Client) ListMembersOfTeams(ctx context.Context, teamIDs []string) (map[string][]Member, map[string]error, error) {
	var ids []string
	seen := map[string]bool{}
	for _, id := range teamIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	members := map[string][]Member{}
	failures := map[string]error{}
	// Rounds of $batch: the first pages of every team, then the next pages
	// of those that have more, until none has. A next page travels in a
	// batch too (its link made relative), never as a request of its own.
	pending := make(map[string]string, len(ids)) // team → URL of its next page
	order := append([]string(nil), ids...)
	for _, id := range ids {
		pending[id] = membersPath(id)
	}
	for len(pending) > 0 {
		var round []string
		for _, id := range order {
			if _, ok := pending[id]; ok {
				round = append(round, id)
			}
		}
		// One $batch at a time, decoded before the next is sent: the raw
		// answers of a large school's listings would otherwise all be held
		// at once (hundreds of MB for 2,000 Teams).
		for start := 0; start < len(round); start += maxBatchSize {
			if err := c.listMembersBatch(ctx, round[start:min(start+maxBatchSize, len(round))], pending, members, failures); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, id := range ids {
		if _, failed := failures[id]; !failed && members[id] == nil {
			members[id] = []Member{}
		}
	}
	return members, failures, nil
}

// listMembersBatch sends one $batch of member listings, one page for each
// team of chunk, and files the answers: members and failures by team, and
// in pending the next page of a team that has one (a team done leaves it).
func (c *Client) listMembersBatch(ctx context.Context, chunk []string, pending map[string]string, members map[string][]Member, failures map[string]error) error {
	reqs := make([]BatchRequest, len(chunk))
	for i, id := range chunk {
		reqs[i] = BatchRequest{ID: strconv.Itoa(i + 1), Method: http.MethodGet, URL: pending[id]}
	}
	resps, err := c.Batch(ctx, reqs)
	if err != nil {
		return err
	}
	for i, r := range resps {
		id := chunk[i]
		delete(pending, id)
		if err := r.Err(); err != nil {
			failures[id] = err
			delete(members, id)
			continue
		}
		var p page[Member]
		if err := r.Decode(&p); err != nil {
			failures[id] = err
			delete(members, id)
			continue
		}
		members[id] = append(members[id], p.Value...)
		if p.NextLink != "" {
			path, rawQuery, err := c.resolveLink(p.NextLink)
			if err != nil {
				failures[id] = err
				delete(members, id)
				continue
			}
			if rawQuery != "" {
				path += "?" + rawQuery
			}
			pending[id] = path
		}
	}
	return nil
}

// AddMember adds one user (POST /teams/{id}/members → 201). This POST is not
// idempotent: an unknown outcome matches ErrOutcomeUnknown; list the members
// before trying again, or use AddMembers, which can be repeated safely.
func (c *Client) AddMember(ctx context.Context, teamID, userID string, owner bool) (*Member, error) {
	if teamID == "" || userID == "" {
		return nil, errorf(http.MethodPost, "/teams", "empty team or user id")
	}
	body := newConversationMember("#microsoft.graph.aadUserConversationMember", MemberAdd{UserID: userID, Owner: owner})
	req, err := newRequest(http.MethodPost, membersPath(teamID), nil).withBody(body)
	if err != nil {
		return nil, err
	}
	var m Member
	if _, err := c.call(ctx, req, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// AddResult is the outcome for one user of a bulk add: Err is nil when the
// user was added (or already was a member).
type AddResult struct {
	UserID string
	Err    *Error
}

type bulkAddResult struct {
	UserID string          `json:"userId"`
	Error  *OperationError `json:"error"`
}

// AddMembers adds users in bulk (POST /teams/{id}/members/add), 200 a call
// as Graph allows. 200 and 207 are read per user; results come back in the
// order of adds. A call that fails as a whole stops the work: the results of
// the calls before it are returned with the error.
func (c *Client) AddMembers(ctx context.Context, teamID string, adds []MemberAdd) ([]AddResult, error) {
	if teamID == "" {
		return nil, errorf(http.MethodPost, "/teams", "empty team id")
	}
	path := membersPath(teamID) + "/add"
	results := make([]AddResult, 0, len(adds))
	for start := 0; start < len(adds); start += maxBulkAdd {
		chunk := adds[start:min(start+maxBulkAdd, len(adds))]
		values := make([]conversationMember, len(chunk))
		for i, a := range chunk {
			// The bulk-add documentation writes the type without '#'.
			values[i] = newConversationMember("microsoft.graph.aadUserConversationMember", a)
		}
		req, err := newRequest(http.MethodPost, path, nil).withBody(map[string]any{"values": values})
		if err != nil {
			return results, err
		}
		var out page[bulkAddResult]
		resp, err := c.call(ctx, req, &out)
		if err != nil {
			return results, err
		}
		byUser := make(map[string]bulkAddResult, len(out.Value))
		for _, r := range out.Value {
			byUser[strings.ToLower(r.UserID)] = r
		}
		for _, a := range chunk {
			res := AddResult{UserID: a.UserID}
			r, ok := byUser[strings.ToLower(a.UserID)]
			switch {
			case !ok:
				res.Err = &Error{Status: resp.status, Code: "MissingResult", Method: http.MethodPost, Route: unescapePath(path),
					Message: fmt.Sprintf("the answer has no result for user %s", a.UserID), RequestID: resp.header.Get("request-id")}
			case r.Error != nil:
				res.Err = &Error{Status: resp.status, Code: r.Error.Code, Method: http.MethodPost, Route: unescapePath(path),
					Message: strings.TrimSpace(r.Error.Message + " (user " + a.UserID + ")"), RequestID: resp.header.Get("request-id")}
			}
			results = append(results, res)
		}
	}
	return results, nil
}

// UpdateMemberRole makes a member owner or plain member (PATCH
// /teams/{id}/members/{membershipId}).
func (c *Client) UpdateMemberRole(ctx context.Context, teamID, membershipID string, owner bool) error {
	if teamID == "" || membershipID == "" {
		return errorf(http.MethodPatch, "/teams", "empty team or membership id")
	}
	roles := []string{}
	if owner {
		roles = []string{"owner"}
	}
	body := map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": roles}
	req, err := newRequest(http.MethodPatch, membersPath(teamID)+"/"+escapeSegment(membershipID), nil).withBody(body)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, req, nil)
	return err
}

// RemoveMember removes a membership (DELETE → 204).
func (c *Client) RemoveMember(ctx context.Context, teamID, membershipID string) error {
	if teamID == "" || membershipID == "" {
		return errorf(http.MethodDelete, "/teams", "empty team or membership id")
	}
	_, err := c.call(ctx, newRequest(http.MethodDelete, membersPath(teamID)+"/"+escapeSegment(membershipID), nil), nil)
	return err
}
