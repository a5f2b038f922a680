package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

func TestParseFlags(t *testing.T) {
	s, err := parseFlags([]string{"--seed", "testdata/seed.json", "--fault-429-every", "5", "--retry-after-form", "date",
		"--fault-bulk-add-fail", "u1,u2", "--fault-bulk-add-fail", "u3", "--fault-no-mailbox", "u9", "--page-size", "7",
		"--fault-fail-operations", "--nickname-prefix", "GRP_"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f := s.opts.Faults
	if f.Throttle429Every != 5 || f.RetryAfterForm != "date" || !f.FailOperations || f.NicknamePolicy.Prefix != "GRP_" || s.opts.PageSize != 7 {
		t.Errorf("faults = %+v, page size %d", f, s.opts.PageSize)
	}
	if !reflect.DeepEqual(f.BulkAddFailUserIDs, []string{"u1", "u2", "u3"}) || !reflect.DeepEqual(f.NoMailboxUserIDs, []string{"u9"}) {
		t.Errorf("lists = %v %v", f.BulkAddFailUserIDs, f.NoMailboxUserIDs)
	}
	if s.opts.Limits.Enabled || s.opts.Latency != 0 || s.opts.TimeScale != 1 {
		t.Errorf("defaults: limits %v, latency %v, time scale %v; want off, 0, 1", s.opts.Limits.Enabled, s.opts.Latency, s.opts.TimeScale)
	}
	s, err = parseFlags([]string{"--seed", "testdata/seed.json", "--limits", "--latency", "50ms", "--time-scale", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !s.opts.Limits.Enabled || s.opts.Latency != 50*time.Millisecond || s.opts.TimeScale != 10 {
		t.Errorf("limits %v, latency %v, time scale %v", s.opts.Limits.Enabled, s.opts.Latency, s.opts.TimeScale)
	}
	for _, bad := range [][]string{
		{},
		{"--seed", "x.json", "--retry-after-form", "minutes"},
		{"--seed", "x.json", "--page-size", "0"},
		{"--seed", "x.json", "--time-scale", "0"},
		{"--seed", "x.json", "--time-scale", "-2"},
		{"--seed", "x.json", "--time-scale", "NaN"},
		{"--seed", "x.json", "--latency", "-1s"},
		{"--seed", "x.json", "extra"},
		{"--seed", "x.json", "--no-such-flag"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--seed", "testdata/seed.json", "--fault-429-storm", "1"}, outW, &stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no base URL on stdout: %v (stderr %s)", err, stderr.String())
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL = %q", base)
	}
	res, err := http.Get(base + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	var f graphsim.Faults
	json.NewDecoder(res.Body).Decode(&f)
	res.Body.Close()
	if f.Throttle429Storm != 1 {
		t.Errorf("faults served = %+v", f)
	}
	res, err = http.Get(base + "/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("GET /v1.0/me without a token: %d", res.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d, stderr %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

func TestRunRejectsBadSeed(t *testing.T) {
	var stderr strings.Builder
	if code := run(context.Background(), []string{"--seed", "testdata/missing.json"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "missing.json") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
