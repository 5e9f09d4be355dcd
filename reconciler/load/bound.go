package load

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Bounds on one file. Each is far above what any object needs and low
// enough that no file can make loading slow: without them a 30-byte file
// with an alias inside its own anchor (&a {x: *a}) made the loader build a
// value a million levels deep and never finish, and a few kilobytes of
// aliases to one large mapping made the YAML decoder compare its keys
// pairwise billions of times. docs/fuzzing.md tells how each was found.
const (
	maxFileBytes = 256 << 10 // an object is a few kilobytes; alm.yaml protecting 1000 logins, 30
	maxDepth     = 32        // nested mappings and lists, aliases followed; the deepest field is 5
	maxValues    = 100_000   // YAML nodes once aliases are expanded
	maxKeys      = 256       // keys of one mapping, which the decoder compares pairwise; a kind has at most 20 fields
)

// boundError is the first bound a file passes, and where.
type boundError struct {
	line, column int
	msg          string
}

// bound walks the document as the schema check and the decoder will,
// following aliases, and stops at the first bound passed. Its own work is
// bounded by maxValues.
func bound(root *yaml.Node) *boundError {
	b := bounder{left: maxValues}
	return b.walk(root, nil, 0)
}

type bounder struct{ left int }

// walk visits n at depth; via is the outermost alias the walk followed to
// get here, where a bound passed inside an anchored value is reported.
func (b *bounder) walk(n, via *yaml.Node, depth int) *boundError {
	at := n
	if via != nil {
		at = via
	}
	if b.left--; b.left < 0 {
		return &boundError{at.Line, at.Column, fmt.Sprintf("more than %d values once aliases (*name) are expanded: write the values out, or refer to large values less often", maxValues)}
	}
	if depth > maxDepth {
		return &boundError{at.Line, at.Column, fmt.Sprintf("nested more than %d levels deep, aliases followed: no field is deeper than 5; check the indentation, and any alias (*name) that refers to a value containing it", maxDepth)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil
		}
		if via == nil {
			via = n
		}
		return b.walk(n.Alias, via, depth)
	case yaml.MappingNode:
		if keys := len(n.Content) / 2; keys > maxKeys {
			return &boundError{n.Line, n.Column, fmt.Sprintf("a mapping of %d keys: alm reads at most %d in one mapping, and no kind has more than 20 fields", keys, maxKeys)}
		}
	}
	for _, c := range n.Content {
		if err := b.walk(c, via, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// tooLarge is the problem with a file over maxFileBytes, or "".
func tooLarge(size int) string {
	if size <= maxFileBytes {
		return ""
	}
	return fmt.Sprintf("%d bytes: alm reads files of at most %d bytes (256 KiB), and one object needs a few kilobytes; split or shorten it", size, maxFileBytes)
}
