package cli

import (
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// Every command a user can run says what it does in a line and shows an
// example in its --help.
func TestEveryCommandHasASummaryAndAnExample(t *testing.T) {
	root := NewRootCmd(&Factory{IO: &IOStreams{}, Now: time.Now})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() != "help" && !c.Hidden {
			if c.Short == "" {
				t.Errorf("%s has no summary", c.CommandPath())
			}
			if c.Example == "" {
				t.Errorf("%s --help shows no example", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
