package plan

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

func addPerson(r *model.Repository, name, id, dept, start string, edit func(*model.PersonSpec)) {
	p := &model.Person{Metadata: model.AccountMetadata{Name: name, ID: id}, Spec: model.PersonSpec{
		GivenName: strings.ToUpper(name[:1]) + name[1:], Surname: "New", Email: name + "@example.test", Type: model.TypeEmployee,
		Department: dept, Title: "Engineer", Manager: "asmith", StartDate: model.MustDate(start),
	}}
	if edit != nil {
		edit(&p.Spec)
	}
	r.People[name] = p
}

func person(r *model.Repository, name string) *model.PersonSpec { return &r.People[name].Spec }

// Groups the directory holds beside those roles name.
var (
	other        = directory.Group{DN: "CN=Printers,OU=Shared," + base, Name: "Printers", GUID: "g-printers"}
	domainAdmins = directory.Group{DN: "CN=Domain Admins,CN=Users," + base, Name: "Domain Admins", GUID: "g-da", SID: "S-1-5-21-1-2-3-512", AdminCount: true, Critical: true}
	backupOps    = directory.Group{DN: "CN=Backup Operators,CN=Builtin," + base, Name: "Backup Operators", GUID: "g-bo", SID: "S-1-5-32-551", Critical: true}
	nested       = directory.Group{DN: "CN=Tier0,OU=Shared," + base, Name: "Tier0", GUID: "g-t0", SID: "S-1-5-21-1-2-3-2001", MemberOf: []string{domainAdmins.DN}}
	flagged      = directory.Group{DN: "CN=Helpdesk Admins,OU=Shared," + base, Name: "Helpdesk Admins", GUID: "g-hd", SID: "S-1-5-21-1-2-3-2002", AdminCount: true}
)

// member makes an account a member of a group, adding the group to the
// snapshot when it is not there.
func member(t *testing.T, s *directory.Snapshot, name string, g directory.Group) {
	t.Helper()
	if !slices.ContainsFunc(s.Groups, func(x directory.Group) bool { return directory.SameDN(x.DN, g.DN) }) {
		s.Groups = append(s.Groups, g)
		// A nested group is read with the group it is nested in.
		for _, parent := range g.MemberOf {
			if parent == domainAdmins.DN && !slices.ContainsFunc(s.Groups, func(x directory.Group) bool { return x.DN == parent }) {
				s.Groups = append(s.Groups, domainAdmins)
			}
		}
	}
	l := live(t, s, name)
	l.MemberOf = append(l.MemberOf, g.DN)
}

// TestDiff runs the life of an account through Diff. Each case is the
// files at the last apply (before, at beforeNow), the directory as that
// apply left it (then changed by hand by live), and the files now (after,
// at now). The previous desired state is given, so drift is known.
func TestDiff(t *testing.T) {
	unmarked := func(name string) func(*testing.T, *directory.Snapshot) {
		return func(_ *testing.T, s *directory.Snapshot) {
			s.Accounts = append(s.Accounts, directory.Account{DN: "CN=" + name + ",OU=People,OU=ALM," + base, Name: name,
				UAC: directory.UACNormalAccount, Attributes: map[string]string{}})
		}
	}
	tests := []struct {
		name      string
		before    func(r *model.Repository)
		beforeNow string
		live      func(t *testing.T, s *directory.Snapshot)
		after     func(r *model.Repository)
		now       string
		want      []string
		warnings  []string // phrases the plan's warnings must contain
		findings  []string // "kind: phrase", one per finding the plan must have, in order
		check     func(t *testing.T, p *Plan)
	}{
		{name: "in sync: no changes", want: []string{}},
		{
			name: "joiner provisioned ahead: created disabled, no groups",
			after: func(r *model.Repository) {
				addPerson(r, "njoin", "005000", "Engineering", "2026-03-05", nil)
			},
			want: []string{"create njoin", "update njoin manager"},
			check: func(t *testing.T, p *Plan) {
				c := p.Changes[0]
				if a, _ := c.Attribute(directory.AttrUserAccountControl); a.New != "514" {
					t.Errorf("created with userAccountControl %s, want 514 (disabled)", a.New)
				}
				if c.Marker != "alm:005000" || c.DN != "CN=njoin,OU=People,OU=ALM,"+base {
					t.Errorf("create marker %q dn %q", c.Marker, c.DN)
				}
				if _, ok := c.Attribute(directory.AttrManager); ok {
					t.Error("manager is set by a later update, not by the create")
				}
				if u := p.Changes[1]; !slices.Equal(u.DependsOn, []string{"create:005000"}) || u.Attributes[0].New != "CN=asmith,OU=People,OU=ALM,"+base {
					t.Errorf("manager update %+v", u)
				}
				if c.Reason.Field != "spec.startDate" || c.Reason.Rule != "lifecycle: pending" {
					t.Errorf("create's reason %+v", c.Reason)
				}
			},
		},
		{
			name:      "joiner's first day: groups, then enabled",
			before:    func(r *model.Repository) { addPerson(r, "njoin", "005000", "Engineering", "2026-03-05", nil) },
			beforeNow: "2026-03-01",
			after:     func(r *model.Repository) { addPerson(r, "njoin", "005000", "Engineering", "2026-03-05", nil) },
			now:       "2026-03-05",
			want:      []string{"add-member njoin Engineering", "add-member njoin Source Code Readers", "enable njoin"},
		},
		{
			name:  "mover to Sales: birthright groups swapped in one run",
			after: func(r *model.Repository) { person(r, "jdoe").Department = "Sales" },
			want: []string{"remove-member jdoe Engineering", "remove-member jdoe Source Code Readers",
				"update jdoe department", "add-member jdoe Sales"},
			check: func(t *testing.T, p *Plan) {
				r := p.Changes[0].Reason
				if r.File != "people/jdoe.yaml" || !strings.Contains(r.Text, "no role of people/jdoe.yaml grants Engineering") {
					t.Errorf("removal's reason %+v", r)
				}
				if a := p.Changes[3].Reason; a.Rule != "birthright" || a.File != "roles/sales.yaml" {
					t.Errorf("addition's reason %+v", a)
				}
			},
		},
		{
			name: "mover to contractor: moved to the contractors' OU",
			after: func(r *model.Repository) {
				person(r, "jdoe").Type = model.TypeContractor
				person(r, "jdoe").EndDate = model.MustDate("2027-01-01")
			},
			want: []string{"update jdoe accountExpires", "move jdoe -> CN=jdoe,OU=Contractors,OU=ALM," + base},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[1].Reason; r.Field != "spec.type" || !strings.Contains(r.Text, "template contractor places its accounts in OU=Contractors,OU=ALM") {
					t.Errorf("move's reason %+v", r)
				}
			},
		},
		{
			name: "a move into a missing OU creates it first",
			live: func(_ *testing.T, s *directory.Snapshot) {
				s.OUs = slices.DeleteFunc(s.OUs, func(ou string) bool { return strings.HasPrefix(ou, "OU=Contractors") })
			},
			after: func(r *model.Repository) {
				person(r, "jdoe").Type = model.TypeContractor
				person(r, "jdoe").EndDate = model.MustDate("2027-01-01")
			},
			want: []string{"create-ou OU=Contractors,OU=ALM," + base, "update jdoe accountExpires", "move jdoe -> CN=jdoe,OU=Contractors,OU=ALM," + base},
			check: func(t *testing.T, p *Plan) {
				if d := p.Changes[2].DependsOn; !slices.Equal(d, []string{"create-ou:OU=Contractors,OU=ALM," + base}) {
					t.Errorf("the move depends on %q", d)
				}
			},
		},
		{
			name: "rename: one modrdn, same marker",
			before: func(r *model.Repository) {
				p := r.People["jdoe"]
				delete(r.People, "jdoe")
				p.Metadata.Name, p.Spec.Email = "jsmith", "jsmith@example.test"
				r.People["jsmith"] = p
				r.ServiceAccounts["svc-backup"].Spec.Owner = "jsmith"
			},
			after: func(r *model.Repository) { person(r, "jdoe").PreviousNames = []string{"jsmith"} },
			want:  []string{"rename jdoe -> CN=jdoe,OU=People,OU=ALM," + base},
			check: func(t *testing.T, p *Plan) {
				c := p.Changes[0]
				want := []AttrChange{
					{Name: "sAMAccountName", Old: "jsmith", New: "jdoe", Field: "metadata.name"},
					{Name: "userPrincipalName", Old: "jsmith@example.test", New: "jdoe@example.test", Field: "metadata.name"},
					{Name: "mail", Old: "jsmith@example.test", New: "jdoe@example.test", Field: "spec.email"},
				}
				if !slices.Equal(c.Attributes, want) {
					t.Errorf("rename attributes\n%+v\nwant\n%+v", c.Attributes, want)
				}
				if c.Marker != "alm:004217" || c.DN != "CN=jsmith,OU=People,OU=ALM,"+base || c.Reason.Text != "renamed from jsmith (spec.previousNames) to jdoe" {
					t.Errorf("rename %+v", c)
				}
			},
		},
		{
			name:  "leaver: disabled and moved, groups kept in the grace period",
			after: func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2026-02-27") },
			want:  []string{"disable jdoe", "update jdoe accountExpires", "move jdoe -> CN=jdoe,OU=Leavers,OU=ALM," + base},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[0].Reason; r.Field != "spec.endDate" || r.Rule != "lifecycle: leaver" || r.Date != at("2026-02-27") {
					t.Errorf("disable's reason %+v", r)
				}
			},
		},
		{
			name:      "leaver after the grace period: groups removed",
			before:    func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2026-02-01") },
			beforeNow: "2026-02-05",
			after:     func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2026-02-01") },
			want:      []string{"remove-member jdoe Engineering", "remove-member jdoe Source Code Readers", "remove-member jdoe VPN Users"},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[0].Reason; !strings.Contains(r.Text, "14d group grace period of template employee ended 2026-02-15") || r.Date != at("2026-02-15") {
					t.Errorf("removal's reason %+v", r)
				}
			},
		},
		{
			name:      "archived: deleted, and the owner link cleared",
			before:    func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2025-11-01") },
			beforeNow: "2026-01-15",
			after:     func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2025-11-01") },
			want:      []string{"delete jdoe", "update svc-backup manager"},
		},
		{
			name: "resume: the inactive window is removed",
			before: func(r *model.Repository) {
				person(r, "jdoe").Inactive = &model.Inactive{Type: model.InactiveSuspended, From: model.MustDate("2026-02-01")}
			},
			beforeNow: "2026-02-15",
			want:      []string{"enable jdoe"},
		},
		{
			name:   "drift: re-enabled by hand",
			before: func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2026-02-20") },
			live:   func(t *testing.T, s *directory.Snapshot) { live(t, s, "jdoe").UAC = directory.UACNormalAccount },
			after:  func(r *model.Repository) { person(r, "jdoe").EndDate = model.MustDate("2026-02-20") },
			want:   []string{"disable jdoe (drift)"},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[0].Reason; r.Rule != "drift" || r.Text != "drift: enabled, though the files asked for it disabled at the last apply (changed by hand, or that apply failed); endDate 2026-02-20 has passed" {
					t.Errorf("reason %+v", r)
				}
			},
		},
		{
			name: "drift: attribute edited",
			live: func(t *testing.T, s *directory.Snapshot) { live(t, s, "jdoe").Attributes[directory.AttrTitle] = "CTO" },
			want: []string{"update jdoe title (drift)"},
			check: func(t *testing.T, p *Plan) {
				if a := p.Changes[0].Attributes[0]; a.Old != "CTO" || a.New != "Engineer" || !a.Drift || a.Field != "spec.title" {
					t.Errorf("attribute change %+v", a)
				}
			},
		},
		{
			name: "drift: added to a managed group by hand",
			live: func(t *testing.T, s *directory.Snapshot) { join(t, s, "jdoe", "Sales") },
			want: []string{"remove-member jdoe Sales (drift)"},
		},
		{
			name: "drift: removed from a group by hand",
			live: func(t *testing.T, s *directory.Snapshot) { leave(t, s, "jdoe", "VPN Users") },
			want: []string{"add-member jdoe VPN Users (drift)"},
		},
		{
			name: "drift: deleted by hand",
			live: func(_ *testing.T, s *directory.Snapshot) { without(s, "bking") },
			want: []string{"create bking (drift)", "update bking manager (drift)", "add-member bking Sales (drift)", "enable bking (drift)"},
			check: func(t *testing.T, p *Plan) {
				for _, c := range p.Changes {
					if c.Reason.Rule != "drift" || !strings.HasPrefix(c.Reason.Text, "drift: missing") {
						t.Errorf("%s %s: reason %q does not say it reverts drift", c.Action, c.Account, c.Reason.Text)
					}
				}
			},
		},
		{
			name:  "a change in the files is not drift",
			after: func(r *model.Repository) { person(r, "jdoe").Title = "Staff engineer" },
			live: func(t *testing.T, s *directory.Snapshot) {
				live(t, s, "bking").Attributes[directory.AttrTitle] = "Boss"
			},
			want: []string{"update bking title (drift)", "update jdoe title"},
		},
		{
			name:     "a group no role names is left alone and reported as a finding",
			live:     func(t *testing.T, s *directory.Snapshot) { member(t, s, "jdoe", other) },
			want:     []string{},
			findings: []string{"unmanaged-membership: jdoe is a member of " + other.DN + ", which no role names: left as it is"},
		},
		{
			name:  "a group no role names is removed where alm.yaml says so",
			live:  func(t *testing.T, s *directory.Snapshot) { member(t, s, "jdoe", other) },
			after: func(r *model.Repository) { r.Directory.Spec.UnmanagedMemberships = model.MembershipsRemove },
			want:  []string{"remove-member jdoe Printers (drift)"},
			check: func(t *testing.T, p *Plan) {
				if c := p.Changes[0]; c.Group != other.DN || c.GroupGUID != other.GUID || c.Reason.Field != "spec.unmanagedMemberships" || c.Privileged != "" {
					t.Errorf("removal %+v", c)
				}
			},
		},
		{
			name: "a group in the groups OU that no role names is removed",
			live: func(t *testing.T, s *directory.Snapshot) {
				member(t, s, "jdoe", directory.Group{DN: "CN=Stale,OU=Groups,OU=ALM," + base, Name: "Stale", GUID: "g-stale"})
			},
			want: []string{"remove-member jdoe Stale (drift)"},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[0].Reason; r.Field != "spec.groupsOU" || !strings.Contains(r.Text, "in the groups OU alm manages") {
					t.Errorf("reason %+v", r)
				}
			},
		},
		{
			name: "privileged groups no role grants are removed first, whatever alm.yaml says, even without the last apply known",
			live: func(t *testing.T, s *directory.Snapshot) {
				member(t, s, "jdoe", domainAdmins)
				member(t, s, "bking", backupOps)
				member(t, s, "cwu", nested)
				member(t, s, "asmith", flagged)
			},
			after: func(r *model.Repository) { person(r, "jdoe").Department = "Sales" },
			want: []string{"remove-member asmith Helpdesk Admins (drift)", "remove-member bking Backup Operators (drift)", "remove-member cwu Tier0 (drift)",
				"remove-member jdoe Domain Admins (drift)", "remove-member jdoe Engineering", "remove-member jdoe Source Code Readers",
				"update jdoe department", "add-member jdoe Sales"},
			check: func(t *testing.T, p *Plan) {
				for _, c := range p.Changes[:4] {
					if c.Privileged == "" || c.Reason.Rule != "privileged" || !strings.Contains(c.Reason.Text, "always removed") {
						t.Errorf("%s: privileged %q reason %+v", c.ID, c.Privileged, c.Reason)
					}
				}
				for i, want := range []string{"adminCount=1", "BUILTIN\\Backup Operators", "nested in " + domainAdmins.DN, "RID 512"} {
					if !strings.Contains(p.Changes[i].Privileged, want) {
						t.Errorf("%s: privileged because %q, want %q", p.Changes[i].ID, p.Changes[i].Privileged, want)
					}
				}
			},
		},
		{
			name: "a privileged group a role grants is kept, and adminCount is expected",
			live: func(t *testing.T, s *directory.Snapshot) {
				s.Groups = append(s.Groups, domainAdmins)
				member(t, s, "jdoe", domainAdmins)
				live(t, s, "jdoe").AdminCount = true
			},
			after: func(r *model.Repository) {
				r.Roles["tier0"] = &model.Role{Metadata: model.Metadata{Name: "tier0"}, Spec: model.RoleSpec{Groups: []string{domainAdmins.DN}, Privileged: true}}
				person(r, "jdoe").Roles = append(person(r, "jdoe").Roles, "tier0")
			},
			want: []string{},
		},
		{
			name: "a role not marked privileged that names a privileged group grants nothing in it",
			live: func(t *testing.T, s *directory.Snapshot) {
				s.Groups = append(s.Groups, domainAdmins)
				member(t, s, "bking", domainAdmins)
			},
			after: func(r *model.Repository) {
				r.Roles["helpdesk"] = &model.Role{Metadata: model.Metadata{Name: "helpdesk"}, Spec: model.RoleSpec{Groups: []string{domainAdmins.DN}}}
				person(r, "jdoe").Roles = append(person(r, "jdoe").Roles, "helpdesk")
				person(r, "bking").Roles = append(person(r, "bking").Roles, "helpdesk")
			},
			want:     []string{"remove-member bking " + domainAdmins.DN + " (drift)"},
			findings: []string{"unprivileged-grant: " + domainAdmins.DN + " is one of AD's privileged groups (Domain Admins, RID 512), and role helpdesk names it without being marked privileged"},
			check: func(t *testing.T, p *Plan) {
				if c := p.Changes[0]; c.Privileged == "" || !strings.Contains(c.Reason.Text, "no role marked privileged: true grants it") {
					t.Errorf("removal %+v", c)
				}
			},
		},
		{
			name: "a privileged role naming a privileged group by its name, outside the groups OU: members kept, a finding",
			live: func(t *testing.T, s *directory.Snapshot) {
				s.Groups = append(s.Groups, domainAdmins)
				member(t, s, "jdoe", domainAdmins)
				live(t, s, "jdoe").AdminCount = true
			},
			after: func(r *model.Repository) {
				r.Roles["tier0"] = &model.Role{Metadata: model.Metadata{Name: "tier0"}, Spec: model.RoleSpec{Groups: []string{"Domain Admins"}, Privileged: true}}
				person(r, "jdoe").Roles = append(person(r, "jdoe").Roles, "tier0")
			},
			want:     []string{},
			findings: []string{`missing-group: group "Domain Admins" (role tier0 names it) does not exist below OU=Groups,OU=ALM,` + base},
			check: func(t *testing.T, p *Plan) {
				if f := p.Findings[0].Fix; !strings.Contains(f, "name it by its DN") {
					t.Errorf("fix %q", f)
				}
			},
		},
		{
			name: "an orphan in a privileged group is never disabled, adminCount or not",
			live: func(t *testing.T, s *directory.Snapshot) {
				unmarked("tier0op")(t, s)
				member(t, s, "tier0op", nested)
			},
			after: func(r *model.Repository) { r.Directory.Spec.Orphans = model.OrphansDisable },
			want:  []string{},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 1 || p.Orphans[0].Action != "report" || !strings.Contains(p.Orphans[0].Reason, "privileged: a member of "+nested.DN) {
					t.Errorf("orphans %+v", p.Orphans)
				}
			},
		},
		{
			name: "a privileged primary group is a finding; an orphan with one is never disabled",
			live: func(t *testing.T, s *directory.Snapshot) {
				s.Groups = append(s.Groups, domainAdmins)
				l := live(t, s, "jdoe")
				l.SID, l.PrimaryGroupID = "S-1-5-21-1-2-3-1400", 512
				unmarked("pgorphan")(t, s)
				o := live(t, s, "pgorphan")
				o.SID, o.PrimaryGroupID = "S-1-5-21-1-2-3-1401", 512
				b := live(t, s, "bking")
				b.SID, b.PrimaryGroupID = "S-1-5-21-1-2-3-1402", 1999
			},
			after: func(r *model.Repository) { r.Directory.Spec.Orphans = model.OrphansDisable },
			want:  []string{},
			findings: []string{
				"privileged-primary-group: CN=jdoe,OU=People,OU=ALM," + base + " is privileged through its primary group",
				"unmanaged-membership: bking's primary group is S-1-5-21-1-2-3-1999 (primaryGroupID 1999), not Domain Users",
			},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 1 || p.Orphans[0].Action != "report" || !strings.Contains(p.Orphans[0].Reason, "primary group (primaryGroupID 512) is "+domainAdmins.DN) {
					t.Errorf("orphans %+v", p.Orphans)
				}
			},
		},
		{
			name: "adminCount left behind is a finding with the fix",
			live: func(t *testing.T, s *directory.Snapshot) {
				member(t, s, "jdoe", domainAdmins)
				live(t, s, "jdoe").AdminCount = true
			},
			want:     []string{"remove-member jdoe Domain Admins (drift)"},
			findings: []string{"admin-count: CN=jdoe,OU=People,OU=ALM," + base + " has adminCount=1"},
			check: func(t *testing.T, p *Plan) {
				if f := p.Findings[0].Fix; !strings.Contains(f, "Clear adminCount") || !strings.Contains(f, "inheritance") {
					t.Errorf("fix %q", f)
				}
			},
		},
		{
			name: "orphan: reported",
			live: unmarked("tmpuser"),
			want: []string{},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 1 || p.Orphans[0].Name != "tmpuser" || p.Orphans[0].Action != "report" || !p.Orphans[0].Enabled {
					t.Errorf("orphans %+v", p.Orphans)
				}
			},
		},
		{
			name:  "orphan: disabled where alm.yaml says so",
			live:  unmarked("tmpuser"),
			after: func(r *model.Repository) { r.Directory.Spec.Orphans = model.OrphansDisable },
			want:  []string{"disable-orphan tmpuser"},
			check: func(t *testing.T, p *Plan) {
				c := p.Changes[0]
				if a, _ := c.Attribute(directory.AttrUserAccountControl); a.New != "514" || c.Reason.File != "alm.yaml" || c.Reason.Field != "spec.orphans" {
					t.Errorf("disable-orphan %+v", c)
				}
			},
		},
		{
			name: "a joiner's name held by an unmanaged account: not created, not disabled",
			live: unmarked("njoin"),
			after: func(r *model.Repository) {
				addPerson(r, "njoin", "005000", "Engineering", "2026-01-05", nil)
				r.Directory.Spec.Orphans = model.OrphansDisable
			},
			want:     []string{},
			findings: []string{"name-taken: njoin is not created: its name is held by an account alm does not own"},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 1 || p.Orphans[0].Action != "report" || !strings.Contains(p.Orphans[0].Reason, "people/njoin.yaml wants its name") {
					t.Errorf("orphans %+v", p.Orphans)
				}
				if f := p.Findings[0].Fix; !strings.Contains(f, `adopt: true under metadata in people/njoin.yaml: the next apply then writes "alm:005000" into its adminDescription`) {
					t.Errorf("fix %q does not name the marker's attribute and value", f)
				}
			},
		},
		{
			name:     "a file naming a protected account changes nothing",
			after:    func(r *model.Repository) { addPerson(r, "breakglass", "000001", "IT", "2020-01-06", nil) },
			want:     []string{},
			warnings: []string{"breakglass is a protected account"},
		},
		{
			name: "a protected account carrying a marker is never touched",
			live: func(t *testing.T, s *directory.Snapshot) {
				l := live(t, s, "bking")
				l.Name, l.DN, l.UAC = "Administrator", "CN=Administrator,OU=People,OU=ALM,"+base, directory.UACNormalAccount|directory.UACAccountDisable
			},
			want:     []string{},
			findings: []string{"protected-marked: CN=Administrator,OU=People,OU=ALM," + base + " carries alm's marker for people/bking.yaml but is on alm's protected list"},
		},
		{
			name: "a built-in account renamed and carrying a marker is never touched: protected by identity",
			live: func(t *testing.T, s *directory.Snapshot) {
				l := live(t, s, "bking")
				l.SID, l.Critical = "S-1-5-21-1-2-3-500", true
				l.Attributes[directory.AttrTitle] = "changed"
			},
			want:     []string{},
			findings: []string{"protected-marked: CN=bking,OU=People,OU=ALM," + base + " carries alm's marker for people/bking.yaml but is a built-in account of the domain (RID 500)"},
		},
		{
			name: "a group named by name that does not exist: created with the marker, then the member added",
			after: func(r *model.Repository) {
				r.Roles["vpn-users"].Spec.Groups = append(r.Roles["vpn-users"].Spec.Groups, "Wifi")
			},
			want: []string{"create-group Wifi", "add-member jdoe Wifi"},
			check: func(t *testing.T, p *Plan) {
				c, m := p.Changes[0], p.Changes[1]
				if c.DN != "CN=Wifi,OU=Groups,OU=ALM,"+base || c.Marker != "alm:group:wifi" {
					t.Errorf("create-group %s marker %q", c.DN, c.Marker)
				}
				if m.Group != c.DN || !slices.Contains(m.DependsOn, c.ID) {
					t.Errorf("add-member to %s depends on %v, want %s after %s", m.Group, m.DependsOn, c.DN, c.ID)
				}
			},
		},
		{
			name: "a group whose name an account holds is not created: a finding",
			after: func(r *model.Repository) {
				r.Roles["vpn-users"].Spec.Groups = append(r.Roles["vpn-users"].Spec.Groups, "asmith")
			},
			want:     []string{},
			findings: []string{`missing-group: group "asmith" (role vpn-users names it) does not exist below OU=Groups,OU=ALM,` + base + ": 1 account should be members (jdoe)"},
		},
		{
			name: "a group named by DN that does not exist, and a privileged group named by its name elsewhere",
			after: func(r *model.Repository) {
				r.Roles["vpn-users"].Spec.Groups = append(r.Roles["vpn-users"].Spec.Groups, "CN=Wifi,CN=Users,"+base, "Domain Admins")
			},
			live: func(t *testing.T, s *directory.Snapshot) { s.Groups = append(s.Groups, domainAdmins) },
			want: []string{},
			findings: []string{
				`missing-group: group "CN=Wifi,CN=Users,` + base + `" (role vpn-users names it) does not exist at that DN`,
				`missing-group: group "Domain Admins" (role vpn-users names it) does not exist below OU=Groups,OU=ALM,` + base,
			},
			check: func(t *testing.T, p *Plan) {
				if f := p.Findings[1].Fix; !strings.Contains(f, "name it by its DN") {
					t.Errorf("fix %q should suggest the privileged group's DN", f)
				}
			},
		},
		{
			name: "a marker no file claims is reported, not deleted",
			live: func(_ *testing.T, s *directory.Snapshot) {
				s.Accounts = append(s.Accounts, directory.Account{DN: "CN=gone,OU=People,OU=ALM," + base, Name: "gone", Marker: "alm:999999", UAC: 512})
			},
			want:     []string{},
			findings: []string{"stray-marker: CN=gone,OU=People,OU=ALM," + base + " carries alm's marker for id 999999, but no file has that id"},
		},
		{
			name: "a half-made account gets its password before it is enabled",
			live: func(t *testing.T, s *directory.Snapshot) {
				l := live(t, s, "bking")
				l.NoPassword, l.UAC = true, directory.UACNormalAccount|directory.UACAccountDisable
			},
			want:     []string{"set-password bking (drift)", "enable bking (drift)"},
			findings: []string{"half-made: CN=bking,OU=People,OU=ALM," + base + " was made by alm but never got a password"},
			check: func(t *testing.T, p *Plan) {
				if p.Findings[0].RepairedBy != "set-password:004300" || !slices.Equal(p.Changes[1].DependsOn, []string{"set-password:004300"}) {
					t.Errorf("finding %+v; enable depends on %q", p.Findings[0], p.Changes[1].DependsOn)
				}
			},
		},
		{
			name: "orphans protected by identity are reported, never disabled",
			live: func(t *testing.T, s *directory.Snapshot) {
				unmarked("renamedadmin")(t, s)
				unmarked("tier0admin")(t, s)
				live(t, s, "renamedadmin").SID = "S-1-5-21-1-2-3-500"
				live(t, s, "tier0admin").AdminCount = true
			},
			after: func(r *model.Repository) { r.Directory.Spec.Orphans = model.OrphansDisable },
			want:  []string{},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 2 || p.Orphans[0].Action != "report" || p.Orphans[1].Action != "report" ||
					!strings.Contains(p.Orphans[0].Reason, "built-in account of the domain (RID 500): alm never disables") ||
					!strings.Contains(p.Orphans[1].Reason, "privileged (adminCount=1): alm never disables") {
					t.Errorf("orphans %+v", p.Orphans)
				}
			},
		},
		{
			name: "dangerous flags set by hand are drift, reverted",
			live: func(t *testing.T, s *directory.Snapshot) {
				live(t, s, "jdoe").UAC |= directory.UACDontRequirePreauth | directory.UACTrustedForDelegation
			},
			want: []string{"update jdoe userAccountControl (drift)"},
			check: func(t *testing.T, p *Plan) {
				c := p.Changes[0]
				if a := c.Attributes[0]; a.New != "512" || !strings.Contains(c.Reason.Text, "DONT_REQ_PREAUTH, TRUSTED_FOR_DELEGATION") || !strings.Contains(c.Reason.Text, "AS-REP") {
					t.Errorf("change %+v", c)
				}
			},
		},
		{
			name: "a protective flag set by hand is left alone: removing it would weaken the account",
			live: func(t *testing.T, s *directory.Snapshot) {
				live(t, s, "jdoe").UAC |= directory.UACNotDelegated | directory.UACSmartcardRequired
			},
			want: []string{},
		},
		{
			name: "a move onto a DN another account holds is not planned",
			live: unmarked("jdoe2"),
			after: func(r *model.Repository) {
				person(r, "jdoe").Type = model.TypeContractor
				person(r, "jdoe").EndDate = model.MustDate("2027-01-01")
			},
			want: []string{"update jdoe accountExpires", "move jdoe -> CN=jdoe,OU=Contractors,OU=ALM," + base},
			check: func(t *testing.T, p *Plan) {
				// (jdoe2 sits elsewhere: the move goes ahead)
			},
		},
		{
			name: "account flags changed by the template",
			after: func(r *model.Repository) {
				r.Templates["service-account"].Spec.AccountFlags = append(r.Templates["service-account"].Spec.AccountFlags, "SMARTCARD_REQUIRED")
			},
			live: func(t *testing.T, s *directory.Snapshot) { live(t, s, "svc-backup").UAC |= 0x800000 }, // PASSWORD_EXPIRED: a bit alm does not manage
			want: []string{"update svc-backup userAccountControl"},
			check: func(t *testing.T, p *Plan) {
				a := p.Changes[0].Attributes[0]
				// The unmanaged bit is kept; normal account, the two old flags and SMARTCARD_REQUIRED.
				if a.New != strconv.Itoa(0x800000|0x200|0x10000|0x100000|0x40000) {
					t.Errorf("userAccountControl %s -> %s", a.Old, a.New)
				}
			},
		},
		{
			name: "a joiner whose manager cannot be created gets no manager, rather than a write that fails",
			live: unmarked("mnew"),
			after: func(r *model.Repository) {
				addPerson(r, "mnew", "005001", "Sales", "2026-01-05", nil)
				addPerson(r, "njoin", "005000", "Sales", "2026-01-05", func(s *model.PersonSpec) { s.Manager = "mnew" })
			},
			want:     []string{"create njoin", "add-member njoin Sales", "enable njoin"},
			findings: []string{"name-taken: mnew is not created"},
		},
		{
			name: "a joiner whose manager joins too",
			after: func(r *model.Repository) {
				addPerson(r, "mnew", "005001", "Sales", "2026-01-05", nil)
				addPerson(r, "njoin", "005000", "Sales", "2026-01-05", func(s *model.PersonSpec) { s.Manager = "mnew" })
			},
			want: []string{"create mnew", "create njoin", "update mnew manager", "update njoin manager",
				"add-member mnew Sales", "add-member njoin Sales", "enable mnew", "enable njoin"},
			check: func(t *testing.T, p *Plan) {
				u := p.Changes[3]
				if !slices.Equal(u.DependsOn, []string{"create:005000", "create:005001"}) || u.Attributes[0].New != "CN=mnew,OU=People,OU=ALM,"+base {
					t.Errorf("njoin's manager update %+v", u)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := repository()
			if tc.before != nil {
				tc.before(before)
			}
			if tc.now == "" {
				tc.now = "2026-03-01"
			}
			if tc.beforeNow == "" {
				tc.beforeNow = tc.now
			}
			prev := compute(t, before, tc.beforeNow)
			snap := inSync(prev)
			if tc.live != nil {
				tc.live(t, snap)
			}
			after := repository()
			if tc.after != nil {
				tc.after(after)
			}
			d := compute(t, after, tc.now)
			p := Diff(d, snap, Options{Previous: prev})
			if got := briefs(p); !slices.Equal(got, tc.want) {
				t.Errorf("changes\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			var warnings []string
			for _, w := range p.Warnings {
				warnings = append(warnings, w.String())
			}
			for _, w := range tc.warnings {
				if !strings.Contains(strings.Join(warnings, "\n"), w) {
					t.Errorf("warnings\n  %s\nshould say %q", strings.Join(warnings, "\n  "), w)
				}
			}
			var findings []string
			for _, f := range p.Findings {
				findings = append(findings, f.Kind+": "+f.Text)
			}
			if len(findings) != len(tc.findings) {
				t.Errorf("findings\n  %s\nwant %d: %q", strings.Join(findings, "\n  "), len(tc.findings), tc.findings)
			}
			for i, f := range tc.findings {
				if i < len(findings) && !strings.HasPrefix(findings[i], f) {
					t.Errorf("finding %d\n  %s\nshould start %q", i, findings[i], f)
				}
			}
			if (len(p.Changes) == 0 && len(p.Findings) == 0) != p.Matches() {
				t.Errorf("Matches() = %v with %d changes and %d findings", p.Matches(), len(p.Changes), len(p.Findings))
			}
			if t.Failed() {
				return
			}
			if tc.check != nil {
				tc.check(t, p)
			}
			seen := map[string]bool{}
			for _, c := range p.Changes {
				if seen[c.ID] {
					t.Errorf("two changes have the id %s", c.ID)
				}
				seen[c.ID] = true
			}
		})
	}
}

// Without the previous state nothing is drift, and the plan says so.
func TestDiffWithoutPrevious(t *testing.T) {
	d := compute(t, repository(), "2026-03-01")
	s := inSync(d)
	live(t, s, "jdoe").Attributes[directory.AttrTitle] = "CTO"
	p := Diff(d, s, Options{})
	if p.DriftKnown || len(p.Changes) != 1 || p.Changes[0].Drift {
		t.Errorf("plan %+v", p)
	}
	if p.Revision != "c0ffee" || p.DirectoryState != s.Digest() || p.Managed != 5 || p.FormatVersion != FormatVersion || !p.Now.Equal(at("2026-03-01")) {
		t.Errorf("plan header %+v", p)
	}
}

// The plan is a function of its inputs: the same inputs give the same plan,
// whatever order the directory listed things in.
func TestDiffStable(t *testing.T) {
	d := compute(t, repository(), "2026-03-01")
	r := repository()
	person(r, "jdoe").Department = "Sales"
	person(r, "bking").EndDate = model.MustDate("2026-02-01")
	d2 := compute(t, r, "2026-03-01")
	s := inSync(d)
	first := briefs(Diff(d2, s, Options{}))
	slices.Reverse(s.Accounts)
	slices.Reverse(s.Groups)
	if again := briefs(Diff(d2, s, Options{})); !slices.Equal(first, again) {
		t.Errorf("plans differ:\n%q\n%q", first, again)
	}
	if len(first) == 0 {
		t.Fatal("the plan should not be empty")
	}
}

// desired.Warning values pass into the plan.
func TestDiffKeepsDesiredWarnings(t *testing.T) {
	r := repository()
	person(r, "jdoe").Roles = []string{"nope"}
	d := compute(t, r, "2026-03-01")
	p := Diff(d, inSync(d), Options{})
	if !slices.ContainsFunc(p.Warnings, func(w desired.Warning) bool { return strings.Contains(w.Text, `role "nope" does not exist`) }) {
		t.Errorf("warnings %v", p.Warnings)
	}
}
