// Package review runs access reviews as pull requests: which accounts are
// due for review at an instant and who reviews them (pure, from the
// repository), each account's file with spec.reviewed moved to the day the
// review is opened (comments and layout kept), and opening one pull request
// per reviewer, once, through a small Host interface that connectors/github
// implements. Merging confirms (the review dates move); removing a role line
// in the pull request revokes that access; closing it lets the template's
// review.grace run out, after which the lifecycle disables the account.
package review

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// Reviewer relations a template's review.by names.
const (
	ByOwner          = "owner"
	ByManager        = "manager"
	ByOwnerManager   = "owner-manager"
	ByOwnerOrManager = "owner-or-manager"
	ByCustodian      = "custodian"
)

// Request is one pull request: a reviewer and the accounts due that they review.
type Request struct {
	Reviewer string `json:"reviewer"` // the reviewer's login (a person's metadata.name)
	Name     string `json:"name"`     // their display name
	GitHub   string `json:"github,omitempty"`
	Email    string `json:"email,omitempty"`
	// Branch is alm/review/<reviewer>/<the latest due date listed>: the
	// same accounts due give the same branch whatever day it is, so a pull
	// request is opened once for them; an account newly due gives a new one.
	Branch   string     `json:"branch"`
	Due      model.Date `json:"due"`      // the latest due date listed
	Reviewed model.Date `json:"reviewed"` // what spec.reviewed becomes: the day it is opened
	Accounts []Account  `json:"accounts"` // privileged first, then by risk
}

// Account is one account due for review.
type Account struct {
	Name     string     `json:"name"`
	ID       string     `json:"id"`
	Kind     string     `json:"kind"` // model.KindPerson or model.KindServiceAccount
	File     string     `json:"file"`
	Template string     `json:"template"`
	Relation string     `json:"relation"` // why the reviewer reviews it (review.by)
	Due      model.Date `json:"due"`
	From     string     `json:"from"` // the field the due date counts from: spec.reviewed, spec.startDate, spec.created
	Every    string     `json:"every"`
	// DisableOn is the day the account is disabled unless the review is
	// merged (due plus review.grace); zero when the template has no grace.
	DisableOn model.Date `json:"disableOn,omitzero"`
	Disabled  bool       `json:"disabled,omitempty"` // the grace has run out already
	Roles     []Role     `json:"roles"`
	// Risk says why the account ranks where it does, most serious first;
	// empty for an account with nothing that ranks it higher.
	Risk []string `json:"risk,omitempty"`
	rank int
}

// Role is one role the account holds: requested (a line of spec.roles,
// which the reviewer removes to revoke it) or by birthright.
type Role struct {
	Name       string   `json:"name"`
	Line       int      `json:"line,omitempty"` // spec.roles[i]'s line in the file
	Birthright bool     `json:"birthright,omitempty"`
	Privileged bool     `json:"privileged,omitempty"`
	Groups     []string `json:"groups"`
}

// Skipped is an account due for review that no pull request can list, and
// why: say so where people read it.
type Skipped struct {
	Account string     `json:"account"`
	File    string     `json:"file"`
	Due     model.Date `json:"due"`
	Why     string     `json:"why"`
}

// Due returns the reviews due at now, one request per reviewer, sorted by
// reviewer: every person and service account whose template has
// review.every and whose review fell due (spec.reviewed plus every, or, never
// reviewed, startDate or created plus every) by now. Accounts not yet
// started, leavers and retired ones are not reviewed. An account whose
// reviewer cannot be found, or is not active, is skipped, saying why.
func Due(repo *model.Repository, now time.Time) ([]Request, []Skipped) {
	zone := repo.Zone()
	today := day(now.In(zone))
	byReviewer := map[string]*Request{}
	var skipped []Skipped
	add := func(a Account, reviewer string, why string) {
		if why != "" {
			skipped = append(skipped, Skipped{Account: a.Name, File: a.File, Due: a.Due, Why: why})
			return
		}
		r := byReviewer[reviewer]
		if r == nil {
			p := repo.People[reviewer]
			r = &Request{Reviewer: reviewer, Name: p.DisplayName(), GitHub: p.Spec.GitHub, Email: p.Spec.Email, Reviewed: today, Accounts: []Account{}}
			byReviewer[reviewer] = r
		}
		r.Accounts = append(r.Accounts, a)
	}
	for _, name := range repo.PersonNames() {
		p := repo.People[name]
		t := repo.TemplateOf(p)
		due, from := lifecycle.ReviewDue(t, p.Spec.Reviewed, p.Spec.StartDate, "spec.startDate")
		if due.IsZero() || now.Before(due.Midnight(zone)) || !reviewable(lifecycle.Person(p, t, zone, now)) {
			continue
		}
		a := account(repo, t, name, p.Metadata.ID, model.KindPerson, p.Source, due, from, now)
		a.Roles = roles(repo, p.Spec.Roles, p, p.Source)
		rank(&a, p.Spec.Type, p.Spec.Reviewed, days(t), today)
		reviewer, why := reviewerOf(repo, t, a, name, p.Spec.Manager, nil, now)
		add(a, reviewer, why)
	}
	for _, name := range repo.ServiceAccountNames() {
		sa := repo.ServiceAccounts[name]
		t := repo.Templates[sa.Spec.Template]
		due, from := lifecycle.ReviewDue(t, sa.Spec.Reviewed, sa.Spec.Created, "spec.created")
		if due.IsZero() || now.Before(due.Midnight(zone)) || !reviewable(lifecycle.ServiceAccount(sa, t, zone, now)) {
			continue
		}
		a := account(repo, t, name, sa.Metadata.ID, model.KindServiceAccount, sa.Source, due, from, now)
		a.Roles = roles(repo, sa.Spec.Roles, nil, sa.Source)
		rank(&a, "", sa.Spec.Reviewed, days(t), today)
		manager := ""
		if o := repo.People[sa.Spec.Owner]; o != nil {
			manager = o.Spec.Manager
		}
		reviewer, why := reviewerOf(repo, t, a, sa.Spec.Owner, manager, sa.Spec.Custodians, now)
		add(a, reviewer, why)
	}
	out := make([]Request, 0, len(byReviewer))
	for _, name := range model.SortedNames(byReviewer) {
		r := byReviewer[name]
		sort.SliceStable(r.Accounts, func(i, j int) bool {
			a, b := r.Accounts[i], r.Accounts[j]
			if a.rank != b.rank {
				return a.rank < b.rank
			}
			if !a.Due.Equal(b.Due.Time) {
				return a.Due.Before(b.Due.Time)
			}
			return a.Name < b.Name
		})
		for _, a := range r.Accounts {
			if a.Due.After(r.Due.Time) {
				r.Due = a.Due
			}
		}
		r.Branch = fmt.Sprintf("alm/review/%s/%s", r.Reviewer, r.Due)
		out = append(out, *r)
	}
	return out, skipped
}

// reviewable: the account holds access a reviewer can confirm or revoke.
// One not yet started has none; a leaver or a retired account is on its
// way out whatever a review says.
func reviewable(s lifecycle.State) bool {
	switch s.Status {
	case lifecycle.Pending, lifecycle.Leaver, lifecycle.Archived, lifecycle.Retired:
		return false
	}
	return s.Exists
}

func account(repo *model.Repository, t *model.WorkflowTemplate, name, id, kind string, src model.Source, due model.Date, from string, now time.Time) Account {
	r := t.Spec.Review
	a := Account{Name: name, ID: id, Kind: kind, File: fileOf(src, kind, name), Template: t.Metadata.Name, Relation: r.By,
		Due: due, From: from, Every: r.Every.String()}
	if !r.Grace.IsZero() {
		at := due.Plus(r.Grace, repo.Zone())
		a.DisableOn = day(at.In(repo.Zone()))
		a.Disabled = !now.Before(at)
	}
	return a
}

// roles lists the roles an account holds: the file's spec.roles, each with
// its line, and a person's birthright roles.
func roles(repo *model.Repository, requested []string, p *model.Person, src model.Source) []Role {
	out := []Role{}
	asked := map[string]bool{}
	for i, name := range requested {
		asked[name] = true
		r := Role{Name: name, Line: src.At(fmt.Sprintf("spec.roles[%d]", i)).Line, Groups: []string{}}
		if role := repo.Roles[name]; role != nil {
			r.Privileged, r.Groups = role.Spec.Privileged, append(r.Groups, role.Spec.Groups...)
		}
		out = append(out, r)
	}
	if p != nil {
		for _, name := range model.SortedNames(repo.Roles) {
			role := repo.Roles[name]
			if !asked[name] && role.Spec.Birthright.Matches(p) {
				out = append(out, Role{Name: name, Birthright: true, Privileged: role.Spec.Privileged, Groups: append([]string{}, role.Spec.Groups...)})
			}
		}
	}
	return out
}

// privilegedGroups are the groups Active Directory itself treats as
// privileged (reconciler/directory/identity.go knows them by RID and SID;
// the files know them only by name or DN).
var privilegedGroups = []string{
	"Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators", "Account Operators",
	"Server Operators", "Print Operators", "Backup Operators", "Replicator", "Group Policy Creator Owners",
	"Key Admins", "Enterprise Key Admins", "Domain Controllers", "DnsAdmins",
}

// privilegedGroup reports whether a role's group entry (a name or a DN)
// is one of AD's privileged groups.
func privilegedGroup(entry string) bool {
	name := entry
	if dn, ok := desired.GroupDNOf(entry); ok {
		first, _, _ := strings.Cut(dn, ",")
		_, name, _ = strings.Cut(first, "=")
	}
	return slices.ContainsFunc(privilegedGroups, func(g string) bool { return strings.EqualFold(g, strings.TrimSpace(name)) })
}

// rank orders an account in its pull request: privileged roles first, then
// AD's privileged groups, service accounts with no recent review (never
// reviewed, or not within two periods), contractors, and the rest.
func rank(a *Account, personType string, reviewed model.Date, every int, today model.Date) {
	a.rank = 4
	note := func(r int, why string) {
		a.Risk = append(a.Risk, why)
		a.rank = min(a.rank, r)
	}
	for _, r := range a.Roles {
		if r.Privileged {
			note(0, "privileged role "+r.Name)
		}
	}
	for _, r := range a.Roles {
		for _, g := range r.Groups {
			if privilegedGroup(g) {
				note(1, fmt.Sprintf("privileged group %s (role %s)", g, r.Name))
			}
		}
	}
	if a.Kind == model.KindServiceAccount {
		switch {
		case reviewed.IsZero():
			note(2, "service account never reviewed")
		case !today.Before(reviewed.AddDays(2 * every).Time):
			note(2, "service account not reviewed since "+reviewed.String())
		}
	}
	if personType == model.TypeContractor {
		note(3, "contractor")
	}
}

// reviewerOf is who reviews an account under the template's review.by: for
// a person, owner is the person and manager (and owner-manager) their
// manager; for a service account, owner is spec.owner, manager the owner's
// manager, custodian the first of spec.custodians. owner-or-manager takes
// the manager of a person (someone other than themselves) and the owner of
// a service account (who knows what it is for), else the other one. The
// reviewer must be a person at work now: active, or disabled only for a
// review of their own that is overdue (they can still review on GitHub).
func reviewerOf(repo *model.Repository, t *model.WorkflowTemplate, a Account, owner, manager string, custodians []string, now time.Time) (string, string) {
	var who string
	switch a.Relation {
	case ByOwner:
		who = owner
	case ByManager, ByOwnerManager:
		who = manager
	case ByOwnerOrManager:
		first, second := owner, manager
		if a.Kind == model.KindPerson {
			first, second = manager, owner
		}
		who = first
		if !active(repo, first, now) {
			who = second
		}
	case ByCustodian:
		if len(custodians) > 0 {
			who = custodians[0]
		}
	default:
		return "", fmt.Sprintf("template %s: review.by %q is not a relation: write owner, manager, owner-manager, owner-or-manager or custodian", t.Metadata.Name, a.Relation)
	}
	switch p := repo.People[who]; {
	case who == "":
		return "", fmt.Sprintf("%s has no %s to review it (template %s review.by): set one in %s", a.Name, a.Relation, t.Metadata.Name, a.File)
	case p == nil:
		return "", fmt.Sprintf("%s's reviewer %s (%s) is no person: fix the name in %s or add people/%s.yaml", a.Name, who, a.Relation, a.File, who)
	case !active(repo, who, now):
		return "", fmt.Sprintf("%s's reviewer %s (%s) is %s: name an active %s in %s", a.Name, who, a.Relation,
			lifecycle.Person(p, repo.TemplateOf(p), repo.Zone(), now).Status, a.Relation, a.File)
	}
	return who, ""
}

func active(repo *model.Repository, name string, now time.Time) bool {
	p := repo.People[name]
	if p == nil {
		return false
	}
	st := lifecycle.Person(p, repo.TemplateOf(p), repo.Zone(), now).Status
	return st == lifecycle.Active || st == lifecycle.Unreviewed
}

// days is review.every in whole days.
func days(t *model.WorkflowTemplate) int { return int(t.Spec.Review.Every.D / (24 * time.Hour)) }

func fileOf(src model.Source, kind, name string) string {
	if src.Path != "" {
		return src.Path
	}
	return model.Folders[kind] + "/" + name + ".yaml"
}

func day(t time.Time) model.Date {
	return model.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
}
