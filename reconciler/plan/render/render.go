// Package render writes plans and apply results for people and programs:
// text for a terminal (Terraform-like: a symbol per change, one header per
// account, the reason under each change, a closing summary), Markdown for
// pull-request comments, and JSON (the plan's saved form, described in
// docs/plan-json.md). It computes nothing; the plan and apply packages do.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
)

// Symbol is the one-character mark of an action, as the text shows it.
func Symbol(a plan.Action) string {
	switch a {
	case plan.Create, plan.CreateOU, plan.CreateGroup, plan.AddMember:
		return "+"
	case plan.Update, plan.Enable, plan.Disable, plan.DisableOrphan, plan.SetPassword, plan.Adopt:
		return "~"
	case plan.Move, plan.Rename, plan.RenameGroup:
		return ">"
	case plan.RemoveMember, plan.Delete:
		return "-"
	}
	return "?"
}

// JSON writes the plan in its saved form (plan.Decode reads it back).
// Lists are written as [] when empty, never null.
func JSON(w io.Writer, p *plan.Plan) error {
	out := *p
	if out.Changes == nil {
		out.Changes = []plan.Change{}
	}
	if out.Notices == nil {
		out.Notices = []notify.Message{}
	}
	if out.Findings == nil {
		out.Findings = []plan.Finding{}
	}
	if out.Orphans == nil {
		out.Orphans = []plan.Orphan{}
	}
	if out.Warnings == nil {
		out.Warnings = []desired.Warning{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&out)
}

// ResultJSON writes an apply result as JSON.
func ResultJSON(w io.Writer, r *apply.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// block is one header's changes: an account's, the OUs', or an orphan's.
type block struct {
	title   string
	changes []plan.Change
}

// blocks groups the changes under one header per account, accounts by
// name, each account's changes in the order apply makes them.
func blocks(p *plan.Plan) []block {
	var ous, groups block
	byKey := map[string]*block{}
	var keys []string
	for _, c := range p.Changes {
		if c.Action == plan.CreateOU {
			ous.title = "organizational units"
			ous.changes = append(ous.changes, c)
			continue
		}
		if isGroupChange(c) {
			groups.title = "groups"
			groups.changes = append(groups.changes, c)
			continue
		}
		key := c.Account + "\x00" + c.AccountID
		b := byKey[key]
		if b == nil {
			b = &block{title: title(c)}
			byKey[key] = b
			keys = append(keys, key)
		}
		b.changes = append(b.changes, c)
	}
	sort.Strings(keys)
	var out []block
	if len(ous.changes) > 0 {
		out = append(out, ous)
	}
	if len(groups.changes) > 0 {
		out = append(out, groups)
	}
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

// isGroupChange: a change to a group itself, shown under "groups".
func isGroupChange(c plan.Change) bool {
	return c.Action == plan.CreateGroup || c.Action == plan.RenameGroup
}

// title is an account's header: its name, DN when the plan was made, and file.
func title(c plan.Change) string {
	switch {
	case c.Action == plan.DisableOrphan:
		return fmt.Sprintf("%s: %s (orphan, no file)", c.Account, c.DN)
	case c.File == "":
		// a member of a group alm created that alm does not manage
		return fmt.Sprintf("%s: %s (not managed, no file)", c.Account, c.DN)
	}
	return fmt.Sprintf("%s: %s (%s)", c.Account, c.DN, c.File)
}

// target is what a change acts on beyond the account under its header.
func target(c plan.Change) string {
	switch c.Action {
	case plan.AddMember, plan.RemoveMember:
		return c.Group
	case plan.Move, plan.Rename:
		return "to " + c.NewDN
	case plan.CreateOU, plan.CreateGroup:
		return c.DN
	case plan.RenameGroup:
		return c.DN + " to " + c.NewDN
	}
	return ""
}

// why is a reason in one line: its words, then where it comes from.
func why(r desired.Reason) string {
	var where []string
	if w := r.Where(); w != "" {
		where = append(where, w)
	}
	if !r.Date.IsZero() {
		// The instant carries the offset of alm.yaml's timeZone, so this is
		// the date as the file writes it.
		where = append(where, r.Date.Format(time.DateOnly))
	}
	if len(where) == 0 {
		return r.Text
	}
	return fmt.Sprintf("%s [%s]", r.Text, strings.Join(where, ", "))
}

// instant shows a UTC instant as a date when it is a UTC midnight, else
// with its time: a date in a zone east or west of UTC begins at another hour,
// and its UTC date alone would name the wrong day.
func instant(t time.Time) string {
	if t = t.UTC(); t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// value shows an attribute's value the way a person reads it: dates for
// accountExpires, enabled or disabled for userAccountControl.
func value(name, v string) string {
	switch name {
	case directory.AttrAccountExpires:
		if desired.NeverExpires(v) {
			return "never"
		}
		if t, ok := desired.ParseFileTime(v); ok {
			return fmt.Sprintf("%s (%s)", v, instant(t))
		}
	case directory.AttrUserAccountControl:
		if v == "" {
			return `""`
		}
		if n, err := strconv.Atoi(v); err == nil {
			state := "enabled"
			if n&directory.UACAccountDisable != 0 {
				state = "disabled"
			}
			return fmt.Sprintf("%s (%s)", v, state)
		}
	}
	return strconv.Quote(v)
}

// summary is the closing line's counts.
func summary(p *plan.Plan) string {
	s := p.Summary()
	create := fmt.Sprintf("%d to create", s.Create)
	var of []string
	if s.OUs > 0 {
		of = append(of, fmt.Sprintf("%d %s", s.OUs, plural(s.OUs, "OU")))
	}
	if s.Groups > 0 {
		of = append(of, fmt.Sprintf("%d %s", s.Groups, plural(s.Groups, "group")))
	}
	if len(of) > 0 {
		create += " (" + strings.Join(of, ", ") + ")"
	}

	if s.SetPassword > 0 {
		create += fmt.Sprintf(", %d to give a password", s.SetPassword)
	}
	if s.Adopt > 0 {
		create += fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	line := fmt.Sprintf("%s, %d to update, %d to move, %d to rename, %d to add to groups, %d to enable, %d to remove from groups, %d to disable, %d to delete",
		create, s.Update, s.Move, s.Rename, s.AddMember, s.Enable, s.RemoveMember, s.Disable, s.Delete)
	if s.Drift > 0 {
		line += fmt.Sprintf("; %d of them %s drift", s.Drift, plural2(s.Drift, "reverts", "revert"))
	}
	return line + "."
}

// unrepaired counts the findings no change of the plan repairs.
func unrepaired(p *plan.Plan) int {
	n := 0
	for _, f := range p.Findings {
		if f.RepairedBy == "" {
			n++
		}
	}
	return n
}

// closing is the plan's last line: what it does, and whether the directory
// will then match the access repository. "The directory matches" is said
// only when nothing differs.
func closing(p *plan.Plan, where string) string {
	left := unrepaired(p)
	switch {
	case p.Matches() && len(p.Orphans) == 0:
		return "No changes. The directory matches the access repository."
	case p.Matches():
		return fmt.Sprintf("No changes. The accounts alm manages match the access repository; %d %s in managed OUs %s reported %s (orphans).",
			len(p.Orphans), plural(len(p.Orphans), "account"), plural2(len(p.Orphans), "that alm does not own is", "that alm does not own are"), where)
	case p.Empty():
		return fmt.Sprintf("No changes can be made, but the directory does not match the access repository: %d %s %s.",
			len(p.Findings), plural(len(p.Findings), "finding"), where)
	case left > 0:
		return fmt.Sprintf("Plan: %s\nAfter it, the directory will still differ from the access repository: %d %s %s.",
			summary(p), left, plural(left, "finding"), where)
	}
	return "Plan: " + summary(p)
}

// findingTitle is a finding's first line: its kind and what it is about.
func findingTitle(f plan.Finding) string {
	about := f.Account
	if about == "" {
		about = f.Group
	}
	if about == "" {
		about = f.DN
	}
	if f.File != "" {
		about += " (" + f.File + ")"
	}
	return f.Kind + ": " + about
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func short(rev string) string {
	switch {
	case rev == "":
		return "working tree"
	case len(rev) > 12:
		return rev[:12]
	}
	return rev
}

// errWriter keeps the first write error, so rendering code reads straight.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
