package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/plan"
)

// Markdown writes a plan for a pull-request comment: the summary first,
// then one table row per change (account, change, why), then orphans and
// warnings. Everything from the files or the directory is escaped.
func Markdown(w io.Writer, p *plan.Plan) error {
	e := &errWriter{w: w}
	e.printf("### alm plan\n\nRevision %s, directory state %s, at %s.\n\n",
		code(short(p.Revision)), code(orNone(p.DirectoryState)), p.Now.UTC().Format(time.RFC3339))
	if p.Empty() {
		e.printf("**%s**\n", inline(closing(p, "below")))
	} else {
		e.printf("**Plan:** %s\n\n", summary(p))
		if left := unrepaired(p); left > 0 {
			e.printf("After it, the directory will still differ from the access repository: %d %s below.\n\n", left, plural(left, "finding"))
		}
		e.printf("| | account | change | why |\n| --- | --- | --- | --- |\n")
		for _, b := range blocks(p) {
			for _, c := range b.changes {
				who, _, _ := ChangeCells(c)
				e.printf("| %s | %s | %s | %s |\n", code(Symbol(c.Action)), who, mdChange(c), cell(why(c.Reason)))
			}
		}
	}
	if len(p.Findings) > 0 {
		e.printf("\n#### Findings\n\n| | about | what differs | fix |\n| --- | --- | --- | --- |\n")
		for _, f := range p.Findings {
			fix := cell(f.Fix)
			if f.RepairedBy != "" {
				fix += "<br>this plan repairs it: " + code(f.RepairedBy)
			}
			e.printf("| %s | %s | %s | %s |\n", code(f.Kind), cell(findingTitle(f)[len(f.Kind)+2:]), cell(f.Text), fix)
		}
	}
	if len(p.Orphans) > 0 {
		e.printf("\n<details><summary>Orphans: %d %s in managed OUs that alm does not own</summary>\n\n", len(p.Orphans), plural(len(p.Orphans), "account"))
		for _, o := range p.Orphans {
			e.printf("- %s %s (%s): %s\n", code(o.Name), code(o.DN), o.Action, inline(o.Reason))
		}
		e.printf("\n</details>\n")
	}
	if len(p.Warnings) > 0 {
		e.printf("\n#### Warnings\n\n")
		for _, w := range p.Warnings {
			e.printf("- %s\n", inline(w.String()))
		}
	}
	return e.err
}

// mdChange is the change column: the action, its target, the attributes.
func mdChange(c plan.Change) string {
	var b strings.Builder
	b.WriteString("**" + string(c.Action) + "**")
	if c.Drift {
		b.WriteString(" (drift)")
	}
	switch c.Action {
	case plan.AddMember, plan.RemoveMember:
		b.WriteString(" " + code(c.GroupName))
	case plan.Move, plan.Rename:
		b.WriteString(" to " + code(c.NewDN))
	case plan.CreateOU, plan.CreateGroup:
		b.WriteString(" " + code(c.DN))
	case plan.RenameGroup:
		b.WriteString(" " + code(c.DN) + " to " + code(c.NewDN))
	}
	for _, a := range c.Attributes {
		if c.Action == plan.Create {
			fmt.Fprintf(&b, "<br>%s: %s", code(a.Name), cell(value(a.Name, a.New)))
		} else {
			fmt.Fprintf(&b, "<br>%s: %s → %s", code(a.Name), cell(value(a.Name, a.Old)), cell(value(a.Name, a.New)))
		}
	}
	return b.String()
}

// code puts text in a code span that its own backticks cannot close.
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// cell escapes text for a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", "<br>").Replace(inline(s))
}

// inline escapes what Markdown or HTML would otherwise read as markup.
func inline(s string) string {
	return strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "\n", " ").Replace(s)
}
