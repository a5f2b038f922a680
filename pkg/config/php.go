package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Elentra keeps its configuration in PHP: `define("NAME", "value");` constants in
// settings*.inc.php and an array returned by config.inc.php. The readers below
// take literal values only. Anything else (a concatenation, a constant, a
// function call, a variable) is reported as unresolved with its source text:
// the tool never guesses what PHP would compute.

// PHPValue is one value read from a PHP file: a literal, or the text of an
// expression that could not be resolved.
type PHPValue struct {
	// Value is the literal as a string (numbers and booleans in PHP's string form).
	Value string
	// Resolved is false when the value is an expression the reader does not evaluate.
	Resolved bool
	// Expr is the source text of an unresolved expression.
	Expr string
	// Line is where the value starts (1-based).
	Line int
}

// PHPDefines is what ParsePHPDefines found: define()d constants in file order.
type PHPDefines struct {
	Names  []string
	Values map[string]PHPValue
}

// phpToken kinds.
const (
	tokIdent = iota
	tokString
	tokNumber
	tokVariable
	tokPunct
	tokOther // heredoc, casts, operators we do not evaluate
)

type phpToken struct {
	kind int
	text string // identifier, punctuation, number text, raw source for others
	str  string // decoded string literal
	ok   bool   // for strings: false when interpolation or a bad escape makes it non-literal
	line int
	pos  int // byte offsets of the token in the source
	end  int
}

// tokenizePHP turns PHP source into tokens, skipping inline HTML, comments and
// whitespace. It never fails: what it cannot classify becomes tokOther.
func tokenizePHP(src string) []phpToken {
	var toks []phpToken
	line := 1
	i := 0
	inPHP := false
	for i < len(src) {
		if !inPHP {
			j := strings.Index(src[i:], "<?")
			if j < 0 {
				break
			}
			line += strings.Count(src[i:i+j], "\n")
			i += j + 2
			if strings.HasPrefix(src[i:], "php") {
				i += 3
			} else if strings.HasPrefix(src[i:], "=") {
				i++
			}
			inPHP = true
			continue
		}
		c := src[i]
		startI, n := i, len(toks)
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '?' && strings.HasPrefix(src[i:], "?>"):
			inPHP = false
			i += 2
			// a statement ends at a closing tag
			toks = append(toks, phpToken{kind: tokPunct, text: ";", line: line})
		case c == '#' && !strings.HasPrefix(src[i:], "#["), c == '/' && strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' && !strings.HasPrefix(src[i:], "?>") {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				line += strings.Count(src[i:], "\n")
				i = len(src)
			} else {
				line += strings.Count(src[i:i+2+end+2], "\n")
				i += 2 + end + 2
			}
		case c == '\'' || c == '"':
			start, startLine := i, line
			s, ok, n := scanPHPString(src[i:])
			line += strings.Count(src[i:i+n], "\n")
			i += n
			toks = append(toks, phpToken{kind: tokString, text: src[start:i], str: s, ok: ok, line: startLine})
		case c == '<' && strings.HasPrefix(src[i:], "<<<"):
			start, startLine := i, line
			n := scanHeredoc(src[i:])
			line += strings.Count(src[i:i+n], "\n")
			i += n
			toks = append(toks, phpToken{kind: tokOther, text: src[start:i], line: startLine})
		case c == '$':
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			toks = append(toks, phpToken{kind: tokVariable, text: src[i:j], line: line})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.' ||
				((src[j] == '+' || src[j] == '-') && j > i && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(src[i:], "0x") && !strings.HasPrefix(src[i:], "0X"))) {
				j++
			}
			toks = append(toks, phpToken{kind: tokNumber, text: src[i:j], line: line})
			i = j
		case isIdentByte(c) || c == '\\':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '\\') {
				j++
			}
			toks = append(toks, phpToken{kind: tokIdent, text: src[i:j], line: line})
			i = j
		case c == '=' && strings.HasPrefix(src[i:], "=>"):
			toks = append(toks, phpToken{kind: tokPunct, text: "=>", line: line})
			i += 2
		case strings.ContainsRune("(),;[].", rune(c)):
			toks = append(toks, phpToken{kind: tokPunct, text: string(c), line: line})
			i++
		default:
			_, size := utf8.DecodeRuneInString(src[i:])
			toks = append(toks, phpToken{kind: tokOther, text: src[i : i+size], line: line})
			i += size
		}
		if len(toks) > n {
			toks[n].pos, toks[n].end = startI, i
		}
	}
	return toks
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentByte(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)
}

// scanPHPString decodes the quoted string at the start of s and returns it,
// whether it is a plain literal, and the number of bytes consumed. An
// unterminated string consumes the rest of s and is not a literal.
func scanPHPString(s string) (string, bool, int) {
	quote := s[0]
	var b strings.Builder
	ok := true
	i := 1
	for i < len(s) {
		c := s[i]
		if c == quote {
			return b.String(), ok, i + 1
		}
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			if quote == '\'' {
				// single quotes know only \' and \\
				if n == '\'' || n == '\\' {
					b.WriteByte(n)
				} else {
					b.WriteByte('\\')
					b.WriteByte(n)
				}
				i += 2
				continue
			}
			i += 2
			switch n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'v':
				b.WriteByte('\v')
			case 'e':
				b.WriteByte(0x1b)
			case 'f':
				b.WriteByte('\f')
			case '\\', '$', '"':
				b.WriteByte(n)
			case 'x':
				j := i
				for j < len(s) && j < i+2 && isHex(s[j]) {
					j++
				}
				if j == i {
					b.WriteString(`\x`)
				} else {
					v, _ := strconv.ParseUint(s[i:j], 16, 8)
					b.WriteByte(byte(v))
					i = j
				}
			case 'u':
				if i < len(s) && s[i] == '{' {
					end := strings.IndexByte(s[i:], '}')
					if end < 0 {
						ok = false
						b.WriteString(`\u`)
						continue
					}
					v, err := strconv.ParseUint(s[i+1:i+end], 16, 32)
					if err != nil || v > utf8.MaxRune {
						ok = false // PHP refuses to compile this
					} else {
						b.WriteRune(rune(v))
					}
					i += end + 1
				} else {
					b.WriteString(`\u`)
				}
			default:
				if n >= '0' && n <= '7' {
					j := i - 1
					for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '7' {
						j++
					}
					v, _ := strconv.ParseUint(s[i-1:j], 8, 16)
					b.WriteByte(byte(v))
					i = j
				} else {
					b.WriteByte('\\')
					b.WriteByte(n)
				}
			}
			continue
		}
		if quote == '"' && c == '$' && i+1 < len(s) && (isIdentByte(s[i+1]) && !isDigit(s[i+1]) || s[i+1] == '{') {
			ok = false // interpolation: the value depends on a variable
		}
		if quote == '"' && c == '{' && i+1 < len(s) && s[i+1] == '$' {
			ok = false
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), false, len(s)
}

func isHex(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }

// scanHeredoc returns the length of the heredoc or nowdoc at the start of s.
func scanHeredoc(s string) int {
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return len(s)
	}
	label := strings.Trim(strings.TrimSpace(s[3:nl]), `'"`)
	if label == "" {
		return nl + 1
	}
	rest := s[nl+1:]
	off := nl + 1
	for {
		j := strings.IndexByte(rest, '\n')
		line := rest
		if j >= 0 {
			line = rest[:j]
		}
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), label) {
			return off + (len(line) - len(strings.TrimLeft(line, " \t"))) + len(label)
		}
		if j < 0 {
			return len(s)
		}
		rest = rest[j+1:]
		off += j + 1
	}
}

// exprValue resolves the tokens of one expression: a single literal (string,
// number, true/false/null, optionally with a sign) is resolved; anything else
// is kept as text.
func exprValue(src string, toks []phpToken) PHPValue {
	if len(toks) == 0 {
		return PHPValue{Expr: "", Line: 0}
	}
	line := toks[0].line
	t := toks
	sign := ""
	if len(t) == 2 && t[0].kind == tokOther && (t[0].text == "-" || t[0].text == "+") && t[1].kind == tokNumber {
		sign = strings.TrimPrefix(t[0].text, "+")
		t = t[1:]
	}
	if len(t) == 1 {
		switch tok := t[0]; tok.kind {
		case tokString:
			if tok.ok {
				return PHPValue{Value: tok.str, Resolved: true, Line: line}
			}
		case tokNumber:
			if v, ok := phpNumber(tok.text); ok {
				return PHPValue{Value: sign + v, Resolved: true, Line: line}
			}
		case tokIdent:
			switch strings.ToLower(tok.text) {
			case "true":
				return PHPValue{Value: "1", Resolved: true, Line: line}
			case "false", "null":
				return PHPValue{Value: "", Resolved: true, Line: line}
			}
		}
	}
	return PHPValue{Expr: strings.TrimSpace(src[toks[0].pos:toks[len(toks)-1].end]), Line: line}
}

// phpNumber returns the decimal form of a PHP integer or float literal.
func phpNumber(s string) (string, bool) {
	clean := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	if len(clean) > 1 && clean[0] == '0' && !strings.ContainsAny(clean, ".eExXbBoO") {
		// PHP's legacy octal form: 0755
		if i, err := strconv.ParseInt(clean[1:], 8, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil && !strings.ContainsAny(clean, "xXpP") {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// ParsePHPDefines reads the define() constants of a settings*.inc.php file.
// `define('NAME', value)` and `define("NAME", value)` are recognised in any
// statement position (also after `defined('NAME') or`); a constant defined twice
// keeps its first value, as PHP does. Includes are not followed (see
// ParsePHPSettings).
func ParsePHPDefines(src string) PHPDefines {
	out := PHPDefines{Values: map[string]PHPValue{}}
	for _, st := range ParsePHPSettings(src, "") {
		if st.Include != nil {
			continue
		}
		if _, dup := out.Values[st.Define]; dup {
			continue
		}
		out.Names = append(out.Names, st.Define)
		out.Values[st.Define] = st.Value
	}
	return out
}

// PHPInclude is an include, include_once, require or require_once of
// another PHP file.
type PHPInclude struct {
	// Keyword is include, include_once, require or require_once.
	Keyword string
	// Path is the path the operand gives when it is a literal: a quoted
	// string, or one joined with `.` to __DIR__, dirname(__FILE__),
	// dirname(__DIR__), __FILE__ or DIRECTORY_SEPARATOR. It is as PHP
	// would compute it, not yet resolved: absolute, or relative as written.
	Path string
	// Resolved is false when the operand is not such a literal.
	Resolved bool
	// Expr is the operand's source text.
	Expr string
	// Returned says the include is what the file returns (`return require
	// …`), as a config.inc.php may return another file's array.
	Returned bool
	// Line is where the include is (1-based).
	Line int
}

// PHPStatement is a define() or an include of a PHP file.
type PHPStatement struct {
	// Define is the name of the constant a define() defines, with Value
	// its value; "" for an include.
	Define string
	Value  PHPValue
	// Include is the include, nil for a define().
	Include *PHPInclude
}

// ParsePHPSettings reads the define()s and includes of a PHP file in the
// order PHP runs them, so that an included file's defines can take effect
// where its include stands. file is the file's own path, which __DIR__ and
// __FILE__ stand for ("" when unknown: an operand that uses them is then
// not resolved).
func ParsePHPSettings(src, file string) []PHPStatement {
	toks := tokenizePHP(src)
	// Computed once for all the includes, so that nested ones (include
	// include …, each operand holding the next) cost no more than the
	// file's length.
	var ends, match []int
	var out []PHPStatement
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokIdent || memberName(toks, i) {
			continue
		}
		if kw := strings.ToLower(t.text); kw == "include" || kw == "include_once" || kw == "require" || kw == "require_once" {
			if ends == nil {
				ends, match = operandEnds(toks), matchBrackets(toks)
			}
			end := ends[i]
			if end <= i+1 {
				continue
			}
			inc := includePath(src, toks, i+1, end, match, file)
			inc.Keyword, inc.Line = kw, t.line
			inc.Returned = i > 0 && toks[i-1].kind == tokIdent && strings.EqualFold(toks[i-1].text, "return")
			out = append(out, PHPStatement{Include: &inc})
			continue
		}
		if i+3 >= len(toks) || !strings.EqualFold(strings.TrimPrefix(t.text, `\`), "define") {
			continue
		}
		if i > 0 && toks[i-1].text == "function" {
			continue
		}
		if toks[i+1].text != "(" || toks[i+2].kind != tokString || toks[i+3].text != "," {
			continue
		}
		name := toks[i+2].str
		if !toks[i+2].ok || !validConstName(name) {
			continue
		}
		args, end := splitArgs(toks, i+4)
		i = end
		if len(args) == 0 {
			continue
		}
		out = append(out, PHPStatement{Define: name, Value: exprValue(src, args[0])})
	}
	return out
}

// memberName reports whether toks[i] names a method or property
// ($x->define(…), Foo::include), not the language construct.
func memberName(toks []phpToken, i int) bool {
	if i < 2 {
		return false
	}
	a, b := toks[i-2].text, toks[i-1].text
	return (a == "-" && b == ">") || (a == ":" && b == ":")
}

// operandEnds gives, for each token i, the index just past the operand of
// an include standing at i: up to the `;` (or closing tag) that ends the
// statement, or the `,` or closing bracket that ends the expression the
// include stands in (`new Zend_Config(require "config.inc.php")`). It is
// the first of those to the right of i at i's bracket depth, found for all
// tokens in one pass from the end.
func operandEnds(toks []phpToken) []int {
	depth := make([]int, len(toks)) // brackets open before each token
	d := 0
	for i, t := range toks {
		depth[i] = d
		if t.kind == tokPunct {
			switch t.text {
			case "(", "[":
				d++
			case ")", "]":
				d--
			}
		}
	}
	ends := make([]int, len(toks))
	stop := map[int]int{} // depth → the nearest stop to the right
	for i := len(toks) - 1; i >= 0; i-- {
		if e, ok := stop[depth[i]]; ok {
			ends[i] = e
		} else {
			ends[i] = len(toks)
		}
		if t := toks[i]; t.kind == tokPunct {
			switch t.text {
			case ",", ";", ")", "]":
				stop[depth[i]] = i
			}
		}
	}
	return ends
}

// matchBrackets gives, for each opening bracket, the index of the one that
// closes it (-1 when none does).
func matchBrackets(toks []phpToken) []int {
	match := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		match[i] = -1
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "[":
			open = append(open, i)
		case ")", "]":
			if n := len(open); n > 0 {
				match[open[n-1]] = i
				open = open[:n-1]
			}
		}
	}
	return match
}

// maxExprText is how much of an operand's source PHPInclude.Expr keeps.
const maxExprText = 200

// includePath computes the path an include's operand gives, when it is a
// literal (see PHPInclude.Path). Note that PHP's `include 'a.php' or
// die()` includes the value of `'a.php' or die()`: not a literal.
func includePath(src string, all []phpToken, lo, hi int, match []int, file string) PHPInclude {
	expr := strings.TrimSpace(src[all[lo].pos:all[hi-1].end])
	if len(expr) > maxExprText {
		cut := maxExprText
		for cut > 0 && !utf8.RuneStart(expr[cut]) {
			cut--
		}
		expr = expr[:cut] + "…"
	}
	inc := PHPInclude{Expr: expr}
	// (operand)
	for hi-lo >= 2 && all[lo].kind == tokPunct && all[lo].text == "(" && match[lo] == hi-1 {
		lo, hi = lo+1, hi-1
	}
	toks := all[lo:hi]
	var b strings.Builder
	for len(toks) > 0 {
		part, n, ok := pathPart(toks, file)
		if !ok {
			return inc
		}
		b.WriteString(part)
		toks = toks[n:]
		if len(toks) == 0 {
			break
		}
		if toks[0].text != "." || toks[0].kind != tokPunct || len(toks) == 1 {
			return inc
		}
		toks = toks[1:]
	}
	inc.Path, inc.Resolved = b.String(), b.Len() > 0
	return inc
}

// pathPart evaluates the one piece of a path at the start of toks: a
// string literal, __DIR__, __FILE__, DIRECTORY_SEPARATOR, or dirname() of
// __FILE__ or __DIR__. It returns the piece and how many tokens it took.
func pathPart(toks []phpToken, file string) (string, int, bool) {
	t := toks[0]
	switch {
	case t.kind == tokString:
		return t.str, 1, t.ok
	case t.kind != tokIdent:
		return "", 0, false
	}
	magic := func(name string) (string, bool) {
		switch {
		case file == "":
			return "", false
		case strings.EqualFold(name, "__DIR__"):
			return filepath.Dir(file), true
		case strings.EqualFold(name, "__FILE__"):
			return file, true
		}
		return "", false
	}
	if v, ok := magic(t.text); ok {
		return v, 1, true
	}
	switch name := strings.TrimPrefix(t.text, `\`); {
	case name == "DIRECTORY_SEPARATOR":
		return "/", 1, true
	case strings.EqualFold(name, "dirname") && len(toks) >= 4 && toks[1].text == "(" && toks[3].text == ")" && toks[2].kind == tokIdent:
		if v, ok := magic(toks[2].text); ok {
			return filepath.Dir(v), 4, true
		}
	}
	return "", 0, false
}

func validConstName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// splitArgs splits the comma-separated expressions from toks[start] up to the
// closing parenthesis at depth 0 and returns them with that parenthesis' index.
func splitArgs(toks []phpToken, start int) ([][]phpToken, int) {
	var args [][]phpToken
	var cur []phpToken
	depth := 0
	for j := start; j < len(toks); j++ {
		t := toks[j]
		if t.kind == tokPunct {
			switch t.text {
			case "(", "[":
				depth++
			case "]":
				depth--
			case ")":
				if depth == 0 {
					return append(args, cur), j
				}
				depth--
			case ",":
				if depth == 0 {
					args = append(args, cur)
					cur = nil
					continue
				}
			case ";":
				if depth <= 0 {
					return append(args, cur), j
				}
			}
		}
		cur = append(cur, t)
	}
	return append(args, cur), len(toks)
}

// PHPArray is a PHP array literal read from a file: string keys to values or
// nested arrays. Integer-keyed and unkeyed entries are kept under their index.
type PHPArray struct {
	Keys   []string
	Values map[string]PHPValue
	Arrays map[string]*PHPArray
}

// Lookup follows a path of keys ("database", "host") to a value.
func (a *PHPArray) Lookup(path ...string) (PHPValue, bool) {
	cur := a
	for i, k := range path {
		if cur == nil {
			return PHPValue{}, false
		}
		if i == len(path)-1 {
			v, ok := cur.Values[k]
			return v, ok
		}
		cur = cur.Arrays[k]
	}
	return PHPValue{}, false
}

// ParsePHPReturnArray reads the array a config.inc.php returns
// (`return array(...)` or `return [...]`). It returns nil when the file has no
// such return statement; an error describes a malformed array.
func ParsePHPReturnArray(src string) (*PHPArray, error) {
	toks := tokenizePHP(src)
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokIdent || !strings.EqualFold(toks[i].text, "return") {
			continue
		}
		j := i + 1
		if j >= len(toks) {
			break
		}
		if arr, _, err := parseArrayAt(src, toks, j, 0); err == nil && arr != nil {
			return arr, nil
		} else if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

const maxArrayDepth = 32

// parseArrayAt parses `array(...)` or `[...]` starting at toks[j]. It returns
// nil without error when toks[j] does not start an array.
func parseArrayAt(src string, toks []phpToken, j, depth int) (*PHPArray, int, error) {
	if depth > maxArrayDepth {
		return nil, j, fmt.Errorf("line %d: arrays nested deeper than %d", toks[j].line, maxArrayDepth)
	}
	var closer string
	switch {
	case toks[j].kind == tokIdent && strings.EqualFold(toks[j].text, "array") && j+1 < len(toks) && toks[j+1].text == "(":
		closer = ")"
		j += 2
	case toks[j].kind == tokPunct && toks[j].text == "[":
		closer = "]"
		j++
	default:
		return nil, j, nil
	}
	arr := &PHPArray{Values: map[string]PHPValue{}, Arrays: map[string]*PHPArray{}}
	next := 0
	for {
		if j >= len(toks) {
			return nil, j, fmt.Errorf("unterminated array")
		}
		if toks[j].text == closer && toks[j].kind == tokPunct {
			return arr, j + 1, nil
		}
		// one element: [key =>] value
		elemStart := j
		end := elementEnd(toks, j)
		if end >= len(toks) || (toks[end].text == ";" && toks[end].kind == tokPunct) {
			return nil, j, fmt.Errorf("line %d: unterminated array", toks[elemStart].line)
		}
		if toks[end].text != "," && toks[end].text != closer {
			return nil, j, fmt.Errorf("line %d: array closed by %q, expected %q", toks[end].line, toks[end].text, closer)
		}
		elem := toks[elemStart:end]
		key := ""
		valToks := elem
		for k, t := range elem {
			if t.kind == tokPunct && t.text == "=>" && topLevel(elem[:k]) {
				kv := exprValue(src, elem[:k])
				if !kv.Resolved {
					key = "" // computed key: keep the value under its index
				} else {
					key = kv.Value
				}
				valToks = elem[k+1:]
				break
			}
		}
		if key == "" {
			key = strconv.Itoa(next)
			next++
		} else if n, err := strconv.Atoi(key); err == nil && n >= next {
			next = n + 1
		}
		if len(valToks) > 0 {
			if sub, after, err := parseArrayAt(src, valToks, 0, depth+1); err != nil {
				return nil, j, err
			} else if sub != nil && after == len(valToks) {
				if _, seen := arr.Arrays[key]; !seen {
					if _, seenV := arr.Values[key]; !seenV {
						arr.Keys = append(arr.Keys, key)
					}
				}
				arr.Arrays[key] = sub
				delete(arr.Values, key)
			} else {
				if _, seen := arr.Values[key]; !seen {
					if _, seenA := arr.Arrays[key]; !seenA {
						arr.Keys = append(arr.Keys, key)
					}
				}
				arr.Values[key] = exprValue(src, valToks)
				delete(arr.Arrays, key)
			}
		}
		j = end
		if j < len(toks) && toks[j].kind == tokPunct && toks[j].text == "," {
			j++
		}
	}
}

// elementEnd returns the index of the "," or closer that ends the array
// element starting at j.
func elementEnd(toks []phpToken, j int) int {
	depth := 0
	for ; j < len(toks); j++ {
		t := toks[j]
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "[":
			depth++
		case ")", "]":
			if depth == 0 {
				return j
			}
			depth--
		case ",":
			if depth == 0 {
				return j
			}
		case ";":
			if depth == 0 {
				return j
			}
		}
	}
	return j
}

func topLevel(toks []phpToken) bool {
	depth := 0
	for _, t := range toks {
		if t.kind == tokPunct {
			switch t.text {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			}
		}
	}
	return depth == 0
}
