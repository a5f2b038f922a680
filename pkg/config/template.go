package config

import (
	"fmt"
	"strings"
	"text/template"
)

// MaxTemplateOutput is the most a name template (sync.team_name_template,
// sync.event_subject_template) may write for one course or event, and the
// longest string one of its functions may make: far more than a Team name
// (256 characters) or a meeting subject (255) holds, far less than a loop
// such as {{range 20000000}}…{{end}} would make.
const MaxTemplateOutput = 64 << 10

// ErrTemplateTooLong is matched (errors.Is) when a template writes, or one
// of its functions makes, more than MaxTemplateOutput bytes; it stops there.
var ErrTemplateTooLong = fmt.Errorf("writes more than %s", byteSize(MaxTemplateOutput))

// ParseNameTemplate parses a name template: a missing field is an error, and
// the functions that make strings (print, printf, println, html, js,
// urlquery) refuse to make one over MaxTemplateOutput, so that a string grown
// in a variable ({{$x = js $x}} doubles it) is bounded as what is written is.
func ParseNameTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(cappedFuncs).Parse(text)
}

// RenderTemplate executes a name template on data into a buffer capped at
// MaxTemplateOutput bytes. check-config's validation and the syncs' renders
// share it (and ParseNameTemplate), so a template that passes the one cannot
// exhaust the memory of the other.
func RenderTemplate(t *template.Template, data any) (string, error) {
	w := &cappedWriter{limit: MaxTemplateOutput}
	if err := t.Execute(w, data); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

// cappedWriter keeps what is written up to limit bytes; a write past it
// fails, which stops the template's execution.
type cappedWriter struct {
	b     strings.Builder
	limit int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.limit {
		return 0, ErrTemplateTooLong
	}
	return w.b.Write(p)
}

// cappedFuncs replace text/template's string-making built-ins with the same
// functions, capped.
var cappedFuncs = template.FuncMap{
	"print":    capped(fmt.Sprint),
	"println":  capped(fmt.Sprintln),
	"html":     capped(template.HTMLEscaper),
	"js":       capped(template.JSEscaper),
	"urlquery": capped(template.URLQueryEscaper),
	"printf": func(format string, args ...any) (string, error) {
		return capString(fmt.Sprintf(format, args...))
	},
}

func capped(f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) { return capString(f(args...)) }
}

func capString(s string) (string, error) {
	if len(s) > MaxTemplateOutput {
		return "", ErrTemplateTooLong
	}
	return s, nil
}
