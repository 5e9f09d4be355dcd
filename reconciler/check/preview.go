package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/preview"
)

// The preview of a merge (reconciler/preview) as the check shows it: in
// full in the text, within the comment's limit in the Markdown.

const (
	kindNew     = "new"
	kindChanged = "changed"
	kindDropped = "no longer planned"
)

// entry is one change of the preview, with what it was in the base's plan
// when the head's plan makes it differently.
type entry struct {
	kind   string
	change plan.Change
	was    *plan.Change
}

// entries lists the preview's changes grouped by account (accounts by
// name, OUs first), each account's in the order apply makes them.
func entries(p *preview.Preview) []entry {
	var out []entry
	for _, c := range p.Changes.New {
		out = append(out, entry{kind: kindNew, change: c})
	}
	for _, c := range p.Changes.Changed {
		out = append(out, entry{kind: kindChanged, change: c.Head, was: &c.Base})
	}
	for _, c := range p.Changes.Dropped {
		out = append(out, entry{kind: kindDropped, change: c})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].change, out[j].change
		if oa, ob := a.Action == plan.CreateOU, b.Action == plan.CreateOU; oa != ob {
			return oa
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Action.Phase() < b.Action.Phase()
	})
	return out
}

// previewSummary counts the preview's changes in one line.
func previewSummary(p *preview.Preview) string {
	if p.Empty() {
		return "this pull request changes nothing in the directory"
	}
	return fmt.Sprintf("%s: %d new, %d changed, %d no longer planned", count(p.Changes.Len(), "change"),
		len(p.Changes.New), len(p.Changes.Changed), len(p.Changes.Dropped))
}

// scopeLine says what was read, from where, and at what instant.
func scopeLine(p *preview.Preview) string {
	groups := p.Scope.GroupBase
	if groups == "" {
		groups = p.Scope.BaseDN
	}
	return fmt.Sprintf("read once from %s (directory state %s) within the base's scope - base DN %s, %s, groups below %s, marker attribute %s - and planned at %s for both revisions, the head's files with the base's alm.yaml",
		orNone(p.Directory), orNone(p.DirectoryState), p.Scope.BaseDN, count(len(p.Scope.OUs), "managed OU"), groups,
		p.Scope.MarkerAttribute, p.Now.UTC().Format(time.RFC3339))
}

func settingWhere(s preview.Setting) string {
	if s.Line > 0 {
		return "alm.yaml:" + strconv.Itoa(s.Line) + " " + s.Field
	}
	return "alm.yaml " + s.Field
}

func settingNote(s preview.Setting) string {
	if s.Field == "spec.url" {
		return " (not contacted)"
	}
	return ""
}

// previewText writes the whole preview for a terminal, or the CI log.
func previewText(b *strings.Builder, p *preview.Preview) {
	b.WriteString("\nWhat the merge would do to the directory: " + previewSummary(p) + "\n")
	b.WriteString("  (" + scopeLine(p) + ")\n")
	if len(p.Settings) > 0 {
		b.WriteString("\nalm.yaml's directory settings change; they take effect only after the merge (this preview uses the base's):\n")
		for _, s := range p.Settings {
			fmt.Fprintf(b, "  %s: %q -> %q%s\n", settingWhere(s), s.Base, s.Head, settingNote(s))
		}
	}
	if len(p.Unread) > 0 {
		b.WriteString("\nOUs the head places accounts in, outside the base's scope and not read (changes there assume them empty):\n")
		for _, ou := range p.Unread {
			b.WriteString("  " + ou + "\n")
		}
	}
	title := ""
	for _, e := range entries(p) {
		if t := render.Title(e.change); t != title {
			title = t
			b.WriteString("\n# " + t + "\n")
		}
		lines := render.ChangeLines(e.change)
		fmt.Fprintf(b, "  %s   [%s]\n", lines[0], e.kind)
		for _, l := range lines[1:] {
			b.WriteString("  " + l + "\n")
		}
		if e.was != nil {
			for i, l := range render.ChangeLines(*e.was) {
				if i == 0 {
					l = "instead of: " + l
				}
				b.WriteString("      " + l + "\n")
			}
		}
	}
	if n := p.Findings.Len(); n > 0 {
		b.WriteString("\nFindings (what a run would leave different from Git) the merge brings or ends:\n")
		for _, f := range p.Findings.New {
			fmt.Fprintf(b, "  ! %s: %s [new]\n      fix: %s\n", f.Kind, f.Text, f.Fix)
		}
		for _, f := range p.Findings.Changed {
			fmt.Fprintf(b, "  ! %s: %s [changed]\n      fix: %s\n", f.Head.Kind, f.Head.Text, f.Head.Fix)
		}
		for _, f := range p.Findings.Dropped {
			fmt.Fprintf(b, "  ! %s: %s [resolved by the merge]\n", f.Kind, f.Text)
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nNew warnings:\n")
		for _, w := range p.Warnings {
			b.WriteString("  ! " + w.String() + "\n")
		}
	}
	if p.Refused != "" {
		b.WriteString("\nThe guards would refuse the plan after the merge: " + p.Refused + "\n")
	}
}

// previewParts is the preview as parts of the comment: its changes and
// warnings are lists a long comment cuts.
func previewParts(p *preview.Preview) []part {
	var b strings.Builder
	b.WriteString("\n### What the merge would do to the directory\n\n")
	fmt.Fprintf(&b, "Only what this pull request changes: %s.\n", clip(mdText(scopeLine(p)), 3000))
	if len(p.Settings) > 0 {
		b.WriteString("\n⚠️ **This pull request changes alm.yaml's directory settings.** They take effect only after the merge; this preview read and planned with the base's:\n\n")
		for _, s := range p.Settings {
			fmt.Fprintf(&b, "- %s: %s → %s%s\n", render.Code(settingWhere(s)), orEmpty(clip(s.Base, 300)), orEmpty(clip(s.Head, 300)), settingNote(s))
		}
	}
	if len(p.Unread) > 0 {
		shown := p.Unread[:min(len(p.Unread), 10)]
		names := make([]string, len(shown))
		for i, ou := range shown {
			names[i] = render.Code(clip(ou, 300))
		}
		more := ""
		if n := len(p.Unread) - len(shown); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		fmt.Fprintf(&b, "\n⚠️ The head places accounts in OUs outside the base's scope, which were not read: %s%s. Changes there assume them empty.\n", strings.Join(names, ", "), more)
	}
	if p.Empty() {
		b.WriteString("\nThis pull request changes nothing in the directory.\n")
	} else {
		fmt.Fprintf(&b, "\n**%s.**\n\n| | account | change | why |\n| --- | --- | --- | --- |\n", upper(previewSummary(p)))
	}
	ps := []part{whole(b.String())}
	if !p.Empty() {
		rows := part{cut: func(left, total int) string {
			return fmt.Sprintf("\n*%d of %s not shown here: %s. The check's log has the whole preview (`alm check` prints it as text), and `alm plan --rev %s` shows the whole plan after the merge.*\n",
				left, count(total, "change"), limitWhy, short(p.Head))
		}}
		for _, e := range entries(p) {
			rows.rows = append(rows.rows, previewRow(e))
		}
		ps = append(ps, rows)
	}
	if p.Refused != "" {
		ps = append(ps, whole("\n❌ The guards would refuse the plan after the merge: "+clip(mdText(p.Refused), 3000)+"\n"))
	}
	if p.Findings.Len() > 0 {
		rows := part{cut: func(left, total int) string {
			return fmt.Sprintf("\n*%d of %s not shown here: %s. The check's log has them all.*\n", left, count(total, "finding"), limitWhy)
		}}
		for _, f := range p.Findings.New {
			rows.rows = append(rows.rows, "- ⚠️ new: "+render.Code(f.Kind)+" "+render.Cell(clip(f.Text, 2000))+"<br>fix: "+render.Cell(clip(f.Fix, 1000))+"\n")
		}
		for _, f := range p.Findings.Changed {
			rows.rows = append(rows.rows, "- ⚠️ changed: "+render.Code(f.Head.Kind)+" "+render.Cell(clip(f.Head.Text, 2000))+"<br>fix: "+render.Cell(clip(f.Head.Fix, 1000))+"\n")
		}
		for _, f := range p.Findings.Dropped {
			rows.rows = append(rows.rows, "- ✅ resolved: "+render.Code(f.Kind)+" "+render.Cell(clip(f.Text, 2000))+"\n")
		}
		ps = append(ps, whole("\n#### Findings the merge brings or resolves\n\nWhat a run after the merge would leave different from Git, where this pull request changes it:\n\n"), rows)
	}
	if len(p.Warnings) > 0 {
		rows := part{cut: func(left, total int) string {
			return fmt.Sprintf("\n*%d of %s not shown here: %s. The check's log has them all.*\n", left, count(total, "warning"), limitWhy)
		}}
		for _, w := range p.Warnings {
			rows.rows = append(rows.rows, "- "+render.Cell(clip(w.String(), 2000))+"\n")
		}
		ps = append(ps, whole("\n#### New warnings\n\n"), rows)
	}
	return ps
}

// maxRow is the longest preview row a comment shows whole; a longer one
// (many long attribute values) is shown without its details.
const maxRow = 4000

func previewRow(e entry) string {
	who, change, why := render.ChangeCells(e.change)
	if e.was != nil {
		_, was, _ := render.ChangeCells(*e.was)
		change += "<br>*instead of:* " + was
	}
	mark := render.Code(render.Symbol(e.change.Action)) + " " + e.kind
	row := fmt.Sprintf("| %s | %s | %s | %s |\n", mark, who, change, why)
	if len(row) > maxRow {
		row = fmt.Sprintf("| %s | %s | **%s** (too long to show here: see the check's log) | |\n", mark, render.Code(clip(e.change.Account, 200)), e.change.Action)
	}
	return row
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return render.Code(s)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
