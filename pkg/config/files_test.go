package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// ReadFile reads regular files up to the limit and refuses, without reading
// or blocking, what is not one.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	at := func(name string, size int) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(at("target", 10), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		limit int64
		want  error  // nil: read
		says  string // in the error, after the path
		size  int
	}{
		{"at the limit", at("full", 1024), 1024, nil, "", 1024},
		{"empty", at("empty", 0), 1024, nil, "", 0},
		{"a link to a file", link, 1024, nil, "", 10},
		{"/dev/null", os.DevNull, 1024, nil, "", 0},
		{"over the limit", at("big", 1025), 1024, ErrTooLarge, ": larger than the limit of 1 KiB", 0},
		{"limit in MiB", at("big2", 1<<20+1), 1 << 20, ErrTooLarge, ": larger than the limit of 1 MiB", 0},
		{"a directory", dir, 1024, ErrNotRegular, ": not a regular file (a directory)", 0},
		{"/dev/zero", "/dev/zero", 1024, ErrNotRegular, ": not a regular file (a character device)", 0},
		{"a named pipe", fifo, 1024, ErrNotRegular, ": not a regular file (a named pipe)", 0},
		{"absent", filepath.Join(dir, "absent"), 1024, os.ErrNotExist, ": no such file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := ReadFile(tt.path, tt.limit)
			if tt.want == nil {
				if err != nil || len(data) != tt.size {
					t.Errorf("got %d bytes, %v; want %d bytes", len(data), err, tt.size)
				}
				return
			}
			var pe *os.PathError
			if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Path != tt.path {
				t.Fatalf("got %v, want a path error of %s matching %v", err, tt.path, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path+tt.says) {
				t.Errorf("%q does not say %q", err, tt.path+tt.says)
			}
		})
	}
}
