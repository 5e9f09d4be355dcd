package render

import (
	"io"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
)

// Text writes a plan for a terminal:
//
//	# jdoe: CN=jdoe,OU=People,OU=ALM,DC=example,DC=test (people/jdoe.yaml)
//	  ~ update (drift)
//	      title: "CTO" -> "Engineer"
//	      why: drift: edited in the directory; spec.title in people/jdoe.yaml [people/jdoe.yaml spec.title]
//
// then orphans and warnings, and a closing "Plan: ..." line, or "No
// changes." when there is nothing to do.
func Text(w io.Writer, p *plan.Plan) error {
	e := &errWriter{w: w}
	e.printf("alm plan for revision %s, directory state %s, at %s\n", short(p.Revision), orNone(p.DirectoryState), p.Now.UTC().Format(time.RFC3339))
	if !p.Empty() {
		e.printf("\nSymbols: + create or add, ~ change, > move or rename, - remove or delete.\n")
	}
	for _, b := range blocks(p) {
		e.printf("\n# %s\n", b.title)
		for _, c := range b.changes {
			drift := ""
			if c.Drift {
				drift = " (drift)"
			}
			line := Symbol(c.Action) + " " + string(c.Action)
			if t := target(c); t != "" {
				line += " " + t
			}
			e.printf("  %s%s\n", line, drift)
			for _, a := range c.Attributes {
				d := ""
				if a.Drift && !c.Drift {
					d = " (drift)"
				}
				if c.Action == plan.Create {
					e.printf("      %s: %s\n", a.Name, value(a.Name, a.New))
				} else {
					e.printf("      %s: %s -> %s%s\n", a.Name, value(a.Name, a.Old), value(a.Name, a.New), d)
				}
			}
			e.printf("      why: %s\n", why(c.Reason))
		}
	}
	if len(p.Findings) > 0 {
		e.printf("\nFindings (what stays different from the access repository unless a change above repairs it):\n")
		for _, f := range p.Findings {
			e.printf("  ! %s\n      %s\n      fix: %s\n", findingTitle(f), f.Text, f.Fix)
			if f.RepairedBy != "" {
				e.printf("      this plan repairs it: %s\n", f.RepairedBy)
			}
		}
	}
	if len(p.Orphans) > 0 {
		e.printf("\nOrphans (accounts in managed OUs that alm does not own):\n")
		for _, o := range p.Orphans {
			state := "disabled"
			if o.Enabled {
				state = "enabled"
			}
			e.printf("  ? %s (%s, %s; %s)\n      %s\n", o.Name, o.DN, state, o.Action, o.Reason)
		}
	}
	if len(p.Warnings) > 0 {
		e.printf("\nWarnings:\n")
		for _, w := range p.Warnings {
			e.printf("  ! %s\n", w)
		}
	}
	if len(p.Notices) > 0 {
		e.printf("\nNotices an apply sends (%d; the directory changes above do not wait for them):\n", len(p.Notices))
		for _, n := range p.Notices {
			e.printf("  @ %s\n      to %s; %s\n", n.Subject, recipients(n.To), n.ID)
		}
	}
	if len(p.Rotations) > 0 {
		e.printf("\nPasswords an apply rotates (%d; sealed to each reader, sent by e-mail or --outbox only):\n", len(p.Rotations))
		for _, r := range p.Rotations {
			e.printf("  ~ %s (%s): its template's rotateEvery passed on %s\n", r.Account, r.File, r.DueAt.UTC().Format(time.DateOnly))
		}
	}
	e.printf("\n%s\n", closing(p, "above"))
	return e.err
}

// recipients are a message's recipients in words: "dkim (owner), ewright (custodian)".
func recipients(rs []notify.Recipient) string {
	if len(rs) == 0 {
		return "no one (no recipient resolves: check the notice's to in the template)"
	}
	var out []string
	for _, r := range rs {
		who := r.Login
		if who == "" {
			who = r.Email
		}
		out = append(out, who+" ("+r.Role+")")
	}
	return strings.Join(out, ", ")
}

// ResultText writes what an apply did: one line per change, the error
// under each failure, and a closing count.
func ResultText(w io.Writer, r *apply.Result) error {
	e := &errWriter{w: w}
	e.printf("alm apply of revision %s\n\n", short(r.Revision))
	if len(r.Changes) == 0 {
		e.printf("No changes.\n")
		return e.err
	}
	for _, cr := range r.Changes {
		c := cr.Change
		who := c.Account
		if who == "" {
			who = c.DN
		}
		e.printf("  %-7s %s\n", cr.Outcome, strings.TrimSpace(strings.Join([]string{Symbol(c.Action), string(c.Action), who, detail(c)}, " ")))
		switch {
		case cr.Error != "":
			e.printf("          %s\n", cr.Error)
		case cr.Note != "":
			e.printf("          (%s)\n", cr.Note)
		}
	}
	e.printf("\nApply: %d applied, %d failed, %d skipped.\n", r.Applied, r.Failed, r.Skipped)
	return e.err
}

// detail is the part of a change beyond its account, for one-line listings.
func detail(c plan.Change) string {
	switch c.Action {
	case plan.AddMember, plan.RemoveMember:
		return c.GroupName
	case plan.Move, plan.Rename, plan.RenameGroup:
		return "-> " + c.NewDN
	case plan.CreateGroup:
		return c.DN
	case plan.Update:
		names := make([]string, len(c.Attributes))
		for i, a := range c.Attributes {
			names[i] = a.Name
		}
		return strings.Join(names, ", ")
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
