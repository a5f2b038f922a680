package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// rehearse stands the world up as the demo does (a fresh Elentra without the
// Teams settings, Elentra 1.22's own cron jobs active, a tenant whose
// directory holds the school's people) and waits until ctx ends, so that an
// administrator can follow docs/setup.md from step 6 with the real binary.
// ready, when set, is called with the world once it is up (for tests).
func rehearse(ctx context.Context, o options, out io.Writer, now func() time.Time, ready ...func(*world)) error {
	w, err := startWorld(ctx, o, now())
	if err != nil {
		return err
	}
	defer w.close()
	var adminEmail string
	for _, u := range w.school.Users {
		if u.ID == w.school.Edge.Admin {
			adminEmail = u.Email
		}
	}
	fmt.Fprintf(out, `A rehearsal of docs/setup.md: a synthetic medical school (%d courses, %d learners) and its
Microsoft 365 tenant, up until you press Ctrl-C. Nothing reaches Microsoft.

  Elentra's database  %s (user root, any password), schemas %s and %s; Elentra 1.22's own
                      Teams jobs are active in its cron table and the Teams settings are absent
  Microsoft           %s: the identity platform and Graph, tenant %s, %d directory accounts
  Elentra user 1      %s, signed in whenever the simulator is asked to sign in

Steps 2 to 5 of the guide are done: the configuration of step 6 is %s
(the secret files beside it):

%s
From another terminal, with the binary built (go build -o elentra-teams ./cmd/elentra-teams):

  CONFIG=%s
  ./elentra-teams --config "$CONFIG" check-config
  ./elentra-teams --config "$CONFIG" setup --dry-run
  ./elentra-teams --config "$CONFIG" setup --takeover
  ./elentra-teams --config "$CONFIG" authorize --no-browser --timezone %s
      (then, in a third terminal, play the browser and paste what this prints:
       curl -s -o /dev/null -w '%%{redirect_url}\n' 'ADDRESS PRINTED BY AUTHORIZE')
  ./elentra-teams --config "$CONFIG" courses list

and on with steps 9 to 12. %s/_sim/state shows the Teams, members and meetings.
`, o.courses, o.learners,
		w.dbAddr, schemaName, authSchemaName,
		w.graphURL, demoTenantID, w.directoryUsers,
		adminEmail,
		w.config, indent(w.configText), w.config, demoTimezone, w.graphURL)
	for _, f := range ready {
		f(w)
	}
	<-ctx.Done()
	fmt.Fprintln(out, "\nStopped: the database, the simulator and the configuration are gone.")
	return nil
}

// indent prefixes every line of text with two spaces.
func indent(text string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n  ") + "\n"
}
