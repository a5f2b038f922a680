package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// FuzzConfigFile: whatever a config file holds, loading it never panics and
// fails only with a configuration error (exit 2) naming what is wrong.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte("database:\n  host: db\n  port: 3306\nsync:\n  events_horizon: 14d\n"))
	f.Add([]byte("sync: [1, 2]\n"))
	f.Add([]byte("microsoft:\n  scopes: a b c\n  tenant_id: !!binary AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kv := range os.Environ() {
			if len(kv) > 14 && kv[:14] == config.EnvPrefix {
				t.Skip("ELENTRA_TEAMS_ variables are set")
			}
		}
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := loadConfig(flagSet(""), p)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("not a configuration error: %T %v", err, err)
			}
			if ce.Problem == "" {
				t.Fatalf("an error without a problem: %v", err)
			}
			return
		}
		// a loaded configuration validates or says what is wrong, never panics
		if err := l.cfg.Validate(config.AllNeeds); err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("validation error of type %T: %v", err, err)
			}
		}
	})
}
