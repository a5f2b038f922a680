package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// printTable writes rows under a header in aligned columns, two spaces
// apart; a cell never holds a tab or a newline.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = strings.Join(strings.Fields(c), " ")
			if clean[i] == "" {
				clean[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(clean, "\t"))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return tw.Flush()
}

// writeList prints a list: with --output json the items as a JSON array
// (never null), else a text table, or the none message when there are no
// rows.
func writeList[T any](f *Factory, items []T, header []string, rows [][]string, none string) error {
	if f.JSON() {
		if items == nil {
			items = []T{}
		}
		return writeJSON(f, items)
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.Out, none)
		return nil
	}
	return printTable(f.IO.Out, header, rows)
}

// parseIDs reads ids given on the command line: positive whole numbers. Any
// other argument is a usage error naming every such argument.
func parseIDs(kind string, args []string) ([]int, error) {
	var ids []int
	var bad []string
	for _, a := range args {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 1 {
			bad = append(bad, strconv.Quote(a))
			continue
		}
		ids = append(ids, n)
	}
	if len(bad) > 0 {
		article := "a"
		if kind == "event" {
			article = "an"
		}
		what := "is not " + article + " " + kind + " id"
		if len(bad) > 1 {
			what = "are not " + kind + " ids"
		}
		return nil, &FlagError{Err: fmt.Errorf("%s %s (a positive whole number)", strings.Join(bad, ", "), what)}
	}
	return ids, nil
}

// idsError makes an id that Elentra does not have an input error (exit 2,
// without the usage: the command line was well formed).
func idsError(err error) error {
	var ue *store.UnknownIDsError
	if errors.As(err, &ue) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return err
}
