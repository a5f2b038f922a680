package msgraph

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

const groupSelect = "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"

// maxGroupCreateRefs is Graph's limit of owners plus members bound in one
// POST /groups.
const maxGroupCreateRefs = 20

// Group is a Microsoft 365 group, the directory side of a Team.
type Group struct {
	ID                          string   `json:"id"`
	DisplayName                 string   `json:"displayName"`
	Description                 string   `json:"description"`
	MailNickname                string   `json:"mailNickname"`
	Visibility                  string   `json:"visibility"`
	ResourceProvisioningOptions []string `json:"resourceProvisioningOptions"`
}

// HasTeam reports whether the group has been made a Team
// (resourceProvisioningOptions contains "Team").
func (g Group) HasTeam() bool {
	return slices.ContainsFunc(g.ResourceProvisioningOptions, func(s string) bool { return strings.EqualFold(s, "Team") })
}

// GroupCreate describes a new Microsoft 365 group. MailNickname is chosen by
// the caller so the group can be found again after a crash.
type GroupCreate struct {
	DisplayName             string
	Description             string
	MailNickname            string
	Visibility              string // "Private" or "Public"; empty lets Graph decide
	OwnerIDs                []string
	MemberIDs               []string
	ResourceBehaviorOptions []string
}

type groupCreateBody struct {
	DisplayName             string   `json:"displayName"`
	Description             string   `json:"description,omitempty"`
	MailNickname            string   `json:"mailNickname"`
	MailEnabled             bool     `json:"mailEnabled"`
	SecurityEnabled         bool     `json:"securityEnabled"`
	GroupTypes              []string `json:"groupTypes"`
	Visibility              string   `json:"visibility,omitempty"`
	ResourceBehaviorOptions []string `json:"resourceBehaviorOptions,omitempty"`
	Owners                  []string `json:"owners@odata.bind,omitempty"`
	Members                 []string `json:"members@odata.bind,omitempty"`
}

// CreateGroup creates a Unified group (POST /groups). POST /groups is not
// idempotent: when the outcome is unknown the error matches
// ErrOutcomeUnknown and the caller should look the group up by its
// mailNickname before trying again.
func (c *Client) CreateGroup(ctx context.Context, in GroupCreate) (*Group, error) {
	if in.DisplayName == "" || in.MailNickname == "" {
		return nil, errorf(http.MethodPost, "/groups", "displayName and mailNickname are required")
	}
	if n := len(in.OwnerIDs) + len(in.MemberIDs); n > maxGroupCreateRefs {
		return nil, errorf(http.MethodPost, "/groups", "%d owners and members: at most %d may be bound at creation", n, maxGroupCreateRefs)
	}
	body := groupCreateBody{
		DisplayName:             in.DisplayName,
		Description:             in.Description,
		MailNickname:            in.MailNickname,
		MailEnabled:             true,
		SecurityEnabled:         false,
		GroupTypes:              []string{"Unified"},
		Visibility:              in.Visibility,
		ResourceBehaviorOptions: in.ResourceBehaviorOptions,
		Owners:                  directoryRefs(in.OwnerIDs),
		Members:                 directoryRefs(in.MemberIDs),
	}
	req, err := newRequest(http.MethodPost, "/groups", nil).withBody(body)
	if err != nil {
		return nil, err
	}
	var g Group
	if _, err := c.call(ctx, req, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

func directoryRefs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = bindBaseURL + "/users/" + escapeSegment(id)
	}
	return out
}

// GetGroup returns the group with id.
func (c *Client) GetGroup(ctx context.Context, id string) (*Group, error) {
	if id == "" {
		return nil, errorf(http.MethodGet, "/groups", "empty group id")
	}
	var g Group
	req := newRequest(http.MethodGet, "/groups/"+escapeSegment(id), query{}.add("$select", groupSelect))
	if _, err := c.call(ctx, req, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// FindGroupsByMailNickname returns the groups whose mailNickname is nick
// (none, or one: the directory keeps nicknames unique).
func (c *Client) FindGroupsByMailNickname(ctx context.Context, nick string) ([]Group, error) {
	q := query{}.
		add("$filter", "mailNickname eq "+odataString(nick)).
		add("$select", groupSelect)
	return listAll[Group](ctx, c, newRequest(http.MethodGet, "/groups", q))
}

// FindGroupsByNicknameKeys looks up, through $batch (20 keys a request),
// the groups whose mailNickname is each key or starts with key + "-": a
// nickname whose end may have changed since, found by its unchanging
// beginning. The answers come in the order of keys; the error is for the
// batch as a whole.
func (c *Client) FindGroupsByNicknameKeys(ctx context.Context, keys []string) ([]Lookup[Group], error) {
	reqs := make([]*request, len(keys))
	for i, key := range keys {
		q := query{}.
			add("$filter", "mailNickname eq "+odataString(key)+" or startswith(mailNickname,"+odataString(key+"-")+")").
			add("$select", groupSelect)
		reqs[i] = newRequest(http.MethodGet, "/groups", q)
	}
	return lookupBatch[Group](ctx, c, reqs)
}

// SearchGroupsByMailNickname returns groups whose mailNickname contains
// fragment as a token ($search, an advanced query: needs ConsistencyLevel:
// eventual, and lags behind writes by a little).
func (c *Client) SearchGroupsByMailNickname(ctx context.Context, fragment string) ([]Group, error) {
	if fragment == "" || strings.ContainsAny(fragment, "\"\\") {
		return nil, errorf(http.MethodGet, "/groups", "search fragment %q: empty or holds a quote or backslash", fragment)
	}
	q := query{}.
		add("$search", `"mailNickname:`+fragment+`"`).
		add("$select", groupSelect)
	req := newRequest(http.MethodGet, "/groups", q).withHeader("ConsistencyLevel", "eventual")
	return listAll[Group](ctx, c, req)
}

// SearchGroupsByMailNicknameWords returns groups whose mailNickname holds a
// word starting with each of words (`$search="mailNickname:w1" AND
// "mailNickname:w2"`, ConsistencyLevel eventual). The directory tokenises
// nicknames into words at '-' and other separators, so a nickname a naming
// policy wrapped in a prefix or suffix is still found by its own words;
// callers filter the candidates for the exact nickname.
func (c *Client) SearchGroupsByMailNicknameWords(ctx context.Context, words []string) ([]Group, error) {
	if len(words) == 0 {
		return nil, errorf(http.MethodGet, "/groups", "no words to search for")
	}
	clauses := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, "\"\\ ") {
			return nil, errorf(http.MethodGet, "/groups", "search word %q: empty or holds a quote, backslash or space", w)
		}
		clauses[i] = `"mailNickname:` + w + `"`
	}
	q := query{}.
		add("$search", strings.Join(clauses, " AND ")).
		add("$select", groupSelect)
	req := newRequest(http.MethodGet, "/groups", q).withHeader("ConsistencyLevel", "eventual")
	return listAll[Group](ctx, c, req)
}

// GroupUpdate holds the group properties to change; nil leaves one as is.
type GroupUpdate struct {
	DisplayName *string `json:"displayName,omitempty"`
	Description *string `json:"description,omitempty"`
}

// UpdateGroup patches the group (PATCH /groups/{id} → 204). An update with
// nothing to change sends nothing.
func (c *Client) UpdateGroup(ctx context.Context, id string, in GroupUpdate) error {
	if id == "" {
		return errorf(http.MethodPatch, "/groups", "empty group id")
	}
	if in.DisplayName == nil && in.Description == nil {
		return nil
	}
	req, err := newRequest(http.MethodPatch, "/groups/"+escapeSegment(id), nil).withBody(in)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, req, nil)
	return err
}
