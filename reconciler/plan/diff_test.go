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
	p := &model.Person{Metadata: model.Metadata{Name: name, ID: id}, Spec: model.PersonSpec{
		GivenName: strings.ToUpper(name[:1]) + name[1:], Surname: "New", Email: name + "@example.test", Type: model.TypeEmployee,
		Department: dept, Title: "Engineer", Manager: "asmith", StartDate: model.MustDate(start),
	}}
	if edit != nil {
		edit(&p.Spec)
	}
	r.People[name] = p
}

func person(r *model.Repository, name string) *model.PersonSpec { return &r.People[name].Spec }

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
			want: []string{"update jdoe department", "add-member jdoe Sales",
				"remove-member jdoe Engineering", "remove-member jdoe Source Code Readers"},
			check: func(t *testing.T, p *Plan) {
				r := p.Changes[2].Reason
				if r.File != "people/jdoe.yaml" || !strings.Contains(r.Text, "no role of people/jdoe.yaml grants Engineering") {
					t.Errorf("removal's reason %+v", r)
				}
				if a := p.Changes[1].Reason; a.Rule != "birthright" || a.File != "roles/sales.yaml" {
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
			want:  []string{"update jdoe accountExpires", "move jdoe -> CN=jdoe,OU=Leavers,OU=ALM," + base, "disable jdoe"},
			check: func(t *testing.T, p *Plan) {
				if r := p.Changes[2].Reason; r.Field != "spec.endDate" || r.Rule != "lifecycle: leaver" || r.Date != at("2026-02-27") {
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
			want:      []string{"update svc-backup manager", "delete jdoe"},
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
			name: "a group no role names is left alone and reported",
			live: func(t *testing.T, s *directory.Snapshot) {
				l := live(t, s, "jdoe")
				l.MemberOf = append(l.MemberOf, "CN=Domain Admins,CN=Users,"+base)
			},
			want:     []string{},
			warnings: []string{"jdoe is a member of CN=Domain Admins,CN=Users," + base + ", which no role names"},
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
			warnings: []string{"njoin is not created: its name is held by an account alm does not own"},
			check: func(t *testing.T, p *Plan) {
				if len(p.Orphans) != 1 || p.Orphans[0].Action != "report" || !strings.Contains(p.Orphans[0].Reason, "people/njoin.yaml wants its name") {
					t.Errorf("orphans %+v", p.Orphans)
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
			warnings: []string{"CN=Administrator,OU=People,OU=ALM," + base + " carries the marker for people/bking.yaml but is a protected account"},
		},
		{
			name: "a group that does not exist: the addition is planned, and fails at apply",
			after: func(r *model.Repository) {
				r.Roles["vpn-users"].Spec.Groups = append(r.Roles["vpn-users"].Spec.Groups, "Wifi")
			},
			want:     []string{"add-member jdoe Wifi"},
			warnings: []string{`group "Wifi" (role vpn-users) does not exist under OU=Groups,OU=ALM,` + base},
			check: func(t *testing.T, p *Plan) {
				if g := p.Changes[0].Group; g != "CN=Wifi,OU=Groups,OU=ALM,"+base {
					t.Errorf("group DN %q", g)
				}
			},
		},
		{
			name: "a marker no file claims is reported, not deleted",
			live: func(_ *testing.T, s *directory.Snapshot) {
				s.Accounts = append(s.Accounts, directory.Account{DN: "CN=gone,OU=People,OU=ALM," + base, Name: "gone", Marker: "alm:999999", UAC: 512})
			},
			want:     []string{},
			warnings: []string{"carries alm's marker for id 999999, but no file has that id"},
		},
		{
			name: "account flags changed by the template",
			after: func(r *model.Repository) {
				r.Templates["service-account"].Spec.AccountFlags = append(r.Templates["service-account"].Spec.AccountFlags, "SMARTCARD_REQUIRED")
			},
			live: func(t *testing.T, s *directory.Snapshot) { live(t, s, "svc-backup").UAC |= 0x1000000 }, // a bit alm does not manage
			want: []string{"update svc-backup userAccountControl"},
			check: func(t *testing.T, p *Plan) {
				a := p.Changes[0].Attributes[0]
				// The unmanaged bit is kept; normal account, the two old flags and SMARTCARD_REQUIRED.
				if a.New != strconv.Itoa(0x1000000|0x200|0x10000|0x100000|0x40000) {
					t.Errorf("userAccountControl %s -> %s", a.Old, a.New)
				}
			},
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
