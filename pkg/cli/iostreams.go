package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams: stdout carries the result,
// stderr logs and progress.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// stdinTTY and stderrTTY override the terminal detection (tests play a
	// person at a terminal through pipes).
	stdinTTY, stderrTTY *bool
	// lines reads In line by line for prompts, shared by all of them.
	lines *bufio.Reader
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
func (s *IOStreams) StderrIsTerminal() bool {
	if s.stderrTTY != nil {
		return *s.stderrTTY
	}
	return isTerminal(s.ErrOut)
}

// StdinIsTerminal reports whether a person can answer prompts.
func (s *IOStreams) StdinIsTerminal() bool {
	if s.stdinTTY != nil {
		return *s.stdinTTY
	}
	return isTerminal(s.In)
}

// CanPrompt reports whether a person at a terminal can be asked and answer.
func (s *IOStreams) CanPrompt() bool { return s.StdinIsTerminal() && s.StderrIsTerminal() }

// Confirm asks a yes/no question on stderr and reads the answer from stdin:
// only "y" or "yes" (any case) is yes; end of input is no.
func (s *IOStreams) Confirm(question string) bool {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	line, _ := s.lines.ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
