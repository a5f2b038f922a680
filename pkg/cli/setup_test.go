package cli

import (
	"testing"
)

// setup's flags, and the options that exclude each other: a database is
// either a copy (--new-installation, which --force may insist on) or moved.
func TestSetupFlags(t *testing.T) {
	view := func(o *setupOptions) any { c := *o; c.f = nil; return c }
	testFlags(t, "", newSetupCmd, view, []flagCase{
		{args: []string{"setup"}, want: setupOptions{}},
		{args: []string{"setup", "--enable", "--menu", "--takeover"}, want: setupOptions{enable: true, menu: true, takeover: true}},
		{args: []string{"--dry-run", "setup", "--takeover"}, want: setupOptions{takeover: true, dryRun: true}},
		{args: []string{"setup", "--new-installation"}, want: setupOptions{newInstallation: true}},
		{args: []string{"setup", "--new-installation", "--force", "--dry-run"}, want: setupOptions{newInstallation: true, force: true, dryRun: true}},
		{args: []string{"setup", "--moved", "--menu"}, want: setupOptions{moved: true, menu: true}},

		{args: []string{"setup", "--new-installation", "--moved"},
			wantErr: "--new-installation and --moved exclude each other: a copy gets its own id, a moved database keeps its own"},
		{args: []string{"setup", "--moved", "--new-installation", "--force"}, wantErr: "--new-installation and --moved exclude each other"},
		{args: []string{"setup", "--force"}, wantErr: "--force goes with --new-installation only"},
		{args: []string{"setup", "--moved", "--force"}, wantErr: "--force goes with --new-installation only"},
		{args: []string{"setup", "--takeover=maybe"}, wantErr: `invalid argument "maybe" for "--takeover" flag`},
		{args: []string{"setup", "now"}, wantErr: `unknown command "now" for "elentra-teams setup"`},
	})
}
