package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// A failure repeated for thousands of actions keeps the report (printed,
// and stored in msteams_runs.report) small: the first failures are listed,
// the rest counted, and each message is cut.
func TestReportIsBounded(t *testing.T) {
	const n = 20000
	r := newReport("sync-members", false, time.Now())
	long := strings.Repeat("Graph said something long ", 400)
	for i := 0; i < n; i++ {
		r.fail(failure(reconcile.KindAddMembers, i%50+1, 0, fmt.Sprintf("user-%d", i), errors.New(long)))
	}
	if len(r.Failures) != MaxFailuresListed || r.FailuresOmitted != n-MaxFailuresListed {
		t.Errorf("listed %d, omitted %d; want %d and %d", len(r.Failures), r.FailuresOmitted, MaxFailuresListed, n-MaxFailuresListed)
	}
	if c := r.Counts[reconcile.KindAddMembers]; c.Failed != n {
		t.Errorf("counted %d failures, want %d", c.Failed, n)
	}
	for _, f := range r.Failures {
		if utf8.RuneCountInString(f.Message) > MaxFailureMessage+1 {
			t.Fatalf("a message of %d characters", utf8.RuneCountInString(f.Message))
		}
	}
	full, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) > 100_000 {
		t.Errorf("the report is %d bytes", len(full))
	}
	if !strings.Contains(string(full), fmt.Sprintf(`"failures_omitted":%d`, n-MaxFailuresListed)) {
		t.Error("the report does not say how many failures it leaves out")
	}
	run := newReport("sync", false, time.Now())
	run.Steps = []*Report{r, newReport("sync-events", false, time.Now())}
	if got := run.summary()["failures"]; got != n {
		t.Errorf("the summary counts %v failures, want %d", got, n)
	}
	if got := len(run.AllFailures()) + run.FailuresLeftOut(); got != n {
		t.Errorf("listed and left out add up to %d, want %d", got, n)
	}
}
