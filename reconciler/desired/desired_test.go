package desired

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

const base = "DC=example,DC=test"

func at(s string) time.Time { return model.MustDate(s).Time }

// fixture is a small access repository built in Go: two person templates,
// two service-account templates, roles with and without birthright, and
// a manager for everyone.
func fixture() *model.Repository {
	r := model.NewRepository()
	r.Revision = "c0ffee"
	r.Directory = &model.Directory{Metadata: model.Metadata{Name: "acme"}, Spec: model.DirectorySpec{
		Domain: "example.test", BaseDN: base, GroupsOU: "OU=Groups,OU=ALM",
		LeaversOU: "OU=Leavers, OU=ALM", RetiredOU: "OU=Retired,OU=ALM", Protected: []string{"breakglass"},
	}}
	r.Templates["employee"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "employee"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeEmployee}, OU: "OU=People,OU=ALM",
		ProvisionAhead: model.MustDuration("7d"),
		Leaver:         &model.Leaver{GroupGrace: model.MustDuration("14d"), Retention: model.MustDuration("90d"), Archive: model.ArchiveDelete},
	}}
	r.Templates["contractor"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "contractor"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeContractor}, OU: "OU=Contractors,OU=ALM",
		Leaver: &model.Leaver{Retention: model.MustDuration("30d"), Archive: model.ArchiveStub},
	}}
	r.Templates["service-account"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "service-account"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount, OU: "OU=Service Accounts,OU=ALM",
		Notices:      []model.Notice{{Before: model.MustDuration("30d"), To: []string{"owner"}}},
		EndOfLife:    &model.EndOfLife{Action: model.ActionDisable, RetireAfter: model.MustDuration("30d"), Retire: model.RetireMove},
		AccountFlags: []string{"DONT_EXPIRE_PASSWORD", "not-delegated"},
	}}
	r.Templates["short-lived"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "short-lived"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount, OU: "OU=Service Accounts,OU=ALM",
		EndOfLife: &model.EndOfLife{Action: model.ActionDelete},
	}}
	r.Templates["reviewed"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "reviewed"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount, OU: "OU=Service Accounts,OU=ALM",
		EndOfLife: &model.EndOfLife{Action: model.ActionReview},
	}}
	role := func(name string, groups []string, b *model.Birthright) {
		r.Roles[name] = &model.Role{Metadata: model.Metadata{Name: name}, Spec: model.RoleSpec{Groups: groups, Birthright: b}}
	}
	role("engineering", []string{"Engineering", "Source Code Readers"}, &model.Birthright{Department: "Engineering"})
	role("sales", []string{"Sales"}, &model.Birthright{Department: "Sales"})
	role("vpn-users", []string{"VPN Users"}, nil)
	role("backup-operators", []string{"Backup Operators"}, nil)
	r.People["asmith"] = &model.Person{Metadata: model.AccountMetadata{Name: "asmith", ID: "001001"}, Spec: model.PersonSpec{
		GivenName: "Alice", Surname: "Smith", Email: "alice.smith@example.test", Type: model.TypeEmployee,
		Department: "Engineering", Title: "Head of engineering", StartDate: model.MustDate("2020-01-06"),
	}}
	return r
}

func jdoe() *model.Person {
	return &model.Person{Metadata: model.AccountMetadata{Name: "jdoe", ID: "004217"}, Spec: model.PersonSpec{
		GivenName: "Jane", Surname: "Doe", Email: "jane.doe@example.test", Type: model.TypeEmployee,
		Department: "Engineering", Title: "Backend engineer", Manager: "asmith",
		StartDate: model.MustDate("2026-01-05"), Roles: []string{"vpn-users"},
	}}
}

func svcBackup() *model.ServiceAccount {
	return &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-backup", ID: "sa-01"}, Spec: model.ServiceAccountSpec{
		Template: "service-account", Description: "Nightly backup", Owner: "jdoe",
		Roles: []string{"backup-operators"}, Expires: model.MustDate("2027-05-31"),
	}}
}

func groupNames(a *Account) []string {
	var names []string
	for _, g := range a.Groups {
		names = append(names, g.Name)
	}
	return names
}

func TestPersonLifecycle(t *testing.T) {
	people := "OU=People,OU=ALM," + base
	tests := []struct {
		name    string
		edit    func(p *model.Person)
		now     string
		status  lifecycle.Status
		exists  bool
		delete  bool
		enabled bool
		dn      string
		groups  []string
		noWhy   string // a phrase the reason for holding no groups must contain
	}{
		{name: "joiner before provisioning", edit: func(p *model.Person) { p.Spec.StartDate = model.MustDate("2026-12-01") }, now: "2026-11-01",
			status: lifecycle.Pending, dn: "CN=jdoe," + people, noWhy: "no groups until then"},
		{name: "joiner provisioned ahead, disabled, no groups", edit: func(p *model.Person) { p.Spec.StartDate = model.MustDate("2026-12-01") }, now: "2026-11-25",
			status: lifecycle.Pending, exists: true, dn: "CN=jdoe," + people, noWhy: "startDate 2026-12-01 is ahead"},
		{name: "joiner active: requested and birthright roles", now: "2026-03-01",
			status: lifecycle.Active, exists: true, enabled: true, dn: "CN=jdoe," + people, groups: []string{"Engineering", "Source Code Readers", "VPN Users"}},
		{name: "mover to Sales swaps birthright groups", edit: func(p *model.Person) { p.Spec.Department = "Sales" }, now: "2026-03-01",
			status: lifecycle.Active, exists: true, enabled: true, dn: "CN=jdoe," + people, groups: []string{"Sales", "VPN Users"}},
		{name: "mover to contractor changes OU", edit: func(p *model.Person) {
			p.Spec.Type = model.TypeContractor
			p.Spec.EndDate = model.MustDate("2027-01-01")
		}, now: "2026-03-01",
			status: lifecycle.Active, exists: true, enabled: true, dn: "CN=jdoe,OU=Contractors,OU=ALM," + base, groups: []string{"Engineering", "Source Code Readers", "VPN Users"}},
		{name: "inactive keeps groups, disabled", edit: func(p *model.Person) {
			p.Spec.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, From: model.MustDate("2026-07-01"), Until: model.MustDate("2026-12-31")}
		}, now: "2026-08-01",
			status: lifecycle.Inactive, exists: true, dn: "CN=jdoe," + people, groups: []string{"Engineering", "Source Code Readers", "VPN Users"}},
		{name: "resume after the window", edit: func(p *model.Person) {
			p.Spec.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, From: model.MustDate("2026-07-01"), Until: model.MustDate("2026-12-31")}
		}, now: "2027-01-04",
			status: lifecycle.Active, exists: true, enabled: true, dn: "CN=jdoe," + people, groups: []string{"Engineering", "Source Code Readers", "VPN Users"}},
		{name: "leaver in grace: disabled, moved, groups kept", edit: func(p *model.Person) { p.Spec.EndDate = model.MustDate("2026-06-30") }, now: "2026-07-05",
			status: lifecycle.Leaver, exists: true, dn: "CN=jdoe,OU=Leavers,OU=ALM," + base, groups: []string{"Engineering", "Source Code Readers", "VPN Users"}},
		{name: "leaver after grace: groups removed", edit: func(p *model.Person) { p.Spec.EndDate = model.MustDate("2026-06-30") }, now: "2026-07-20",
			status: lifecycle.Leaver, exists: true, dn: "CN=jdoe,OU=Leavers,OU=ALM," + base, noWhy: "14d group grace period of template employee ended 2026-07-14"},
		{name: "archived: deleted", edit: func(p *model.Person) { p.Spec.EndDate = model.MustDate("2026-06-30") }, now: "2026-10-01",
			status: lifecycle.Archived, delete: true, dn: "CN=jdoe," + people, noWhy: "retention"},
		{name: "archived contractor: disabled stub in leavers", edit: func(p *model.Person) {
			p.Spec.Type = model.TypeContractor
			p.Spec.EndDate = model.MustDate("2026-06-30")
		}, now: "2026-10-01",
			status: lifecycle.Archived, exists: true, dn: "CN=jdoe,OU=Leavers,OU=ALM," + base, noWhy: "retention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture()
			p := jdoe()
			if tc.edit != nil {
				tc.edit(p)
			}
			r.People["jdoe"] = p
			s, err := Compute(r, at(tc.now))
			if err != nil {
				t.Fatal(err)
			}
			a := s.Account("004217")
			if a.State.Status != tc.status || a.Exists != tc.exists || a.Delete != tc.delete || a.Enabled != tc.enabled {
				t.Errorf("status %s exists %v delete %v enabled %v, want %s %v %v %v", a.State.Status, a.Exists, a.Delete, a.Enabled, tc.status, tc.exists, tc.delete, tc.enabled)
			}
			if a.DN != tc.dn {
				t.Errorf("DN %q, want %q", a.DN, tc.dn)
			}
			if got := groupNames(a); !slices.Equal(got, tc.groups) {
				t.Errorf("groups %q, want %q", got, tc.groups)
			}
			if !strings.Contains(a.NoGroups.Text, tc.noWhy) || (tc.noWhy == "" && a.NoGroups.Text != "") {
				t.Errorf("reason for no groups %q, want it to say %q", a.NoGroups.Text, tc.noWhy)
			}
			wantUAC := directory.UACNormalAccount
			if !tc.enabled {
				wantUAC |= directory.UACAccountDisable
			}
			if a.UAC != wantUAC {
				t.Errorf("userAccountControl %d, want %d", a.UAC, wantUAC)
			}
		})
	}
}

func TestServiceAccountLifecycle(t *testing.T) {
	flags := directory.UACNormalAccount | directory.UACDontExpirePassword | directory.UACNotDelegated
	home := "CN=svc-backup,OU=Service Accounts,OU=ALM," + base
	tests := []struct {
		name    string
		edit    func(a *model.ServiceAccount)
		now     string
		status  lifecycle.Status
		exists  bool
		delete  bool
		enabled bool
		dn      string
		groups  bool
		uac     int
		expires string // accountExpires, as a date; "" for never
	}{
		{name: "active", now: "2026-07-01", status: lifecycle.Active, exists: true, enabled: true, dn: home, groups: true, uac: flags, expires: "2027-05-31"},
		{name: "expiring", now: "2027-05-10", status: lifecycle.Expiring, exists: true, enabled: true, dn: home, groups: true, uac: flags, expires: "2027-05-31"},
		{name: "expired: disabled, groups kept", now: "2027-06-02", status: lifecycle.Expired, exists: true, dn: home, groups: true,
			uac: flags | directory.UACAccountDisable, expires: "2027-05-31"},
		{name: "retired: moved to the retired OU", now: "2027-07-15", status: lifecycle.Retired, exists: true,
			dn: "CN=svc-backup,OU=Retired,OU=ALM," + base, uac: flags | directory.UACAccountDisable, expires: "2027-05-31"},
		{name: "expired under delete: deleted", edit: func(a *model.ServiceAccount) { a.Spec.Template = "short-lived" }, now: "2027-06-02",
			status: lifecycle.Retired, delete: true, dn: home, uac: directory.UACNormalAccount | directory.UACAccountDisable, expires: "2027-05-31"},
		{name: "explicitly retired", edit: func(a *model.ServiceAccount) { a.Spec.State = model.StateRetired }, now: "2026-07-01",
			status: lifecycle.Retired, exists: true, dn: "CN=svc-backup,OU=Retired,OU=ALM," + base, uac: flags | directory.UACAccountDisable, expires: "2027-05-31"},
		{name: "under review stays enabled and does not expire", edit: func(a *model.ServiceAccount) { a.Spec.Template = "reviewed" }, now: "2027-06-02",
			status: lifecycle.Expired, exists: true, enabled: true, dn: home, groups: true, uac: directory.UACNormalAccount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture()
			r.People["jdoe"] = jdoe()
			sa := svcBackup()
			if tc.edit != nil {
				tc.edit(sa)
			}
			r.ServiceAccounts[sa.Metadata.Name] = sa
			s, err := Compute(r, at(tc.now))
			if err != nil {
				t.Fatal(err)
			}
			a := s.Account("sa-01")
			if a.State.Status != tc.status || a.Exists != tc.exists || a.Delete != tc.delete || a.Enabled != tc.enabled {
				t.Errorf("status %s exists %v delete %v enabled %v, want %s %v %v %v", a.State.Status, a.Exists, a.Delete, a.Enabled, tc.status, tc.exists, tc.delete, tc.enabled)
			}
			if a.DN != tc.dn {
				t.Errorf("DN %q, want %q", a.DN, tc.dn)
			}
			if got := len(a.Groups) > 0; got != tc.groups {
				t.Errorf("holds groups %v (%q), want %v", got, groupNames(a), tc.groups)
			}
			if a.UAC != tc.uac {
				t.Errorf("userAccountControl %#x, want %#x", a.UAC, tc.uac)
			}
			got, ok := ParseFileTime(a.Attributes[directory.AttrAccountExpires])
			switch {
			case tc.expires == "" && ok:
				t.Errorf("accountExpires %s, want never", got)
			case tc.expires != "" && (!ok || !got.Equal(at(tc.expires))):
				t.Errorf("accountExpires %q (%s), want %s", a.Attributes[directory.AttrAccountExpires], got, tc.expires)
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	r := fixture()
	p := jdoe()
	p.Spec.EndDate = model.MustDate("2026-12-31")
	p.Source = model.Source{Path: "people/jdoe.yaml", Line: 1, Fields: model.PositionsOf(map[string]model.Position{
		"spec.department": {Path: "people/jdoe.yaml", Line: 14, Column: 15},
	})}
	r.People["jdoe"] = p
	r.ServiceAccounts["svc-backup"] = svcBackup()
	s, err := Compute(r, at("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Account("004217")
	want := map[string]string{
		directory.AttrUserPrincipalName: "jdoe@example.test",
		directory.AttrGivenName:         "Jane",
		directory.AttrSurname:           "Doe",
		directory.AttrDisplayName:       "Jane Doe",
		directory.AttrMail:              "jane.doe@example.test",
		directory.AttrDepartment:        "Engineering",
		directory.AttrTitle:             "Backend engineer",
		directory.AttrManager:           "CN=asmith,OU=People,OU=ALM," + base,
		directory.AttrDescription:       "",
		directory.AttrEmployeeID:        "004217",
		// 116444736000000000 is 1970-01-01 in file time; 2026-12-31 is 20818 days later.
		directory.AttrAccountExpires: strconv.FormatInt(116444736000000000+20818*86400*10_000_000, 10),
	}
	for _, name := range directory.ManagedAttributes {
		if got, ok := a.Attributes[name]; !ok || got != want[name] {
			t.Errorf("%s = %q (set %v), want %q", name, got, ok, want[name])
		}
	}
	if r := a.AttributeReasons[directory.AttrDepartment]; r.File != "people/jdoe.yaml" || r.Line != 14 || r.Field != "spec.department" {
		t.Errorf("department's reason %+v, want people/jdoe.yaml:14 spec.department", r)
	}
	if a.ManagerID != "001001" {
		t.Errorf("manager id %q, want 001001", a.ManagerID)
	}
	// A service account's manager is its owner; it has no employeeID.
	sa := s.Account("sa-01")
	if got := sa.Attributes[directory.AttrManager]; got != a.DN {
		t.Errorf("svc-backup's manager %q, want its owner's DN %q", got, a.DN)
	}
	if sa.Attributes[directory.AttrEmployeeID] != "" || sa.Attributes[directory.AttrDescription] != "Nightly backup" {
		t.Errorf("svc-backup attributes %v", sa.Attributes)
	}
	// The always-present accountExpires of a person without endDate is "never".
	asmith := s.Account("001001")
	if got := asmith.Attributes[directory.AttrAccountExpires]; got != directory.AccountExpiresNever {
		t.Errorf("asmith's accountExpires %q, want never", got)
	}
	if g := a.Groups[0]; g.Reason.Rule != "birthright" || g.Reason.Field != "spec.birthright" || g.Reason.File != "roles/engineering.yaml" {
		t.Errorf("Engineering's reason %+v, want birthright from roles/engineering.yaml", g.Reason)
	}
}

func TestState(t *testing.T) {
	r := fixture()
	r.People["jdoe"] = jdoe()
	r.People["breakglass"] = &model.Person{Metadata: model.AccountMetadata{Name: "breakglass", ID: "000001"},
		Spec: model.PersonSpec{GivenName: "Break", Surname: "Glass", Type: model.TypeEmployee, StartDate: model.MustDate("2020-01-01")}}
	r.Directory.Spec.Protected = append(r.Directory.Spec.Protected, "CN=Legacy ERP, OU=People,OU=ALM,"+base)
	jdoe := r.People["jdoe"]
	jdoe.Spec.Roles = append(jdoe.Spec.Roles, "no-such-role")
	s, err := Compute(r, at("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	wantOUs := []string{"OU=Contractors,OU=ALM," + base, "OU=Leavers,OU=ALM," + base, "OU=People,OU=ALM," + base,
		"OU=Retired,OU=ALM," + base, "OU=Service Accounts,OU=ALM," + base}
	if !slices.Equal(s.OUs, wantOUs) {
		t.Errorf("managed OUs\n%q\nwant\n%q", s.OUs, wantOUs)
	}
	if sc := s.Scope(); sc.GroupBase != "OU=Groups,OU=ALM,"+base || sc.MarkerAttribute != model.DefaultMarkerAttribute || sc.BaseDN != base {
		t.Errorf("scope %+v", sc)
	}
	if !s.Account("000001").Protected || !s.IsProtected("KRBTGT", "") || !s.IsProtected("", "cn=legacy erp,OU=People,OU=ALM,"+base) {
		t.Error("breakglass, krbtgt and CN=Legacy ERP should be protected")
	}
	var texts []string
	for _, w := range s.Warnings {
		texts = append(texts, w.String())
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"breakglass is a protected account", `role "no-such-role" does not exist`} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings\n%s\nshould say %q", all, want)
		}
	}
	var names []string
	for _, g := range s.Groups {
		names = append(names, g.Name)
	}
	if want := []string{"Backup Operators", "Engineering", "Sales", "Source Code Readers", "VPN Users"}; !slices.Equal(names, want) {
		t.Errorf("managed groups %q, want %q", names, want)
	}
}

func TestComputeErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *model.Repository)
		want []string
	}{
		{"no base DN", func(r *model.Repository) { r.Directory.Spec.BaseDN = "" }, []string{"alm.yaml: spec.baseDN is empty"}},
		{"no template for the type", func(r *model.Repository) {
			p := jdoe()
			p.Spec.Type = model.TypePartner
			p.Source = model.Source{Path: "people/jdoe.yaml", Fields: model.PositionsOf(map[string]model.Position{"spec.type": {Path: "people/jdoe.yaml", Line: 12, Column: 9}})}
			r.People["jdoe"] = p
		}, []string{`people/jdoe.yaml:12:9: spec.type: no Person template applies to type "partner"`}},
		{"unknown account flag", func(r *model.Repository) {
			r.Templates["service-account"].Spec.AccountFlags = []string{"DONT_EXPIRE_PASSWORD", "LOCKOUT"}
			r.People["jdoe"] = jdoe()
			r.ServiceAccounts["svc-backup"] = svcBackup()
		}, []string{`templates/service-account.yaml: spec.accountFlags[1]: unknown account flag "LOCKOUT"; use one of DONT_EXPIRE_PASSWORD`}},
		{"two files, one id", func(r *model.Repository) {
			p := jdoe()
			p.Metadata.ID = "001001"
			r.People["jdoe"] = p
		}, []string{`people/jdoe.yaml: metadata.id "001001" is also the id of people/asmith.yaml`}},
		{"no id", func(r *model.Repository) {
			p := jdoe()
			p.Metadata.ID = ""
			r.People["jdoe"] = p
		}, []string{"people/jdoe.yaml: metadata.id is empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture()
			tc.edit(r)
			_, err := Compute(r, at("2026-03-01"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nshould say %q", err, w)
				}
			}
		})
	}
	if _, err := Compute(&model.Repository{}, time.Now()); err == nil || !strings.Contains(err.Error(), "alm.yaml: missing") {
		t.Errorf("no Directory: %v", err)
	}
	var joined interface{ Unwrap() []error }
	r := fixture()
	r.Directory.Spec.BaseDN, r.Directory.Spec.Domain = "", ""
	_, err := Compute(r, time.Now())
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("want both problems of alm.yaml at once, got %v", err)
	}
}

func TestDN(t *testing.T) {
	tests := []struct{ in, escaped string }{
		{"jdoe", "jdoe"},
		{"Doe, Jane", `Doe\, Jane`},
		{" lead", `\ lead`},
		{"trail ", `trail\ `},
		{"#hash", `\#hash`},
		{`a+b"c\d<e>f;g=h`, `a\+b\"c\\d\<e\>f\;g\=h`},
	}
	for _, tc := range tests {
		if got := directory.EscapeValue(tc.in); got != tc.escaped {
			t.Errorf("directory.EscapeValue(%q) = %q, want %q", tc.in, got, tc.escaped)
		}
		dn := "CN=" + directory.EscapeValue(tc.in) + ",OU=People," + base
		if got := directory.Parent(dn); got != "OU=People,"+base {
			t.Errorf("Parent(%q) = %q", dn, got)
		}
	}
	for in, want := range map[string]string{
		"OU=ALM, DC=example , DC=test": "OU=ALM,DC=example,DC=test",
		`OU=A\, B ,DC=x`:               `OU=A\, B,DC=x`,
		`OU=Trailing\ ,DC=x`:           `OU=Trailing\ ,DC=x`,
	} {
		if got := directory.Clean(in); got != want {
			t.Errorf("directory.Clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := directory.Join("OU=People,dc=example,dc=test", base); got != "OU=People,dc=example,dc=test" {
		t.Errorf("an OU written in full is kept: %q", got)
	}
}

func TestFileTime(t *testing.T) {
	// 9999-12-31 is the latest date a file holds.
	for _, s := range []string{"1601-01-01", "1970-01-01", "2026-05-31", "2999-12-31", "9999-12-31"} {
		got, ok := ParseFileTime(FileTime(at(s)))
		if s == "1601-01-01" {
			if FileTime(at(s)) != "0" || ok {
				t.Errorf("1601-01-01 is file time 0, which means never; got %q", FileTime(at(s)))
			}
			continue
		}
		if !ok || !got.Equal(at(s)) {
			t.Errorf("%s round-trips to %s (%v)", s, got, ok)
		}
	}
	if FileTime(at("1970-01-01")) != "116444736000000000" {
		t.Errorf("the Unix epoch is %s in file time, want 116444736000000000", FileTime(at("1970-01-01")))
	}
	for _, never := range []string{"", "0", directory.AccountExpiresNever} {
		if !NeverExpires(never) {
			t.Errorf("%q should mean never", never)
		}
	}
}

// A leaver's groups are withheld from the end of the grace period: with the
// latest date and the longest grace, that instant is later, not wrapped round.
func TestLongestGraceAtTheLatestDate(t *testing.T) {
	r := fixture()
	r.Templates["employee"].Spec.Leaver = &model.Leaver{GroupGrace: model.Duration{D: model.MaxDuration}}
	p := jdoe()
	p.Spec.EndDate = model.MustDate("9999-12-31")
	r.People["jdoe"] = p
	end := p.Spec.EndDate.Plus(model.Duration{D: model.MaxDuration}, time.UTC) // the fixture sets no timeZone
	s, err := Compute(r, end.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Account("004217")
	if a.State.Status != lifecycle.Leaver || len(a.Groups) != 0 || !a.NoGroups.Date.Equal(end) || end.Year() != 10099 {
		t.Errorf("%s with %d groups; groups withheld from %s, want %s", a.State.Status, len(a.Groups), a.NoGroups.Date, end)
	}
	got, ok := ParseFileTime(a.Attributes[directory.AttrAccountExpires])
	if !ok || !got.Equal(p.Spec.EndDate.Time) {
		t.Errorf("accountExpires %s (%v), want 9999-12-31", got, ok)
	}
	later, err1 := strconv.ParseInt(FileTime(end), 10, 64)
	earlier, err2 := strconv.ParseInt(FileTime(p.Spec.EndDate.Time), 10, 64)
	if err1 != nil || err2 != nil || later <= earlier {
		t.Errorf("file time of %s is %s, not after that of 9999-12-31", end, FileTime(end))
	}
}

// accountExpires is the instant the lifecycle makes a person a leaver.
func TestAccountExpiresWhenLeaving(t *testing.T) {
	tests := []struct {
		name     string
		endDate  string
		inactive *model.Inactive
		want     string // date, "" for never
		field    string
	}{
		{name: "no end", field: "spec.endDate"},
		{name: "endDate", endDate: "2026-12-31", want: "2026-12-31", field: "spec.endDate"},
		{name: "garden leave ends first", endDate: "2026-12-31", want: "2026-08-31", field: "spec.inactive.until",
			inactive: &model.Inactive{Type: model.InactiveGardenLeave, From: model.MustDate("2026-06-01"), Until: model.MustDate("2026-08-31")}},
		{name: "endDate before the garden leave ends", endDate: "2026-07-31", want: "2026-07-31", field: "spec.endDate",
			inactive: &model.Inactive{Type: model.InactiveGardenLeave, From: model.MustDate("2026-06-01"), Until: model.MustDate("2026-08-31")}},
		{name: "a sabbatical does not end employment", want: "", field: "spec.endDate",
			inactive: &model.Inactive{Type: model.InactiveLongTermAway, From: model.MustDate("2026-06-01"), Until: model.MustDate("2026-08-31")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture()
			p := jdoe()
			if tc.endDate != "" {
				p.Spec.EndDate = model.MustDate(tc.endDate)
			}
			p.Spec.Inactive = tc.inactive
			r.People["jdoe"] = p
			s, err := Compute(r, at("2026-03-01"))
			if err != nil {
				t.Fatal(err)
			}
			a := s.Account("004217")
			got, ok := ParseFileTime(a.Attributes[directory.AttrAccountExpires])
			if (tc.want == "") == ok || (ok && !got.Equal(at(tc.want))) {
				t.Errorf("accountExpires %s (set %v), want %q", got, ok, tc.want)
			}
			if f := a.AttributeReasons[directory.AttrAccountExpires].Field; f != tc.field {
				t.Errorf("field %q, want %q", f, tc.field)
			}
		})
	}
}

// TestTimeZone: with alm.yaml's timeZone set, a person is a leaver, and the
// account expires, at the start of endDate there; a service account expires
// at the start of expires there; reasons show the dates as written.
func TestTimeZone(t *testing.T) {
	tests := []struct {
		zone    string
		endDate string
		now     string // RFC 3339
		status  lifecycle.Status
		expires string // accountExpires, RFC 3339 in UTC
		svc     string // the service account's accountExpires
		noGroup string // a fragment of why the account holds no groups
	}{
		{zone: "Pacific/Auckland", endDate: "2026-11-30", now: "2026-11-29T10:59:59Z", status: lifecycle.Active,
			expires: "2026-11-29T11:00:00Z", svc: "2027-05-30T12:00:00Z"},
		{zone: "Pacific/Auckland", endDate: "2026-11-30", now: "2026-11-29T11:00:00Z", status: lifecycle.Leaver,
			expires: "2026-11-29T11:00:00Z", svc: "2027-05-30T12:00:00Z"},
		{zone: "Pacific/Auckland", endDate: "2026-11-30", now: "2026-12-13T11:00:00Z", status: lifecycle.Leaver,
			expires: "2026-11-29T11:00:00Z", svc: "2027-05-30T12:00:00Z", noGroup: "endDate 2026-11-30 has passed; the 14d group grace period of template employee ended 2026-12-14"},
		{zone: "America/Los_Angeles", endDate: "2026-11-30", now: "2026-11-30T07:59:59Z", status: lifecycle.Active,
			expires: "2026-11-30T08:00:00Z", svc: "2027-05-31T07:00:00Z"},
		{zone: "America/Los_Angeles", endDate: "2026-11-30", now: "2026-11-30T08:00:00Z", status: lifecycle.Leaver,
			expires: "2026-11-30T08:00:00Z", svc: "2027-05-31T07:00:00Z"},
		{zone: "UTC", endDate: "2026-11-30", now: "2026-11-29T11:00:00Z", status: lifecycle.Active,
			expires: "2026-11-30T00:00:00Z", svc: "2027-05-31T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.zone+" at "+tc.now, func(t *testing.T) {
			r := fixture()
			r.Directory.Spec.TimeZone = model.MustTimeZone(tc.zone)
			p := jdoe()
			p.Spec.EndDate = model.MustDate(tc.endDate)
			r.People["jdoe"] = p
			r.ServiceAccounts["svc-backup"] = svcBackup()
			now, err := time.Parse(time.RFC3339, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Compute(r, now)
			if err != nil {
				t.Fatal(err)
			}
			a := s.Account("004217")
			if a.State.Status != tc.status {
				t.Errorf("status %s, want %s (%s)", a.State.Status, tc.status, a.Lifecycle.Text)
			}
			for id, want := range map[string]string{"004217": tc.expires, "sa-01": tc.svc} {
				v := s.Account(id).Attributes[directory.AttrAccountExpires]
				got, ok := ParseFileTime(v)
				if !ok || got.UTC().Format(time.RFC3339) != want {
					t.Errorf("%s: accountExpires %s (%s), want %s", id, v, got, want)
				}
			}
			if tc.status == lifecycle.Leaver {
				if d := a.Lifecycle.Date.Format(time.DateOnly); d != tc.endDate {
					t.Errorf("the leaver's reason is dated %s, want %s as written", d, tc.endDate)
				}
			}
			if !strings.Contains(a.NoGroups.Text, tc.noGroup) {
				t.Errorf("no groups because %q, want it to say %q", a.NoGroups.Text, tc.noGroup)
			}
		})
	}
}
