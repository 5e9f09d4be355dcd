package adopt_test

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/adopt"
	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const base = "DC=example,DC=test"

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// repoFiles is a small access repository: alm.yaml, a template per kind,
// and one role that names a group.
var repoFiles = map[string]string{
	"alm.yaml": `apiVersion: alm/v1
kind: Directory
metadata:
  name: test
spec:
  domain: example.test
  baseDN: DC=example,DC=test
  groupsOU: OU=Groups,OU=ALM
`,
	"templates/employee.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: employee
spec:
  appliesTo: Person
  personTypes: [employee]
  ou: OU=People,OU=ALM
`,
	"templates/service-account.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: service-account
spec:
  appliesTo: ServiceAccount
  ou: OU=Service Accounts,OU=ALM
  lifetime: {default: 180d, max: 365d}
`,
	"roles/vpn-users.yaml": `apiVersion: alm/v1
kind: Role
metadata:
  name: vpn-users
spec:
  groups: [VPN Users]
`,
}

func writeRepo(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range repoFiles {
		write(t, dir, p, content)
	}
	for p, content := range extra {
		write(t, dir, p, content)
	}
	return dir
}

func write(t *testing.T, dir, p, content string) {
	t.Helper()
	full := filepath.Join(dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	people   = "OU=People,OU=ALM," + base
	services = "OU=Service Accounts,OU=ALM," + base
	groups   = "OU=Groups,OU=ALM," + base
)

// domain seeds a directory with unmarked accounts and groups, as a domain
// looks before alm: odd CNs, a manager, groups held alone and in sets.
func domain(t *testing.T) *memory.Directory {
	t.Helper()
	d := memory.New(base)
	for _, ou := range []string{people, services, groups, "OU=Other,OU=ALM," + base} {
		if err := d.AddOU(ou); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"VPN Users", "Finance", "Reports", "Wiki Editors", "Unused"} {
		if err := d.AddGroup("CN="+g+","+groups, g); err != nil {
			t.Fatal(err)
		}
	}
	user := func(dn, name string, uac int, attrs map[string]string, memberOf ...string) {
		t.Helper()
		if uac == 0 {
			uac = directory.UACNormalAccount
		}
		if err := d.AddUser(directory.NewAccount{DN: dn, Name: name, UAC: uac, Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
		for _, g := range memberOf {
			if err := d.AddMember(context.Background(), d.RefOf(g), d.RefOf(dn)); err != nil {
				t.Fatal(err)
			}
		}
	}
	boss := `CN=Brown\, Alice,` + people
	user(boss, "abrown", 0, map[string]string{"givenName": "Alice", "sn": "Brown", "displayName": "Alice Brown",
		"employeeID": "004101", "title": "Head of Finance", "department": "Finance", "mail": "alice.brown@example.test"},
		"CN=VPN Users,"+groups, "CN=Finance,"+groups, "CN=Reports,"+groups)
	user("CN=Carol Davis,"+people, "cdavis", 0, map[string]string{"givenName": "Carol", "sn": "Davis", "displayName": "Carol Davis",
		"title": "Accountant", "department": "Finance", "manager": boss},
		"CN=Finance,"+groups, "CN=Reports,"+groups)
	user("CN=ewu,"+people, "ewu", directory.UACNormalAccount|directory.UACAccountDisable, map[string]string{"givenName": "Eve", "sn": "Wu",
		"displayName": "Eve W.", "employeeID": "004300", "manager": boss,
		"accountExpires": desired.FileTime(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))},
		"CN=Wiki Editors,"+groups)
	user("CN=svc-backup,"+services, "svc-backup", directory.UACNormalAccount|directory.UACDontExpirePassword, map[string]string{
		"description": "Nightly backup", "manager": boss, "displayName": "svc-backup",
		"accountExpires": desired.FileTime(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))},
		"CN=Backup Operators,CN=Builtin,"+base)
	user("CN=svc-odd,"+services, "svc-odd", 0, map[string]string{"description": "Odd expiry",
		"accountExpires": desired.FileTime(time.Date(2026, 9, 1, 15, 30, 0, 0, time.UTC))})
	user("CN=stray,OU=Other,OU=ALM,"+base, "stray", 0, nil)
	user("CN=managed,"+people, "managed", 0, nil)
	if err := d.Modify(context.Background(), d.RefOf("CN=managed,"+people), map[string]string{d.MarkerAttribute(): "alm:000001"}); err != nil {
		t.Fatal(err)
	}
	return d
}

func options(repo string) adopt.Options {
	return adopt.Options{Repo: repo, OUs: []string{people, services, "OU=Other,OU=ALM," + base}, Now: now}
}

func read(t *testing.T, repo, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestImport(t *testing.T) {
	d := domain(t)
	repo := writeRepo(t, nil)
	r, err := adopt.Run(context.Background(), d, options(repo))
	if err != nil {
		t.Fatal(err)
	}
	abrown := read(t, repo, "people/abrown.yaml")
	sa := read(t, repo, "service-accounts/svc-backup.yaml")
	guid := strings.ToLower(strings.ReplaceAll(d.RefOf("CN=svc-backup,"+services).GUID, "-", ""))
	cdavisGUID := strings.ToLower(strings.ReplaceAll(d.RefOf("CN=Carol Davis,"+people).GUID, "-", ""))
	tests := []struct {
		name string
		got  string
		want []string // lines the file must hold
		not  []string // nor these
	}{
		{"modeline", abrown, []string{"# yaml-language-server: $schema=https://alm.dev/schemas/v1/person.schema.json"}, nil},
		{"id from employeeID", abrown, []string{`  id: "004101"`, "  adopt: true", "  name: abrown"}, nil},
		{"id from objectGUID", read(t, repo, "people/cdavis.yaml"), []string{"  id: g" + cdavisGUID[:15]}, nil},
		{"service account id", sa, []string{"  id: sa-" + guid, "  template: service-account"}, nil},
		{"cn pinned", abrown, []string{"  cn: Brown, Alice"}, []string{"displayName"}},
		{"cn pinned in the other order", read(t, repo, "people/cdavis.yaml"), []string{"  cn: Carol Davis", "  manager: abrown"}, nil},
		{"displayName pinned", read(t, repo, "people/ewu.yaml"), []string{"  displayName: Eve W.", "  endDate: 2026-06-30"}, []string{"  cn:"}},
		{"disabled person is suspended", read(t, repo, "people/ewu.yaml"), []string{"    type: suspended", "    from: 2026-03-02"}, nil},
		{"owner from manager", sa, []string{"  owner: abrown", "  expires: 2026-12-31", "  created: 2026-03-02"}, nil},
		{"exact cover and recurring set", abrown, []string{"  roles: [vpn-users, finance-reports]"}, nil},
		{"recurring set shared", read(t, repo, "people/cdavis.yaml"), []string{"  roles: [finance-reports]"}, nil},
		{"singleton", read(t, repo, "people/ewu.yaml"), []string{"  roles: [wiki-editors]"}, nil},
		{"privileged group by DN", read(t, repo, "roles/backup-operators.yaml"), []string{"  groups: ['CN=Backup Operators,CN=Builtin,DC=example,DC=test']", "  privileged: true"}, nil},
		{"group no one holds", read(t, repo, "roles/unused.yaml"), []string{"  groups: [Unused]"}, nil},
		{"non-midnight expiry rounded up", read(t, repo, "service-accounts/svc-odd.yaml"), []string{"  expires: 2026-09-02"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(tc.got, w+"\n") {
					t.Errorf("missing %q in:\n%s", w, tc.got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(tc.got, n) {
					t.Errorf("unexpected %q in:\n%s", n, tc.got)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(repo, "people", "managed.yaml")); err == nil {
		t.Error("an account with alm's marker was imported")
	}
	if len(r.NotImported) != 1 || r.NotImported[0].Account != "stray" {
		t.Errorf("not imported = %+v, want stray only", r.NotImported)
	}
	// The privileged role lacks approvers, svc-odd an owner: the files a
	// person must finish, and nothing else.
	for _, p := range r.Problems {
		if p.Pos.Path != "roles/backup-operators.yaml" && p.Pos.Path != "service-accounts/svc-odd.yaml" {
			t.Errorf("unexpected problem %s", p)
		}
	}
	if len(r.Problems) == 0 {
		t.Error("no problems: the privileged role has no approvers")
	}
	_, problems, err := load.Dir(repo)
	if err != nil || len(problems) != len(r.Problems) {
		t.Errorf("alm validate finds %v (%v), the report %v", problems, err, r.Problems)
	}

	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", stable(text.String()))
}

// stable replaces what differs between runs (GUIDs, the temporary path).
func stable(s string) string {
	return regexp.MustCompile(`[0-9a-f]{32}|g[0-9a-f]{15}`).ReplaceAllString(s, "<guid>")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; got:\n%s", p, got)
	}
}

func TestRerun(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, d *memory.Directory, repo string)
		want   map[string]string // path -> status
		fields map[string]string // path -> the changed fields
		keep   map[string]string // path -> a line kept
	}{
		{name: "nothing changed writes nothing", change: func(*testing.T, *memory.Directory, string) {}},
		{
			name: "a title changed in the directory; what a person added is kept",
			change: func(t *testing.T, d *memory.Directory, repo string) {
				if err := d.Modify(context.Background(), d.RefOf("CN=Carol Davis,"+people), map[string]string{"title": "Controller"}); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(repo, "people", "cdavis.yaml")
				data := strings.Replace(read(t, repo, "people/cdavis.yaml"), "  roles: [finance-reports]", "  roles: [finance-reports, vpn-users] # asked for in PR 12", 1)
				data = strings.Replace(data, "startDate: 2026-03-02", "startDate: 2019-04-01", 1)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want:   map[string]string{"people/cdavis.yaml": adopt.StatusChanged},
			fields: map[string]string{"people/cdavis.yaml": "spec.title"},
			keep:   map[string]string{"people/cdavis.yaml": "  startDate: 2019-04-01\n  roles: [finance-reports, vpn-users] # asked for in PR 12"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := domain(t)
			repo := writeRepo(t, nil)
			if _, err := adopt.Run(context.Background(), d, options(repo)); err != nil {
				t.Fatal(err)
			}
			tc.change(t, d, repo)
			before := snapshot(t, repo)
			r, err := adopt.Run(context.Background(), d, options(repo))
			if err != nil {
				t.Fatal(err)
			}
			after := snapshot(t, repo)
			for _, f := range r.Files {
				want := tc.want[f.Path]
				if want == "" {
					want = adopt.StatusUnchanged
				}
				if f.Status != want {
					t.Errorf("%s: %s, want %s (%v)", f.Path, f.Status, want, f.Fields)
				}
				if w := tc.fields[f.Path]; w != "" && strings.Join(f.Fields, ",") != w {
					t.Errorf("%s: changed %v, want %s", f.Path, f.Fields, w)
				}
				if (before[f.Path] != after[f.Path]) != (want != adopt.StatusUnchanged) {
					t.Errorf("%s: rewritten %v, status %s", f.Path, before[f.Path] != after[f.Path], f.Status)
				}
			}
			for p, line := range tc.keep {
				if !strings.Contains(after[p], line) {
					t.Errorf("%s lost %q:\n%s", p, line, after[p])
				}
			}
			if len(after) != len(before) {
				t.Errorf("%d files before, %d after", len(before), len(after))
			}
		})
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDryRun(t *testing.T) {
	d := domain(t)
	repo := writeRepo(t, nil)
	before := snapshot(t, repo)
	o := options(repo)
	o.DryRun = true
	r, err := adopt.Run(context.Background(), d, o)
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, repo); len(after) != len(before) {
		t.Errorf("a dry run wrote %d files", len(after)-len(before))
	}
	var out bytes.Buffer
	if err := r.WriteFiles(&out); err != nil {
		t.Fatal(err)
	}
	if created, _, _ := r.Count(); created == 0 || strings.Count(out.String(), "--- ") != created {
		t.Errorf("dry run printed %d files, %d new:\n%s", strings.Count(out.String(), "--- "), created, out.String())
	}
	if !strings.Contains(out.String(), "--- people/abrown.yaml (new)\n# yaml-language-server") {
		t.Errorf("dry run output lacks abrown's file:\n%s", out.String())
	}
}

// TestTemplateFlag: --template chooses among the templates of an OU; one
// whose accounts live elsewhere is refused, as alm would not find the
// account there after adopting it.
func TestTemplateFlag(t *testing.T) {
	contractor := map[string]string{"templates/contractor.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: contractor
spec:
  appliesTo: Person
  personTypes: [contractor]
  ou: OU=People,OU=ALM
`}
	for _, tc := range []struct {
		name      string
		templates map[string]string
		file      string // a file that must be written, with this line
		line      string
		refused   string // the account not imported, and why
	}{
		{"another template of the account's OU", map[string]string{"OU=People,OU=ALM": "contractor"}, "people/abrown.yaml", "  template: contractor\n", ""},
		{"a template of another OU", map[string]string{"OU=Other,OU=ALM": "employee"}, "", "",
			"stray: --template OU=Other,OU=ALM=employee: template employee places its accounts in OU=People,OU=ALM," + base + ", not here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options(writeRepo(t, contractor))
			o.Templates, o.DryRun = tc.templates, true
			r, err := adopt.Run(context.Background(), domain(t), o)
			if err != nil {
				t.Fatal(err)
			}
			var refused []string
			for _, s := range r.NotImported {
				refused = append(refused, s.Account+": "+s.Why)
			}
			if tc.refused != "" && !slices.ContainsFunc(refused, func(s string) bool { return strings.HasPrefix(s, tc.refused) }) {
				t.Errorf("not imported %q, want %q", refused, tc.refused)
			}
			if tc.file == "" {
				return
			}
			r.WithContent()
			for _, f := range r.Files {
				if f.Path == tc.file && strings.Contains(f.Content, tc.line) {
					return
				}
			}
			t.Errorf("no %s with %q among %d files", tc.file, tc.line, len(r.Files))
		})
	}
}

// TestEffects: with valid files, the report lists what the first apply
// would change besides the marker - here a description alm keeps empty on
// people and a userPrincipalName that is not login@domain - and says
// "nothing else" when there is nothing.
func TestEffects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		owned string // alm.yaml's attributes line, "" for the default
		want  []string
	}{
		{"nothing but the marker", map[string]string{"userPrincipalName": "jdoe@example.test"}, "", nil},
		{"a description and a userPrincipalName alm would change", map[string]string{"description": "Helpdesk", "userPrincipalName": "jane.doe@example.test"}, "",
			[]string{`update jdoe: userPrincipalName: "jane.doe@example.test" -> "jdoe@example.test"; description: "Helpdesk" -> ""`}},
		{"an account expired in the directory: a leaver once adopted, and said so", map[string]string{"userPrincipalName": "jdoe@example.test",
			"accountExpires": desired.FileTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))}, "",
			[]string{"disable jdoe: userAccountControl: \"512\" -> \"514\""}},
		{"neither, when alm.yaml does not say alm owns them", map[string]string{"description": "Helpdesk", "userPrincipalName": "jane.doe@example.test"},
			"  attributes: [givenName, sn, mail, department, title, manager, accountExpires]\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			almYAML := repoFiles["alm.yaml"] + tc.owned
			repo := writeRepo(t, map[string]string{"alm.yaml": almYAML})
			d := memory.New(base)
			for _, ou := range []string{people, groups} {
				if err := d.AddOU(ou); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.AddGroup("CN=VPN Users,"+groups, "VPN Users"); err != nil { // the role's
				t.Fatal(err)
			}
			attrs := map[string]string{"givenName": "Jane", "sn": "Doe", "displayName": "Jane Doe", "employeeID": "004217"}
			maps.Copy(attrs, tc.attrs)
			if err := d.AddUser(directory.NewAccount{DN: "CN=Jane Doe," + people, Name: "jdoe", UAC: directory.UACNormalAccount, Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			r, err := adopt.Run(context.Background(), d, adopt.Options{Repo: repo, OUs: []string{people}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			r.Text(&text)
			if len(r.Problems) > 0 {
				t.Fatalf("problems:\n%s", text.String())
			}
			var got []string
			for _, e := range r.Effects {
				got = append(got, e.Action+" "+e.Account+": "+e.Text)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("effects\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if tc.attrs["accountExpires"] != "" && !strings.Contains(text.String(), "the account expired on 2026-02-01 (accountExpires): alm takes it as a leaver") {
				t.Errorf("report does not warn of the expired account:\n%s", text.String())
			}
			if len(tc.want) == 0 && !strings.Contains(text.String(), "the plans after it change nothing else") {
				t.Errorf("report does not say nothing else changes:\n%s", text.String())
			}
		})
	}
}
