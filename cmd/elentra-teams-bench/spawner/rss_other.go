//go:build !linux

package main

import "os"

// peakRSSKiB is 0 where ru_maxrss is not in KiB (macOS counts bytes): the
// figures in docs/benchmarks.md come from Linux.
func peakRSSKiB(*os.ProcessState) int64 { return 0 }
