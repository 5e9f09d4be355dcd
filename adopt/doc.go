package adopt

import (
	"bytes"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// doc is one YAML file as a node tree, so that a file a person edited keeps
// its comments, order and every field import does not own when import
// refreshes the fields the directory holds.
type doc struct {
	root *yaml.Node // the document node
}

func newDoc(kind string) *doc {
	m := &yaml.Node{Kind: yaml.MappingNode}
	d := &doc{root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}}
	d.set("apiVersion", str("alm/v1"))
	d.set("kind", str(kind))
	d.set("metadata", &yaml.Node{Kind: yaml.MappingNode})
	d.set("spec", &yaml.Node{Kind: yaml.MappingNode})
	return d
}

// parseDoc reads an existing file; ok is false when it is not one YAML mapping.
func parseDoc(data []byte) (*doc, bool) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return nil, false
	}
	return &doc{root: &n}, true
}

// str is a string scalar: the encoder quotes it when it would read as
// something else (an id of digits, "yes").
func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// date is a YYYY-MM-DD scalar written plain, as the examples write dates.
func date(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func boolean(v bool) *yaml.Node {
	s := "false"
	if v {
		s = "true"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
}

// seq is a flow sequence of strings: [a, b].
func seq(vs []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range vs {
		n.Content = append(n.Content, str(v))
	}
	return n
}

// lookup returns the node at a dotted path ("spec.owner"), or nil.
func (d *doc) lookup(path string) *yaml.Node {
	n := d.root.Content[0]
	for _, k := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		n = value(n, k)
	}
	return n
}

func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// get returns the scalar at path, "" when absent.
func (d *doc) get(path string) string {
	if n := d.lookup(path); n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return n.Value
	}
	return ""
}

// list returns the strings of the sequence at path.
func (d *doc) list(path string) []string {
	n := d.lookup(path)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// set puts v at path, creating the mappings on the way.
func (d *doc) set(path string, v *yaml.Node) {
	keys := strings.Split(path, ".")
	m := d.root.Content[0]
	for _, k := range keys[:len(keys)-1] {
		next := value(m, k)
		if next == nil || next.Kind != yaml.MappingNode {
			next = &yaml.Node{Kind: yaml.MappingNode}
			m.Content = append(m.Content, str(k), next)
		}
		m = next
	}
	last := keys[len(keys)-1]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == last {
			old := m.Content[i+1]
			if !same(old, v) {
				// Keep the comment a person wrote beside the value.
				v.LineComment, v.HeadComment, v.FootComment = old.LineComment, old.HeadComment, old.FootComment
				m.Content[i+1] = v
			}
			return
		}
	}
	m.Content = append(m.Content, str(last), v)
}

// remove deletes the field at path.
func (d *doc) remove(path string) {
	i := strings.LastIndexByte(path, '.')
	m := d.root.Content[0]
	if i > 0 {
		m = d.lookup(path[:i])
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	last := path[i+1:]
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == last {
			m.Content = slices.Delete(m.Content, j, j+2)
			return
		}
	}
}

// setOrRemove sets a string field, or removes it when v is empty.
func (d *doc) setOrRemove(path, v string) {
	if v == "" {
		d.remove(path)
		return
	}
	d.set(path, str(v))
}

func same(a, b *yaml.Node) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Value == b.Value
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return false
		}
		for i := range a.Content {
			if !same(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		if len(a.Content) != len(b.Content) {
			return false
		}
		for i := 0; i+1 < len(a.Content); i += 2 {
			w := value(b, a.Content[i].Value)
			if w == nil || !same(a.Content[i+1], w) {
				return false
			}
		}
		return true
	}
	return false
}

// bytes renders the document with the editor's schema modeline on top
// (kept from an existing file, which carries its own).
func (d *doc) bytes(modeline string) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(d.root); err != nil {
		panic(err) // a tree of scalars, sequences and mappings always encodes
	}
	enc.Close()
	if bytes.Contains(b.Bytes(), []byte("yaml-language-server:")) {
		return b.Bytes()
	}
	return append([]byte("# yaml-language-server: $schema="+modeline+"\n"), b.Bytes()...)
}
