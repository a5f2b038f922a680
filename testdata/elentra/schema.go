// Package elentraschema carries the project's DDL for an Elentra-shaped pair of
// schemas (Elentra's DATABASE_NAME and AUTH_DATABASE), for test databases and
// the demo. It lives beside the SQL files so that they can be embedded.
package elentraschema

import (
	_ "embed"
	"strings"
)

// Entrada is the DDL of the tables in DATABASE_NAME.
//
//go:embed entrada.sql
var Entrada string

// Auth is the DDL of the tables in AUTH_DATABASE.
//
//go:embed entrada_auth.sql
var Auth string

// SQLMode is the session sql_mode the DDL is loaded with: MariaDB's strict
// default plus NO_AUTO_VALUE_ON_ZERO, as Elentra's own dumps set it.
const SQLMode = "NO_AUTO_VALUE_ON_ZERO,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// Statements splits a DDL file into statements: it drops "--" comment lines
// and cuts at a ";" that ends a line. The files hold no ";" inside literals.
func Statements(ddl string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(ddl, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
