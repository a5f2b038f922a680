package check

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// fixed returns a check that always gives status s.
func fixed(id string, s Status, deps ...string) Check {
	return Check{ID: id, DependsOn: deps, Run: func(context.Context, *Env) Result {
		return Result{Status: s, Message: id + " ran"}
	}}
}

func statuses(rep *Report) map[string]Status {
	out := map[string]Status{}
	for _, r := range rep.Checks {
		out[r.ID] = r.Status
	}
	return out
}

func find(t *testing.T, rep *Report, id string) Result {
	t.Helper()
	for _, r := range rep.Checks {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", id, rep.Checks)
	return Result{}
}

func TestRunSkipsDependentsOfFailedChecksWithTheReason(t *testing.T) {
	rep := Run(context.Background(), &Env{}, []Check{
		fixed("a", Fail),
		fixed("b", OK, "a"),
		fixed("c", OK, "b"),
		fixed("d", Warn),
		fixed("e", OK, "d"),
	})
	want := map[string]Status{"a": Fail, "b": Skip, "c": Skip, "d": Warn, "e": OK}
	if got := statuses(rep); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if got := find(t, rep, "b").Message; got != "skipped: needs a, which failed" {
		t.Errorf("b's message = %q", got)
	}
	if got := find(t, rep, "c").Message; got != "skipped: needs b, which was skipped" {
		t.Errorf("c's message = %q", got)
	}
	if rep.Failed != 1 || rep.Warnings != 1 || rep.Skipped != 2 || rep.Passed() {
		t.Errorf("counts failed %d warnings %d skipped %d passed %v, want 1 1 2 false", rep.Failed, rep.Warnings, rep.Skipped, rep.Passed())
	}
}

func TestWarningsAndSkipsDoNotFailTheRun(t *testing.T) {
	rep := Run(context.Background(), &Env{}, []Check{fixed("a", Warn), fixed("b", Skip), fixed("c", OK, "b")})
	if !rep.Passed() {
		t.Errorf("a run with only warnings and skips did not pass: %+v", rep)
	}
	if got := find(t, rep, "c").Status; got != Skip {
		t.Errorf("a check needing a skipped one is %s, want skip", got)
	}
}

func TestAnUnknownDependencyBlocks(t *testing.T) {
	// A renamed check must not silently drop the guard of its dependents.
	rep := Run(context.Background(), &Env{}, []Check{fixed("b", OK, "renamed")})
	if got := find(t, rep, "b"); got.Status != Skip || !strings.Contains(got.Message, "needs renamed") {
		t.Errorf("b = %+v, want skipped for want of renamed", got)
	}
}

func TestOnlineChecksAreLeftOutOffline(t *testing.T) {
	checks := []Check{
		fixed("token", OK),
		{ID: "graph", Online: true, DependsOn: []string{"token"}, Run: fixed("graph", OK).Run},
		{ID: "graph.more", Online: true, DependsOn: []string{"graph"}, Run: fixed("graph.more", OK).Run},
		{ID: "limit", OnlineDependsOn: []string{"graph"}, Run: fixed("limit", Warn).Run},
	}
	off := Run(context.Background(), &Env{}, checks)
	if got, want := statuses(off), map[string]Status{"token": OK, "limit": Warn}; !reflect.DeepEqual(got, want) {
		t.Errorf("offline statuses = %v, want %v", got, want)
	}
	if want := []string{"graph", "graph.more"}; !reflect.DeepEqual(off.NotRun, want) {
		t.Errorf("offline NotRun = %v, want %v", off.NotRun, want)
	}
	on := Run(context.Background(), &Env{Online: true}, checks)
	if got, want := statuses(on), map[string]Status{"token": OK, "graph": OK, "graph.more": OK, "limit": Warn}; !reflect.DeepEqual(got, want) {
		t.Errorf("online statuses = %v, want %v", got, want)
	}
	if len(on.NotRun) != 0 {
		t.Errorf("online NotRun = %v, want none", on.NotRun)
	}
}

func TestOnlineDependenciesApplyOnlyOnline(t *testing.T) {
	checks := []Check{
		fixed("secret", Fail),
		{ID: "refresh", OnlineDependsOn: []string{"secret"}, Run: fixed("refresh", OK).Run},
	}
	if got := find(t, Run(context.Background(), &Env{}, checks), "refresh").Status; got != OK {
		t.Errorf("offline, refresh = %s; the secret is not needed to read the stored dates", got)
	}
	if got := find(t, Run(context.Background(), &Env{Online: true}, checks), "refresh").Status; got != Skip {
		t.Errorf("online, refresh = %s, want skip without a secret", got)
	}
}

func TestAPanickingCheckFailsAloneAndTheOthersRun(t *testing.T) {
	rep := Run(context.Background(), &Env{}, []Check{
		{ID: "broken", Run: func(context.Context, *Env) Result { panic("nil map") }},
		fixed("next", OK),
	})
	b := find(t, rep, "broken")
	if b.Status != Fail || !strings.Contains(b.Message, "nil map") || b.Fix == "" {
		t.Errorf("broken = %+v, want a failure naming the panic, with a fix", b)
	}
	if find(t, rep, "next").Status != OK {
		t.Error("the check after a panic did not run")
	}
}

func TestAllChecksHaveUniqueIDsAndKnownDependencies(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range All() {
		if seen[c.ID] {
			t.Errorf("check %s appears twice", c.ID)
		}
		for _, d := range append(append([]string(nil), c.DependsOn...), c.OnlineDependsOn...) {
			if !seen[d] {
				t.Errorf("check %s depends on %s, which does not run before it", c.ID, d)
			}
		}
		seen[c.ID] = true
		if c.Run == nil {
			t.Errorf("check %s has no Run", c.ID)
		}
	}
}

func TestALoadErrorFailsConfigFileAndSkipsTheRest(t *testing.T) {
	rep := Run(context.Background(), &Env{LoadErr: errUnknownKey()}, All())
	if rep.Failed != 1 {
		t.Errorf("failed = %d, want 1 (only config.file)", rep.Failed)
	}
	cf := find(t, rep, "config.file")
	if cf.Message != `microsoft.tenant: unknown key (from config file c.yaml: line 2)` || cf.Fix != `did you mean "microsoft.tenant_id"?` {
		t.Errorf("config.file = %+v", cf)
	}
	for _, r := range rep.Checks {
		if r.ID != "config.file" && r.Status != Skip {
			t.Errorf("%s = %s, want skip after config.file failed", r.ID, r.Status)
		}
	}
}
