package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams: stdout carries the result,
// stderr logs and progress.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// isTerminal reports whether w is a terminal (tables, progress bars and
// interactive prompts only appear on one).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// StdoutIsTerminal reports whether results go to a terminal.
func (s *IOStreams) StdoutIsTerminal() bool { return isTerminal(s.Out) }

// StderrIsTerminal reports whether logs go to a terminal.
func (s *IOStreams) StderrIsTerminal() bool { return isTerminal(s.ErrOut) }

// StdinIsTerminal reports whether a person can answer prompts.
func (s *IOStreams) StdinIsTerminal() bool { return isTerminal(s.In) }
