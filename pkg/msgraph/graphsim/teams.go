package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

func init() {
	addRoute("PUT", "/groups/{id}/team", famTeams, permGroupWrite, (*Sim).putTeam)
	addRoute("POST", "/teams", famTeams, permTeamCreate, (*Sim).postTeam)
	addRoute("GET", "/teams/{id}", famTeams, permTeamRead, (*Sim).getTeam)
	addRoute("PATCH", "/teams/{id}", famTeams, permTeamWrite, (*Sim).patchTeam)
	addRoute("POST", "/teams/{id}/archive", famTeams, permTeamWrite, (*Sim).archiveTeam)
	addRoute("POST", "/teams/{id}/unarchive", famTeams, permTeamWrite, (*Sim).unarchiveTeam)
	addRoute("GET", "/teams/{id}/operations/{opId}", famTeams, permTeamOpRead, (*Sim).getOperation)
	addMailboxRoute("GET", "/joinedTeams", famTeams, permJoinedTeams, (*Sim).joinedTeams)
	addRoute("GET", "/teams/{id}/members", famTeams, permMembersRead, (*Sim).listMembers)
	addRoute("POST", "/teams/{id}/members", famTeams, permMembersWrite, (*Sim).addMember)
	addRoute("POST", "/teams/{id}/members/add", famTeams, permMembersWrite, (*Sim).addMembers)
	addRoute("GET", "/teams/{id}/members/{membershipId}", famTeams, permMembersRead, (*Sim).getMember)
	addRoute("PATCH", "/teams/{id}/members/{membershipId}", famTeams, permMembersWrite, (*Sim).patchMember)
	addRoute("DELETE", "/teams/{id}/members/{membershipId}", famTeams, permMembersWrite, (*Sim).deleteMember)
}

type team struct {
	created        time.Time
	archived       bool
	specialization string
	settings       map[string]map[string]any
	notFoundLeft   int
}

type operation struct {
	id, teamID, kind string
	created, lastAt  time.Time
	polls            int
	failed           bool
}

// teamSettingKeys are the settings objects a team has and their properties.
var teamSettingKeys = map[string]map[string]any{
	"memberSettings": {"allowCreateUpdateChannels": true, "allowCreatePrivateChannels": true, "allowDeleteChannels": true,
		"allowAddRemoveApps": true, "allowCreateUpdateRemoveTabs": true, "allowCreateUpdateRemoveConnectors": true},
	"guestSettings":     {"allowCreateUpdateChannels": false, "allowDeleteChannels": false},
	"messagingSettings": {"allowUserEditMessages": true, "allowUserDeleteMessages": true, "allowOwnerDeleteMessages": true, "allowTeamMentions": true, "allowChannelMentions": true},
	"funSettings":       {"allowGiphy": true, "giphyContentRating": "moderate", "allowStickersAndMemes": true, "allowCustomMemes": true},
	"discoverySettings": {"showInTeamsSearchAndSuggestions": true},
}

func newTeamSettings() map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, v := range teamSettingKeys {
		m := map[string]any{}
		for p, d := range v {
			m[p] = d
		}
		out[k] = m
	}
	return out
}

// applySettings validates and merges the settings objects of obj into dst.
func applySettings(c *call, dst map[string]map[string]any, obj map[string]json.RawMessage) *reply {
	for name, defaults := range teamSettingKeys {
		raw, has := obj[name]
		if !has {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return c.bad(fmt.Sprintf("Invalid value for '%s': an object is expected.", name))
		}
		for k, v := range m {
			d, known := defaults[k]
			if !known {
				return c.bad(fmt.Sprintf("Invalid property '%s' on '%s'.", k, name))
			}
			if _, isBool := d.(bool); isBool {
				if _, okk := v.(bool); !okk {
					return c.bad(fmt.Sprintf("Invalid value for '%s.%s': a boolean is expected.", name, k))
				}
			} else if sv, _ := v.(string); sv != "moderate" && sv != "strict" {
				return c.bad(fmt.Sprintf("Invalid value for '%s.%s': moderate or strict.", name, k))
			}
		}
		if dst != nil {
			for k, v := range m {
				dst[name][k] = v
			}
		}
	}
	return nil
}

func teamNotFound(id string) *reply {
	return gerr(404, "NotFound", fmt.Sprintf("No team found with Group Id %s", id))
}

func (s *Sim) findGroup(id string) *group {
	if g := s.groups[strings.ToLower(id)]; g != nil {
		return g
	}
	return s.groups[id]
}

// lookupTeam finds the team of {id}, applying the replication fault.
func (s *Sim) lookupTeam(c *call) (*group, *reply) {
	id := c.params["id"]
	g := s.findGroup(id)
	if g == nil || g.team == nil || replicaMissing(&g.team.notFoundLeft) {
		return nil, teamNotFound(id)
	}
	return g, nil
}

func (s *Sim) teamJSON(c *call, g *group) map[string]any {
	t := g.team
	vis := strings.ToLower(g.visibility)
	if vis == "hiddenmembership" {
		vis = "hiddenMembership"
	}
	var desc any
	if g.description != "" {
		desc = g.description
	}
	thread := "19:" + strings.ReplaceAll(g.id, "-", "") + "@thread.tacv2"
	out := map[string]any{
		"@odata.context": c.context("teams/$entity"),
		"id":             g.id, "createdDateTime": isoUTC(t.created), "displayName": g.displayName, "description": desc,
		"internalId": thread, "classification": nil, "specialization": t.specialization, "visibility": vis,
		"webUrl":     "https://teams.microsoft.com/l/team/" + url.QueryEscape(thread) + "/conversations?groupId=" + g.id + "&tenantId=" + s.seed.TenantID,
		"isArchived": t.archived, "tenantId": s.seed.TenantID, "isMembershipLimitedToOwners": false,
		"summary": nil,
	}
	for k, v := range t.settings {
		out[k] = v
	}
	return out
}

// teamCreateFault applies the 502 fault of team creation.
func (s *Sim) teamCreateFault() *reply {
	if s.badGatewayLeft > 0 {
		s.badGatewayLeft--
		return gerr(502, "BadGateway", "Failed to execute backend request.")
	}
	return nil
}

func (s *Sim) teamify(g *group, specialization string) {
	g.team = &team{created: s.clock(), specialization: specialization, settings: newTeamSettings(),
		notFoundLeft: s.faults.NotFoundAfterCreate}
}

var teamPutProperties = []string{"memberSettings", "guestSettings", "messagingSettings", "funSettings", "discoverySettings"}

func (s *Sim) putTeam(c *call) *reply {
	id := c.params["id"]
	g := s.findGroup(id)
	if g == nil {
		return gerr(404, "NotFound", fmt.Sprintf("Group %s was not found.", id))
	}
	if replicaMissing(&g.notFoundLeft) {
		if s.faults.TeamifyDespite404 && g.team == nil && g.hasOwner() {
			s.teamify(g, "none")
		}
		return gerr(404, "NotFound", fmt.Sprintf("Failed to execute Templates backend request CreateTeamFromGroupWithTemplateRequest. Request Url: /groups/%s/team, Response Status Code: NotFound", id))
	}
	obj, rp := c.object("microsoft.graph.team", teamPutProperties...)
	if rp != nil {
		return rp
	}
	if rp := applySettings(c, nil, obj); rp != nil {
		return rp
	}
	if rp := s.teamCreateFault(); rp != nil {
		return rp
	}
	if g.team != nil {
		return gerr(409, "Conflict", "Team already exists")
	}
	if !g.hasOwner() {
		return c.bad("The group has no owner; a team needs at least one owner.")
	}
	s.teamify(g, "none")
	applySettings(c, g.team.settings, obj)
	return ok(201, s.teamJSON(c, g))
}

var teamPostProperties = []string{"template@odata.bind", "group@odata.bind", "displayName", "description", "visibility",
	"members", "channels", "installedApps", "specialization", "classification", "firstChannelName",
	"memberSettings", "guestSettings", "messagingSettings", "funSettings", "discoverySettings"}

var templateRef = regexp.MustCompile(`(?i)teamsTemplates\('([A-Za-z]+)'\)$`)

var knownTemplates = map[string]string{
	"standard": "none", "educationclass": "educationClass", "educationstaff": "educationStaff",
	"educationprofessionallearningcommunity": "educationProfessionalLearningCommunity",
}

func (s *Sim) postTeam(c *call) *reply {
	obj, rp := c.object("microsoft.graph.team", teamPostProperties...)
	if rp != nil {
		return rp
	}
	tmpl, _ := getString(obj, "template@odata.bind")
	if tmpl == "" {
		return c.bad("A template is required: set template@odata.bind, e.g. https://graph.microsoft.com/v1.0/teamsTemplates('standard').")
	}
	if unescaped, err := url.PathUnescape(tmpl); err == nil {
		tmpl = unescaped // teamsTemplates(%27standard%27) names the same template
	}
	m := templateRef.FindStringSubmatch(tmpl)
	if m == nil {
		return c.bad(fmt.Sprintf("Invalid template binding '%s'.", tmpl))
	}
	specialization, known := knownTemplates[strings.ToLower(m[1])]
	if !known {
		return gerr(404, "NotFound", fmt.Sprintf("Template '%s' was not found.", m[1]))
	}
	if rp := applySettings(c, nil, obj); rp != nil {
		return rp
	}
	members, rp := s.parseMemberList(c, obj)
	if rp != nil {
		return rp
	}
	if present(obj, "group@odata.bind") {
		// team-post.md, Example 4: the team inherits the group's display
		// name, visibility, specialization and members; those are errors,
		// a description is not.
		for _, k := range []string{"displayName", "visibility", "specialization", "members"} {
			if present(obj, k) {
				return c.bad(fmt.Sprintf("'%s' cannot be set when creating a team from a group (group@odata.bind).", k))
			}
		}
		ref, _ := getString(obj, "group@odata.bind")
		gid, okk := c.bindID(ref, "groups")
		if !okk {
			return c.bad(fmt.Sprintf("Invalid group binding '%s'.", ref))
		}
		g := s.findGroup(gid)
		if g == nil || replicaMissing(&g.notFoundLeft) {
			return gerr(404, "NotFound", fmt.Sprintf("Group %s was not found.", gid))
		}
		if rp := s.teamCreateFault(); rp != nil {
			return rp
		}
		if g.team != nil {
			return gerr(409, "Conflict", "Team already exists")
		}
		if !g.hasOwner() {
			return c.bad("The group has no owner; a team needs at least one owner.")
		}
		rp := s.startTeamCreation(c, g, specialization, obj)
		if desc, has := getString(obj, "description"); has && g.team != nil {
			g.description = desc // a failed operation changes nothing
		}
		return rp
	}
	name, _ := getString(obj, "displayName")
	if strings.TrimSpace(name) == "" {
		return c.bad("displayName is required when creating a team from a template.")
	}
	visibility := "Private"
	if present(obj, "visibility") {
		v, _ := getString(obj, "visibility")
		switch strings.ToLower(v) {
		case "private":
		case "public":
			visibility = "Public"
		default:
			return c.bad(fmt.Sprintf("Invalid visibility '%s'.", v))
		}
	}
	hasOwner := false
	for _, mv := range members {
		hasOwner = hasOwner || mv.owner
	}
	if c.tok.userID == "" && !hasOwner {
		return c.bad("An owner is required: an application creating a team must list at least one member with roles [\"owner\"].")
	}
	for _, mv := range members {
		if mv.user == nil {
			return gerr(404, "NotFound", fmt.Sprintf("User %s was not found.", mv.key))
		}
	}
	if rp := s.teamCreateFault(); rp != nil {
		return rp
	}
	description, _ := getString(obj, "description")
	policy := s.faults.NicknamePolicy
	nick := s.derivedNickname(policy.Prefix + name + policy.Suffix)
	g := &group{id: s.newID("group", nick), displayName: policy.Prefix + name + policy.Suffix, description: description,
		mailNickname: nick, visibility: visibility, created: s.clock(), notFoundLeft: s.faults.NotFoundAfterCreate}
	if c.tok.userID != "" {
		g.addMember(c.tok.userID, true)
	}
	for _, mv := range members {
		g.addMember(mv.user.ID, mv.owner)
	}
	s.groups[g.id] = g
	return s.startTeamCreation(c, g, specialization, obj)
}

// derivedNickname is how POST /teams names the group: the letters and
// digits of the display name, made unique.
func (s *Sim) derivedNickname(displayName string) string {
	var b strings.Builder
	for _, r := range displayName {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	base := b.String()
	if len(base) > 56 {
		base = base[:56]
	}
	if base == "" {
		base = "team"
	}
	nick := base
	for i := 1; s.groupByNickname(nick) != nil; i++ {
		nick = fmt.Sprintf("%s%d", base, i)
	}
	return nick
}

func (s *Sim) startTeamCreation(c *call, g *group, specialization string, obj map[string]json.RawMessage) *reply {
	op := s.newOperation(g.id, "createTeam")
	if !op.failed {
		s.teamify(g, specialization)
		applySettings(c, g.team.settings, obj)
	}
	return s.accepted(g.id, op)
}

func (s *Sim) newOperation(teamID, kind string) *operation {
	now := s.clock()
	op := &operation{id: s.newID("operation", teamID+"/"+kind), teamID: teamID, kind: kind, created: now, lastAt: now,
		failed: s.faults.FailOperations}
	s.ops[op.id] = op
	return op
}

// accepted is the 202 of team-post.md: no body, relative Location of the
// operation (without /v1.0) and Content-Location of the team.
func (s *Sim) accepted(teamID string, op *operation) *reply {
	rp := &reply{status: 202}
	rp.with("Location", fmt.Sprintf("/teams('%s')/operations('%s')", teamID, op.id))
	rp.with("Content-Location", fmt.Sprintf("/teams('%s')", teamID))
	rp.with("Content-Type", "application/json")
	return rp
}

func (s *Sim) getOperation(c *call) *reply {
	op := s.ops[strings.ToLower(c.params["opId"])]
	if op == nil || !strings.EqualFold(op.teamID, c.params["id"]) {
		return gerr(404, "NotFound", fmt.Sprintf("Operation %s was not found.", c.params["opId"]))
	}
	op.polls++
	now := s.clock()
	var done bool
	if s.opts.OperationPolls > 0 {
		done = op.polls >= s.opts.OperationPolls
	} else {
		done = op.polls >= 2 || now.Sub(op.created) >= time.Second
	}
	status := "inProgress"
	switch {
	case done && op.failed:
		status = "failed"
	case done:
		status = "succeeded"
	case op.polls == 1:
		status = "notStarted"
	}
	if status != "notStarted" {
		op.lastAt = now
	}
	var opErr any
	if status == "failed" {
		opErr = map[string]any{"code": "InternalServerError", "message": fmt.Sprintf("The %s operation failed; nothing was provisioned.", op.kind)}
	}
	return ok(200, map[string]any{
		"@odata.context":         c.context(fmt.Sprintf("teams('%s')/operations/$entity", op.teamID)),
		"id":                     op.id,
		"operationType":          op.kind,
		"createdDateTime":        formatGraphTime(op.created.UTC()) + "Z",
		"status":                 status,
		"lastActionDateTime":     formatGraphTime(op.lastAt.UTC()) + "Z",
		"attemptsCount":          1,
		"targetResourceId":       op.teamID,
		"targetResourceLocation": fmt.Sprintf("/teams('%s')", op.teamID),
		"Value":                  `{"apps":[],"channels":[],"WorkflowId":"simulator.` + op.id + `"}`,
		"error":                  opErr,
	})
}

func (s *Sim) getTeam(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	full := s.teamJSON(c, g)
	sel, rp := c.selection("team", knownKeys(full))
	if rp != nil {
		return rp
	}
	return ok(200, project(full, sel))
}

func (s *Sim) patchTeam(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	obj, rp := c.object("microsoft.graph.team", append([]string{"displayName", "description", "visibility", "classification"}, teamPutProperties...)...)
	if rp != nil {
		return rp
	}
	if rp := applySettings(c, nil, obj); rp != nil {
		return rp
	}
	if present(obj, "displayName") {
		n, _ := getString(obj, "displayName")
		if strings.TrimSpace(n) == "" {
			return c.bad("displayName cannot be empty.")
		}
		g.displayName = n
	}
	if _, has := obj["description"]; has {
		d, _ := getString(obj, "description")
		if len([]rune(d)) > 1024 {
			return c.bad("description is limited to 1024 characters.")
		}
		g.description = d
	}
	if present(obj, "visibility") {
		v, _ := getString(obj, "visibility")
		switch strings.ToLower(v) {
		case "private":
			g.visibility = "Private"
		case "public":
			g.visibility = "Public"
		default:
			return c.bad(fmt.Sprintf("Invalid visibility '%s'.", v))
		}
	}
	applySettings(c, g.team.settings, obj)
	return &reply{status: 204}
}

func (s *Sim) archiveTeam(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	obj, rp := c.optionalObject("archive", "shouldSetSpoSiteReadOnlyForMembers")
	if rp != nil {
		return rp
	}
	if present(obj, "shouldSetSpoSiteReadOnlyForMembers") {
		if _, okk := getBool(obj, "shouldSetSpoSiteReadOnlyForMembers"); !okk {
			return c.bad("shouldSetSpoSiteReadOnlyForMembers must be a boolean.")
		}
	}
	op := s.newOperation(g.id, "archiveTeam")
	if !op.failed {
		g.team.archived = true
	}
	return s.accepted(g.id, op)
}

func (s *Sim) unarchiveTeam(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	if len(strings.TrimSpace(string(c.body))) > 0 {
		return c.bad("unarchive takes no request body.")
	}
	op := s.newOperation(g.id, "unarchiveTeam")
	if !op.failed {
		g.team.archived = false
	}
	return s.accepted(g.id, op)
}

// mailboxUser resolves /me or /users/{userId} to a directory user.
func (s *Sim) pathUser(c *call) (*User, *reply) {
	if key, has := c.params["userId"]; has {
		u := s.userByKey(key)
		if u == nil {
			return nil, gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
		}
		return u, nil
	}
	u := s.userByID(c.tok.userID)
	if u == nil {
		return nil, gerr(404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", c.tok.userID))
	}
	return u, nil
}

func (s *Sim) joinedTeams(c *call) *reply {
	u, rp := s.pathUser(c)
	if rp != nil {
		return rp
	}
	var items []any
	for _, g := range s.sortedGroups() {
		if g.team == nil || g.membership(u.ID) == nil {
			continue
		}
		var desc any
		if g.description != "" {
			desc = g.description
		}
		items = append(items, map[string]any{"id": g.id, "createdDateTime": nil, "displayName": g.displayName,
			"description": desc, "internalId": nil, "classification": nil, "specialization": nil, "visibility": nil,
			"webUrl": nil, "isArchived": g.team.archived, "tenantId": s.seed.TenantID, "isMembershipLimitedToOwners": nil})
	}
	page, next, rp := c.page(items, s.pageSize)
	if rp != nil {
		return rp
	}
	return ok(200, c.collection("teams", page, next, nil))
}

// membershipID is the opaque conversationMember id; like the documented
// examples it is base64 of "{teamId}##{userId}".
func membershipID(teamID, userID string) string {
	return base64.StdEncoding.EncodeToString([]byte(teamID + "##" + userID))
}

func (s *Sim) memberJSON(c *call, g *group, m *membership) map[string]any {
	out := map[string]any{
		"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"id":          membershipID(g.id, m.userID), "roles": m.roles(), "displayName": nil, "userId": m.userID,
		"email": nil, "tenantId": s.seed.TenantID, "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
	}
	if u := s.userByID(m.userID); u != nil {
		out["displayName"] = u.DisplayName
		if u.Mail != "" {
			out["email"] = u.Mail
		}
	}
	return out
}

func (s *Sim) listMembers(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	f, rp := c.filter("conversationMember", "userId", "displayName", "email", "roles", "id")
	if rp != nil {
		return rp
	}
	var items []any
	for _, m := range g.memberships {
		j := s.memberJSON(c, g, m)
		if f.match(toMap(j)) {
			items = append(items, j)
		}
	}
	page, next, rp := c.page(items, s.pageSize)
	if rp != nil {
		return rp
	}
	return ok(200, c.collection(fmt.Sprintf("teams('%s')/members", g.id), page, next, map[string]any{"@odata.count": len(items)}))
}

// memberValue is one aadUserConversationMember of a request body.
type memberValue struct {
	key   string // the key of user@odata.bind
	user  *User
	owner bool
}

const conversationMemberType = "microsoft.graph.aadUserConversationMember"

// parseMemberValue validates one aadUserConversationMember body: @odata.type
// (with or without '#'), roles and user@odata.bind are all required.
func (s *Sim) parseMemberValue(c *call, raw json.RawMessage) (memberValue, *reply) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return memberValue{}, c.bad("A conversationMember must be a JSON object.")
	}
	for k := range obj {
		switch k {
		case "@odata.type", "roles", "user@odata.bind", "visibleHistoryStartDateTime":
		default:
			return memberValue{}, c.bad(fmt.Sprintf("Invalid property '%s' on type '%s'.", k, conversationMemberType))
		}
	}
	typ, _ := getString(obj, "@odata.type")
	if strings.TrimPrefix(typ, "#") != conversationMemberType {
		if typ == "" {
			return memberValue{}, c.bad("The @odata.type of a conversationMember is required: #microsoft.graph.aadUserConversationMember.")
		}
		return memberValue{}, c.bad(fmt.Sprintf("Unsupported conversationMember type '%s'.", typ))
	}
	roles, okk := getStrings(obj, "roles")
	if !okk {
		return memberValue{}, c.bad("roles is required: [] for a member, [\"owner\"] for an owner.")
	}
	owner := false
	for _, r := range roles {
		switch strings.ToLower(r) {
		case "owner":
			owner = true
		case "member", "guest":
		default:
			return memberValue{}, c.bad(fmt.Sprintf("Invalid role '%s'.", r))
		}
	}
	ref, _ := getString(obj, "user@odata.bind")
	if ref == "" {
		return memberValue{}, c.bad("user@odata.bind is required.")
	}
	key, okk := c.bindID(ref, "users")
	if !okk {
		return memberValue{}, c.bad(fmt.Sprintf("Invalid user binding '%s'.", ref))
	}
	return memberValue{key: key, user: s.userByKey(key), owner: owner}, nil
}

func (s *Sim) parseMemberList(c *call, obj map[string]json.RawMessage) ([]memberValue, *reply) {
	if !present(obj, "members") {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(obj["members"], &raws); err != nil {
		return nil, c.bad("members must be an array of conversationMember objects.")
	}
	var out []memberValue
	for _, r := range raws {
		mv, rp := s.parseMemberValue(c, r)
		if rp != nil {
			return nil, rp
		}
		out = append(out, mv)
	}
	return out, nil
}

// ownerWriteDenied enforces that TeamMember.ReadWriteNonOwnerRole.All cannot
// add or promote owners.
func (s *Sim) ownerWriteDenied(c *call) *reply {
	if s.opts.AnyScope || c.tok.userID == "" {
		return nil
	}
	for _, sc := range c.tok.scopes {
		switch normScope(sc) {
		case "teammember.readwrite.all", "group.readwrite.all", "directory.readwrite.all", ".default":
			return nil
		}
	}
	return gerr(403, "Forbidden", "Adding or promoting an owner requires TeamMember.ReadWrite.All.")
}

func (s *Sim) addMember(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	if _, rp := c.object(""); rp != nil {
		return rp
	}
	mv, rp := s.parseMemberValue(c, c.body)
	if rp != nil {
		return rp
	}
	if mv.owner {
		if rp := s.ownerWriteDenied(c); rp != nil {
			return rp
		}
	}
	if mv.user == nil {
		return gerr(404, "NotFound", fmt.Sprintf("User %s was not found.", mv.key))
	}
	m := g.membership(mv.user.ID)
	if m == nil {
		m = g.addMember(mv.user.ID, mv.owner)
	}
	// Adding an existing member answers 201 with the membership unchanged
	// (no "already a member" error: docs issues #4799/#4502); roles change
	// only through PATCH.
	out := s.memberJSON(c, g, m)
	out["@odata.context"] = c.context(fmt.Sprintf("teams('%s')/members/$entity", g.id))
	return ok(201, out)
}

func (s *Sim) addMembers(c *call) *reply {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return rp
	}
	obj, rp := c.object("addMembers", "values")
	if rp != nil {
		return rp
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(obj["values"], &raws); err != nil || len(raws) == 0 {
		return c.bad("values is required: an array of conversationMember objects.")
	}
	if len(raws) > 200 {
		return c.bad(fmt.Sprintf("A maximum of 200 conversationMember derivatives can be added in one single request; got %d.", len(raws)))
	}
	var values []memberValue
	anyOwner := false
	for _, r := range raws {
		mv, rp := s.parseMemberValue(c, r)
		if rp != nil {
			return rp
		}
		anyOwner = anyOwner || mv.owner
		values = append(values, mv)
	}
	if anyOwner {
		if rp := s.ownerWriteDenied(c); rp != nil {
			return rp
		}
	}
	failed := false
	var results []any
	for _, mv := range values {
		userID := mv.key
		if mv.user != nil {
			userID = mv.user.ID
		}
		var e any
		if mv.user == nil || containsFold(s.faults.BulkAddFailUserIDs, userID) {
			e = map[string]any{"code": "NotFound", "message": ""}
			failed = true
		} else if g.membership(userID) == nil {
			g.addMember(userID, mv.owner)
		}
		results = append(results, map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMemberResult", "userId": userID, "error": e})
	}
	if failed {
		return ok(207, map[string]any{"@odata.context": c.context("Collection(microsoft.graph.addConversationMemberResult)"), "value": results})
	}
	return ok(200, map[string]any{"@odata.context": c.context("Collection(microsoft.graph.aadUserConversationMemberResult)"), "value": results})
}

func (s *Sim) lookupMembership(c *call) (*group, *membership, *reply) {
	g, rp := s.lookupTeam(c)
	if rp != nil {
		return nil, nil, rp
	}
	mid := c.params["membershipId"]
	for _, m := range g.memberships {
		if membershipID(g.id, m.userID) == mid {
			return g, m, nil
		}
	}
	return nil, nil, gerr(404, "NotFound", fmt.Sprintf("Membership %s was not found in team %s.", mid, g.id))
}

func (s *Sim) getMember(c *call) *reply {
	g, m, rp := s.lookupMembership(c)
	if rp != nil {
		return rp
	}
	return ok(200, s.memberJSON(c, g, m))
}

func (s *Sim) patchMember(c *call) *reply {
	g, m, rp := s.lookupMembership(c)
	if rp != nil {
		return rp
	}
	obj, rp := c.object(conversationMemberType, "roles")
	if rp != nil {
		return rp
	}
	if typ, has := getString(obj, "@odata.type"); has && strings.TrimPrefix(typ, "#") != conversationMemberType {
		return c.bad(fmt.Sprintf("Unsupported conversationMember type '%s'.", typ))
	}
	roles, okk := getStrings(obj, "roles")
	if !okk {
		return c.bad("roles is required.")
	}
	owner := false
	for _, r := range roles {
		switch strings.ToLower(r) {
		case "owner":
			owner = true
		case "member", "guest":
		default:
			return c.bad(fmt.Sprintf("Invalid role '%s'.", r))
		}
	}
	if owner && !m.owner {
		if rp := s.ownerWriteDenied(c); rp != nil {
			return rp
		}
	}
	m.owner = owner
	m.member = true
	out := s.memberJSON(c, g, m)
	out["@odata.context"] = c.context(fmt.Sprintf("teams('%s')/members/$entity", g.id))
	return ok(200, out)
}

func (s *Sim) deleteMember(c *call) *reply {
	g, m, rp := s.lookupMembership(c)
	if rp != nil {
		return rp
	}
	for i, x := range g.memberships {
		if x == m {
			g.memberships = append(g.memberships[:i], g.memberships[i+1:]...)
			break
		}
	}
	return &reply{status: 204}
}
