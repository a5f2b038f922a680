// Command elentra-teams keeps Microsoft Teams in step with Elentra ME.
package main

import (
	"os"

	"github.com/elentra-teams/elentra-teams/pkg/cli"
)

func main() {
	os.Exit(cli.Main())
}
