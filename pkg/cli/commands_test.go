package cli

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
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

// testFactory is a factory on buffers; tty says whether a person is at a
// terminal (stdin and stderr) to answer prompts.
func testFactory(tty bool) *Factory {
	return &Factory{
		IO:  &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, stdinTTY: &tty, stderrTTY: &tty},
		Now: time.Now,
	}
}

// parseCmd runs args through a root with the global flags and cmd, as Run
// does up to cmd's run function: the runF cmd was made with stands in for
// that, so nothing is read or opened.
func parseCmd(f *Factory, cmd *cobra.Command, args ...string) error {
	root := newBaseCmd(f)
	root.AddCommand(cmd)
	fixArgs(root)
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	_, err := root.ExecuteC()
	return err
}

// under puts subcommands under a parent, as courses, events and users hold
// theirs.
func under(name string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: name, Args: cobra.NoArgs}
	c.AddCommand(subs...)
	return c
}

// flagCase is a command line and what its flags must become: the options
// its run function gets (as the test's view shows them), or a usage error
// saying wantErr before the run function is reached.
type flagCase struct {
	args    []string
	tty     bool // a person at a terminal
	want    any
	wantErr string
}

// testFlags runs each case through the command newCmd makes (under parent,
// when it has one), with a run function that keeps its options.
func testFlags[O any](t *testing.T, parent string, newCmd func(*Factory, func(*O) error) *cobra.Command, view func(*O) any, cases []flagCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := testFactory(tc.tty)
			var got *O
			cmd := newCmd(f, func(o *O) error { got = o; return nil })
			if parent != "" {
				cmd = under(parent, cmd)
			}
			err := parseCmd(f, cmd, tc.args...)
			if tc.wantErr != "" {
				if msg := checkUsage(err, got != nil, tc.wantErr); msg != "" {
					t.Error(msg)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("%v (run function called: %v)", err, got != nil)
			}
			if v := view(got); !reflect.DeepEqual(v, tc.want) {
				t.Errorf("parsed as\n%+v\nwant\n%+v", v, tc.want)
			}
		})
	}
}

// checkUsage says what is wrong with err for a command line that must be
// refused as a usage error (exit 2, with the usage) saying want, before its
// run function (called tells whether it was) is reached.
func checkUsage(err error, called bool, want string) string {
	var fe *FlagError
	switch {
	case called:
		return "the run function was called"
	case !errors.As(err, &fe):
		return "error " + errString(err) + " is not a usage error"
	case !strings.Contains(err.Error(), want):
		return "error " + errString(err) + " does not say " + want
	}
	if code, _, usage := exitCode(err); code != ExitUsage || !usage {
		return "not exit 2 with the usage"
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return "\"" + err.Error() + "\""
}
