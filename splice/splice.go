// Package splice edits values in YAML files by rewriting only the bytes of
// the value edited. HR and other feeds update files that people also edit
// by hand; decoding and re-encoding would lose their blank lines, comments,
// quoting and layout, and turn every feed update into a noisy diff.
package splice

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Scalar returns s as YAML writes a string scalar: plain when it reads back
// as the same string, else double-quoted (e.g. "004217", "yes", "a: b", "",
// " x", "#x", strings with newlines are escaped).
func Scalar(s string) string {
	if plain(s) {
		return s
	}
	// Go's escapes (\n, \t, \xHH, \uHHHH, ...) are all YAML double-quoted
	// escapes with the same meaning, for valid UTF-8.
	return strconv.Quote(s)
}

// yaml11 are words YAML 1.1 readers (and people) take for booleans or null
// although yaml.v3 reads them as strings.
var yaml11 = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true}

// sexagesimal is a YAML 1.1 base-60 number such as 1:20.
var sexagesimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)

// plain reports whether s can be written unquoted as a mapping value, a
// block sequence item and a flow sequence item, which are where Set and
// Append put it.
func plain(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || !utf8.ValidString(s) ||
		yaml11[strings.ToLower(s)] || sexagesimal.MatchString(s) {
		return false
	}
	for _, r := range s {
		if r != ' ' && !unicode.IsPrint(r) {
			return false
		}
	}
	for _, text := range []string{"k: " + s, "- " + s, "[" + s + "]"} {
		var n yaml.Node
		if yaml.Unmarshal([]byte(text), &n) != nil || len(n.Content) != 1 || len(n.Content[0].Content) == 0 {
			return false
		}
		v := n.Content[0].Content[len(n.Content[0].Content)-1]
		if len(n.Content[0].Content) > 2 || v.Kind != yaml.ScalarNode || v.Style != 0 ||
			v.ShortTag() != "!!str" || v.Value != s || comments(v) {
			return false
		}
	}
	return true
}

// Get returns the scalar value at path and whether it is present and not
// null; a mapping or sequence is not a scalar.
func Get(data []byte, path ...string) (string, bool) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return "", false
	}
	n := root.Content[0]
	for _, k := range path {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			return "", false
		}
		j := index(n, k)
		if j < 0 {
			return "", false
		}
		n = n.Content[j+1]
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", false
	}
	return n.Value, true
}

// Set sets the value at path to literal, a one-line YAML value already
// quoted as needed (from Scalar, a date like 2026-01-05, a flow sequence
// like [a, b]).
//
// A scalar value has only its bytes replaced, keeping its trailing
// comment; an empty (null) value gets literal after its colon. A block or
// flow sequence may be replaced by a flow sequence literal, all its lines
// becoming one. Mappings, block scalars, aliases and values with an anchor
// or tag are refused. An absent key is added as a line at the indentation
// of its siblings, after the value of the first key of after present in
// the parent mapping, else at the end of the parent mapping. The parent
// mapping must exist in block style.
func Set(file string, data []byte, path []string, literal string, after ...string) ([]byte, error) {
	d, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	parents, at, _, err := d.find(path)
	if err != nil {
		return nil, err
	}
	k := len(path) - 1
	m, j := parents[k], at[k]
	if j < 0 {
		return d.insert(parents, at, path, literal, after)
	}
	key, v := m.Content[j], m.Content[j+1]
	name := dotted(path)
	lit, err := d.literal(key.Line, name, literal, false)
	if err != nil {
		return nil, err
	}
	replace := func(from, to int, s string) ([]byte, error) {
		return d.check(d.splice(from, to, s), path, key.Line, func(p *yaml.Node) { p.Content[j+1] = lit })
	}
	switch {
	case v.Kind == yaml.AliasNode:
		return nil, d.errorf(v.Line, "%s is an alias: edit it by hand", name)
	case v.Anchor != "" || v.Style&yaml.TaggedStyle != 0:
		return nil, d.errorf(v.Line, "%s has an anchor or a tag: edit it by hand", name)
	case v.Kind == yaml.ScalarNode && v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return nil, d.errorf(v.Line, "%s is a block scalar: edit it by hand", name)
	case v.Kind == yaml.ScalarNode && v.Style == 0 && v.Value == "" && v.ShortTag() == "!!null":
		// Nothing to replace: the value goes after the colon, before any comment.
		colon, err := d.colon(key, name)
		if err != nil {
			return nil, err
		}
		if rest := bytes.TrimSpace(d.data[colon:d.lineEnd(key.Line)]); len(rest) > 0 && rest[0] != '#' {
			return nil, d.errorf(key.Line, "%s is not where the parser found it: edit it by hand", name)
		}
		return replace(colon, colon, " "+literal)
	case v.Kind == yaml.ScalarNode:
		from := d.offset(v.Line, v.Column)
		to := d.scalarEnd(v, from, d.end(parents, at))
		if from < 0 || to < 0 {
			return nil, d.errorf(v.Line, "%s is not where the parser found it: edit it by hand", name)
		}
		return replace(from, to, literal)
	case v.Kind == yaml.SequenceNode && lit.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle != 0:
		from := d.offset(v.Line, v.Column)
		to, _ := d.flowEnd(from)
		if from < 0 || to < 0 {
			return nil, d.errorf(v.Line, "%s is not where the parser found it: edit it by hand", name)
		}
		return replace(from, to, literal)
	case v.Kind == yaml.SequenceNode && lit.Kind == yaml.SequenceNode:
		// The flow sequence goes on the key's line, before its comment; the
		// item lines (and comments among them) go.
		colon, err := d.colon(key, name)
		if err != nil {
			return nil, err
		}
		rest := d.data[colon:d.lineEnd(key.Line)]
		if r := bytes.TrimSpace(rest); len(r) > 0 && r[0] != '#' {
			return nil, d.errorf(key.Line, "%s is not where the parser found it: edit it by hand", name)
		}
		return replace(colon, d.lineEnd(d.end(parents, at)), " "+literal+string(rest))
	case v.Kind == yaml.SequenceNode:
		return nil, d.errorf(v.Line, "%s is a sequence: give a flow sequence like [a, b] or edit it by hand", name)
	default:
		return nil, d.errorf(v.Line, "%s is a mapping: edit it by hand", name)
	}
}

// insert adds the absent key path[len-1] as a line; see Set.
func (d *doc) insert(parents []*yaml.Node, at []int, path []string, literal string, after []string) ([]byte, error) {
	k := len(path) - 1
	m := parents[k]
	line, pos := 0, len(m.Content)
	for _, a := range after {
		if j := index(m, a); j >= 0 {
			line, pos = d.end(parents, append(at[:k:k], j)), j+2
			break
		}
	}
	if line == 0 {
		line = d.mappingEnd(parents, at)
	}
	lit, err := d.literal(line, dotted(path), literal, false)
	if err != nil {
		return nil, err
	}
	// Keys of a block mapping all start at its first key's column; only
	// spaces indent YAML.
	text := strings.Repeat(" ", m.Content[0].Column-1) + Scalar(path[k]) + ": " + literal
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: path[k]}
	return d.check(d.insertAfter(line, text), path, line+1, func(p *yaml.Node) {
		p.Content = append(p.Content[:pos], append([]*yaml.Node{key, lit}, p.Content[pos:]...)...)
	})
}

// Delete removes the key at path with all the lines of its value and the
// comment lines right above it that the parser attaches to it; comment
// lines before the next key stay. An absent key, or one whose parent is
// absent or not a mapping, leaves data unchanged; a flow mapping parent is
// refused.
func Delete(file string, data []byte, path ...string) ([]byte, error) {
	d, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	parents, at, absent, err := d.find(path)
	if absent {
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	k := len(path) - 1
	m, j := parents[k], at[k]
	if j < 0 {
		return data, nil
	}
	key := m.Content[j]
	name := dotted(path)
	if len(m.Content) == 2 {
		// The parent would become null, not an empty mapping.
		return nil, d.errorf(key.Line, "%s is the only key of its mapping: edit it by hand", name)
	}
	if _, err := d.colon(key, name); err != nil {
		return nil, err
	}
	first := key.Line
	if key.HeadComment != "" {
		for n := strings.Count(strings.TrimRight(key.HeadComment, "\n"), "\n") + 1; n > 0 && first > 1 && d.comment(first-1); n-- {
			first--
		}
	}
	last := d.end(parents, at)
	from, to := d.start[first-1], d.next(last)
	if to == d.lineEnd(last) && first > 1 {
		// The file ends without a line break: so does the result.
		from = d.lineEnd(first - 1)
	}
	return d.check(d.splice(from, to, ""), path, key.Line, func(p *yaml.Node) {
		p.Content = append(p.Content[:j], p.Content[j+2:]...)
	})
}

// Append adds literal as the last item of the sequence at path: inside the
// brackets of a flow sequence, or as a "- literal" line after the last item
// of a block sequence, at the items' indentation. An absent or null value
// becomes the flow sequence [literal], as Set would place it.
func Append(file string, data []byte, path []string, literal string, after ...string) ([]byte, error) {
	d, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	parents, at, _, err := d.find(path)
	if err != nil {
		return nil, err
	}
	k := len(path) - 1
	j := at[k]
	name := dotted(path)
	line := parents[k].Line
	if j >= 0 {
		line = parents[k].Content[j].Line
	}
	item, err := d.literal(line, name, literal, true)
	if err != nil {
		return nil, err
	}
	if j < 0 || parents[k].Content[j+1].ShortTag() == "!!null" {
		return Set(file, data, path, "["+literal+"]", after...)
	}
	v := parents[k].Content[j+1]
	switch {
	case v.Kind != yaml.SequenceNode:
		return nil, d.errorf(v.Line, "%s is not a sequence: edit it by hand", name)
	case v.Anchor != "" || v.Style&yaml.TaggedStyle != 0:
		return nil, d.errorf(v.Line, "%s has an anchor or a tag: edit it by hand", name)
	}
	add := func(p *yaml.Node) {
		s := p.Content[j+1]
		s.Content = append(s.Content, item)
	}
	if v.Style&yaml.FlowStyle != 0 {
		from := d.offset(v.Line, v.Column)
		to, last := d.flowEnd(from)
		if from < 0 || to < 0 {
			return nil, d.errorf(v.Line, "%s is not where the parser found it: edit it by hand", name)
		}
		s := ", " + literal
		switch d.data[last-1] {
		case '[':
			s = literal
		case ',':
			s = " " + literal
		}
		return d.check(d.splice(last, last, s), path, v.Line, add)
	}
	// Copy the dash and the spaces after it from the last item, so
	// "-   a" lists stay that way.
	prefix := strings.Repeat(" ", v.Column-1) + "- "
	if it := v.Content[len(v.Content)-1]; it.Line > 0 {
		dash, text := d.offset(it.Line, v.Column), d.offset(it.Line, it.Column)
		if dash >= 0 && text > dash && d.data[dash] == '-' && len(bytes.Trim(d.data[dash+1:text], " ")) == 0 {
			prefix = strings.Repeat(" ", v.Column-1) + string(d.data[dash:text])
		}
	}
	last := d.end(parents, at)
	return d.check(d.insertAfter(last, prefix+literal), path, last+1, add)
}

// doc is one parse of a file, with where its lines start so that the
// parser's line and column become byte offsets.
type doc struct {
	file  string
	data  []byte
	top   *yaml.Node // the document's top node; nil for an empty file
	start []int      // start[i] is the offset of line i+1
	eol   string     // the file's line break, used for lines added
	bom   int        // the parser does not count a byte order mark as a column
}

var lineError = regexp.MustCompile(`^line (\d+): (.*)$`)

func parse(file string, data []byte) (*doc, error) {
	d := &doc{file: file, data: data, eol: "\n"}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineError.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s: fix the YAML by hand", file, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s: fix the YAML by hand", file, msg)
	}
	// The parser also breaks lines at a lone CR, NEL, LS and PS; its line
	// numbers would not be ours.
	if bytes.Count(data, []byte("\r")) != bytes.Count(data, []byte("\r\n")) || bytes.ContainsAny(data, "\u0085\u2028\u2029") {
		return nil, fmt.Errorf("%s:1: line breaks other than LF and CRLF: edit it by hand", file)
	}
	if len(root.Content) > 0 {
		d.top = root.Content[0]
	}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		d.eol = "\r\n"
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		d.bom = 3
	}
	d.start = []int{0}
	for i, c := range data {
		if c == '\n' && i+1 < len(data) {
			d.start = append(d.start, i+1)
		}
	}
	return d, nil
}

// find looks path up: parents[i] is the mapping holding path[i], at[i] the
// index of its key there, or -1 for an absent last key. absent reports an
// error that only says the key cannot be there.
func (d *doc) find(path []string) (parents []*yaml.Node, at []int, absent bool, err error) {
	if len(path) == 0 {
		return nil, nil, false, fmt.Errorf("%s: empty path", d.file)
	}
	m, line := d.top, 1
	for i, k := range path {
		name := dotted(path[:i])
		switch {
		case i == 0 && (m == nil || m.Kind != yaml.MappingNode):
			return nil, nil, true, d.errorf(line, "not a YAML mapping: fix the file by hand")
		case m.Kind == yaml.AliasNode:
			return nil, nil, false, d.errorf(line, "%s is an alias: edit it by hand", name)
		case m.Kind == yaml.ScalarNode && m.ShortTag() == "!!null":
			return nil, nil, true, d.errorf(line, "%s is empty: add %s under it by hand", name, k)
		case m.Kind != yaml.MappingNode:
			return nil, nil, true, d.errorf(line, "%s is not a mapping: edit it by hand", name)
		case m.Style&yaml.FlowStyle != 0:
			if i == 0 {
				name = "the document"
			}
			return nil, nil, false, d.errorf(m.Line, "%s is a flow mapping: edit it by hand", name)
		}
		j := index(m, k)
		if j >= 0 && index(&yaml.Node{Content: m.Content[j+2:]}, k) >= 0 {
			return nil, nil, false, d.errorf(m.Content[j].Line, "%s appears twice: fix the file by hand", dotted(path[:i+1]))
		}
		parents, at = append(parents, m), append(at, j)
		if i == len(path)-1 {
			break
		}
		if j < 0 {
			return nil, nil, true, d.errorf(line, "no %s mapping: add it by hand", dotted(path[:i+1]))
		}
		m, line = m.Content[j+1], m.Content[j].Line
	}
	return parents, at, false, nil
}

// literal parses literal as it will be written, as a mapping value or,
// for item, also as a flow sequence item, and refuses what would not stay
// on one line or would bring a comment.
func (d *doc) literal(line int, name, literal string, item bool) (*yaml.Node, error) {
	bad := d.errorf(line, "%q is not a one-line YAML value for %s: quote it with splice.Scalar", literal, name)
	if literal == "" || literal != strings.TrimSpace(literal) || strings.ContainsAny(literal, "\r\n\u0085\u2028\u2029") {
		return nil, bad
	}
	var v *yaml.Node
	for i, text := range []string{"k: " + literal, "[" + literal + "]"} {
		if i == 1 && !item {
			break
		}
		var n yaml.Node
		if yaml.Unmarshal([]byte(text), &n) != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 2-i {
			return nil, bad
		}
		c := n.Content[0].Content[1-i]
		if comments(&n) || comments(n.Content[0]) || comments(c) || c.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
			c.Kind != yaml.ScalarNode && c.Style&yaml.FlowStyle == 0 || v != nil && !same(v, c) {
			return nil, bad
		}
		if v == nil {
			v = c
		}
	}
	return v, nil
}

// check parses out and compares it with the file's own tree changed by
// edit: a layout this package misjudged becomes an error, not a changed
// value somewhere else.
func (d *doc) check(out []byte, path []string, line int, edit func(parent *yaml.Node)) ([]byte, error) {
	var want, got yaml.Node
	if err := yaml.Unmarshal(d.data, &want); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(out, &got); err != nil {
		return nil, d.errorf(line, "editing %s would break the YAML (%v): edit it by hand", dotted(path), err)
	}
	p := want.Content[0]
	for _, k := range path[:len(path)-1] {
		p = p.Content[index(p, k)+1]
	}
	edit(p)
	if !same(&want, &got) {
		return nil, d.errorf(line, "editing %s would change more than its value: edit it by hand", dotted(path))
	}
	return out, nil
}

// same reports whether a and b hold the same data, whatever their layout.
func same(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Anchor != b.Anchor || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !same(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// end returns the last line of the value of the key at[k] of parents[k],
// k the last level: the lines up to the next key at this or an outer level,
// less blank lines and comment lines no deeper than the key, which belong
// to what follows.
func (d *doc) end(parents []*yaml.Node, at []int) int {
	k := len(at) - 1
	key, val := parents[k].Content[at[k]], parents[k].Content[at[k]+1]
	next := 0
	for i := k; i >= 0 && next == 0; i-- {
		if j := at[i] + 2; j < len(parents[i].Content) {
			next = parents[i].Content[j].Line
		}
	}
	if next == 0 {
		next = d.docEnd(key.Line) + 1
	}
	return d.trim(next-1, max(key.Line, maxLine(val)), key.Column-1)
}

// mappingEnd returns the last line of the mapping parents[k], k the last
// level.
func (d *doc) mappingEnd(parents []*yaml.Node, at []int) int {
	k := len(at) - 1
	if k == 0 {
		return d.trim(d.docEnd(parents[0].Line), maxLine(parents[0]), -1)
	}
	return d.end(parents[:k], at[:k])
}

// trim returns line n less the blank lines and comment lines indented at
// most indent above it, not going above floor.
func (d *doc) trim(n, floor, indent int) int {
	for n > floor && (d.blank(n) || d.comment(n) && d.indent(n) <= indent) {
		n--
	}
	return n
}

// docEnd returns the last line of the first document: the line before a
// document marker after line from, or the last line.
func (d *doc) docEnd(from int) int {
	for n := from + 1; n <= len(d.start); n++ {
		t := d.text(n)
		if (bytes.HasPrefix(t, []byte("---")) || bytes.HasPrefix(t, []byte("..."))) && (len(t) == 3 || t[3] == ' ' || t[3] == '\t') {
			return n - 1
		}
	}
	return len(d.start)
}

// colon returns the offset just after the colon that follows key, checking
// that the key starts its line.
func (d *doc) colon(key *yaml.Node, name string) (int, error) {
	bad := d.errorf(key.Line, "%s is not where the parser found it: edit it by hand", name)
	from := d.offset(key.Line, key.Column)
	if from < 0 || len(bytes.Trim(d.data[d.start[key.Line-1]+d.bomAt(key.Line):from], " ")) > 0 {
		return 0, bad
	}
	i := -1
	switch {
	case key.Kind != yaml.ScalarNode:
	case key.Style == 0 && bytes.HasPrefix(d.data[from:], []byte(key.Value)):
		i = from + len(key.Value)
	case key.Style == yaml.DoubleQuotedStyle || key.Style == yaml.SingleQuotedStyle:
		i = d.quotedEnd(from)
	}
	if i < 0 {
		return 0, bad
	}
	for i < len(d.data) && (d.data[i] == ' ' || d.data[i] == '\t') {
		i++
	}
	if i >= len(d.data) || d.data[i] != ':' {
		return 0, bad
	}
	return i + 1, nil
}

// scalarEnd returns the offset just after the flow scalar v found at from,
// a plain one ending at line limit at the latest, or -1.
func (d *doc) scalarEnd(v *yaml.Node, from, limit int) int {
	if from < 0 || v.Kind != yaml.ScalarNode || from >= len(d.data) {
		return -1
	}
	switch v.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return d.quotedEnd(from)
	case 0:
	default:
		return -1
	}
	// A plain scalar runs to a comment or the end of its line, and on over
	// more lines until a comment line.
	end, comment := d.plainEnd(from, d.lineEnd(v.Line))
	for n := v.Line + 1; n <= limit && !comment; n++ {
		if d.blank(n) {
			continue
		}
		if d.comment(n) {
			break
		}
		end, comment = d.plainEnd(d.start[n-1], d.lineEnd(n))
	}
	if !bytes.HasPrefix(d.data[from:end], []byte(strings.SplitN(v.Value, " ", 2)[0])) {
		return -1
	}
	return end
}

// plainEnd returns the end of plain text from from to to, where a comment
// ends it, and whether one did.
func (d *doc) plainEnd(from, to int) (int, bool) {
	comment := false
	for i := from; i < to; i++ {
		if d.data[i] == '#' && i > from && (d.data[i-1] == ' ' || d.data[i-1] == '\t') {
			to, comment = i, true
			break
		}
	}
	return from + len(bytes.TrimRight(d.data[from:to], " \t")), comment
}

// quotedEnd returns the offset just after the quoted scalar that starts at
// from, or -1.
func (d *doc) quotedEnd(from int) int {
	q := d.data[from]
	if q != '"' && q != '\'' {
		return -1
	}
	for i := from + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case q == '"' && c == '\\':
			i++
		case c == q && q == '\'' && i+1 < len(d.data) && d.data[i+1] == '\'':
			i++
		case c == q:
			return i + 1
		}
	}
	return -1
}

// flowEnd returns the offset just after the flow collection that starts at
// from, and the offset just after its last character that is not space or
// comment before the closing bracket; -1, -1 if there is none.
func (d *doc) flowEnd(from int) (end, last int) {
	if from < 0 || from >= len(d.data) || d.data[from] != '[' && d.data[from] != '{' {
		return -1, -1
	}
	depth := 0
	for i := from; i < len(d.data); i++ {
		switch c := d.data[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1, last
			}
		case '"', '\'':
			e := d.quotedEnd(i)
			if e < 0 {
				return -1, -1
			}
			i = e - 1
		case '#':
			if p := d.data[i-1]; p == ' ' || p == '\t' || p == '\n' {
				for i < len(d.data) && d.data[i] != '\n' {
					i++
				}
				continue
			}
		case ' ', '\t', '\r', '\n':
			continue
		}
		last = i + 1
	}
	return -1, -1
}

// offset returns the byte offset of column col (counted in characters, as
// the parser does) of line n, or -1.
func (d *doc) offset(n, col int) int {
	if n < 1 || n > len(d.start) || col < 1 {
		return -1
	}
	i, end := d.start[n-1]+d.bomAt(n), d.lineEnd(n)
	for ; col > 1; col-- {
		if i >= end {
			return -1
		}
		_, size := utf8.DecodeRune(d.data[i:end])
		i += size
	}
	return i
}

func (d *doc) bomAt(n int) int {
	if n == 1 {
		return d.bom
	}
	return 0
}

// next returns the offset of line n+1, or the file's length.
func (d *doc) next(n int) int {
	if n < len(d.start) {
		return d.start[n]
	}
	return len(d.data)
}

// lineEnd returns the offset of line n's line break, or the file's length.
func (d *doc) lineEnd(n int) int {
	e := d.next(n)
	if e > d.start[n-1] && d.data[e-1] == '\n' {
		e--
		if e > d.start[n-1] && d.data[e-1] == '\r' {
			e--
		}
	}
	return e
}

func (d *doc) text(n int) []byte { return d.data[d.start[n-1]+d.bomAt(n) : d.lineEnd(n)] }

func (d *doc) blank(n int) bool { return len(bytes.Trim(d.text(n), " \t")) == 0 }

func (d *doc) comment(n int) bool {
	t := bytes.TrimLeft(d.text(n), " \t")
	return len(t) > 0 && t[0] == '#'
}

// indent counts leading spaces; tabs do not indent YAML.
func (d *doc) indent(n int) int {
	t := d.text(n)
	return len(t) - len(bytes.TrimLeft(t, " "))
}

// insertAfter returns the file with text as a new line after line n, with
// the file's line break; at the end of a file without a final line break,
// the result has none either.
func (d *doc) insertAfter(n int, text string) []byte {
	if e := d.lineEnd(n); e == d.next(n) {
		return d.splice(e, e, d.eol+text)
	}
	return d.splice(d.next(n), d.next(n), text+d.eol)
}

func (d *doc) splice(from, to int, s string) []byte {
	out := make([]byte, 0, len(d.data)+len(s))
	out = append(append(append(out, d.data[:from]...), s...), d.data[to:]...)
	return out
}

func (d *doc) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: "+format, append([]any{d.file, line}, args...)...)
}

// index returns the index of key k in mapping m's content, or -1.
func index(m *yaml.Node, k string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if c := m.Content[i]; c.Kind == yaml.ScalarNode && c.Value == k {
			return i
		}
	}
	return -1
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func maxLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		m = max(m, maxLine(c))
	}
	return m
}

func comments(n *yaml.Node) bool {
	return n.HeadComment != "" || n.LineComment != "" || n.FootComment != ""
}

func dotted(path []string) string { return strings.Join(path, ".") }
