package engine_test

import (
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/school"
)

// A full sync of the synthetic school gives exactly the Teams and members
// computed from the generator's rows, and a second run changes nothing.
func TestSyncSchool(t *testing.T) {
	h := newHarness(t, school.Small(), nil)
	rep, err := h.sync(nil)
	if err != nil {
		t.Fatalf("first sync: %v (failures %+v)", err, rep.AllFailures())
	}
	want := h.expected(nil)
	if len(want) < 40 {
		t.Fatalf("the school should give at least 40 Teams, got %d", len(want))
	}
	compare(t, want, h.actual())

	// what a person needs to know is in the report
	kinds := map[string]bool{}
	for _, f := range rep.AllFindings() {
		kinds[f.Kind] = true
	}
	for _, k := range []string{"user_no_email", "user_ambiguous", "user_unmatched", "no_owner", "course_not_current", "no_object_id"} {
		if !kinds[k] {
			t.Errorf("no %s finding in the report", k)
		}
	}

	before := h.tableDump()
	c0 := h.sim.Counters()
	rep2, err := h.sync(nil)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	c1 := h.sim.Counters()
	if n := writes(c1) - writes(c0); n != 0 {
		t.Errorf("the second sync made %d Graph writes", n)
	}
	if after := h.tableDump(); after != before {
		t.Errorf("the second sync changed mapping rows")
	}
	applied, failed := rep2.Totals()
	if applied != 0 || failed != 0 {
		t.Errorf("second sync applied %d, failed %d", applied, failed)
	}
	// a no-change run costs few requests: the member listings, 20 Teams a $batch
	if req := rep2.Graph.Requests; req > len(want)/20+3 {
		t.Errorf("the no-change sync sent %d requests for %d Teams (%v)", req, len(want), rep2.Graph.ByRoute)
		for _, s := range rep2.Steps {
			t.Logf("%s: %+v", s.Command, s.Counts)
		}
	}
	_ = reconcile.KindAddMembers
}
