package config

import (
	"errors"
	"testing"
)

// FuzzTemplates: any name template is either refused with a configuration
// error or renders a name; it never panics.
func FuzzTemplates(f *testing.F) {
	f.Add("{{.Code}} {{.Name}}")
	f.Add("{{.Code}} {{.Name}} ({{.Period}})")
	f.Add("{{range .}}{{end}}")
	f.Add("{{.Nope}}")
	f.Add("{{template \"x\"}}")
	f.Fuzz(func(t *testing.T, text string) {
		c := Defaults()
		c.Sync.TeamNameTemplate = text
		c.Sync.EventSubjectTemplate = text
		err := c.validateSync()
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("%T: %v", err, err)
		}
	})
}
