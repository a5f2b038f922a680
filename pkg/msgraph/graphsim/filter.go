package graphsim

import (
	"fmt"
	"strings"
	"unicode"
)

// A small OData $filter parser and evaluator: comparisons (eq ne gt ge lt
// le), in, and/or/not, parentheses, startswith/endswith/contains and the
// lambda operators any/all over collections. Expressions evaluate against
// the JSON form of a resource; string comparisons ignore case, as the
// directory and Exchange do. Type-cast path segments
// (microsoft.graph.aadUserConversationMember/userId) are skipped.

type ftoken struct {
	kind string // "str", "ident", "num", "op" ( ) , : /
	text string
}

func lexFilter(src string) ([]ftoken, error) {
	var toks []ftoken
	r := []rune(src)
	for i := 0; i < len(r); {
		ch := r[i]
		switch {
		case unicode.IsSpace(ch):
			i++
		case ch == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(r) {
				if r[i] == '\'' {
					if i+1 < len(r) && r[i+1] == '\'' {
						b.WriteRune('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteRune(r[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string literal")
			}
			toks = append(toks, ftoken{"str", b.String()})
		case strings.ContainsRune("(),:/", ch):
			toks = append(toks, ftoken{"op", string(ch)})
			i++
		case unicode.IsDigit(ch) || ch == '-':
			j := i + 1
			for j < len(r) && (unicode.IsDigit(r[j]) || strings.ContainsRune(".:-TZ", r[j])) {
				j++
			}
			toks = append(toks, ftoken{"num", string(r[i:j])})
			i = j
		case unicode.IsLetter(ch) || ch == '_' || ch == '@' || ch == '$':
			j := i + 1
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '.') {
				j++
			}
			toks = append(toks, ftoken{"ident", string(r[i:j])})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", ch)
		}
	}
	return toks, nil
}

type fexpr interface {
	eval(env fenv) any
}

type fenv struct {
	root any
	vars map[string]any
}

type fparser struct {
	toks  []ftoken
	pos   int
	vars  map[string]bool
	paths [][]string // property paths relative to the resource, for allow-listing
}

func (p *fparser) peek() ftoken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ftoken{}
}

func (p *fparser) next() ftoken { t := p.peek(); p.pos++; return t }

func (p *fparser) isWord(w string) bool {
	t := p.peek()
	return t.kind == "ident" && strings.EqualFold(t.text, w)
}

func (p *fparser) expect(op string) error {
	if t := p.next(); t.kind != "op" || t.text != op {
		return fmt.Errorf("expected '%s'", op)
	}
	return nil
}

// parseFilter parses src and returns the expression and the property paths it reads.
func parseFilter(src string) (fexpr, [][]string, error) {
	toks, err := lexFilter(src)
	if err != nil {
		return nil, nil, err
	}
	p := &fparser{toks: toks, vars: map[string]bool{}}
	e, err := p.parseOr()
	if err != nil {
		return nil, nil, err
	}
	if p.pos != len(p.toks) {
		return nil, nil, fmt.Errorf("unexpected '%s'", p.peek().text)
	}
	return e, p.paths, nil
}

type orExpr struct{ l, r fexpr }
type andExpr struct{ l, r fexpr }
type notExpr struct{ e fexpr }
type cmpExpr struct {
	op   string
	l, r fexpr
}
type inExpr struct {
	l    fexpr
	list []fexpr
}
type litExpr struct{ v any }
type pathExpr struct {
	varName string // "" = from the resource
	segs    []string
}
type lambdaExpr struct {
	coll    *pathExpr
	all     bool
	varName string
	body    fexpr
}
type funcExpr struct {
	name string
	args []fexpr
}

func (p *fparser) parseOr() (fexpr, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *fparser) parseAnd() (fexpr, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *fparser) parseUnary() (fexpr, error) {
	if p.isWord("not") {
		p.next()
		e, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.parseComparison()
}

func (p *fparser) parseComparison() (fexpr, error) {
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == "ident" {
		switch op := strings.ToLower(t.text); op {
		case "eq", "ne", "gt", "ge", "lt", "le":
			p.next()
			r, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			return cmpExpr{op, l, r}, nil
		case "in":
			p.next()
			if err := p.expect("("); err != nil {
				return nil, err
			}
			var list []fexpr
			for {
				v, err := p.parseOperand()
				if err != nil {
					return nil, err
				}
				list = append(list, v)
				if t := p.peek(); t.kind == "op" && t.text == "," {
					p.next()
					continue
				}
				break
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return inExpr{l, list}, nil
		}
	}
	return l, nil
}

func (p *fparser) parseOperand() (fexpr, error) {
	t := p.next()
	switch t.kind {
	case "str":
		return litExpr{t.text}, nil
	case "num":
		return litExpr{t.text}, nil
	case "op":
		if t.text == "(" {
			e, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			return e, p.expect(")")
		}
		return nil, fmt.Errorf("unexpected '%s'", t.text)
	case "ident":
		switch strings.ToLower(t.text) {
		case "true":
			return litExpr{true}, nil
		case "false":
			return litExpr{false}, nil
		case "null":
			return litExpr{nil}, nil
		}
		if n := p.peek(); n.kind == "op" && n.text == "(" {
			name := strings.ToLower(t.text)
			if name != "startswith" && name != "endswith" && name != "contains" {
				return nil, fmt.Errorf("unsupported function '%s'", t.text)
			}
			p.next()
			var args []fexpr
			for {
				a, err := p.parseOperand()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if n := p.peek(); n.kind == "op" && n.text == "," {
					p.next()
					continue
				}
				break
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if len(args) != 2 {
				return nil, fmt.Errorf("%s takes two arguments", name)
			}
			return funcExpr{name, args}, nil
		}
		return p.parsePath(t.text)
	}
	return nil, fmt.Errorf("unexpected end of filter")
}

func (p *fparser) parsePath(first string) (fexpr, error) {
	path := &pathExpr{}
	if p.vars[strings.ToLower(first)] {
		path.varName = strings.ToLower(first)
	} else {
		path.segs = append(path.segs, first)
	}
	for {
		t := p.peek()
		if t.kind != "op" || t.text != "/" {
			break
		}
		p.next()
		seg := p.next()
		if seg.kind != "ident" {
			return nil, fmt.Errorf("expected a property name after '/'")
		}
		if l := strings.ToLower(seg.text); l == "any" || l == "all" {
			if n := p.peek(); n.kind == "op" && n.text == "(" {
				p.next()
				v := p.next()
				if v.kind != "ident" {
					return nil, fmt.Errorf("expected a lambda variable")
				}
				if err := p.expect(":"); err != nil {
					return nil, err
				}
				name := strings.ToLower(v.text)
				p.vars[name] = true
				p.recordPath(path)
				body, err := p.parseOr()
				delete(p.vars, name)
				if err != nil {
					return nil, err
				}
				if err := p.expect(")"); err != nil {
					return nil, err
				}
				return lambdaExpr{coll: path, all: l == "all", varName: name, body: body}, nil
			}
		}
		path.segs = append(path.segs, seg.text)
	}
	if path.varName == "" {
		p.recordPath(path)
	}
	return path, nil
}

func (p *fparser) recordPath(path *pathExpr) {
	if path.varName != "" {
		return
	}
	var segs []string
	for _, s := range path.segs {
		if !strings.Contains(s, ".") {
			segs = append(segs, s)
		}
	}
	p.paths = append(p.paths, segs)
}

func lookup(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if x, ok := m[key]; ok {
		return x
	}
	for k, x := range m {
		if strings.EqualFold(k, key) {
			return x
		}
	}
	return nil
}

func (e *pathExpr) eval(env fenv) any {
	var v any
	if e.varName != "" {
		v = env.vars[e.varName]
	} else {
		v = env.root
	}
	for _, s := range e.segs {
		if strings.Contains(s, ".") {
			continue // a type cast
		}
		v = lookup(v, s)
	}
	return v
}

func (e litExpr) eval(fenv) any { return e.v }

func truthy(v any) bool { b, _ := v.(bool); return b }

func (e orExpr) eval(env fenv) any  { return truthy(e.l.eval(env)) || truthy(e.r.eval(env)) }
func (e andExpr) eval(env fenv) any { return truthy(e.l.eval(env)) && truthy(e.r.eval(env)) }
func (e notExpr) eval(env fenv) any { return !truthy(e.e.eval(env)) }

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return strings.ToLower(x), true
	case bool, float64:
		return strings.ToLower(fmt.Sprint(x)), true
	}
	return "", false
}

func compare(op string, a, b any) bool {
	as, aok := scalar(a)
	bs, bok := scalar(b)
	if !aok || !bok {
		switch op {
		case "eq":
			return !aok && !bok
		case "ne":
			return aok != bok
		}
		return false
	}
	switch op {
	case "eq":
		return as == bs
	case "ne":
		return as != bs
	case "gt":
		return as > bs
	case "ge":
		return as >= bs
	case "lt":
		return as < bs
	case "le":
		return as <= bs
	}
	return false
}

func (e cmpExpr) eval(env fenv) any { return compare(e.op, e.l.eval(env), e.r.eval(env)) }

func (e inExpr) eval(env fenv) any {
	v := e.l.eval(env)
	for _, x := range e.list {
		if compare("eq", v, x.eval(env)) {
			return true
		}
	}
	return false
}

func (e funcExpr) eval(env fenv) any {
	a, aok := scalar(e.args[0].eval(env))
	b, bok := scalar(e.args[1].eval(env))
	if !aok || !bok {
		return false
	}
	switch e.name {
	case "startswith":
		return strings.HasPrefix(a, b)
	case "endswith":
		return strings.HasSuffix(a, b)
	default:
		return strings.Contains(a, b)
	}
}

func (e lambdaExpr) eval(env fenv) any {
	list, _ := e.coll.eval(env).([]any)
	for _, item := range list {
		vars := map[string]any{}
		for k, v := range env.vars {
			vars[k] = v
		}
		vars[e.varName] = item
		got := truthy(e.body.eval(fenv{root: env.root, vars: vars}))
		if e.all && !got {
			return false
		}
		if !e.all && got {
			return true
		}
	}
	return e.all
}

// compiledFilter is a parsed $filter ready to test resources.
type compiledFilter struct{ e fexpr }

func (f *compiledFilter) match(resource map[string]any) bool {
	if f == nil {
		return true
	}
	return truthy(f.e.eval(fenv{root: resource, vars: map[string]any{}}))
}

// filter parses $filter, allowing only paths whose first property is in
// allowed (case-insensitive). A nil filter matches everything.
func (c *call) filter(resourceName string, allowed ...string) (*compiledFilter, *reply) {
	raw := c.query.Get("$filter")
	if raw == "" {
		return nil, nil
	}
	e, paths, err := parseFilter(raw)
	if err != nil {
		return nil, c.unsupportedQuery(fmt.Sprintf("Invalid filter clause: %v.", err))
	}
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		okk := false
		for _, a := range allowed {
			if strings.EqualFold(a, p[0]) {
				okk = true
				break
			}
		}
		if !okk {
			return nil, c.unsupportedQuery(fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p[0], resourceName))
		}
	}
	return &compiledFilter{e}, nil
}

func (c *call) unsupportedQuery(msg string) *reply {
	switch c.rt.family {
	case famDirectory:
		return gerr(400, "Request_UnsupportedQuery", msg)
	case famOutlook:
		return gerr(400, "ErrorInvalidUrlQueryFilter", msg)
	default:
		return gerr(400, "BadRequest", msg)
	}
}
