package load

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alm-project/alm/reconciler/model"
)

// Problem is one thing wrong with the access repository, placed in its file.
type Problem struct {
	Pos     model.Position `json:"position"`
	Field   string         `json:"field,omitempty"` // "spec.owner"; empty for the whole file
	Message string         `json:"message"`
}

func (p Problem) String() string { return p.Pos.String() + ": " + p.Message }

// Problems are every problem found, in file and line order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// collector gathers problems as the checks find them, and remembers which
// files could not be read so that references to them are not reported too.
type collector struct {
	problems   Problems
	unreadable map[string]bool // kind + "/" + file stem
}

func (c *collector) markUnreadable(kind, p string) {
	if c.unreadable == nil {
		c.unreadable = map[string]bool{}
	}
	c.unreadable[kind+"/"+stem(p)] = true
}

// readable is false for a name whose file could not be read: its problem is reported already.
func (c *collector) readable(kind, name string) bool { return !c.unreadable[kind+"/"+name] }

func (c *collector) at(pos model.Position, field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...)})
}

// field reports a problem with one field of an object.
func (c *collector) field(src model.Source, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	c.problems = append(c.problems, Problem{Pos: src.At(field), Field: field, Message: msg})
}

func (c *collector) anyUnreadable(kind string) bool {
	for k := range c.unreadable {
		if strings.HasPrefix(k, kind+"/") {
			return true
		}
	}
	return false
}
