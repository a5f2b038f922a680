package school

import "sort"

// ExpectedLearners evaluates the learner rule over the generated rows, in Go,
// independently of the SQL in package elentra: tests compare what the tool
// read (and what ended up in Teams) with it.
func ExpectedLearners(s *School) map[int][]int {
	now := s.Spec.Now.Unix()
	covers := func(start, finish int64) bool { return start <= now && (finish == 0 || finish >= now) }
	courseOrg := map[int]int{}
	for _, c := range s.Courses {
		courseOrg[c.ID] = c.OrganisationID
	}
	period := map[int]Period{}
	for _, p := range s.Periods {
		period[p.ID] = p
	}
	groups := map[int]Group{}
	for _, g := range s.Groups {
		groups[g.ID] = g
	}
	members := map[int][]Member{}
	for _, m := range s.Members {
		members[m.GroupID] = append(members[m.GroupID], m)
	}
	type orgUser struct{ org, user int }
	student := map[orgUser]bool{}
	for _, a := range s.Access {
		if a.AppID == s.Spec.AppID && a.Active && a.Group == "student" && a.Starts <= now && (a.Expires == 0 || a.Expires > now) {
			student[orgUser{a.OrganisationID, a.UserID}] = true
		}
	}
	exists := map[int]bool{}
	for _, u := range s.Users {
		exists[u.ID] = true
	}
	sets := map[int]map[int]bool{}
	add := func(course, user int) {
		if !exists[user] || !student[orgUser{courseOrg[course], user}] {
			return
		}
		if sets[course] == nil {
			sets[course] = map[int]bool{}
		}
		sets[course][user] = true
	}
	for _, a := range s.Audience {
		p := period[a.PeriodID]
		if !a.Active || !(p.Start <= now && p.Finish >= now) || !covers(a.EnrollStart, a.EnrollFinish) {
			continue
		}
		if a.Type == "proxy_id" {
			add(a.CourseID, a.Value)
			continue
		}
		g := groups[a.Value]
		var start, expire int64
		if g.Start != nil {
			start = *g.Start
		}
		if g.Expire != nil {
			expire = *g.Expire
		}
		if !g.Active || !covers(start, expire) {
			continue
		}
		for _, m := range members[g.ID] {
			if m.Active && covers(m.Start, m.Finish) {
				add(a.CourseID, m.ProxyID)
			}
		}
	}
	out := map[int][]int{}
	for c, set := range sets {
		for u := range set {
			out[c] = append(out[c], u)
		}
		sort.Ints(out[c])
	}
	return out
}
