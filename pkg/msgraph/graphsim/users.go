package graphsim

import (
	"fmt"
	"strings"
)

// Delegated permissions that allow each kind of call (lower-cased; any one suffices).
var (
	permMe           = []string{"user.read", "user.readwrite", "user.readbasic.all", "user.read.all", "user.readwrite.all", "directory.read.all", "directory.readwrite.all", "directory.accessasuser.all"}
	permUsers        = []string{"user.readbasic.all", "user.read.all", "user.readwrite.all", "directory.read.all", "directory.readwrite.all", "directory.accessasuser.all"}
	permGroupCreate  = []string{"group.create", "group.readwrite.all", "directory.readwrite.all", "directory.accessasuser.all"}
	permGroupRead    = []string{"group.read.all", "group.readwrite.all", "groupmember.read.all", "groupmember.readwrite.all", "directory.read.all", "directory.readwrite.all", "directory.accessasuser.all"}
	permGroupWrite   = []string{"group.readwrite.all", "directory.readwrite.all", "directory.accessasuser.all"}
	permTeamCreate   = []string{"team.create", "group.readwrite.all", "directory.readwrite.all"}
	permTeamRead     = []string{"team.readbasic.all", "teamsettings.read.all", "teamsettings.readwrite.all", "group.read.all", "group.readwrite.all", "directory.read.all", "directory.readwrite.all"}
	permTeamOpRead   = append([]string{"team.create"}, permTeamRead...)
	permTeamWrite    = []string{"teamsettings.readwrite.all", "group.readwrite.all", "directory.readwrite.all"}
	permJoinedTeams  = []string{"team.readbasic.all", "teamsettings.read.all", "teamsettings.readwrite.all", "user.read.all", "user.readwrite.all", "directory.read.all", "directory.readwrite.all"}
	permMembersRead  = []string{"teammember.read.all", "teammember.readwrite.all", "teammember.readwritenonownerrole.all", "group.read.all", "group.readwrite.all", "directory.read.all", "directory.readwrite.all"}
	permMembersWrite = []string{"teammember.readwrite.all", "teammember.readwritenonownerrole.all", "group.readwrite.all", "directory.readwrite.all"}
	permCalRead      = []string{"calendars.readbasic", "calendars.read", "calendars.readwrite"}
	permCalWrite     = []string{"calendars.readwrite"}
)

func init() {
	addRoute("GET", "/me", famDirectory, permMe, (*Sim).getMe)
	addRoute("GET", "/users", famDirectory, permUsers, (*Sim).listUsers)
	addRoute("GET", "/users/{id}", famDirectory, permUsers, (*Sim).getUser)
}

// userProperties are the user properties the simulator knows; those it does
// not model answer null, like an unset property on Graph.
var userProperties = []string{"id", "displayName", "mail", "userPrincipalName", "businessPhones", "givenName",
	"surname", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage", "accountEnabled", "userType",
	"mailNickname", "otherMails", "proxyAddresses", "employeeId", "department", "companyName", "createdDateTime",
	"onPremisesImmutableId", "onPremisesSamAccountName", "usageLocation"}

// defaultUserProperties is what Graph returns without $select.
var defaultUserProperties = []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

func (s *Sim) userJSON(u *User) map[string]any {
	first, last, _ := strings.Cut(u.DisplayName, " ")
	nick, _, _ := strings.Cut(u.UserPrincipalName, "@")
	var mail any
	if u.Mail != "" {
		mail = u.Mail
	}
	return map[string]any{
		"id": u.ID, "displayName": u.DisplayName, "mail": mail, "userPrincipalName": u.UserPrincipalName,
		"businessPhones": []any{}, "givenName": first, "surname": last, "jobTitle": nil, "mobilePhone": nil,
		"officeLocation": nil, "preferredLanguage": nil, "accountEnabled": true, "userType": "Member",
		"mailNickname": nick, "otherMails": []any{}, "proxyAddresses": []any{}, "employeeId": nil,
		"department": nil, "companyName": nil, "createdDateTime": nil, "onPremisesImmutableId": nil,
		"onPremisesSamAccountName": nil, "usageLocation": nil,
	}
}

// cachedUserJSON is userJSON kept per user for filtered listings, which
// match every user of the directory against the filter: a look-up by mail
// in a directory of 30,000 would otherwise render 30,000 users. The maps
// are read, never changed (userView copies); indexUsers drops them when a
// user changes (s.mu held).
func (s *Sim) cachedUserJSON(u *User) map[string]any {
	if j, ok := s.usersJSON[u]; ok {
		return j
	}
	if s.usersJSON == nil {
		s.usersJSON = map[*User]map[string]any{}
	}
	j := s.userJSON(u)
	s.usersJSON[u] = j
	return j
}

// userView applies $select (or the default property set) to a user.
func userView(full map[string]any, sel []string) map[string]any {
	if sel == nil {
		sel = defaultUserProperties
	}
	return project(full, sel)
}

func (s *Sim) getMe(c *call) *reply {
	u := s.userByID(c.tok.userID)
	if u == nil {
		return gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", c.tok.userID))
	}
	return s.answerUser(c, u)
}

func (s *Sim) getUser(c *call) *reply {
	key := c.params["id"]
	// user-get: "/users/$x@y.com fails with a 400" (use /users('$x@y.com')).
	if strings.HasPrefix(key, "$") && !strings.Contains(c.rawPath, "('") {
		return gerr(400, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", key))
	}
	u := s.userByKey(key)
	if u == nil {
		return gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
	}
	return s.answerUser(c, u)
}

func (s *Sim) answerUser(c *call, u *User) *reply {
	sel, rp := c.selection("user", userProperties)
	if rp != nil {
		return rp
	}
	out := userView(s.userJSON(u), sel)
	ctx := "users/$entity"
	if sel != nil {
		ctx = "users(" + strings.Join(sel, ",") + ")/$entity"
	}
	out["@odata.context"] = c.context(ctx)
	return ok(200, out)
}

func (s *Sim) listUsers(c *call) *reply {
	sel, rp := c.selection("user", userProperties)
	if rp != nil {
		return rp
	}
	f, rp := c.filter("User", "id", "mail", "userPrincipalName", "displayName", "givenName", "surname", "mailNickname", "otherMails", "proxyAddresses", "accountEnabled", "userType")
	if rp != nil {
		return rp
	}
	size, rp := c.topSize(s.pageSize, 999)
	if rp != nil {
		return rp
	}
	var items []any
	if f == nil {
		// Without a filter only the page's users are rendered: a directory
		// of 30,000 is listed 999 at a time, and rendering all of it for
		// every page made the listing quadratic.
		for _, u := range s.users {
			items = append(items, u)
		}
	} else {
		for _, u := range s.users {
			if full := s.cachedUserJSON(u); f.match(full) {
				items = append(items, userView(full, sel))
			}
		}
	}
	page, next, rp := c.page(items, size)
	if rp != nil {
		return rp
	}
	if f == nil {
		for i, u := range page {
			page[i] = userView(s.userJSON(u.(*User)), sel)
		}
	}
	ctx := "users"
	if sel != nil {
		ctx = "users(" + strings.Join(sel, ",") + ")"
	}
	return ok(200, c.collection(ctx, page, next, nil))
}
