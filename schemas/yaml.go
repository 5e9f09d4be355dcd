package schemas

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many values FromYAML builds, aliases expanded: a file
// of nested aliases ("billion laughs") would otherwise take all memory. No
// access repository file comes near it.
const maxNodes = 1 << 20

// FromYAML converts a YAML node to the JSON-like value Validate takes.
//
// Strings, timestamps (2026-05-30 stays the string "2026-05-30"), binary and
// custom-tagged scalars keep their text; integers and floats become
// json.Number in decimal (0x1F is 31, and 004217 is what YAML makes of it,
// octal 2191: quote such values); .inf and .nan, which JSON cannot hold, keep
// their text; booleans become bool, null and empty values nil. Mapping keys
// are their scalar text. Aliases are expanded and merge keys (<<) applied as
// the YAML decoder applies them: the mapping's own keys win, then the merged
// mappings in order; a << whose value is not a mapping stays a key named "<<".
// A document node yields its content; an empty document nil.
func FromYAML(n *yaml.Node) any {
	c := converter{budget: maxNodes}
	return c.value(n)
}

type converter struct{ budget int }

func (c *converter) value(n *yaml.Node) any {
	if n == nil || c.budget <= 0 {
		return nil
	}
	c.budget--
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.value(n.Content[0])
	case yaml.AliasNode:
		return c.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			out = append(out, c.value(e))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n)
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

func (c *converter) mapping(n *yaml.Node) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	var merge *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) && mergeable(v) {
			merge = v
			continue
		}
		out[c.key(k)] = c.value(v)
	}
	if merge == nil {
		return out
	}
	var sources []*yaml.Node
	if resolve(merge).Kind == yaml.SequenceNode {
		sources = resolve(merge).Content
	} else {
		sources = []*yaml.Node{merge}
	}
	for _, src := range sources {
		m, _ := c.value(src).(map[string]any)
		for k, v := range m {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// mergeable says whether a merge key's value is a mapping or a list of them.
func mergeable(v *yaml.Node) bool {
	v = resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return true
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if resolve(e).Kind != yaml.MappingNode {
				return false
			}
		}
		return true
	}
	return false
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// key is a mapping key's text; a key that is itself a collection is written
// back as flow YAML, which is at least recognisable in a message.
func (c *converter) key(k *yaml.Node) string {
	k = resolve(k)
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	b, err := yaml.Marshal(k)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var v any
		if n.Decode(&v) == nil {
			switch v := v.(type) {
			case int:
				return json.Number(strconv.Itoa(v))
			case int64:
				return json.Number(strconv.FormatInt(v, 10))
			case uint64:
				return json.Number(strconv.FormatUint(v, 10))
			case float64:
				return float(v, n.Value)
			}
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return float(f, n.Value)
		}
	}
	return n.Value
}

func float(f float64, text string) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return text
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}
