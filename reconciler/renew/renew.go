// Package renew proposes the pull requests that renew or retire a service
// account before its end of life: which accounts are due at an instant
// (pure, from the repository), the renewed file (the same file, its
// comments and layout kept, with spec.expires moved or spec.state set), and
// opening each pull request once through a small Host interface that
// connectors/github implements. Merging a renewal renews; closing it lets
// the account expire.
package renew

import (
	"fmt"
	"time"

	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// Kind is what a proposal does to the account.
type Kind string

const (
	Renew  Kind = "renew"  // move spec.expires by the template's lifetime.default
	Retire Kind = "retire" // set spec.state: retired
)

// Proposal is one pull request to open.
type Proposal struct {
	Kind    Kind   `json:"kind"`
	Account string `json:"account"` // metadata.name, the login
	File    string `json:"file"`    // the account's file in the repository
	// Owner is the owner's person name; Reviewer their GitHub login
	// (spec.github), "" when they have none.
	Owner    string     `json:"owner"`
	Reviewer string     `json:"reviewer,omitempty"`
	Template string     `json:"template"`
	Expires  model.Date `json:"expires"`           // as the file has it
	Renewed  model.Date `json:"renewed,omitempty"` // the new expiry, for Renew
	Capped   bool       `json:"capped,omitempty"`  // Renewed was held to lifetime.max from spec.created
	// Branch is alm/renew/<login>/<expires renewed> or alm/retire/<login>:
	// named after the expiry it renews, so that one closed is never
	// proposed again for that expiry, whatever day it is.
	Branch   string     `json:"branch"`
	Lifetime string     `json:"lifetime,omitempty"` // the template's lifetime.default, for the body
	Before   string     `json:"before,omitempty"`   // the template's renewal.before, for the body
	Max      string     `json:"max,omitempty"`      // the template's lifetime.max
	Created  model.Date `json:"created,omitempty"`  // spec.created
	// Requested is the renewal's spec.created: a renewal is a new request,
	// dated the day it is opened, and lifetime.max counts from it.
	Requested model.Date `json:"requested,omitempty"`
	EndNote   string     `json:"endOfLife,omitempty"` // what happens at expiry, for the body
}

// Skipped is an account due for renewal that cannot have a pull request,
// and why: say so where people read it.
type Skipped struct {
	Account string `json:"account"`
	File    string `json:"file"`
	Why     string `json:"why"`
}

// Due returns the pull requests due at now, by account name: a renewal for
// each service account whose template has renewal.before and that is within
// it of spec.expires (or past it), and, with renewal.retire, a retirement
// for each one past expiry. Retired accounts get none. A renewal that
// lifetime.max leaves no room for is skipped, saying so.
func Due(repo *model.Repository, now time.Time) ([]Proposal, []Skipped) {
	var out []Proposal
	var skipped []Skipped
	zone := repo.Zone()
	for _, name := range repo.ServiceAccountNames() {
		a := repo.ServiceAccounts[name]
		t := repo.Templates[a.Spec.Template]
		if t == nil || t.Spec.Renewal == nil || t.Spec.Renewal.Before.IsZero() || a.Spec.Expires.IsZero() {
			continue
		}
		// An account retired, or disabled by hand (state: disabled), was
		// let go on purpose: no one is asked to renew it.
		if a.Spec.State == model.StateRetired || a.Spec.State == model.StateDisabled || lifecycle.ServiceAccount(a, t, zone, now).Status == lifecycle.Retired {
			continue
		}
		if now.Before(a.Spec.Expires.Minus(t.Spec.Renewal.Before, zone)) {
			continue
		}
		file := a.Source.Path
		p := Proposal{Account: name, File: file, Owner: a.Spec.Owner, Template: t.Metadata.Name, Expires: a.Spec.Expires,
			Before: t.Spec.Renewal.Before.String(), Created: a.Spec.Created, EndNote: endOfLife(t)}
		if o := repo.People[a.Spec.Owner]; o != nil {
			p.Reviewer = o.Spec.GitHub
		}
		if l := t.Spec.Lifetime; l != nil {
			p.Lifetime, p.Max = l.Default.String(), l.Max.String()
		}
		today := day(now.In(zone))
		if r, why := renewed(a, t, today); why != "" {
			skipped = append(skipped, Skipped{Account: name, File: file, Why: why})
		} else {
			rp := p
			rp.Kind, rp.Renewed, rp.Capped, rp.Requested = Renew, r, capped(a, t, r), today
			rp.Branch = fmt.Sprintf("alm/renew/%s/%s", name, a.Spec.Expires)
			out = append(out, rp)
		}
		if t.Spec.Renewal.Retire && !now.Before(a.Spec.Expires.Midnight(zone)) {
			rp := p
			rp.Kind, rp.Branch = Retire, "alm/retire/"+name
			out = append(out, rp)
		}
	}
	return out, skipped
}

// renewed returns the expiry a renewal gives: the current one plus
// lifetime.default, held to lifetime.max from spec.created; or why there is
// none. Days are counted as the loader checks them, as dates.
func renewed(a *model.ServiceAccount, t *model.WorkflowTemplate, today model.Date) (model.Date, string) {
	l := t.Spec.Lifetime
	if l == nil || l.Default.IsZero() {
		return model.Date{}, fmt.Sprintf("template %s has no lifetime.default to renew %s by: add lifetime: {default: 180d} to %s", t.Metadata.Name, a.Metadata.Name, t.Source.Path)
	}
	// From the expiry, or from today for one already past; held to
	// lifetime.max from today, the renewal's spec.created.
	from := a.Spec.Expires
	if from.Before(today.Time) {
		from = today
	}
	next := day(from.Plus(l.Default, time.UTC))
	if !l.Max.IsZero() {
		if limit := day(today.Plus(l.Max, time.UTC)); next.After(limit.Time) {
			next = limit
		}
	}
	if !next.After(a.Spec.Expires.Time) || !next.After(today.Time) {
		return model.Date{}, fmt.Sprintf("%s expires %s: a renewal within lifetime.max (%s) from today gives no later date", a.Metadata.Name, a.Spec.Expires, l.Max)
	}
	return next, ""
}

func capped(a *model.ServiceAccount, t *model.WorkflowTemplate, r model.Date) bool {
	return r.Before(day(a.Spec.Expires.Plus(t.Spec.Lifetime.Default, time.UTC)).Time)
}

func day(t time.Time) model.Date {
	return model.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
}

func endOfLife(t *model.WorkflowTemplate) string {
	action := model.ActionDisable
	if e := t.Spec.EndOfLife; e != nil && e.Action != "" {
		action = e.Action
	}
	switch action {
	case model.ActionDelete:
		return "is deleted"
	case model.ActionReview:
		return "stays enabled, listed for review"
	}
	return "is disabled"
}
