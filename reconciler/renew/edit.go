package renew

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Edit returns the account's file as the proposal changes it: spec.expires
// set to the renewed date, or spec.state set to retired. Only that value's
// bytes change (or, for a state the file lacks, one line is added after
// spec.expires at its indentation): comments, order, quoting and layout are
// the file's own. Editing a file already edited returns it unchanged.
func (p Proposal) Edit(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p.File, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping: fix the file by hand", p.File)
	}
	spec := value(doc.Content[0], "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: no spec mapping: fix the file by hand", p.File)
	}
	switch p.Kind {
	case Renew:
		v := value(spec, "expires")
		if v == nil || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: spec.expires is not a date: fix the file by hand", p.File)
		}
		out, err := splice(data, v, p.Renewed.String(), p.File)
		if err != nil || p.Requested.IsZero() {
			return out, err
		}
		return p.request(out)
	case Retire:
		if v := value(spec, "state"); v != nil {
			return splice(data, v, "retired", p.File)
		}
		key := keyOf(spec, "expires")
		if key == nil || spec.Style&yaml.FlowStyle != 0 {
			return nil, fmt.Errorf("%s: cannot place spec.state: add \"state: retired\" under spec by hand", p.File)
		}
		return insertAfter(data, key.Line, strings.Repeat(" ", key.Column-1)+"state: retired"), nil
	}
	return nil, fmt.Errorf("proposal kind %q", p.Kind)
}

// request dates the renewal: spec.created becomes the day it is opened,
// written where it is or added after spec.expires.
func (p Proposal) request(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p.File, err)
	}
	spec := value(doc.Content[0], "spec")
	if v := value(spec, "created"); v != nil && v.Kind == yaml.ScalarNode {
		return splice(data, v, p.Requested.String(), p.File)
	}
	key := keyOf(spec, "expires")
	if key == nil || spec.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("%s: cannot place spec.created: add \"created: %s\" under spec by hand", p.File, p.Requested)
	}
	return insertAfter(data, key.Line, strings.Repeat(" ", key.Column-1)+"created: "+p.Requested.String()), nil
}

// value returns the value node of key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func keyOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// splice replaces the scalar v, where the parser found it, by s in the
// same quoting.
func splice(data []byte, v *yaml.Node, s, file string) ([]byte, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if v.Line < 1 || v.Line > len(lines) {
		return nil, fmt.Errorf("%s:%d: value not found: fix the file by hand", file, v.Line)
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
	edited := append(append(append([]byte{}, line[:start]...), repl...), line[start+len(raw):]...)
	lines[v.Line-1] = edited
	return bytes.Join(lines, nil), nil
}

// insertAfter adds text as a line after line n (1-based).
func insertAfter(data []byte, n int, text string) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n > len(lines) {
		n = len(lines)
	}
	if n > 0 && !bytes.HasSuffix(lines[n-1], []byte("\n")) {
		lines[n-1] = append(append([]byte{}, lines[n-1]...), '\n')
	}
	out := append([]byte{}, bytes.Join(lines[:n], nil)...)
	out = append(out, text+"\n"...)
	return append(out, bytes.Join(lines[n:], nil)...)
}
