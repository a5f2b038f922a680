package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Team is a Microsoft Team. Its id is the id of its group.
type Team struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsArchived  bool   `json:"isArchived"`
	WebURL      string `json:"webUrl"`
}

// AsyncOperation is a teamsAsyncOperation (graph-wire.md §2.1).
type AsyncOperation struct {
	ID                     string          `json:"id"`
	OperationType          string          `json:"operationType"`
	Status                 string          `json:"status"` // notStarted, inProgress, succeeded, failed
	AttemptsCount          int             `json:"attemptsCount"`
	CreatedDateTime        string          `json:"createdDateTime"`
	LastActionDateTime     string          `json:"lastActionDateTime"`
	TargetResourceID       string          `json:"targetResourceId"`
	TargetResourceLocation string          `json:"targetResourceLocation"`
	Error                  *OperationError `json:"error"`
}

// OperationError is the error of a failed teamsAsyncOperation.
type OperationError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// teamFromGroupBody is the small settings body of PUT /groups/{id}/team; the
// values are the ones a class team wants (no Giphy surprises).
var teamFromGroupBody = map[string]any{
	"memberSettings": map[string]any{
		"allowCreateUpdateChannels": true,
	},
	"messagingSettings": map[string]any{
		"allowUserEditMessages":   true,
		"allowUserDeleteMessages": true,
	},
	"funSettings": map[string]any{
		"allowGiphy":         true,
		"giphyContentRating": "strict",
	},
}

// CreateTeamFromGroup makes the group a Team (PUT /groups/{id}/team → 201).
// Right after the group was created the call may answer 404 (replication):
// it is retried TeamCreate404Retries times, TeamCreate404Delay apart. A 409
// means the group already has its team (perhaps made by an attempt whose 404
// lied): the team is fetched and returned. That new team can itself be hidden
// by replication for a while; its 404s are waited out with the same retries,
// and if it stays hidden a Team holding only its id is returned, since the
// 409 proved it exists.
func (c *Client) CreateTeamFromGroup(ctx context.Context, groupID string) (*Team, error) {
	if groupID == "" {
		return nil, errorf(http.MethodPut, "/groups", "empty group id")
	}
	path := "/groups/" + escapeSegment(groupID) + "/team"
	for retry := 0; ; retry++ {
		req, err := newRequest(http.MethodPut, path, nil).withBody(teamFromGroupBody)
		if err != nil {
			return nil, err
		}
		var t Team
		_, err = c.call(ctx, req, &t)
		switch {
		case err == nil:
			return &t, nil
		case IsConflict(err):
			return c.teamAfterConflict(ctx, groupID, retry)
		case isStatus(err, http.StatusNotFound) && retry < c.opts.TeamCreate404Retries:
			c.countRetry()
			if err := c.opts.Sleep(ctx, c.opts.TeamCreate404Delay); err != nil {
				return nil, fmt.Errorf("graph: PUT %s: %w", routeTemplate(path), err)
			}
		default:
			return nil, err
		}
	}
}

// teamAfterConflict reads the team a 409 said exists, waiting out 404s with
// the replication retries the PUT left unused.
func (c *Client) teamAfterConflict(ctx context.Context, groupID string, retriesUsed int) (*Team, error) {
	for retry := retriesUsed; ; retry++ {
		t, err := c.GetTeam(ctx, groupID)
		switch {
		case err == nil:
			return t, nil
		case !isStatus(err, http.StatusNotFound):
			return nil, err
		case retry >= c.opts.TeamCreate404Retries:
			return &Team{ID: groupID}, nil
		}
		c.countRetry()
		if err := c.opts.Sleep(ctx, c.opts.TeamCreate404Delay); err != nil {
			return nil, fmt.Errorf("graph: GET /teams/{id}: %w", err)
		}
	}
}

func isStatus(err error, status int) bool {
	ge, ok := AsError(err)
	return ok && ge.Status == status
}

// MemberAdd names a user to add to a team, as owner or plain member.
type MemberAdd struct {
	UserID string
	Owner  bool
}

// TeamCreate describes POST /teams. Either a new team from a template
// (DisplayName required, Members optional: with application permissions the
// first owner must be among them), or a team on an existing group (GroupID:
// then DisplayName, Visibility and Members must be empty, as Graph demands).
type TeamCreate struct {
	Template    string // teamsTemplates id; default "standard"
	DisplayName string
	Description string
	Visibility  string
	GroupID     string
	Members     []MemberAdd
}

type conversationMember struct {
	ODataType string   `json:"@odata.type"`
	Roles     []string `json:"roles"`
	UserBind  string   `json:"user@odata.bind"`
}

func newConversationMember(odataType string, m MemberAdd) conversationMember {
	roles := []string{}
	if m.Owner {
		roles = []string{"owner"}
	}
	return conversationMember{ODataType: odataType, Roles: roles, UserBind: userBind(m.UserID)}
}

func userBind(userID string) string {
	return bindBaseURL + "/users(" + escapeSegment(odataString(userID)) + ")"
}

// CreateTeam sends POST /teams (202 Accepted), then polls the operation
// named by Location until it succeeds, and returns the team id taken from
// Content-Location. A failed operation is returned as *Error carrying the
// operation's error code and message. POST /teams is not idempotent: an
// unknown outcome matches ErrOutcomeUnknown.
func (c *Client) CreateTeam(ctx context.Context, in TeamCreate) (string, error) {
	template := in.Template
	if template == "" {
		template = "standard"
	}
	body := map[string]any{
		"template@odata.bind": bindBaseURL + "/teamsTemplates(" + escapeSegment(odataString(template)) + ")",
	}
	if in.GroupID != "" {
		if in.DisplayName != "" || in.Visibility != "" || len(in.Members) > 0 {
			return "", errorf(http.MethodPost, "/teams", "a team on an existing group takes no displayName, visibility or members")
		}
		body["group@odata.bind"] = bindBaseURL + "/groups(" + escapeSegment(odataString(in.GroupID)) + ")"
	} else {
		if in.DisplayName == "" {
			return "", errorf(http.MethodPost, "/teams", "displayName is required")
		}
		body["displayName"] = in.DisplayName
		if in.Visibility != "" {
			body["visibility"] = in.Visibility
		}
		if len(in.Members) > 0 {
			members := make([]conversationMember, len(in.Members))
			for i, m := range in.Members {
				members[i] = newConversationMember("#microsoft.graph.aadUserConversationMember", m)
			}
			body["members"] = members
		}
	}
	if in.Description != "" {
		body["description"] = in.Description
	}
	req, err := newRequest(http.MethodPost, "/teams", nil).withBody(body)
	if err != nil {
		return "", err
	}
	resp, err := c.call(ctx, req, nil)
	if err != nil {
		return "", err
	}
	teamID := keyOf(resp.header.Get("Content-Location"), "teams")
	location := resp.header.Get("Location")
	if location == "" {
		if teamID == "" {
			return "", errorf(http.MethodPost, "/teams", "%d without Location or Content-Location", resp.status)
		}
		return teamID, nil
	}
	if teamID == "" {
		teamID = keyOf(location, "teams")
	}
	op, err := c.WaitOperation(ctx, location)
	if err != nil {
		return teamID, err
	}
	if teamID == "" {
		teamID = op.TargetResourceID
	}
	return teamID, nil
}

// keyOf extracts the key of collection from an OData path such as
// /teams('abc')/operations('x') or /teams/abc.
func keyOf(location, collection string) string {
	p := location
	if u, err := url.Parse(location); err == nil {
		p = u.Path
	}
	prefix := "/" + collection
	i := strings.Index(p, prefix)
	if i < 0 {
		return ""
	}
	rest := p[i+len(prefix):]
	switch {
	case strings.HasPrefix(rest, "('"):
		end := strings.Index(rest[2:], "')")
		if end < 0 {
			return ""
		}
		return strings.ReplaceAll(rest[2:2+end], "''", "'")
	case strings.HasPrefix(rest, "/"):
		rest = rest[1:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	return ""
}

// WaitOperation polls a teamsAsyncOperation (GET /v1.0 + location) every
// PollInterval until it succeeds (returned) or fails (*Error with the
// operation's code and message), for at most OperationTimeout.
func (c *Client) WaitOperation(ctx context.Context, location string) (*AsyncOperation, error) {
	path, rawQuery, err := c.resolveLink(location)
	if err != nil {
		return nil, err
	}
	started := c.now()
	for {
		req := &request{method: http.MethodGet, path: path, rawQuery: rawQuery, replayable: true, readOnly: true}
		var op AsyncOperation
		resp, err := c.call(ctx, req, &op)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.EqualFold(op.Status, "succeeded"):
			return &op, nil
		case strings.EqualFold(op.Status, "failed") || op.Error != nil:
			ge := &Error{
				Status:    resp.status,
				Code:      "OperationFailed",
				Message:   "the " + op.OperationType + " operation failed",
				RequestID: resp.header.Get("request-id"),
				Method:    http.MethodGet,
				Route:     unescapePath(path),
			}
			if op.Error != nil {
				ge.Code, ge.Message = op.Error.Code, op.Error.Message
			}
			return &op, ge
		}
		if c.now().Sub(started)+c.opts.PollInterval > c.opts.OperationTimeout {
			return &op, fmt.Errorf("graph: GET %s: operation still %s after %s", routeTemplate(path), op.Status, c.opts.OperationTimeout)
		}
		if err := c.opts.Sleep(ctx, c.opts.PollInterval); err != nil {
			return &op, fmt.Errorf("graph: GET %s: %w", routeTemplate(path), err)
		}
	}
}

// GetTeam returns the team with id (= its group id).
func (c *Client) GetTeam(ctx context.Context, id string) (*Team, error) {
	if id == "" {
		return nil, errorf(http.MethodGet, "/teams", "empty team id")
	}
	var t Team
	if _, err := c.call(ctx, newRequest(http.MethodGet, "/teams/"+escapeSegment(id), nil), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// TeamUpdate holds the team properties to change; nil leaves one as is.
type TeamUpdate struct {
	DisplayName *string `json:"displayName,omitempty"`
	Description *string `json:"description,omitempty"`
}

// UpdateTeam patches the team (PATCH /teams/{id} → 204). An update with
// nothing to change sends nothing.
func (c *Client) UpdateTeam(ctx context.Context, id string, in TeamUpdate) error {
	if id == "" {
		return errorf(http.MethodPatch, "/teams", "empty team id")
	}
	if in.DisplayName == nil && in.Description == nil {
		return nil
	}
	req, err := newRequest(http.MethodPatch, "/teams/"+escapeSegment(id), nil).withBody(in)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, req, nil)
	return err
}

// ArchiveTeam archives the team (POST /teams/{id}/archive → 202 + Location)
// and waits for the operation.
func (c *Client) ArchiveTeam(ctx context.Context, id string) error {
	return c.teamAction(ctx, id, "archive")
}

// UnarchiveTeam restores an archived team and waits for the operation.
func (c *Client) UnarchiveTeam(ctx context.Context, id string) error {
	return c.teamAction(ctx, id, "unarchive")
}

func (c *Client) teamAction(ctx context.Context, id, action string) error {
	if id == "" {
		return errorf(http.MethodPost, "/teams", "empty team id")
	}
	req := newRequest(http.MethodPost, "/teams/"+escapeSegment(id)+"/"+action, nil)
	resp, err := c.call(ctx, req, nil)
	if err != nil {
		return err
	}
	if location := resp.header.Get("Location"); location != "" {
		_, err = c.WaitOperation(ctx, location)
	}
	return err
}

// ListJoinedTeams returns the teams the mailbox's user is a member or owner
// of ("me" or a user id). Teams caps that at 1,000 per user.
func (c *Client) ListJoinedTeams(ctx context.Context, mailbox string) ([]Team, error) {
	q := query{}.add("$select", "id,displayName,description,isArchived")
	return listAll[Team](ctx, c, newRequest(http.MethodGet, mailboxPath(mailbox)+"/joinedTeams", q))
}

// JoinedTeamsCount is len(ListJoinedTeams), for the warning near the cap.
func (c *Client) JoinedTeamsCount(ctx context.Context, mailbox string) (int, error) {
	n := 0
	q := query{}.add("$select", "id")
	err := listPages(ctx, c, newRequest(http.MethodGet, mailboxPath(mailbox)+"/joinedTeams", q), func(p []json.RawMessage) error {
		n += len(p)
		return nil
	})
	return n, err
}
