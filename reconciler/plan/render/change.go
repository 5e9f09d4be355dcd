package render

import (
	"github.com/alm-project/alm/reconciler/plan"
)

// One change at a time, for listings that are not a whole plan (the
// pull-request check's preview of a merge shows only what a pull request
// changes). They word a change exactly as Text and Markdown do.

// Title is the header Text puts above an account's changes: its name, its
// DN when the plan was made, and its file.
func Title(c plan.Change) string {
	if c.Action == plan.CreateOU {
		return "organizational units"
	}
	if isGroupChange(c) {
		return "groups"
	}
	return title(c)
}

// ChangeLines is a change as Text shows it under its account's header: the
// action line (symbol, action, target, drift), one line per attribute and
// the reason, unindented.
func ChangeLines(c plan.Change) []string {
	line := Symbol(c.Action) + " " + string(c.Action)
	if t := target(c); t != "" {
		line += " " + t
	}
	if c.Drift {
		line += " (drift)"
	}
	out := []string{line}
	for _, a := range c.Attributes {
		switch {
		case c.Action == plan.Create:
			out = append(out, "    "+a.Name+": "+value(a.Name, a.New))
		case a.Drift && !c.Drift:
			out = append(out, "    "+a.Name+": "+value(a.Name, a.Old)+" -> "+value(a.Name, a.New)+" (drift)")
		default:
			out = append(out, "    "+a.Name+": "+value(a.Name, a.Old)+" -> "+value(a.Name, a.New))
		}
	}
	return append(out, "    why: "+why(c.Reason))
}

// ChangeCells are a change's cells in Markdown's table: who (the account
// and its file, or "OU"), the change (action, target, attributes) and why,
// escaped for a table row.
func ChangeCells(c plan.Change) (who, change, reason string) {
	who = code(c.Account)
	if c.Action == plan.CreateOU {
		who = "OU"
	} else if isGroupChange(c) {
		who = "group"
	} else if c.File != "" {
		who += "<br>" + cell(c.File)
	}
	return who, mdChange(c), cell(why(c.Reason))
}

// Code puts text in a Markdown code span its own backticks cannot close.
func Code(s string) string { return code(s) }

// Cell escapes text for a Markdown table cell.
func Cell(s string) string { return cell(s) }
