package msgraph

import (
	"context"
	"net/http"
	"strings"
)

// userSelect is the user properties the tool reads; $select also lowers the
// directory's throttling cost.
const userSelect = "id,displayName,mail,userPrincipalName"

// User is a directory user. Mail is empty when the user has none.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// Me returns the signed-in user (delegated token).
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	req := newRequest(http.MethodGet, "/me", query{}.add("$select", userSelect))
	if _, err := c.call(ctx, req, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser returns the user with object id or userPrincipalName idOrUPN. A UPN
// that starts with "$" or holds characters a path segment cannot carry plainly
// is sent in the key form /users('…') (Graph answers 400 to /users/$x@y).
func (c *Client) GetUser(ctx context.Context, idOrUPN string) (*User, error) {
	if idOrUPN == "" {
		return nil, errorf(http.MethodGet, "/users", "empty user id")
	}
	var u User
	req := newRequest(http.MethodGet, userPath(idOrUPN), query{}.add("$select", userSelect))
	if _, err := c.call(ctx, req, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func userPath(idOrUPN string) string {
	if strings.HasPrefix(idOrUPN, "$") || strings.ContainsAny(idOrUPN, "'/\\?#%") {
		return "/users(" + escapeSegment(odataString(idOrUPN)) + ")"
	}
	return "/users/" + escapeSegment(idOrUPN)
}

// FindUsers returns the users whose property equals value, e.g. ("mail",
// "a@b.edu"). An empty slice means no match; more than one means ambiguous.
func (c *Client) FindUsers(ctx context.Context, property, value string) ([]User, error) {
	req, err := findUsersRequest(property, value)
	if err != nil {
		return nil, err
	}
	return listAll[User](ctx, c, req)
}

// UserLookup is one look-up of FindUsersEach: the users whose Property
// (mail, userPrincipalName) equals Value.
type UserLookup struct {
	Property string
	Value    string
}

// FindUsersEach does the look-ups of FindUsers through $batch, 20 a
// request. The answers come in the order of lookups; the error is for the
// batch as a whole (an invalid property name among them included: nothing
// is sent then).
func (c *Client) FindUsersEach(ctx context.Context, lookups []UserLookup) ([]Lookup[User], error) {
	reqs := make([]*request, len(lookups))
	for i, l := range lookups {
		req, err := findUsersRequest(l.Property, l.Value)
		if err != nil {
			return nil, err
		}
		reqs[i] = req
	}
	return lookupBatch[User](ctx, c, reqs)
}

func findUsersRequest(property, value string) (*request, error) {
	if !isODataIdentifier(property) {
		return nil, errorf(http.MethodGet, "/users", "invalid property name %q", property)
	}
	q := query{}.
		add("$filter", property+" eq "+odataString(value)).
		add("$select", userSelect)
	return newRequest(http.MethodGet, "/users", q), nil
}

// ListUsers pages through the whole directory, 999 users a page, giving each
// page to fn; an error from fn stops the listing and is returned.
func (c *Client) ListUsers(ctx context.Context, fn func(page []User) error) error {
	q := query{}.add("$select", userSelect).add("$top", "999")
	return listPages(ctx, c, newRequest(http.MethodGet, "/users", q), fn)
}

// isODataIdentifier accepts property names such as mail, userPrincipalName
// or onPremisesExtensionAttributes/extensionAttribute1, and nothing that
// could alter the filter expression.
func isODataIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '/') {
			return false
		}
	}
	return true
}
