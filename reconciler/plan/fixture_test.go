package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

const base = "DC=example,DC=test"

func at(s string) time.Time { return model.MustDate(s).Time }

// repository is a small access repository built in Go: employees and
// contractors, a service-account template, birthright and requested roles.
func repository() *model.Repository {
	r := model.NewRepository()
	r.Revision = "c0ffee"
	r.Directory = &model.Directory{Metadata: model.Metadata{Name: "acme"}, Spec: model.DirectorySpec{
		Domain: "example.test", BaseDN: base, GroupsOU: "OU=Groups,OU=ALM",
		LeaversOU: "OU=Leavers,OU=ALM", RetiredOU: "OU=Retired,OU=ALM", Protected: []string{"breakglass"},
		Limits: model.Limits{Disable: model.Limit{Count: 5, Fraction: 0.5}, RemoveFromGroup: model.Limit{Count: 25}, Delete: model.Limit{Count: 2}},
	}}
	r.Templates["employee"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "employee"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeEmployee}, OU: "OU=People,OU=ALM",
		ProvisionAhead: model.MustDuration("7d"),
		Leaver:         &model.Leaver{GroupGrace: model.MustDuration("14d"), Retention: model.MustDuration("90d"), Archive: model.ArchiveDelete},
	}}
	r.Templates["contractor"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "contractor"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeContractor}, OU: "OU=Contractors,OU=ALM",
		Leaver: &model.Leaver{Retention: model.MustDuration("30d"), Archive: model.ArchiveDelete},
	}}
	r.Templates["service-account"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "service-account"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount, OU: "OU=Service Accounts,OU=ALM",
		EndOfLife:    &model.EndOfLife{Action: model.ActionDisable, RetireAfter: model.MustDuration("30d"), Retire: model.RetireDelete},
		AccountFlags: []string{"DONT_EXPIRE_PASSWORD", "NOT_DELEGATED"},
	}}
	role := func(name string, groups []string, b *model.Birthright) {
		r.Roles[name] = &model.Role{Metadata: model.Metadata{Name: name}, Spec: model.RoleSpec{Groups: groups, Birthright: b}}
	}
	role("engineering", []string{"Engineering", "Source Code Readers"}, &model.Birthright{Department: "Engineering"})
	role("sales", []string{"Sales"}, &model.Birthright{Department: "Sales"})
	role("vpn-users", []string{"VPN Users"}, nil)
	role("backup-operators", []string{"Backup Operators"}, nil)
	person := func(name, id, given, dept string, edit func(*model.PersonSpec)) {
		p := &model.Person{Metadata: model.AccountMetadata{Name: name, ID: id}, Spec: model.PersonSpec{
			GivenName: given, Surname: "Example", Email: name + "@example.test", Type: model.TypeEmployee,
			Department: dept, Title: "Engineer", Manager: "asmith", StartDate: model.MustDate("2024-01-08"),
		}}
		if edit != nil {
			edit(&p.Spec)
		}
		r.People[name] = p
	}
	person("asmith", "001001", "Alice", "Engineering", func(s *model.PersonSpec) { s.Manager, s.Title = "", "Head of engineering" })
	person("jdoe", "004217", "Jane", "Engineering", func(s *model.PersonSpec) { s.Roles = []string{"vpn-users"} })
	person("bking", "004300", "Bob", "Sales", nil)
	person("cwu", "004301", "Chen", "Sales", nil)
	r.ServiceAccounts["svc-backup"] = &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-backup", ID: "sa-01"}, Spec: model.ServiceAccountSpec{
		Template: "service-account", Description: "Nightly backup", Owner: "jdoe",
		Roles: []string{"backup-operators"}, Expires: model.MustDate("2027-05-31"),
	}}
	return r
}

func compute(t *testing.T, r *model.Repository, now string) *desired.State {
	t.Helper()
	d, err := desired.Compute(r, at(now))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inSync returns the directory as a perfect apply of d leaves it: every
// account d wants, marked, with its attributes and groups, and every
// group roles name.
func inSync(d *desired.State) *directory.Snapshot {
	// The OUs exist, the groups OU too, as a connector reports them.
	s := &directory.Snapshot{BaseDN: d.BaseDN, State: "4711", OUs: append(append([]string{}, d.OUs...), d.GroupsOU)}
	index := map[string]int{}
	for _, g := range d.Groups {
		index[strings.ToLower(g.Name)] = len(s.Groups)
		s.Groups = append(s.Groups, directory.Group{DN: d.GroupDN(g.Name), Name: g.Name})
	}
	for _, a := range d.Accounts {
		if !a.Exists || a.Delete {
			continue
		}
		l := directory.Account{DN: a.DN, Name: a.Name, Marker: directory.Marker(a.ID), UAC: a.UAC, Attributes: map[string]string{}}
		for k, v := range a.Attributes {
			if v != "" {
				l.Attributes[k] = v
			}
		}
		for _, g := range a.Groups {
			i := index[strings.ToLower(g.Name)]
			s.Groups[i].Members = append(s.Groups[i].Members, a.DN)
			l.MemberOf = append(l.MemberOf, s.Groups[i].DN)
		}
		s.Accounts = append(s.Accounts, l)
	}
	s.Sort()
	return s
}

// live returns the account with that name in the snapshot.
func live(t *testing.T, s *directory.Snapshot, name string) *directory.Account {
	t.Helper()
	for i := range s.Accounts {
		if s.Accounts[i].Name == name {
			return &s.Accounts[i]
		}
	}
	t.Fatalf("no account %s in the snapshot", name)
	return nil
}

// without removes an account from the snapshot, and its memberships.
func without(s *directory.Snapshot, name string) {
	for i, a := range s.Accounts {
		if a.Name == name {
			s.Accounts = append(s.Accounts[:i], s.Accounts[i+1:]...)
			for j := range s.Groups {
				var kept []string
				for _, m := range s.Groups[j].Members {
					if !directory.SameDN(m, a.DN) {
						kept = append(kept, m)
					}
				}
				s.Groups[j].Members = kept
			}
			return
		}
	}
}

// join adds an account to a group in the snapshot, both ways.
func join(t *testing.T, s *directory.Snapshot, name, group string) {
	t.Helper()
	l := live(t, s, name)
	for i := range s.Groups {
		if s.Groups[i].Name == group {
			s.Groups[i].Members = append(s.Groups[i].Members, l.DN)
			l.MemberOf = append(l.MemberOf, s.Groups[i].DN)
			return
		}
	}
	t.Fatalf("no group %s in the snapshot", group)
}

// leave removes an account from a group in the snapshot, both ways.
func leave(t *testing.T, s *directory.Snapshot, name, group string) {
	t.Helper()
	l := live(t, s, name)
	for i := range s.Groups {
		if s.Groups[i].Name != group {
			continue
		}
		var kept []string
		for _, m := range s.Groups[i].Members {
			if !directory.SameDN(m, l.DN) {
				kept = append(kept, m)
			}
		}
		s.Groups[i].Members = kept
		var of []string
		for _, g := range l.MemberOf {
			if !directory.SameDN(g, s.Groups[i].DN) {
				of = append(of, g)
			}
		}
		l.MemberOf = of
	}
}

// brief is a change in a few words, for comparing plans in tests.
func brief(c Change) string {
	s := string(c.Action) + " " + c.Account
	switch c.Action {
	case CreateOU:
		s = string(c.Action) + " " + c.DN
	case CreateGroup, RenameGroup:
		s = string(c.Action) + " " + c.GroupName
	case AddMember, RemoveMember:
		s += " " + c.GroupName
	case Move, Rename:
		s += " -> " + c.NewDN
	case Update:
		s += " " + strings.Join(attrNames(c.Attributes), ",")
	}
	if c.Drift {
		s += " (drift)"
	}
	return s
}

func briefs(p *Plan) []string {
	out := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		out[i] = brief(c)
	}
	return out
}
