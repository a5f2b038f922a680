package engine_test

import (
	"strconv"
	"strings"
	"testing"
)

// Elentra's data at its worst: double-encoded and lost characters, a course
// with neither code nor name, two courses sharing a code, audience rows that
// name a deleted user and a deleted group. Each is a named finding; nothing
// crashes and what is written is right.
func TestBadElentraData(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	want := h.expected(nil)
	var ids []int
	for _, c := range h.school.Courses {
		if _, ok := want[nickPrefix(c.OrganisationID, c.ID)]; ok {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) < 5 {
		t.Fatalf("only %d current courses", len(ids))
	}
	courses := h.tdb.Table("courses")
	h.tdb.Exec(t, "UPDATE "+courses+" SET course_name = ? WHERE course_id = ?", "HÃ©lÃ¨ne's Anatomy", ids[0])
	h.tdb.Exec(t, "UPDATE "+courses+" SET course_name = ? WHERE course_id = ?", "Biochimie g??n??rale", ids[1])
	h.tdb.Exec(t, "UPDATE "+courses+" SET course_name = '', course_code = '' WHERE course_id = ?", ids[2])
	h.tdb.Exec(t, "UPDATE "+courses+" SET course_code = (SELECT c2.course_code FROM (SELECT course_code FROM "+courses+" WHERE course_id = ?) c2) WHERE course_id = ?", ids[4], ids[3])
	h.tdb.Exec(t, "INSERT INTO "+h.tdb.Table("course_audience")+" (course_id, audience_type, audience_value, cperiod_id, enroll_start, enroll_finish, audience_active) "+
		"SELECT course_id, 'group_id', 987654, cperiod_id, 0, 0, 1 FROM "+h.tdb.Table("course_audience")+" WHERE course_id = ? LIMIT 1", ids[4])
	h.tdb.Exec(t, "INSERT INTO "+h.tdb.Table("course_audience")+" (course_id, audience_type, audience_value, cperiod_id, enroll_start, enroll_finish, audience_active) "+
		"SELECT course_id, 'proxy_id', 987655, cperiod_id, 0, 0, 1 FROM "+h.tdb.Table("course_audience")+" WHERE course_id = ? LIMIT 1", ids[4])

	rep, err := h.sync(nil)
	if err != nil {
		t.Fatalf("%v %+v", err, rep.AllFailures())
	}
	found := map[string][]string{}
	for _, f := range rep.AllFindings() {
		found[string(f.Kind)] = append(found[string(f.Kind)], f.Message)
	}
	for _, k := range []string{"text_double_encoded", "text_lost_characters", "course_without_name", "duplicate_course_code", "audience_deleted"} {
		if len(found[k]) == 0 {
			t.Errorf("no %s finding", k)
		}
	}
	if msgs := strings.Join(found["audience_deleted"], " "); !strings.Contains(msgs, "group 987654") || !strings.Contains(msgs, "user 987655") {
		t.Errorf("audience findings %q", msgs)
	}
	names := map[string]string{}
	for _, tm := range h.sim.State().Teams {
		names[courseKey(tm.MailNickname)] = tm.DisplayName
	}
	if n := names[nickPrefix(1, ids[0])]; !strings.Contains(n, "Hélène's Anatomy") {
		t.Errorf("the double-encoded name was not repaired: %q", n)
	}
	if n := names[nickPrefix(1, ids[2])]; n != "Course "+itoa(ids[2]) {
		t.Errorf("the nameless course's Team is %q", n)
	}
	// the rest is as the generator's rows say (the deleted rows add nobody)
	compare(t, want, h.actual())
}

func itoa(n int) string { return strconv.Itoa(n) }
