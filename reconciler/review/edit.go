package review

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Edit returns an account's file with spec.reviewed set to day: only that
// value's bytes change, or, for a file without spec.reviewed, one line is
// added after the field every account has (a person's startDate, a service
// account's expires) at its indentation. Comments, order, quoting and
// layout are the file's own; editing a file already edited returns it
// unchanged. renew's Edit works the same way on spec.expires.
func Edit(file string, data []byte, day string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping: fix the file by hand", file)
	}
	spec := pair(doc.Content[0], "spec", 1)
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: no spec mapping: fix the file by hand", file)
	}
	if v := pair(spec, "reviewed", 1); v != nil {
		return splice(data, v, day, file)
	}
	var key = pair(spec, "startDate", 0)
	if key == nil {
		key = pair(spec, "expires", 0)
	}
	if key == nil || spec.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("%s: cannot place spec.reviewed: add \"reviewed: %s\" under spec by hand", file, day)
	}
	return insertAfter(data, key.Line, strings.Repeat(" ", key.Column-1)+"reviewed: "+day), nil
}

// pair returns the key (at 0) or value (at 1) node of key in mapping m, or nil.
func pair(m *yaml.Node, key string, at int) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+at]
		}
	}
	return nil
}

// splice replaces the scalar v, where the parser found it, by s in the
// same quoting.
func splice(data []byte, v *yaml.Node, s, file string) ([]byte, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if v.Line < 1 || v.Line > len(lines) || v.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("%s:%d: spec.reviewed is not a date: fix the file by hand", file, v.Line)
	}
	line := lines[v.Line-1]
	start := v.Column - 1
	raw, repl := v.Value, s
	switch v.Style {
	case yaml.DoubleQuotedStyle:
		raw, repl = `"`+raw+`"`, `"`+s+`"`
	case yaml.SingleQuotedStyle:
		raw, repl = "'"+raw+"'", "'"+s+"'"
	case 0, yaml.TaggedStyle:
	default:
		return nil, fmt.Errorf("%s:%d: a block scalar where a date belongs: fix the file by hand", file, v.Line)
	}
	if start < 0 || !bytes.HasPrefix(line[start:], []byte(raw)) {
		return nil, fmt.Errorf("%s:%d: value %q not where the parser found it: fix the file by hand", file, v.Line, v.Value)
	}
	lines[v.Line-1] = append(append(append([]byte{}, line[:start]...), repl...), line[start+len(raw):]...)
	return bytes.Join(lines, nil), nil
}

// insertAfter adds text as a line after line n (1-based).
func insertAfter(data []byte, n int, text string) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	n = min(n, len(lines))
	if n > 0 && !bytes.HasSuffix(lines[n-1], []byte("\n")) {
		lines[n-1] = append(append([]byte{}, lines[n-1]...), '\n')
	}
	out := append([]byte{}, bytes.Join(lines[:n], nil)...)
	out = append(out, text+"\n"...)
	return append(out, bytes.Join(lines[n:], nil)...)
}
