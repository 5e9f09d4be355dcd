package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/model"
)

var now = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// base is a small repository: jdoe (manager asmith), sec1 holding
// security-approvers, a service-account template and svc-backup.
func base() *model.Repository {
	r := model.NewRepository()
	r.Revision = "base"
	r.Directory = &model.Directory{Metadata: model.Metadata{Name: "acme"}, Spec: model.DirectorySpec{Domain: "acme.test", BaseDN: "DC=acme,DC=test"}}
	r.Templates["service-account"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "service-account"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount, Naming: `^svc-[a-z0-9-]{2,16}$`, OU: "OU=Service Accounts",
		Lifetime: &model.Lifetime{Default: model.MustDuration("180d"), Max: model.MustDuration("365d")},
		Approvals: model.Approvals{
			Grant:  []model.ApprovalRule{{Role: "security-approvers", Count: 1}, {Relation: "owner-manager"}},
			Revoke: []model.ApprovalRule{{Relation: "owner-or-manager"}},
		},
	}}
	r.Templates["employee"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "employee"}, Spec: model.TemplateSpec{AppliesTo: model.KindPerson, OU: "OU=People"}}
	r.Roles["security-approvers"] = &model.Role{Metadata: model.Metadata{Name: "security-approvers"}, Spec: model.RoleSpec{Groups: []string{"Security Approvers"}}}
	r.Roles["vpn"] = &model.Role{Metadata: model.Metadata{Name: "vpn"}, Spec: model.RoleSpec{Groups: []string{"VPN Users"}}}
	person := func(name, manager string, roles ...string) {
		r.People[name] = &model.Person{Metadata: model.AccountMetadata{Name: name, ID: "id-" + name}, Spec: model.PersonSpec{
			GivenName: name, Surname: "Test", Type: model.TypeEmployee, Manager: manager, GitHub: name,
			StartDate: model.MustDate("2025-01-01"), Roles: roles,
		}}
	}
	person("cboss", "")
	person("asmith", "cboss")
	person("jdoe", "asmith", "vpn")
	person("sec1", "cboss", "security-approvers")
	return r
}

func withAccount(r *model.Repository, description string) *model.Repository {
	r.Revision = "head"
	r.ServiceAccounts["svc-web"] = &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-web", ID: "sa-02"}, Spec: model.ServiceAccountSpec{
		Template: "service-account", Description: description, Owner: "jdoe", Roles: []string{"vpn"},
		Created: model.MustDate("2026-05-01"), Expires: model.MustDate("2026-12-31"),
	}, Source: model.Source{Path: "service-accounts/svc-web.yaml", Line: 1, Column: 1, Fields: model.PositionsOf(map[string]model.Position{
		"spec.description": {Path: "service-accounts/svc-web.yaml", Line: 6, Column: 16},
	})}}
	return r
}

func pr(author string, approvers ...string) *approval.Request {
	return &approval.Request{Number: 1, Source: approval.SourceGitHub, Author: author, Authors: []string{author}, Approvers: approvers, UnknownApprovers: []string{}, Labels: []string{}}
}

const orgRule = `package alm.org.descriptions

deny contains v if {
	some f in input.change.files
	f.kind == "ServiceAccount"
	count(f.after.spec.description) < 20
	v := {"msg": "description too short", "file": f.path, "field": "spec.description"}
}

warn_labels contains "no labels" if count(input.pullRequest.labels) == 0
`

func TestEval(t *testing.T) {
	tests := []struct {
		name      string
		head      *model.Repository
		org       []model.PolicyFile
		pr        *approval.Request
		denied    bool
		wantRules []string // rules that must appear among the violations
		wantLine  map[string]int
	}{
		{
			name: "valid request passes",
			head: withAccount(base(), "Serves the intranet web site"),
			pr:   pr("jdoe", "sec1", "asmith"),
		},
		{
			name:      "author approving own request is denied",
			head:      withAccount(base(), "Serves the intranet web site"),
			pr:        pr("sec1", "sec1", "asmith"),
			denied:    true,
			wantRules: []string{"separation-of-duties", "template-approvals"},
		},
		{
			name:      "organisation rule denies with its message and line",
			head:      withAccount(base(), "web"),
			org:       []model.PolicyFile{{Path: "policies/descriptions.rego", Source: orgRule}},
			pr:        pr("jdoe", "sec1", "asmith"),
			denied:    true,
			wantRules: []string{"alm.org.descriptions"},
			wantLine:  map[string]int{"alm.org.descriptions": 6},
		},
		{
			name:      "organisation file that does not parse is denied at its line; built-ins still run",
			head:      withAccount(base(), "Serves the intranet web site"),
			org:       []model.PolicyFile{{Path: "policies/broken.rego", Source: "package alm.org.broken\n\ndeny contains msg if {\n"}},
			pr:        pr("sec1", "sec1", "asmith"),
			denied:    true,
			wantRules: []string{RulePolicyFile, "separation-of-duties"},
		},
		{
			name:      "organisation file in one of alm's packages is refused; built-ins still run",
			head:      withAccount(base(), "Serves the intranet web site"),
			org:       []model.PolicyFile{{Path: "policies/owners.rego", Source: "package alm.builtin.lib\n\nowner_may_approve(_) if true\n"}},
			pr:        pr("sec1", "sec1", "asmith"),
			denied:    true,
			wantRules: []string{RulePolicyFile, "separation-of-duties"},
			wantLine:  map[string]int{RulePolicyFile: 1},
		},
		{
			name: "organisation test files are not rules",
			head: withAccount(base(), "Serves the intranet web site"),
			org:  []model.PolicyFile{{Path: "policies/x_test.rego", Source: "package alm.org.x_test\n\ndeny contains \"always\" if true\n"}},
			pr:   pr("jdoe", "sec1", "asmith"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := base()
			e, err := New(ctx, tt.org, NewData(tt.head, now), NewData(b, now))
			if err != nil {
				t.Fatal(err)
			}
			vs, err := e.Eval(ctx, NewInput(b, tt.head, change.Between(b, tt.head), tt.pr, now))
			if err != nil {
				t.Fatal(err)
			}
			Place(vs, tt.head, b)
			if Denied(vs) != tt.denied {
				t.Errorf("denied = %v, want %v: %v", Denied(vs), tt.denied, vs)
			}
			for _, rule := range tt.wantRules {
				found := false
				for _, v := range vs {
					if v.Rule == rule {
						found = true
						if want, ok := tt.wantLine[rule]; ok && v.Severity == Deny && v.Line != want {
							t.Errorf("%s at line %d, want %d", rule, v.Line, want)
						}
					}
				}
				if !found {
					t.Errorf("no violation of %s in %v", rule, vs)
				}
			}
		})
	}
}

func TestEvalStringMessagesAndWarnings(t *testing.T) {
	ctx := context.Background()
	head := withAccount(base(), "Serves the intranet web site")
	e, err := New(ctx, []model.PolicyFile{{Path: "policies/descriptions.rego", Source: orgRule}}, NewData(head, now), NewData(base(), now))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Eval(ctx, NewInput(base(), head, change.Between(base(), head), pr("jdoe", "sec1", "asmith"), now))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Message != "no labels" || vs[0].Severity != Warn || vs[0].Rule != "alm.org.descriptions" {
		t.Errorf("got %v, want the one warning of warn_labels", vs)
	}
}

func TestNewInputRelations(t *testing.T) {
	b := base()
	head := withAccount(base(), "Serves the intranet web site")
	head.ServiceAccounts["svc-web"].Spec.Custodians = []string{"sec1"}
	in := NewInput(b, head, change.Between(b, head), nil, now)
	if len(in.Change.Files) != 1 {
		t.Fatalf("files: %+v", in.Change.Files)
	}
	f := in.Change.Files[0]
	want := map[string]string{
		RelationOwner: "jdoe", RelationManager: "asmith", RelationOwnerManager: "asmith",
		RelationOwnerOrManager: "asmith,jdoe", RelationCustodian: "sec1",
	}
	for rel, names := range want {
		if got := strings.Join(f.Relations[rel], ","); got != names {
			t.Errorf("%s = %q, want %q", rel, got, names)
		}
	}
	if f.Template != "service-account" || f.StatusAfter != "active" || f.StatusBefore != "" {
		t.Errorf("template %q status %q→%q", f.Template, f.StatusBefore, f.StatusAfter)
	}
}

func TestNewDataResolvesPeople(t *testing.T) {
	r := withAccount(base(), "x")
	r.People["gone"] = &model.Person{Metadata: model.AccountMetadata{Name: "gone"}, Spec: model.PersonSpec{
		Type: model.TypeEmployee, StartDate: model.MustDate("2020-01-01"), EndDate: model.MustDate("2026-01-01"), Roles: []string{"security-approvers"},
	}}
	d := NewData(r, now)
	jdoe := d.People["jdoe"]
	if strings.Join(jdoe.Managers, ",") != "asmith,cboss" || strings.Join(jdoe.Owns, ",") != "svc-web" || jdoe.Status != "active" {
		t.Errorf("jdoe resolved as %+v", jdoe)
	}
	if got := strings.Join(d.Roles["security-approvers"].Holders, ","); got != "sec1" {
		t.Errorf("holders of security-approvers = %q, want only the active sec1", got)
	}
	if d.People["gone"].Status != "leaver" {
		t.Errorf("gone is %s", d.People["gone"].Status)
	}
	if d.Logins["jdoe"] != "jdoe" {
		t.Errorf("logins: %v", d.Logins)
	}
}

// A change with two reasons of its class in different fields (a contract
// extended and a role granted, both grants) is judged, and named by its
// first reason's field. The rules' field_of once gave both, which Rego
// refuses: the whole check failed with eval_conflict_error (found by
// FuzzInput).
func TestEvalTwoReasonsOfTheClass(t *testing.T) {
	ctx := context.Background()
	repo := func(end string, roles ...string) *model.Repository {
		r := base()
		r.Templates["employee"].Spec.Approvals.Grant = []model.ApprovalRule{{Relation: RelationManager}}
		r.People["jdoe"].Spec.EndDate = model.MustDate(end)
		r.People["jdoe"].Spec.Roles = roles
		return r
	}
	b, h := repo("2026-12-31", "vpn"), repo("2027-06-30", "vpn", "security-approvers")
	set := change.Between(b, h)
	if len(set.Files) != 1 || len(set.Files[0].Reasons) != 2 {
		t.Fatalf("want one file with two reasons, got %+v", set.Files)
	}
	e, err := New(ctx, nil, NewData(h, now), NewData(b, now))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Eval(ctx, NewInput(b, h, set, pr("jdoe", "sec1"), now))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Rule == "template-approvals" {
			if v.Field != set.Files[0].Reasons[0].Field {
				t.Errorf("field %q, want the first reason's, %q", v.Field, set.Files[0].Reasons[0].Field)
			}
			return
		}
	}
	t.Errorf("no template-approvals denial without the manager's approval: %v", vs)
}

// A person's managers stop after model.MaxManagerChain: the loader reports
// a longer chain, and the data must not grow with its square meanwhile.
func TestNewDataBoundsManagerChains(t *testing.T) {
	r := base()
	const n = 3 * model.MaxManagerChain
	for i := range n {
		p := &model.Person{Metadata: model.AccountMetadata{Name: fmt.Sprintf("c%03d", i)}, Spec: model.PersonSpec{Type: model.TypeEmployee, StartDate: model.MustDate("2020-01-01")}}
		if i > 0 {
			p.Spec.Manager = fmt.Sprintf("c%03d", i-1)
		}
		r.People[p.Metadata.Name] = p
	}
	d := NewData(r, now)
	for _, tt := range []struct {
		name  string
		count int
		first string
	}{{"c000", 0, ""}, {"c064", 64, "c063"}, {"c065", 64, "c064"}, {fmt.Sprintf("c%03d", n-1), 64, fmt.Sprintf("c%03d", n-2)}} {
		got := d.People[tt.name].Managers
		if len(got) != tt.count || len(got) > 0 && got[0] != tt.first {
			t.Errorf("%s has %d managers starting %v, want %d starting %s", tt.name, len(got), got[:min(len(got), 1)], tt.count, tt.first)
		}
	}
}

// TestNewInputReadsBase: who approves is resolved at base. A change that
// gives jdoe another manager and type, and adds svc-web owned by jdoe, still
// has jdoe's manager at base approve svc-web, and jdoe's file names the
// templates before and after.
func TestNewInputReadsBase(t *testing.T) {
	b := base()
	head := withAccount(base(), "Serves the intranet web site")
	head.Templates["contractor"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "contractor"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeContractor}, OU: "OU=Contractors",
	}}
	jdoe := head.People["jdoe"]
	jdoe.Spec.Manager, jdoe.Spec.Type = "sec1", model.TypeContractor
	in := NewInput(b, head, change.Between(b, head), nil, now)
	files := map[string]File{}
	for _, f := range in.Change.Files {
		files[f.Path] = f
	}
	svc, person := files["service-accounts/svc-web.yaml"], files["people/jdoe.yaml"]
	if got := strings.Join(svc.Relations[RelationOwnerManager], ","); got != "asmith" {
		t.Errorf("svc-web owner-manager = %q, want asmith (jdoe's manager at base)", got)
	}
	if got := strings.Join(person.Relations[RelationManager], ","); got != "asmith" {
		t.Errorf("jdoe manager = %q, want asmith (at base)", got)
	}
	if person.TemplateBefore != "employee" || person.TemplateAfter != "contractor" || person.Template != "contractor" {
		t.Errorf("jdoe templates %q → %q (template %q), want employee → contractor", person.TemplateBefore, person.TemplateAfter, person.Template)
	}
	if svc.TemplateBefore != "" || svc.TemplateAfter != "service-account" {
		t.Errorf("svc-web templates %q → %q", svc.TemplateBefore, svc.TemplateAfter)
	}
}

// TestTimeZone: the rules read dates in head's alm.yaml timeZone. At
// 2026-05-01T20:00Z it is already 2026-05-02 in Auckland, so a service
// account created that day to expire on 2026-05-02 is created expired there,
// and its status after the change is expired; in UTC it is still active.
func TestTimeZone(t *testing.T) {
	at := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		zone, today, status string
		warned              bool
	}{
		{zone: "UTC", today: "2026-05-01", status: "active"},
		{zone: "America/Los_Angeles", today: "2026-05-01", status: "active"},
		{zone: "Pacific/Auckland", today: "2026-05-02", status: "expired", warned: true},
	}
	for _, tc := range tests {
		t.Run(tc.zone, func(t *testing.T) {
			ctx := context.Background()
			b := base()
			head := withAccount(base(), "Serves the intranet web site")
			head.Directory.Spec.TimeZone = model.MustTimeZone(tc.zone)
			head.ServiceAccounts["svc-web"].Spec.Expires = model.MustDate("2026-05-02")
			in := NewInput(b, head, change.Between(b, head), pr("jdoe", "sec1", "asmith"), at)
			if in.TimeZone != tc.zone || in.Today != tc.today {
				t.Errorf("input timeZone %q today %q, want %q %q", in.TimeZone, in.Today, tc.zone, tc.today)
			}
			var svc File
			for _, f := range in.Change.Files {
				if f.Path == "service-accounts/svc-web.yaml" {
					svc = f
				}
			}
			if svc.StatusAfter != tc.status {
				t.Errorf("svc-web is %q after the change, want %q", svc.StatusAfter, tc.status)
			}
			e, err := New(ctx, nil, NewData(head, at), NewData(b, at))
			if err != nil {
				t.Fatal(err)
			}
			vs, err := e.Eval(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, v := range vs {
				if v.Rule == "expiry" && v.Severity == Warn && strings.Contains(v.Message, "already expired (2026-05-02)") {
					warned = true
				}
			}
			if warned != tc.warned {
				t.Errorf("warned created-expired %v, want %v: %v", warned, tc.warned, vs)
			}
		})
	}
}

// The store keeps people and service accounts unconverted until a rule
// reads them (lazy.go); every way a rule can reach them must see the same
// values jsonValue would give.
func TestRulesReadDocuments(t *testing.T) {
	tests := []struct {
		name string
		body string // a rule body binding msg
		want string
	}{
		{"whole path", `msg := concat(",", data.alm.base.people.jdoe.roles)`, "vpn"},
		{"whole path into an array", `msg := data.alm.base.people.jdoe.managers[1]`, "cboss"},
		{"whole path into metadata", `msg := data.alm.repository.serviceAccounts["svc-web"].metadata.id`, "sa-02"},
		{"whole path, absent field", `not data.alm.base.people.jdoe.spec.nothing
		msg := "undefined"`, "undefined"},
		{"whole path, absent person", `not data.alm.base.people.nobody.roles
		msg := "undefined"`, "undefined"},
		{"by variable", `some name in ["asmith"]
		msg := data.alm.base.people[name].spec.manager`, "cboss"},
		{"through lib", `msg := lib.repo.people.sec1.status`, "active"},
		{"scan", `msg := concat(",", sort([n | some p in data.alm.base.people; p.spec.manager == "cboss"; n := p.metadata.name]))`, "asmith,sec1"},
		{"scan keys", `msg := concat(",", sort([n | some n, _ in lib.base.people]))`, "asmith,cboss,jdoe,sec1"},
		{"whole document", `msg := json.marshal(data.alm.repository.serviceAccounts["svc-web"].spec.roles)`, `["vpn"]`},
		{"walk", `msg := concat(",", sort([k | walk(data.alm.base.people.asmith, [p, _]); count(p) == 1; k := p[0]]))`,
			"custodianOf,file,managers,metadata,owns,reports,roles,spec,status,template"},
		{"logins", `msg := data.alm.base.logins.jdoe`, "jdoe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := []model.PolicyFile{{Path: "policies/read.rego", Source: "package alm.org.read\n\nimport data.alm.builtin.lib\n\ndeny contains msg if {\n\t" + tt.body + "\n}\n"}}
			head := withAccount(base(), "a description long enough")
			e, err := New(t.Context(), org, NewData(head, now), NewData(base(), now))
			if err != nil {
				t.Fatal(err)
			}
			vs, err := e.Eval(t.Context(), Input{Change: Change{Files: []File{}}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				if v.Rule == "alm.org.read" {
					got = append(got, v.Message)
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPlace: a violation naming a file and a field gets the field's line,
// from head, else base; a file need not be named after its object.
func TestPlace(t *testing.T) {
	src := func(path string, line int32) model.Source {
		return model.Source{Path: path, Line: 1, Column: 1, Fields: model.PositionsOf(map[string]model.Position{
			"spec.manager": {Path: path, Line: int(line), Column: 3},
		})}
	}
	head, base := base(), base()
	head.People["jdoe"].Source = src("people/jdoe.yaml", 7)
	head.People["misnamed"] = &model.Person{Metadata: model.AccountMetadata{Name: "misnamed"}, Source: src("people/other.yaml", 9)}
	base.People["gone"] = &model.Person{Metadata: model.AccountMetadata{Name: "gone"}, Source: src("people/gone.yaml", 11)}
	head.Directory.Source = src("alm.yaml", 4)
	tests := []struct {
		name string
		v    Violation
		want int
	}{
		{"by its path", Violation{File: "people/jdoe.yaml", Field: "spec.manager"}, 7},
		{"deleted at head: from base", Violation{File: "people/gone.yaml", Field: "spec.manager"}, 11},
		{"a file named otherwise", Violation{File: "people/other.yaml", Field: "spec.manager"}, 9},
		{"alm.yaml", Violation{File: "alm.yaml", Field: "spec.manager"}, 4},
		{"a line given is kept", Violation{File: "people/jdoe.yaml", Field: "spec.manager", Line: 2}, 2},
		{"no such file", Violation{File: "people/nobody.yaml", Field: "spec.manager"}, 0},
		{"the pull request as a whole", Violation{Field: "spec.manager"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := []Violation{tt.v}
			Place(vs, head, base)
			if vs[0].Line != tt.want {
				t.Errorf("line %d, want %d", vs[0].Line, tt.want)
			}
		})
	}
}

// withBlobs gives every file of r a blob id made of its content, as a
// repository loaded from Git has.
func withBlobs(t *testing.T, r *model.Repository) *model.Repository {
	t.Helper()
	blob := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:20])
	}
	r.Directory.Source = model.Source{Path: model.DirectoryFile, Blob: blob(r.Directory.Spec)}
	for name, x := range r.Templates {
		x.Source = model.Source{Path: "templates/" + name + ".yaml", Blob: blob(x.Spec)}
	}
	for name, x := range r.Roles {
		x.Source = model.Source{Path: "roles/" + name + ".yaml", Blob: blob(x.Spec)}
	}
	for name, x := range r.People {
		x.Source = model.Source{Path: "people/" + name + ".yaml", Blob: blob([]any{x.Metadata, x.Spec})}
	}
	return r
}

// TestNewDataAfter: the head's data made with base's is the data NewData
// makes of the head, whatever changed; what base's data gives is used only
// for people, templates, roles and alm.yaml the change left alone.
func TestNewDataAfter(t *testing.T) {
	tests := []struct {
		name   string
		change func(head *model.Repository)
		reused bool // jdoe's template, status and roles come from base's data
	}{
		{"nothing changed", func(*model.Repository) {}, true},
		{"another person changed", func(h *model.Repository) { h.People["asmith"].Spec.Title = "Lead" }, true},
		{"the person changed", func(h *model.Repository) { h.People["jdoe"].Spec.Roles = nil }, false},
		{"the person leaves", func(h *model.Repository) { h.People["jdoe"].Spec.EndDate = model.MustDate("2026-04-01") }, false},
		{"a role became a birthright", func(h *model.Repository) {
			h.Roles["security-approvers"].Spec.Birthright = &model.Birthright{Type: model.TypeEmployee}
		}, false},
		{"a template changed", func(h *model.Repository) { h.Templates["employee"].Spec.PersonTypes = []string{model.TypeEmployee} }, false},
		{"a template added", func(h *model.Repository) {
			h.Templates["contractor"] = &model.WorkflowTemplate{Metadata: model.Metadata{Name: "contractor"}, Spec: model.TemplateSpec{AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeEmployee}}}
		}, false},
		{"alm.yaml changed", func(h *model.Repository) { h.Directory.Spec.Domain = "other.test" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := withBlobs(t, base())
			h := base()
			tt.change(h)
			h = withBlobs(t, h)
			bd := NewData(b, now)
			got, want := NewDataAfter(h, b, bd, now), NewData(h, now)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("differs from NewData of the head:\n%+v\nwant\n%+v", got.People["jdoe"], want.People["jdoe"])
			}
			shared := len(got.People["jdoe"].Roles) > 0 && &got.People["jdoe"].Roles[0] == &bd.People["jdoe"].Roles[0]
			if shared != tt.reused {
				t.Errorf("jdoe's roles taken from base's data: %v, want %v", shared, tt.reused)
			}
		})
	}
}
