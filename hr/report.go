package hr

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

var kindWords = []struct{ kind, one, many string }{
	{Joiner, "joiner", "joiners"}, {Rehire, "rehire", "rehires"}, {Leaver, "leaver", "leavers"},
	{Rename, "rename", "renames"}, {Contract, "contract end moved", "contract ends moved"}, {Mover, "mover", "movers"},
	{Reference, "reference to a renamed login", "references to a renamed login"},
}

// Summary is one line: the counts of each kind, the rows skipped and the
// people missing.
func (r *Result) Summary() string {
	var parts []string
	for _, k := range kindWords {
		if n := r.Count(k.kind); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, k.one, k.many)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no changes")
	}
	s := strings.Join(parts, ", ")
	s += fmt.Sprintf("; %d %s skipped", len(r.Bad), plural(len(r.Bad), "row", "rows"))
	if len(r.Missing) > 0 {
		s += fmt.Sprintf("; %d missing from the export", len(r.Missing))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describe is a change in words: "department Sales -> Finance, manager
// asmith -> cboss".
func (c Change) describe() string {
	var parts []string
	for _, f := range c.Fields {
		switch {
		case c.Kind == Joiner:
			continue
		case f.From == "":
			parts = append(parts, f.Name+" "+show(f.To))
		case f.To == "":
			parts = append(parts, f.Name+" "+show(f.From)+" removed")
		default:
			parts = append(parts, f.Name+" "+show(f.From)+" -> "+show(f.To))
		}
	}
	if c.Kind == Joiner {
		parts = append(parts, "new file "+c.Path)
	}
	if c.Note != "" {
		parts = append(parts, c.Note)
	}
	return strings.Join(parts, "; ")
}

// show quotes a value that would read as more than one in a list of them.
func show(v string) string {
	if strings.ContainsAny(v, ";\"") || strings.Contains(v, "->") || strings.TrimSpace(v) != v {
		return strconv.Quote(v)
	}
	return v
}

// Text writes the report for a terminal: a summary line, then one line
// per change, per row skipped and per person missing.
func (r *Result) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "HR export %s for %s: %s.\n", r.File, r.Day, r.Summary())
	if r.Refused != "" {
		fmt.Fprintf(&b, "Refused: %s\n", r.Refused)
	}
	for _, c := range r.Changes {
		who := c.Login
		if c.OldLogin != "" {
			who = c.OldLogin + " -> " + c.Login
		}
		fmt.Fprintf(&b, "  %-8s %s (%s): %s\n", c.Kind, who, c.ID, c.describe())
	}
	for _, bad := range r.Bad {
		fmt.Fprintf(&b, "  skipped  %s\n", bad)
	}
	for _, m := range r.Missing {
		what := "not in the export: still active in the repository; say --missing leave to make them leavers"
		switch {
		case m.Left:
			what = "not in the export: leaves " + r.Day.String()
		case m.Note != "":
			what = "not in the export: " + m.Note
		}
		fmt.Fprintf(&b, "  missing  %s (%s, %s): %s\n", m.Login, m.ID, m.Path, what)
	}
	if r.Past > 0 {
		fmt.Fprintf(&b, "  %d %s of people who left before %s and have no file: nothing to do.\n", r.Past, plural(r.Past, "row", "rows"), r.Day)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Title is the pull request's title.
func (r *Result) Title() string {
	return fmt.Sprintf("HR sync %s: %s", r.Day, r.Summary())
}

// listMax is how many of each list the description shows: GitHub takes
// at most 65,536 characters, and a reviewer reads the counts past that.
const listMax = 200

// Body is the pull request's description, for the reviewer: what each
// change is, by kind, what was skipped and who is missing.
func (r *Result) Body() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Changes from the HR export `%s`, read for %s. HR is authoritative for the fields its export has; everything else in each file is kept.\n\n", r.File, r.Day)
	fmt.Fprintf(&b, "| kind | count |\n| --- | ---: |\n")
	for _, k := range kindWords {
		fmt.Fprintf(&b, "| %s | %d |\n", k.many, r.Count(k.kind))
	}
	fmt.Fprintf(&b, "| rows skipped | %d |\n| missing from the export | %d |\n", len(r.Bad), len(r.Missing))
	for _, k := range kindWords {
		if r.Count(k.kind) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", strings.ToUpper(k.many[:1])+k.many[1:])
		listed := 0
		for _, c := range r.Changes {
			if c.Kind != k.kind {
				continue
			}
			if listed++; listed > listMax {
				fmt.Fprintf(&b, "- ... and %d more: see the commit, or alm hr sync's report\n", r.Count(k.kind)-listMax)
				break
			}
			who := "**" + c.Login + "**"
			if c.OldLogin != "" {
				who = "**" + c.OldLogin + "** -> **" + c.Login + "**"
			}
			fmt.Fprintf(&b, "- %s (employee %s, `%s`): %s\n", who, c.ID, c.Path, c.describe())
		}
	}
	if len(r.Bad) > 0 {
		fmt.Fprintf(&b, "\n### Rows skipped\n\nFix these in HR; the next export brings them.\n\n")
		for i, bad := range r.Bad {
			if i == listMax {
				fmt.Fprintf(&b, "- ... and %d more: see alm hr sync's report\n", len(r.Bad)-listMax)
				break
			}
			fmt.Fprintf(&b, "- %s\n", bad)
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "\n### Missing from the export\n\n")
		for i, m := range r.Missing {
			if i == listMax {
				fmt.Fprintf(&b, "- ... and %d more: see alm hr sync's report\n", len(r.Missing)-listMax)
				break
			}
			what := "still active here"
			switch {
			case m.Left:
				what = "leaves " + r.Day.String()
			case m.Note != "":
				what = m.Note
			}
			fmt.Fprintf(&b, "- **%s** (employee %s, `%s`): %s\n", m.Login, m.ID, m.Path, what)
		}
	}
	b.WriteString("\nMerging applies the normal approval rules: `alm check` lists who must approve.\n")
	return b.String()
}
