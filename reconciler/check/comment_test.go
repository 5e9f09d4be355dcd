package check

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/policy"
	"github.com/alm-project/alm/reconciler/preview"
)

// samplePreview has one of everything a preview can show, for the golden
// files: settings the head changes (its url among them), an OU outside the
// base's scope, new, changed and dropped changes, a new warning and a
// refusal.
func samplePreview() *preview.Preview {
	people, services := "OU=People,DC=acme,DC=test", "OU=Service Accounts,DC=acme,DC=test"
	reason := func(file string, line int, field, text string) desired.Reason {
		return desired.Reason{File: file, Line: line, Field: field, Text: text}
	}
	return &preview.Preview{
		Base: "base0000000000000000", Head: "head0000000000000000", Now: now,
		Directory: "ldaps://dc1.acme.test", DirectoryState: "3f2a9c0d1e2b",
		Scope: directory.Scope{BaseDN: "DC=acme,DC=test", OUs: []string{people, services}, MarkerAttribute: "adminDescription"},
		Settings: []preview.Setting{
			{Field: "spec.url", Line: 8, Base: "ldaps://dc1.acme.test", Head: "ldaps://dc.attacker.example"},
			{Field: "spec.leaversOU", Line: 9, Base: "", Head: "OU=Everyone"},
		},
		Unread: []string{"OU=Admins,DC=acme,DC=test"},
		Changes: preview.Delta[plan.Change]{
			New: []plan.Change{
				{ID: "create/sa-02", Action: plan.Create, AccountID: "sa-02", Account: "svc-web", Kind: "ServiceAccount",
					File: "service-accounts/svc-web.yaml", DN: "CN=svc-web," + services,
					Attributes: []plan.AttrChange{{Name: "description", New: "web | site"}, {Name: "accountExpires", New: "134115552000000000"}},
					Reason:     reason("service-accounts/svc-web.yaml", 1, "", "new service account")},
				{ID: "add-member/p-01/domain-admins", Action: plan.AddMember, AccountID: "p-01", Account: "jdoe", Kind: "Person",
					File: "people/jdoe.yaml", DN: "CN=jdoe," + people, Group: "CN=Domain Admins,CN=Users,DC=acme,DC=test", GroupName: "Domain Admins",
					Reason: reason("people/jdoe.yaml", 14, "spec.roles", "role domain-admins grants it")},
			},
			Changed: []preview.Pair[plan.Change]{{
				Base: plan.Change{ID: "update/p-04", Action: plan.Update, AccountID: "p-04", Account: "kfox", Kind: "Person",
					File: "people/kfox.yaml", DN: "CN=kfox," + people,
					Attributes: []plan.AttrChange{{Name: "title", Old: "Engineer", New: "Senior Engineer"}},
					Reason:     reason("people/kfox.yaml", 9, "spec.title", "the file says so")},
				Head: plan.Change{ID: "update/p-04", Action: plan.Update, AccountID: "p-04", Account: "kfox", Kind: "Person",
					File: "people/kfox.yaml", DN: "CN=kfox," + people,
					Attributes: []plan.AttrChange{{Name: "title", Old: "Engineer", New: "Lead Engineer"}},
					Reason:     reason("people/kfox.yaml", 9, "spec.title", "the file says so")},
			}},
			Dropped: []plan.Change{
				{ID: "remove-member/sa-01/backup-operators", Action: plan.RemoveMember, AccountID: "sa-01", Account: "svc-backup", Kind: "ServiceAccount",
					File: "service-accounts/svc-backup.yaml", DN: "CN=svc-backup," + services, Group: "CN=Backup Operators,CN=Builtin,DC=acme,DC=test", GroupName: "Backup Operators",
					Reason: reason("service-accounts/svc-backup.yaml", 3, "spec.roles", "no role grants it")},
			},
		},
		Findings: preview.Delta[plan.Finding]{
			New: []plan.Finding{{ID: "name-taken:sa-02", Kind: plan.FindingNameTaken, Account: "svc-web", AccountID: "sa-02",
				File: "service-accounts/svc-web.yaml", DN: "CN=svc-web," + services,
				Text: "svc-web is not created: its name is held by an account alm does not own (CN=svc-web," + services + ")",
				Fix:  `free the name, or adopt CN=svc-web,` + services + ` by writing alm's marker "alm:sa-02" into its adminDescription`}},
			Changed: []preview.Pair[plan.Finding]{},
			Dropped: []plan.Finding{{ID: "missing-group:vpn users", Kind: plan.FindingMissingGroup, File: "roles/vpn.yaml", Group: "VPN Users",
				Text: `group "VPN Users" (role vpn names it) does not exist below DC=acme,DC=test: 1 account should be members (jdoe) and are not added`,
				Fix:  `create group "VPN Users", or correct the group's name in roles/vpn.yaml`}},
		},
		Warnings: []desired.Warning{{File: "people/jdoe.yaml", Line: 14, Account: "jdoe", Text: "group Domain Admins is not under the groups OU"}},
		Refused:  "1 removal from groups exceeds limits.removeFromGroup (count 0)",
	}
}

// bigResult is a result with n of each list a comment holds: violations
// (every third a denial), changed files and preview changes.
func bigResult(violations, files, changes int) *Result {
	r := &Result{Base: "base0000000000000000", Head: "head0000000000000000", Now: now, Denied: true}
	for i := range violations {
		sev := policy.Warn
		if i%3 == 0 {
			sev = policy.Deny
		}
		r.Violations = append(r.Violations, policy.Violation{File: fmt.Sprintf("people/p%05d.yaml", i), Line: 3, Rule: "naming",
			Message: fmt.Sprintf("person p%05d: %s", i, strings.Repeat("the login does not follow the template's naming rule; ", 4)), Severity: sev})
	}
	for i := range files {
		r.Change.Files = append(r.Change.Files, change.File{Path: fmt.Sprintf("people/p%05d.yaml", i), Class: change.Create,
			Reasons: []change.Reason{{Text: "new person"}}, Granted: []string{"staff", "vpn-users"}})
	}
	if changes > 0 {
		p := samplePreview()
		p.Changes = preview.Delta[plan.Change]{}
		for i := range changes {
			login := fmt.Sprintf("p%05d", i)
			p.Changes.New = append(p.Changes.New, plan.Change{ID: "create/" + login, Action: plan.Create, AccountID: login, Account: login,
				File: "people/" + login + ".yaml", DN: "CN=" + login + ",OU=People,DC=acme,DC=test",
				Attributes: []plan.AttrChange{{Name: "displayName", New: "Person " + login}, {Name: "department", New: "Engineering"}},
				Reason:     desired.Reason{File: "people/" + login + ".yaml", Text: "joiner: startDate is near"}})
		}
		r.Preview = p
	}
	return r
}

// TestMarkdownStaysUnderTheLimit: whatever is long - violations, files,
// the preview, or all of them - the comment stays under GitHub's limit and
// says what it left out and where the rest is; what fits is never cut.
func TestMarkdownStaysUnderTheLimit(t *testing.T) {
	tests := []struct {
		name                      string
		violations, files, change int
		cut                       []string // what the comment must say it left out
	}{
		{name: "small: nothing cut", violations: 5, files: 5, change: 5},
		{name: "many violations", violations: 3000, files: 5, change: 5, cut: []string{"of 3000 violations not shown"}},
		{name: "many files", violations: 2, files: 5000, change: 5, cut: []string{"of 5000 files not shown"}},
		{name: "huge preview", violations: 2, files: 5, change: 4000, cut: []string{"of 4000 changes not shown", "`alm plan --rev head00000000`"}},
		{name: "everything huge", violations: 3000, files: 5000, change: 4000,
			cut: []string{"of 3000 violations", "of 5000 files", "of 4000 changes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bigResult(tt.violations, tt.files, tt.change)
			var b bytes.Buffer
			if err := Markdown(&b, r); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if len(out) >= CommentLimit {
				t.Fatalf("comment is %d bytes, not under %d", len(out), CommentLimit)
			}
			if !strings.HasPrefix(out, Marker) {
				t.Error("comment does not start with the marker")
			}
			for _, want := range tt.cut {
				if !strings.Contains(out, want) {
					t.Errorf("comment does not say %q", want)
				}
			}
			if tt.cut == nil {
				if strings.Contains(out, "not shown here") {
					t.Errorf("a comment that fits was cut:\n%s", out)
				}
				for _, want := range []string{"p00004.yaml", "`p00004`"} {
					if !strings.Contains(out, want) {
						t.Errorf("comment lost %q", want)
					}
				}
				return
			}
			if !strings.Contains(out, limitWhy) || !strings.Contains(out, "The check's log") {
				t.Errorf("a cut comment does not say why and where the rest is")
			}
			// The room is shared: no list is cut to nothing while another fills the comment.
			for _, row := range []string{"| ❌ | `people/p", "| create | `people/p", "| `+` new |"} {
				if !strings.Contains(out, row) {
					t.Errorf("no row %q left in the comment", row)
				}
			}
			// The text keeps everything.
			var full bytes.Buffer
			if err := Text(&full, r); err != nil {
				t.Fatal(err)
			}
			last := fmt.Sprintf("p%05d", max(tt.violations, tt.files, tt.change)-1)
			if !strings.Contains(full.String(), last) {
				t.Errorf("the text output lost %s", last)
			}
		})
	}
}

// TestMarkdownKeepsDenialsFirst: when violations are cut, warnings go
// before any denial does.
func TestMarkdownKeepsDenialsFirst(t *testing.T) {
	r := bigResult(300, 0, 0) // 100 denials fit, 200 warnings do not all
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	denials, warnings := strings.Count(b.String(), "| ❌ |"), strings.Count(b.String(), "| ⚠️ |")
	if denials != 100 || warnings == 0 || warnings >= 200 {
		t.Errorf("%d denials (want all 100) and %d warnings (want some, not all 200)", denials, warnings)
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		name   string
		room   int
		demand []int
		want   []int
	}{
		{"all fit", 100, []int{10, 20, 30}, []int{10, 20, 30}},
		{"equal split", 90, []int{100, 100, 100}, []int{30, 30, 30}},
		{"small ones whole, the rest shared", 100, []int{10, 500, 1000}, []int{10, 45, 45}},
		{"leftover of a small one goes to the others", 100, []int{1000, 20, 1000}, []int{40, 20, 40}},
		{"no room", 0, []int{5, 5}, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shares(tt.room, tt.demand); !slices.Equal(got, tt.want) {
				t.Errorf("shares(%d, %v) = %v, want %v", tt.room, tt.demand, got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"cut", "abcdefgh", 6, "abc…"},
		{"on a rune boundary", "ééééé", 6, "é…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in, tt.n); got != tt.want || len(got) > tt.n {
				t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

// TestNoPreview: when the preview could not be made, both outputs say why.
func TestNoPreview(t *testing.T) {
	r := bigResult(0, 1, 0)
	r.NoPreview = "directory ldaps://127.0.0.1:1: connection refused"
	var md, txt bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := Text(&txt, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"markdown": md.String(), "text": txt.String()} {
		if !strings.Contains(out, "o preview: "+r.NoPreview) {
			t.Errorf("%s does not say why there is no preview:\n%s", name, out)
		}
	}
}
