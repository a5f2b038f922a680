package graphsim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

func init() {
	addRoute("POST", "/groups", famDirectory, permGroupCreate, (*Sim).createGroup)
	addRoute("GET", "/groups", famDirectory, permGroupRead, (*Sim).listGroups)
	addRoute("GET", "/groups/{id}", famDirectory, permGroupRead, (*Sim).getGroup)
	addRoute("PATCH", "/groups/{id}", famDirectory, permGroupWrite, (*Sim).patchGroup)
	addRoute("DELETE", "/groups/{id}", famDirectory, permGroupWrite, (*Sim).deleteGroup)
	addRoute("GET", "/groups/{id}/owners", famDirectory, permGroupRead, (*Sim).listGroupOwners)
	addRoute("GET", "/groups/{id}/members", famDirectory, permGroupRead, (*Sim).listGroupMembers)
}

type membership struct {
	userID string
	owner  bool
	member bool
}

func (m *membership) roles() []string {
	if m.owner {
		return []string{"owner"}
	}
	return []string{}
}

type group struct {
	id, displayName, description, mailNickname, visibility string
	resourceBehaviorOptions                                []string
	created                                                time.Time
	memberships                                            []*membership
	team                                                   *team
	// notFoundLeft counts the calls still answered 404 by the replication fault.
	notFoundLeft int
	// unlistedLeft counts the listings that still leave the group out
	// (the listing side of replication: $filter and $search).
	unlistedLeft int
}

func (g *group) membership(userID string) *membership {
	for _, m := range g.memberships {
		if strings.EqualFold(m.userID, userID) {
			return m
		}
	}
	return nil
}

func (g *group) hasOwner() bool {
	for _, m := range g.memberships {
		if m.owner {
			return true
		}
	}
	return false
}

// groupBodyProperties are the group properties POST and PATCH accept.
var groupBodyProperties = []string{"displayName", "description", "mailNickname", "mailEnabled", "securityEnabled",
	"groupTypes", "visibility", "resourceBehaviorOptions", "resourceProvisioningOptions", "owners@odata.bind",
	"members@odata.bind", "classification", "isAssignableToRole", "preferredDataLocation", "preferredLanguage",
	"theme", "assignedLabels"}

var resourceBehaviorOptions = []string{"AllowOnlyMembersToPost", "CalendarMemberReadOnly", "ConnectorsDisabled",
	"HideGroupInOutlook", "SubscribeMembersToCalendarEventsDisabled", "SubscribeNewGroupMembers", "WelcomeEmailDisabled"}

// mailNicknameProblem validates a mailNickname per resources/group.md: at
// most 64 ASCII characters, none of @ () \ [] " ; : <> , and no space.
func mailNicknameProblem(n string) string {
	if n == "" {
		return "is empty"
	}
	if len(n) > 64 {
		return "is longer than 64 characters"
	}
	for _, r := range n {
		if r > 127 || r < 32 {
			return fmt.Sprintf("contains the non-ASCII or control character %q", r)
		}
		if strings.ContainsRune(`@()\[]";:<>, `, r) {
			return fmt.Sprintf("contains the forbidden character %q", r)
		}
	}
	return ""
}

func (s *Sim) groupByNickname(nick string) *group {
	for _, g := range s.groups {
		if strings.EqualFold(g.mailNickname, nick) {
			return g
		}
	}
	return nil
}

func propertyConflict(prop string) *reply {
	msg := fmt.Sprintf("Another object with the same value for property %s already exists.", prop)
	rp := gerr(400, "Request_BadRequest", msg)
	rp.err.details = []map[string]string{{"code": "ObjectConflict", "message": msg, "target": prop}}
	return rp
}

func invalidValue(prop, resource string) *reply {
	return gerr(400, "Request_BadRequest", fmt.Sprintf("Invalid value specified for property '%s' of resource '%s'.", prop, resource))
}

// directoryBinds resolves an owners@odata.bind / members@odata.bind list to user ids.
func (s *Sim) directoryBinds(c *call, obj map[string]json.RawMessage, key string) ([]string, *reply) {
	if !present(obj, key) {
		return nil, nil
	}
	refs, okk := getStrings(obj, key)
	if !okk {
		return nil, gerr(400, "Request_BadRequest", fmt.Sprintf("Invalid value for property '%s': an array of URLs is expected.", key))
	}
	var ids []string
	for _, ref := range refs {
		id, okk := c.bindID(ref, "users", "directoryObjects")
		if !okk {
			return nil, gerr(400, "Request_BadRequest", fmt.Sprintf("Invalid object identifier '%s'.", ref))
		}
		u := s.userByKey(id)
		if u == nil {
			return nil, gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

func (s *Sim) createGroup(c *call) *reply {
	obj, rp := c.object("microsoft.graph.group", groupBodyProperties...)
	if rp != nil {
		return rp
	}
	for _, req := range []string{"displayName", "mailEnabled", "mailNickname", "securityEnabled"} {
		if !present(obj, req) {
			return gerr(400, "Request_BadRequest", fmt.Sprintf("A value is required for property '%s' of resource 'Group'.", req))
		}
	}
	name, okk := getString(obj, "displayName")
	if !okk || strings.TrimSpace(name) == "" || len([]rune(name)) > 256 {
		return invalidValue("displayName", "Group")
	}
	nick, okk := getString(obj, "mailNickname")
	if !okk || mailNicknameProblem(nick) != "" {
		return invalidValue("mailNickname", "Group")
	}
	mailEnabled, ok1 := getBool(obj, "mailEnabled")
	securityEnabled, ok2 := getBool(obj, "securityEnabled")
	types, ok3 := getStrings(obj, "groupTypes")
	if !ok1 || !ok2 || (present(obj, "groupTypes") && !ok3) {
		return gerr(400, "Request_BadRequest", "Invalid value for mailEnabled, securityEnabled or groupTypes.")
	}
	// Only Microsoft 365 groups can carry a team; the simulator models no other kind.
	if !containsFold(types, "Unified") || !mailEnabled || securityEnabled {
		return gerr(400, "Request_BadRequest", "Only Microsoft 365 groups are supported: groupTypes must contain 'Unified', mailEnabled must be true and securityEnabled false.")
	}
	visibility := "Public"
	if present(obj, "visibility") {
		v, _ := getString(obj, "visibility")
		switch strings.ToLower(v) {
		case "public":
			visibility = "Public"
		case "private":
			visibility = "Private"
		case "hiddenmembership":
			visibility = "HiddenMembership"
		default:
			return invalidValue("visibility", "Group")
		}
	}
	var rbo []string
	if present(obj, "resourceBehaviorOptions") {
		opts, okk := getStrings(obj, "resourceBehaviorOptions")
		if !okk {
			return invalidValue("resourceBehaviorOptions", "Group")
		}
		for _, o := range opts {
			if !containsFold(resourceBehaviorOptions, o) {
				return invalidValue("resourceBehaviorOptions", "Group")
			}
		}
		rbo = opts
	}
	description, _ := getString(obj, "description")
	owners, rp := s.directoryBinds(c, obj, "owners@odata.bind")
	if rp != nil {
		return rp
	}
	members, rp := s.directoryBinds(c, obj, "members@odata.bind")
	if rp != nil {
		return rp
	}
	if len(owners)+len(members) > 20 {
		return gerr(400, "Request_BadRequest", "A maximum of 20 owners and members can be added when the group is created; add the rest afterwards.")
	}
	if len(owners) == 0 {
		if c.tok.userID == "" {
			return gerr(400, "Request_BadRequest", "An owner is required: an application creating a Microsoft 365 group must name at least one owner in owners@odata.bind.")
		}
		// Delegated callers become the owner of a group created without one.
		owners = []string{c.tok.userID}
	}
	policy := s.faults.NicknamePolicy
	name = policy.Prefix + name + policy.Suffix
	nick = policy.Prefix + nick + policy.Suffix
	if s.groupByNickname(nick) != nil {
		return propertyConflict("mailNickname")
	}
	g := &group{id: s.newID("group", nick), displayName: name, description: description, mailNickname: nick,
		visibility: visibility, resourceBehaviorOptions: rbo, created: s.clock(), notFoundLeft: s.faults.NotFoundAfterCreate, unlistedLeft: s.faults.UnlistedAfterCreate}
	for _, id := range owners {
		g.addMember(id, true)
	}
	for _, id := range members {
		g.addMember(id, false)
	}
	s.groups[g.id] = g
	out := s.groupJSON(g)
	out["@odata.context"] = c.context("groups/$entity")
	return ok(201, out)
}

// addMember adds userID (as owner or member); an existing membership is kept
// and only gains the owner flag.
func (g *group) addMember(userID string, owner bool) *membership {
	if m := g.membership(userID); m != nil {
		m.member = true
		m.owner = m.owner || owner
		return m
	}
	m := &membership{userID: userID, owner: owner, member: !owner}
	g.memberships = append(g.memberships, m)
	return m
}

func (s *Sim) groupJSON(g *group) map[string]any {
	prov := []any{}
	if g.team != nil {
		prov = []any{"Team"}
	}
	rbo := []any{}
	for _, o := range g.resourceBehaviorOptions {
		rbo = append(rbo, o)
	}
	mail := g.mailNickname + "@" + s.tenantDomain()
	var desc any
	if g.description != "" {
		desc = g.description
	}
	return map[string]any{
		"id": g.id, "deletedDateTime": nil, "classification": nil, "createdDateTime": isoUTC(g.created),
		"creationOptions": []any{}, "description": desc, "displayName": g.displayName, "expirationDateTime": nil,
		"groupTypes": []any{"Unified"}, "isAssignableToRole": nil, "mail": mail, "mailEnabled": true,
		"mailNickname": g.mailNickname, "membershipRule": nil, "membershipRuleProcessingState": nil,
		"onPremisesSyncEnabled": nil, "preferredDataLocation": nil, "preferredLanguage": nil,
		"proxyAddresses": []any{"SMTP:" + mail}, "renewedDateTime": isoUTC(g.created),
		"resourceBehaviorOptions": rbo, "resourceProvisioningOptions": prov, "securityEnabled": false,
		"securityIdentifier": "S-1-12-1-" + g.id[:8], "theme": nil, "visibility": g.visibility,
	}
}

// replicaMissing applies the replication fault: it reports whether this
// call must still answer 404, counting the call.
func replicaMissing(left *int) bool {
	if *left > 0 {
		*left--
		return true
	}
	return false
}

func groupNotFound(id string) *reply {
	return gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func (s *Sim) lookupGroup(c *call) (*group, *reply) {
	id := c.params["id"]
	g := s.groups[strings.ToLower(id)]
	if g == nil {
		g = s.groups[id]
	}
	if g == nil || replicaMissing(&g.notFoundLeft) {
		return nil, groupNotFound(id)
	}
	return g, nil
}

func (s *Sim) getGroup(c *call) *reply {
	g, rp := s.lookupGroup(c)
	if rp != nil {
		return rp
	}
	full := s.groupJSON(g)
	sel, rp := c.selection("group", knownKeys(full))
	if rp != nil {
		return rp
	}
	out := project(full, sel)
	out["@odata.context"] = c.context("groups/$entity")
	return ok(200, out)
}

func (s *Sim) sortedGroups() []*group {
	var gs []*group
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if !gs[i].created.Equal(gs[j].created) {
			return gs[i].created.Before(gs[j].created)
		}
		return gs[i].id < gs[j].id
	})
	return gs
}

func (s *Sim) listGroups(c *call) *reply {
	f, rp := c.filter("Group", "id", "displayName", "mailNickname", "mail", "groupTypes", "resourceProvisioningOptions", "visibility", "proxyAddresses")
	if rp != nil {
		return rp
	}
	search, rp := c.search()
	if rp != nil {
		return rp
	}
	size, rp := c.topSize(s.pageSize, 999)
	if rp != nil {
		return rp
	}
	sel, rp := c.selection("group", knownKeys(s.groupJSON(&group{id: "00000000-0000-0000-0000-000000000000"})))
	if rp != nil {
		return rp
	}
	var items []any
	for _, g := range s.sortedGroups() {
		full := s.groupJSON(g)
		if !f.match(full) || !search.match(full) || replicaMissing(&g.unlistedLeft) {
			continue
		}
		items = append(items, project(full, sel))
	}
	page, next, rp := c.page(items, size)
	if rp != nil {
		return rp
	}
	return ok(200, c.collection("groups", page, next, nil))
}

// groupSearch is a parsed $search="property:term" (terms ANDed or ORed).
type groupSearch struct {
	terms []searchTerm
	or    bool
}

type searchTerm struct{ prop, value string }

func (c *call) search() (*groupSearch, *reply) {
	raw := c.query.Get("$search")
	if raw == "" {
		return nil, nil
	}
	if !strings.EqualFold(c.header.Get("ConsistencyLevel"), "eventual") {
		return nil, gerr(400, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	gs := &groupSearch{}
	rest := strings.TrimSpace(raw)
	for rest != "" {
		if !strings.HasPrefix(rest, `"`) {
			return nil, gerr(400, "Request_UnsupportedQuery", "Syntax error: a $search clause must be a quoted \"property:value\".")
		}
		end := strings.Index(rest[1:], `"`)
		if end < 0 {
			return nil, gerr(400, "Request_UnsupportedQuery", "Syntax error: unterminated quote in $search.")
		}
		clause := rest[1 : end+1]
		rest = strings.TrimSpace(rest[end+2:])
		prop, val, found := strings.Cut(clause, ":")
		if !found || !containsFold([]string{"displayName", "description", "mail", "mailNickname"}, prop) {
			return nil, gerr(400, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported $search clause '%s'.", clause))
		}
		gs.terms = append(gs.terms, searchTerm{prop, strings.ToLower(val)})
		if rest == "" {
			break
		}
		op, after, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(op) {
		case "OR":
			gs.or = true
		case "AND":
		default:
			return nil, gerr(400, "Request_UnsupportedQuery", "Syntax error: $search clauses are joined with AND or OR.")
		}
		rest = strings.TrimSpace(after)
	}
	return gs, nil
}

// match follows the directory's tokenised search: a term matches the start
// of the value or of any of its words.
func (gs *groupSearch) match(obj map[string]any) bool {
	if gs == nil {
		return true
	}
	for _, t := range gs.terms {
		v, _ := lookup(obj, t.prop).(string)
		v = strings.ToLower(v)
		hit := strings.HasPrefix(v, t.value)
		if !hit {
			for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
				if strings.HasPrefix(w, t.value) {
					hit = true
					break
				}
			}
		}
		if gs.or && hit {
			return true
		}
		if !gs.or && !hit {
			return false
		}
	}
	return !gs.or
}

func (s *Sim) patchGroup(c *call) *reply {
	g, rp := s.lookupGroup(c)
	if rp != nil {
		return rp
	}
	obj, rp := c.object("microsoft.graph.group", "displayName", "description", "mailNickname", "visibility", "members@odata.bind", "owners@odata.bind", "classification", "preferredLanguage", "theme")
	if rp != nil {
		return rp
	}
	if present(obj, "displayName") {
		n, okk := getString(obj, "displayName")
		if !okk || strings.TrimSpace(n) == "" || len([]rune(n)) > 256 {
			return invalidValue("displayName", "Group")
		}
		defer func() { g.displayName = n }()
	}
	if _, has := obj["description"]; has {
		d, _ := getString(obj, "description")
		defer func() { g.description = d }()
	}
	if present(obj, "mailNickname") {
		n, okk := getString(obj, "mailNickname")
		if !okk || mailNicknameProblem(n) != "" {
			return invalidValue("mailNickname", "Group")
		}
		if other := s.groupByNickname(n); other != nil && other != g {
			return propertyConflict("mailNickname")
		}
		defer func() { g.mailNickname = n }()
	}
	if present(obj, "visibility") {
		v, _ := getString(obj, "visibility")
		if !containsFold([]string{"Public", "Private", "HiddenMembership"}, v) {
			return invalidValue("visibility", "Group")
		}
		defer func() { g.visibility = strings.ToUpper(v[:1]) + v[1:] }()
	}
	owners, rp := s.directoryBinds(c, obj, "owners@odata.bind")
	if rp != nil {
		return rp
	}
	members, rp := s.directoryBinds(c, obj, "members@odata.bind")
	if rp != nil {
		return rp
	}
	if len(owners)+len(members) > 20 {
		return gerr(400, "Request_BadRequest", "A maximum of 20 members can be added in a single request.")
	}
	for _, id := range members {
		if m := g.membership(id); m != nil && m.member {
			return gerr(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.")
		}
	}
	for _, id := range owners {
		g.addMember(id, true)
	}
	for _, id := range members {
		g.addMember(id, false)
	}
	return &reply{status: 204}
}

func (s *Sim) deleteGroup(c *call) *reply {
	g, rp := s.lookupGroup(c)
	if rp != nil {
		return rp
	}
	delete(s.groups, g.id)
	return &reply{status: 204}
}

func (s *Sim) listGroupOwners(c *call) *reply { return s.listGroupUsers(c, true) }

func (s *Sim) listGroupMembers(c *call) *reply { return s.listGroupUsers(c, false) }

func (s *Sim) listGroupUsers(c *call, owners bool) *reply {
	g, rp := s.lookupGroup(c)
	if rp != nil {
		return rp
	}
	sel, rp := c.selection("user", userProperties)
	if rp != nil {
		return rp
	}
	var items []any
	for _, m := range g.memberships {
		if (owners && !m.owner) || (!owners && !m.member) {
			continue
		}
		u := s.userByID(m.userID)
		if u == nil {
			continue
		}
		v := userView(s.userJSON(u), sel)
		v["@odata.type"] = "#microsoft.graph.user"
		items = append(items, v)
	}
	page, next, rp := c.page(items, s.pageSize)
	if rp != nil {
		return rp
	}
	return ok(200, c.collection("directoryObjects", page, next, nil))
}
