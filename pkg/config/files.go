package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The most the tool reads of each file an administrator names. Each is far
// above what a real file holds and far below what could hurt the machine, so
// that a path mistyped as /dev/zero, a log file or a disk image fails at once
// with a line that says so instead of eating the memory of a cron job.
const (
	// MaxConfigFileSize is the limit of the config file (a complete one
	// is about 4 KiB).
	MaxConfigFileSize = 1 << 20
	// MaxSettingsFileSize is the limit of Elentra's PHP files together:
	// settings*.inc.php, the files it includes, and config.inc.php
	// (Elentra's are under 40 KiB).
	MaxSettingsFileSize = 4 << 20
	// MaxSecretFileSize is the limit of a *_file secret (a secret is under
	// 100 bytes).
	MaxSecretFileSize = 64 << 10
)

// ErrNotRegular and ErrTooLarge are matched (errors.Is) by the errors of
// ReadFile for a path that is not a regular file, or one over the limit.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("larger than the limit")
)

// ReadFile reads path, which must be a regular file (or a link to one) of at
// most limit bytes. Its errors are *os.PathError, so they name the path: a
// directory, a device or a pipe is refused before it is opened (reading
// /dev/zero would never end, a pipe would block), and a file over the limit
// is refused without reading more than limit bytes of it. /dev/null, the
// usual way to say "no file", reads as empty.
func ReadFile(path string, limit int64) ([]byte, error) {
	if path == os.DevNull {
		return []byte{}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkFile(path, fi, limit); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// What was opened may not be what was looked at.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkFile(path, fi, limit); err != nil {
		return nil, err
	}
	// A file that grows meanwhile, or one whose size the system does not
	// know (/proc), is cut at the limit.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

func checkFile(path string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileKind(fi.Mode()))}
	}
	if fi.Size() > limit {
		return tooLarge(path, limit)
	}
	return nil
}

func tooLarge(path string, limit int64) error {
	return &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w of %s", ErrTooLarge, byteSize(limit))}
}

// fileKind names what a path that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// byteSize writes a limit as people read it: 64 KiB, 4 MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
