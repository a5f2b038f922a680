package cli

import (
	"testing"
)

// status takes no arguments and no flags of its own.
func TestStatusFlags(t *testing.T) {
	view := func(o *statusOptions) any { return o.f != nil }
	testFlags(t, "", newStatusCmd, view, []flagCase{
		{args: []string{"status"}, want: true},
		{args: []string{"--output", "json", "status"}, want: true},
		{args: []string{"--output", "yaml", "status"}, wantErr: `--output "yaml": use text or json`},
		{args: []string{"status", "101"}, wantErr: `unknown command "101" for "elentra-teams status"`},
	})
}
