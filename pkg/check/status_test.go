package check

import (
	"reflect"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestLastRunsPerCommandGroupsNewestFirst(t *testing.T) {
	at := func(min int) time.Time { return now.Add(time.Duration(-min) * time.Minute) }
	end := at(1)
	zero := 0
	// As RecentRuns gives them: newest first, commands interleaved.
	runs := []store.Run{
		{Command: "sync", Started: at(5), Finished: &end, ExitCode: &zero,
			Summary: `{"counts":{"add_members":{"planned":3,"applied":3},"create_team":{"planned":1,"applied":0,"failed":1}},"findings":2,"failures":1}`},
		{Command: "sync-users", Started: at(10)},
		{Command: "sync", Started: at(60)},
		{Command: "sync", Started: at(120)},
		{Command: "sync-users", Started: at(130)},
		{Command: "sync", Started: at(180)},
	}
	got := lastRunsPerCommand(runs, 3)
	var order []string
	for _, r := range got {
		order = append(order, r.Command+"@"+r.Started.Format("15:04"))
	}
	want := []string{"sync@11:55", "sync@11:00", "sync@10:00", "sync-users@11:50", "sync-users@09:50"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("runs = %v, want %v", order, want)
	}
	first := got[0]
	if !reflect.DeepEqual(first.Counts, map[string]int{"add_members": 3}) || first.Failed != 1 || first.Findings != 2 {
		t.Errorf("counts of the newest sync = %v failed %d findings %d, want add_members 3, 1 failed, 2 findings", first.Counts, first.Failed, first.Findings)
	}
	if first.Duration == nil || *first.Duration != 240 {
		t.Errorf("duration = %v, want 240 s", first.Duration)
	}
	if got[1].Duration != nil {
		t.Error("an unfinished run has a duration")
	}
}

func TestRunCountsToleratesNoSummary(t *testing.T) {
	for _, s := range []string{"", "not json", "{}"} {
		if applied, failed, findings, disabled := runCounts(s); applied != nil || failed != 0 || findings != 0 || disabled {
			t.Errorf("runCounts(%q) = %v %d %d %v", s, applied, failed, findings, disabled)
		}
	}
}
