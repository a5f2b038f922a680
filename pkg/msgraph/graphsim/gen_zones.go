//go:build ignore

// gen_zones writes iana_zones.txt: every zone name in Go's time zone database
// (GOROOT/lib/time/zoneinfo.zip), one a line, sorted. The simulator embeds the
// list to answer supportedTimeZones(TimeZoneStandard=...'Iana') the way
// Exchange does, from a list that matches what time.LoadLocation can load.
package main

import (
	"archive/zip"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func main() {
	zr, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		log.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		names = append(names, f.Name)
	}
	sort.Strings(names)
	if err := os.WriteFile("iana_zones.txt", []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}
