package config

import (
	"errors"
	"testing"
)

// FuzzTemplates: any name template is either refused with a configuration
// error or renders a name; it never panics, and never writes more than
// MaxTemplateOutput.
func FuzzTemplates(f *testing.F) {
	f.Add("{{.Code}} {{.Name}}")
	f.Add("{{.Code}} {{.Name}} ({{.Period}})")
	f.Add("{{range .}}{{end}}")
	f.Add("{{.Nope}}")
	f.Add("{{template \"x\"}}")
	f.Add(`{{$x := "\\"}}{{range 30}}{{$x = js $x}}{{end}}{{$x}}`)
	f.Add("{{range 100000}}{{$.Code}}{{end}}")
	f.Fuzz(func(t *testing.T, text string) {
		c := Defaults()
		c.Sync.TeamNameTemplate = text
		c.Sync.EventSubjectTemplate = text
		err := c.validateSync()
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("%T: %v", err, err)
		}
		if tm, err := ParseNameTemplate("t", text); err == nil {
			if out, _ := RenderTemplate(tm, map[string]any{"Code": "MED101", "Name": "Anatomy", "Period": "2026-2027", "ID": 1}); len(out) > MaxTemplateOutput {
				t.Fatalf("%d bytes written", len(out))
			}
		}
	})
}
