package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/elentra-teams/elentra-teams/pkg/cli"
)

// shell runs elentra-teams command lines in this process, through the same
// entry point as the binary, and writes a transcript as a terminal would
// show it: the command line, then what it printed on stdout and stderr.
type shell struct {
	config string
	mu     sync.Mutex // keeps lines from stdout and stderr whole in out
	out    io.Writer
}

// commandResult is what one command line gave.
type commandResult struct {
	args   []string
	stdout string
	code   int
}

// answerFunc types a line on the running command's standard input.
type answerFunc func(line string)

// run runs `elentra-teams --config <config> args…`. onLine, when set, sees
// each stdout line as it is printed and may answer on stdin; without it
// stdin is empty.
func (s *shell) run(ctx context.Context, onLine func(line string, answer answerFunc), args ...string) commandResult {
	s.printf("\n$ elentra-teams %s\n", quoteArgs(args))

	inR, inW := io.Pipe()
	// Answers are typed from their own goroutine: the command reads stdin
	// only after it has finished printing the line being answered.
	answer := func(line string) {
		go func() { _, _ = fmt.Fprintln(inW, line) }()
	}
	var stdin io.Reader = inR
	if onLine == nil {
		stdin = strings.NewReader("")
	}
	stdout := &lineWriter{emit: func(line string) {
		s.printf("%s\n", line)
		if onLine != nil {
			onLine(line, answer)
		}
	}}
	stderr := &lockedWriter{mu: &s.mu, w: s.out}

	code := cli.Run(ctx, append([]string{"--config", s.config}, args...), &cli.IOStreams{In: stdin, Out: stdout, ErrOut: stderr})
	stdout.flush()
	// An answer nobody read must not block its goroutine for ever.
	_ = inR.Close()
	if code != 0 {
		s.printf("(exit %d)\n", code)
	}
	return commandResult{args: args, stdout: stdout.all.String(), code: code}
}

// printf writes to the transcript.
func (s *shell) printf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format, a...)
}

// note writes the demo's own remarks, set apart from the commands' output.
func (s *shell) note(format string, a ...any) {
	s.printf("# "+format+"\n", a...)
}

// lineWriter cuts what a command writes into lines and hands each one to
// emit as soon as it is complete, keeping all of it.
type lineWriter struct {
	emit    func(line string)
	mu      sync.Mutex
	pending []byte
	all     bytes.Buffer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		line := string(l.pending[:i])
		l.pending = l.pending[i+1:]
		l.emit(line)
	}
	return len(p), nil
}

// flush emits a last line that had no newline.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		line := string(l.pending)
		l.pending = nil
		l.emit(line)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// quoteArgs joins args as a shell would need them typed.
func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\*?&|;<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
