package notify

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// AfterEndWindow is how long after an account's end of life its at-end
// notice may still go out: a reconciler down for a while catches up, but a
// repository adopted with accounts that ended long ago does not send a
// flood of stale notices.
const AfterEndWindow = 30 * 24 * time.Hour

// Scheduled is one notice a template asks for, about one account: when it
// becomes due and until when it is worth sending.
type Scheduled struct {
	Message
	// Until is when the notice stops being worth sending: a notice before
	// the end of life is not sent once the end has come (the at-end one
	// says more), an at-end one AfterEndWindow after the end.
	Until time.Time `json:"until"`
	// Offset is how the template words it: "30d before" or "at end".
	Offset string `json:"offset"`
}

// Schedule lists every notice the templates ask for about every account
// of the repository, whatever the time: past, due and future, sorted by
// when they become due. Each message's ID names the account's id, the
// offset and the end-of-life date, so a renewal that moves the date
// schedules new notices rather than finding the old ones sent.
func Schedule(repo *model.Repository) []Scheduled {
	zone := repo.Zone()
	r := &resolver{repo: repo}
	var out []Scheduled
	for _, name := range repo.ServiceAccountNames() {
		sa := repo.ServiceAccounts[name]
		t := repo.Templates[sa.Spec.Template]
		// An account retired or disabled by hand (spec.state) was let go on
		// purpose: no one is told it ends.
		if t == nil || sa.Spec.Expires.IsZero() || sa.Spec.State == model.StateRetired || sa.Spec.State == model.StateDisabled {
			continue
		}
		a := account{id: sa.Metadata.ID, login: name, kind: model.KindServiceAccount, file: "service-accounts/" + name + ".yaml",
			template: t, end: sa.Spec.Expires, endField: "spec.expires", owner: sa.Spec.Owner, custodians: sa.Spec.Custodians}
		if sa.Source.Path != "" {
			a.file = sa.Source.Path
		}
		out = append(out, r.notices(a, zone)...)
	}
	for _, name := range repo.PersonNames() {
		p := repo.People[name]
		t := repo.TemplateOf(p)
		if t == nil {
			continue
		}
		end, field := lifecycle.LeavingDate(p, t)
		if end.IsZero() {
			continue
		}
		a := account{id: p.Metadata.ID, login: name, kind: model.KindPerson, file: "people/" + name + ".yaml",
			template: t, end: end, endField: field, person: p}
		if p.Source.Path != "" {
			a.file = p.Source.Path
		}
		out = append(out, r.notices(a, zone)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].DueAt.Equal(out[j].DueAt) {
			return out[i].DueAt.Before(out[j].DueAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Due returns the scheduled notices due at now: become due, and still
// worth sending.
func Due(all []Scheduled, now time.Time) []Scheduled {
	var out []Scheduled
	for _, s := range all {
		if !now.Before(s.DueAt) && now.Before(s.Until) {
			out = append(out, s)
		}
	}
	return out
}

// account is what a notice needs to know of a person or service account.
type account struct {
	id, login, kind, file string
	template              *model.WorkflowTemplate
	end                   model.Date
	endField              string
	owner                 string   // a service account's
	custodians            []string // a service account's
	person                *model.Person
}

func (r *resolver) notices(a account, zone *time.Location) []Scheduled {
	var out []Scheduled
	end := a.end.Midnight(zone)
	for _, n := range a.template.Spec.Notices {
		s := Scheduled{Message: Message{Kind: KindNotice, Account: a.login, AccountID: a.id, File: a.file, Date: end}}
		if n.At == "end" {
			s.Offset, s.DueAt, s.Until = "at end", end, end.Add(AfterEndWindow)
		} else {
			s.Offset, s.DueAt, s.Until = n.Before.String()+" before", a.end.Minus(n.Before, zone), end
		}
		s.ID = fmt.Sprintf("notice:%s:%s:%s", a.id, strings.ReplaceAll(s.Offset, " ", "-"), a.end)
		s.To = r.recipients(a, n.To)
		s.Subject, s.Text = words(a, s.Offset, n.At == "end")
		out = append(out, s)
	}
	return out
}

// words are a notice's subject and text: what ends when, what happens
// then, and what to do to keep the account.
func words(a account, offset string, atEnd bool) (subject, text string) {
	t := a.template
	date := a.end.String()
	var then, keep string
	switch a.kind {
	case model.KindServiceAccount:
		eol := model.EndOfLife{Action: model.ActionDisable, Retire: model.RetireMove}
		if t.Spec.EndOfLife != nil {
			eol = *t.Spec.EndOfLife
			if eol.Retire == "" {
				eol.Retire = model.RetireMove
			}
		}
		switch eol.Action {
		case model.ActionDelete:
			then = "it is deleted"
		case model.ActionReview:
			then = "it stays enabled while its owner reviews it"
		default:
			then = "it is disabled, keeping its groups"
		}
		if eol.Action != model.ActionDelete && eol.RetireAfter.D > 0 {
			retire := "deleted"
			if eol.Retire == model.RetireMove {
				retire = "moved to the retired OU"
			}
			then += fmt.Sprintf(", and %s after %s unless renewed", retire, eol.RetireAfter)
		}
		keep = fmt.Sprintf("To keep it, open a pull request that moves spec.expires in %s", a.file)
		if t.Spec.Lifetime != nil && t.Spec.Lifetime.Max.D > 0 {
			keep += fmt.Sprintf(" (at most %s after spec.created)", t.Spec.Lifetime.Max)
		}
		keep += "; to let it go, do nothing."
	default:
		then = "the account is disabled and moved to the leavers OU"
		if t.Spec.Leaver != nil && t.Spec.Leaver.GroupGrace.D > 0 {
			then += fmt.Sprintf("; its groups go %s later", t.Spec.Leaver.GroupGrace)
		} else {
			then += "; its groups go with it"
		}
		keep = fmt.Sprintf("To extend it, open a pull request that moves %s in %s.", a.endField, a.file)
	}
	what := "Service account " + a.login
	if a.kind == model.KindPerson {
		what = "The account of " + a.login
		if p := a.person; p != nil && p.DisplayName() != "" {
			what += " (" + p.DisplayName() + ")"
		}
	}
	if atEnd {
		subject = fmt.Sprintf("%s reached its end of life on %s", a.login, date)
		text = fmt.Sprintf("%s reached its end of life on %s (%s in %s): %s.\n\n%s\n", what, date, a.endField, a.file, then, keep)
		return subject, text
	}
	subject = fmt.Sprintf("%s ends on %s", a.login, date)
	text = fmt.Sprintf("%s ends on %s (%s in %s; this notice: %s, template %s). Then %s.\n\n%s\n",
		what, date, a.endField, a.file, offset, t.Metadata.Name, then, keep)
	return subject, text
}

// resolver turns a notice's `to` into people.
type resolver struct {
	repo      *model.Repository
	approvers map[string][]string // template name -> logins
}

func (r *resolver) recipients(a account, to []string) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	add := func(login, role string) {
		p := r.repo.People[login]
		if login == "" || p == nil || seen[login] {
			return
		}
		seen[login] = true
		out = append(out, Recipient{Login: login, Name: p.DisplayName(), Email: p.Spec.Email, GitHub: p.Spec.GitHub, Role: role})
	}
	managerOf := func(login string) string {
		if p := r.repo.People[login]; p != nil {
			return p.Spec.Manager
		}
		return ""
	}
	self := a.owner // a person's "owner" is the person
	if a.kind == model.KindPerson {
		self = a.login
	}
	for _, who := range to {
		switch who {
		case model.ToOwner:
			add(self, "owner")
		case model.ToSelf:
			if a.kind == model.KindPerson {
				add(a.login, "self")
			}
		case model.ToCustodians:
			for _, c := range a.custodians {
				add(c, "custodian")
			}
		case model.ToManager:
			add(managerOf(self), "manager")
		case model.ToOwnerManager:
			if a.kind == model.KindPerson {
				add(managerOf(managerOf(self)), "manager's manager")
			} else {
				add(managerOf(self), "owner's manager")
			}
		case model.ToApprovers:
			for _, login := range r.approversOf(a.template) {
				add(login, "approver")
			}
		default:
			if strings.Contains(who, "@") && !seen[who] {
				seen[who] = true
				out = append(out, Recipient{Email: who, Role: "address"})
			}
		}
	}
	return out
}

// approversOf are the people who may approve a grant under the template:
// the active holders of the roles its approvals.grant rules name.
func (r *resolver) approversOf(t *model.WorkflowTemplate) []string {
	if r.approvers == nil {
		r.approvers = map[string][]string{}
	}
	if got, ok := r.approvers[t.Metadata.Name]; ok {
		return got
	}
	var roles []string
	for _, rule := range t.Spec.Approvals.Grant {
		if rule.Role != "" {
			roles = append(roles, rule.Role)
		}
	}
	var out []string
	for _, name := range r.repo.PersonNames() {
		p := r.repo.People[name]
		if !p.Spec.EndDate.IsZero() {
			continue // a leaver approves nothing
		}
		for _, role := range r.repo.RolesOf(p) {
			if slices.Contains(roles, role) {
				out = append(out, name)
				break
			}
		}
	}
	r.approvers[t.Metadata.Name] = out
	return out
}
