package load

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/reconciler/model"
)

// copyTree copies a fixture repository into a fresh temporary folder.
func copyTree(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return to
}

// edit replaces old with new in a file of dir; the test fails if old is absent.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// names is "p0, p1, ..." for a YAML flow list of n distinct names.
func names(prefix string, n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return strings.Join(out, ", ")
}

func write(t *testing.T, dir, file, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMinimalIsValid(t *testing.T) {
	repo, problems, err := Dir("testdata/minimal")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("problems:\n%s", problems.Error())
	}
	if len(repo.People) != 2 || len(repo.ServiceAccounts) != 1 || len(repo.Roles) != 2 || len(repo.Templates) != 2 || len(repo.Policies) != 1 {
		t.Fatalf("loaded %d people, %d service accounts, %d roles, %d templates, %d policies",
			len(repo.People), len(repo.ServiceAccounts), len(repo.Roles), len(repo.Templates), len(repo.Policies))
	}
	jdoe := repo.People["jdoe"]
	if got := jdoe.Source.At("spec.manager").String(); got != "people/jdoe.yaml:13:3" {
		t.Errorf("position of spec.manager = %s", got)
	}
	if got := jdoe.Spec.StartDate.String(); got != "2026-01-05" {
		t.Errorf("startDate = %s", got)
	}
	if tm := repo.TemplateOf(jdoe); tm == nil || tm.Metadata.Name != "employee" {
		t.Errorf("template of jdoe = %v", tm)
	}
}

// TestTimeZone: alm.yaml's spec.timeZone is the zone of the repository's
// dates, UTC when left out.
func TestTimeZone(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"left out", "", "UTC"},
		{"UTC", "  timeZone: UTC\n", "UTC"},
		{"east of UTC", "  timeZone: Pacific/Auckland\n", "Pacific/Auckland"},
		{"west of UTC", "  timeZone: America/Los_Angeles\n", "America/Los_Angeles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/minimal")
			edit(t, dir, "alm.yaml", "  groupsOU:", tc.line+"  groupsOU:")
			repo, problems, err := Dir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Fatalf("problems:\n%s", problems.Error())
			}
			if got := repo.Zone().String(); got != tc.want {
				t.Errorf("zone %s, want %s", got, tc.want)
			}
		})
	}
}

// TestAlerts: alm.yaml's spec.alerts is read with its intervals; a value
// the schema refuses is a problem at its line.
func TestAlerts(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    *model.Alerts
		problem string // "path:line:col: message", a prefix of it; empty when it loads
	}{
		{"left out", "", nil, ""},
		{"in full", "  alerts:\n    to: [ops@example.test, oncall@example.test]\n    noSuccessWithin: 2h\n    leaseHeldLongerThan: 30m\n",
			&model.Alerts{To: []string{"ops@example.test", "oncall@example.test"}, NoSuccessWithin: model.MustInterval("2h"), LeaseHeldLongerThan: model.MustInterval("30m")}, ""},
		{"recipients only", "  alerts: {to: [ops@example.test]}\n", &model.Alerts{To: []string{"ops@example.test"}}, ""},
		{"an interval in seconds", "  alerts:\n    noSuccessWithin: 90s\n", nil, `alm.yaml:12:5: "spec.alerts.noSuccessWithin" is "90s": it must be an interval`},
		{"not an address", "  alerts:\n    to: [ops]\n", nil, `alm.yaml:12:10: "spec.alerts.to[0]" is "ops": it must be an e-mail address`},
		{"an unknown field", "  alerts:\n    after: 2h\n", nil, `alm.yaml:12:5: unknown field "spec.alerts.after"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/minimal")
			write(t, dir, "alm.yaml", mustRead(t, "testdata/minimal/alm.yaml")+tc.yaml)
			repo, problems, err := Dir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem != "" {
				if len(problems) != 1 || !strings.Contains(problems[0].String(), tc.problem) {
					t.Fatalf("problems:\n%s\nwant one with %q", problems.Error(), tc.problem)
				}
				return
			}
			if len(problems) > 0 {
				t.Fatalf("problems:\n%s", problems.Error())
			}
			if !reflect.DeepEqual(repo.Directory.Spec.Alerts, tc.want) {
				t.Errorf("alerts = %+v, want %+v", repo.Directory.Spec.Alerts, tc.want)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestProblems breaks the minimal repository one way per case and expects
// exactly the problems named, each at its place.
func TestProblems(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string // "path:line[:col]" followed by a fragment of the message
	}{
		{"YAML syntax", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "  surname: Doe\n", "  surname: Doe\n   bad: [\n")
		}, []string{"people/jdoe.yaml:9 YAML syntax"}},
		{"YAML syntax found by the parser: an unclosed list", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "roles: [vpn-users]", "roles: [vpn-users")
		}, []string{"people/jdoe.yaml:15 YAML syntax: did not find expected ',' or ']'"}},
		{"YAML syntax found by the parser: a key out of place", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "  surname: Doe\n", "  surname: Doe\n - x\n")
		}, []string{"people/jdoe.yaml:9 YAML syntax: did not find expected key"}},
		{"unknown field", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "  owner: jdoe", "  owner: jdoe\n  ownr: jdoe")
		}, []string{"service-accounts/svc-backup.yaml:10:3 ownr"}},
		{"wrong type", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "custodians: [asmith]", "custodians: asmith")
		}, []string{"service-accounts/svc-backup.yaml:10:3 custodians"}},
		{"date that does not exist", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "startDate: 2026-01-05", "startDate: 2026-13-45")
		}, []string{`people/jdoe.yaml:14:3 "spec.startDate" is "2026-13-45": it must be a calendar date`}},
		{"bad duration", func(t *testing.T, d string) {
			edit(t, d, "templates/employee.yaml", "provisionAhead: 7d", "provisionAhead: 7 days")
		}, []string{"templates/employee.yaml:10:3 provisionAhead"}},
		{"duration that overflows", func(t *testing.T, d string) {
			edit(t, d, "templates/employee.yaml", "provisionAhead: 7d", "provisionAhead: 99999999999w")
		}, []string{`templates/employee.yaml:10:19 spec.provisionAhead: duration "99999999999w" is longer than 36500d (100 years)`}},
		{"duration in a flow mapping past the maximum", func(t *testing.T, d string) {
			edit(t, d, "templates/employee.yaml", "retention: 90d", "retention: 36500d1h")
		}, []string{`templates/employee.yaml:11:40 spec.leaver.retention: duration "36500d1h" is longer than 36500d`}},
		{"the longest duration is accepted", func(t *testing.T, d string) {
			edit(t, d, "templates/employee.yaml", "retention: 90d", "retention: 36500d")
		}, nil},
		{"limit fraction that is not a number", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  retiredOU: OU=Retired,OU=ALM\n", "  retiredOU: OU=Retired,OU=ALM\n  limits: {disable: {fraction: .nan}}\n")
		}, []string{`alm.yaml:11:22 "spec.limits.disable.fraction" must be a number, not ".nan"`}},
		{"limit fraction that is infinite", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  retiredOU: OU=Retired,OU=ALM\n", "  retiredOU: OU=Retired,OU=ALM\n  limits:\n    delete: {count: 1, fraction: -.inf}\n")
		}, []string{`alm.yaml:12:24 "spec.limits.delete.fraction" must be a number, not "-.inf"`}},
		{"naming pattern too long to compile", func(t *testing.T, d string) {
			edit(t, d, "templates/employee.yaml", "naming: '^[a-z][a-z0-9]{1,19}$'", "naming: '"+strings.Repeat("(?:a|b){1000}", 100)+"'")
		}, []string{`templates/employee.yaml:8:3 "spec.naming" must be a regular expression (RE2 syntax): 1300 characters, more than the 1000 alm compiles`}},
		{"role of more groups than a logon holds", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "groups: [VPN Users]", "groups: [VPN Users, "+names("G", 1000)+"]")
		}, []string{`roles/vpn-users.yaml "spec.groups" must list at most 1000 items`}},
		{"protected list too long to compare", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  retiredOU: OU=Retired,OU=ALM\n", "  retiredOU: OU=Retired,OU=ALM\n  protected: ["+names("p", 1001)+"]\n")
		}, []string{`alm.yaml:11:3 "spec.protected" must list at most 1000 items, not 1001`}},
		{"duplicate login ignoring case", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "people/jdoe.yaml"))
			s := strings.Replace(string(data), "name: jdoe", "name: JDoe", 1)
			write(t, d, "people/JDoe.yaml", strings.Replace(s, `"004217"`, `"004218"`, 1))
		}, []string{
			`people/JDoe.yaml:4:3 "JDoe" does not match template employee's naming pattern`,
			`people/jdoe.yaml:4:3 "jdoe" is also used by people/JDoe.yaml`,
		}},
		{"a service account's review by an owner who may not approve it", func(t *testing.T, d string) {
			edit(t, d, "templates/service-account.yaml", "  lifetime:", "  review: {every: 180d, by: owner}\n  lifetime:")
		}, []string{`templates/service-account.yaml:9:25 spec.review.by: owner: owners may not approve changes to their own accounts (spec.ownerMayApprove is false)`}},
		{"a service account's review by an owner who may approve it", func(t *testing.T, d string) {
			edit(t, d, "templates/service-account.yaml", "  lifetime:", "  review: {every: 180d, by: owner}\n  ownerMayApprove: true\n  lifetime:")
		}, nil},
		{"a service account's review by the owner's manager", func(t *testing.T, d string) {
			edit(t, d, "templates/service-account.yaml", "  lifetime:", "  review: {every: 180d, by: owner-manager}\n  lifetime:")
		}, nil},
		{"a group by a DN that does not parse", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "groups: [VPN Users]", "groups: ['CN=VPN Users,,DC=example']")
		}, []string{`roles/vpn-users.yaml:6:12 spec.groups[0]: "CN=VPN Users,,DC=example" is not a DN`}},
		{"a privileged group in a role not marked privileged", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "groups: [VPN Users]", "groups: [VPN Users, 'CN=Domain Admins,CN=Users,DC=example,DC=test', backup operators]")
		}, []string{`roles/vpn-users.yaml:6:23 spec.groups[1]: "CN=Domain Admins,CN=Users,DC=example,DC=test" is one of Active Directory's privileged groups`,
			`roles/vpn-users.yaml:6:71 spec.groups[2]: "backup operators" is one of Active Directory's privileged groups`}},
		{"a login of a built-in account", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "people/jdoe.yaml"))
			s := strings.Replace(strings.Replace(string(data), "name: jdoe", "name: Guest", 1), `"004217"`, `"000501"`, 1)
			write(t, d, "people/Guest.yaml", s)
		}, []string{`people/Guest.yaml:4:3 metadata.name: "Guest" does not match`, `people/Guest.yaml:4:3 metadata.name: "Guest" is a built-in account of Active Directory`}},
		{"duplicate id", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "people/jdoe.yaml"))
			write(t, d, "people/jroe.yaml", strings.Replace(string(data), "name: jdoe", "name: jroe", 1))
		}, []string{`people/jroe.yaml:5:3 "004217" is also the id of people/jdoe.yaml`}},
		{"owner does not exist", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "owner: jdoe", "owner: nobody")
		}, []string{`service-accounts/svc-backup.yaml:9:3 spec.owner: person "nobody" does not exist`}},
		{"custodian does not exist", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "custodians: [asmith]", "custodians: [asmith, ghost]")
		}, []string{`service-accounts/svc-backup.yaml:10:24 spec.custodians[1]: person "ghost" does not exist`}},
		{"manager does not exist", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "manager: asmith", "manager: bwayne")
		}, []string{`people/jdoe.yaml:13:3 spec.manager: person "bwayne" does not exist`}},
		{"template does not exist", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "template: service-account", "template: robot")
		}, []string{`service-accounts/svc-backup.yaml:7:3 spec.template: template "robot" does not exist`}},
		{"role does not exist", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "roles: [vpn-users]", "roles: [vpn-users, wifi]")
		}, []string{`people/jdoe.yaml:15:22 spec.roles[1]: role "wifi" does not exist`}},
		{"contractor without endDate", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "type: employee", "type: contractor")
		}, []string{"people/jdoe.yaml endDate"}},
		{"name against the template's pattern", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "service-accounts/svc-backup.yaml"))
			os.Remove(filepath.Join(d, "service-accounts/svc-backup.yaml"))
			write(t, d, "service-accounts/backup.yaml", strings.Replace(string(data), "name: svc-backup", "name: backup", 1))
		}, []string{`service-accounts/backup.yaml:4:3 "backup" does not match template service-account's naming pattern`}},
		{"login too long", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "people/jdoe.yaml"))
			os.Remove(filepath.Join(d, "people/jdoe.yaml"))
			write(t, d, "people/janedoetheyoungerofthat.yaml", strings.Replace(string(data), "name: jdoe", "name: janedoetheyoungerofthat", 1))
			edit(t, d, "service-accounts/svc-backup.yaml", "owner: jdoe", "owner: janedoetheyoungerofthat")
		}, []string{
			`people/janedoetheyoungerofthat.yaml:4:3 "metadata.name" must be at most 20 characters long, not 23`, // and not matched against the naming pattern
			`service-accounts/svc-backup.yaml:9:3 "spec.owner" must be at most 20 characters long`,
		}},
		{"expiry past the template's maximum", func(t *testing.T, d string) {
			edit(t, d, "service-accounts/svc-backup.yaml", "expires: 2027-05-31", "expires: 2027-06-02")
		}, []string{"service-accounts/svc-backup.yaml:13:3 spec.expires: 2027-06-02 is past template service-account's maximum lifetime of 365d from created 2026-06-01"}},
		{"file named apart from its object", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "name: vpn-users", "name: vpn")
			edit(t, d, "people/jdoe.yaml", "roles: [vpn-users]", "roles: [vpn]")
			edit(t, d, "service-accounts/svc-backup.yaml", "roles: [vpn-users]", "roles: [vpn]")
		}, []string{`roles/vpn-users.yaml:4:3 metadata.name: "vpn" does not match the file name vpn-users.yaml`}},
		{"kind in the wrong folder", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "kind: Role", "kind: Person")
			edit(t, d, "people/jdoe.yaml", "roles: [vpn-users]", "roles: []")
			edit(t, d, "service-accounts/svc-backup.yaml", "roles: [vpn-users]", "roles: []")
		}, []string{"roles/vpn-users.yaml:2:1 kind: Person does not belong in roles/"}},
		{"endDate before startDate", func(t *testing.T, d string) {
			edit(t, d, "people/jdoe.yaml", "  startDate: 2026-01-05", "  startDate: 2026-01-05\n  endDate: 2025-12-31")
		}, []string{"people/jdoe.yaml:15:3 spec.endDate: 2025-12-31 is before startDate 2026-01-05"}},
		{"management chain loops", func(t *testing.T, d string) {
			edit(t, d, "people/asmith.yaml", "  startDate: 2020-03-02", "  manager: jdoe\n  startDate: 2020-03-02")
		}, []string{
			"people/asmith.yaml:13:3 spec.manager: management chain loops back to asmith",
			"people/jdoe.yaml:13:3 spec.manager: management chain loops back to jdoe",
		}},
		{"two templates claim one person type", func(t *testing.T, d string) {
			data, _ := os.ReadFile(filepath.Join(d, "templates/employee.yaml"))
			s := strings.Replace(string(data), "name: employee", "name: staff", 1)
			write(t, d, "templates/staff.yaml", strings.Replace(s, "personTypes: [employee, contractor]", "personTypes: [partner, employee]", 1))
		}, []string{`templates/staff.yaml:7:26 spec.personTypes[1]: person type "employee" is claimed by template employee already`}},
		{"time zone that does not exist", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  baseDN: DC=example,DC=test", "  baseDN: DC=example,DC=test\n  timeZone: Europe/Berln")
		}, []string{`alm.yaml:8:13 time zone "Europe/Berln" is not an IANA time zone: write a name such as Europe/Berlin`}},
		{"time zone of the machine", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  baseDN: DC=example,DC=test", "  baseDN: DC=example,DC=test\n  timeZone: Local")
		}, []string{`alm.yaml:8:13 time zone "Local" is this machine's zone`}},
		{"time zone that is not a name", func(t *testing.T, d string) {
			edit(t, d, "alm.yaml", "  baseDN: DC=example,DC=test", "  baseDN: DC=example,DC=test\n  timeZone: ../../etc/passwd")
		}, []string{`alm.yaml:8:3 "spec.timeZone" is "../../etc/passwd": it must be an IANA time zone name such as Europe/Berlin or UTC`}},
		{"a group renamed to a name the role does not give", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "  groups: [VPN Users]", "  groups: [VPN Users]\n  renamedGroups: [{from: Old VPN, to: Remote Access}]")
		}, []string{`roles/vpn-users.yaml:7:35 "Remote Access" is not one of spec.groups`}},
		{"a group renamed away from a name another role still gives", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "  groups: [VPN Users]", "  groups: [Remote Access]\n  renamedGroups: [{from: Security Approvers, to: Remote Access}]")
		}, []string{`roles/vpn-users.yaml:7:20 role security-approvers still names "Security Approvers"`}},
		{"a rename then a rename back to the role's name is one chain", func(t *testing.T, d string) {
			edit(t, d, "roles/vpn-users.yaml", "  groups: [VPN Users]", "  groups: [VPN Users]\n  renamedGroups: [{from: VPN, to: Remote}, {from: Remote, to: VPN Users}]")
		}, nil},
		{"missing alm.yaml", func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "alm.yaml"))
		}, []string{"alm.yaml missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/minimal")
			tc.break_(t, dir)
			_, problems, err := Dir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(problems), len(tc.want), problems.Error())
			}
			for i, w := range tc.want {
				pos, fragment, _ := strings.Cut(w, " ")
				got := problems[i]
				if got.Pos.String() != pos && !strings.HasPrefix(got.Pos.String(), pos+":") {
					t.Errorf("problem %d at %s, want %s: %s", i, got.Pos, pos, got.Message)
				}
				if !strings.Contains(got.Message, fragment) {
					t.Errorf("problem %d: %q does not say %q", i, got.Message, fragment)
				}
			}
		})
	}
}

// TestRevision loads an older commit of a real Git repository and leaves
// the working tree as it was.
func TestRevision(t *testing.T) {
	dir := copyTree(t, "testdata/minimal")
	_, commit := gitRepo(t, dir)
	good := commit("valid")
	edit(t, dir, "people/jdoe.yaml", "manager: asmith", "manager: nobody")
	bad := commit("break the manager")
	edit(t, dir, "people/jdoe.yaml", "givenName: Jane", "givenName: Janet") // uncommitted

	repo, problems, err := Revision(context.Background(), dir, good)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 || repo.Revision != good || repo.People["jdoe"].Spec.GivenName != "Jane" {
		t.Fatalf("at %s: revision %s, given name %q, problems %v", good, repo.Revision, repo.People["jdoe"].Spec.GivenName, problems)
	}
	_, problems, err = Revision(context.Background(), dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Message, `"nobody"`) {
		t.Fatalf("at HEAD (%s): %v", bad, problems)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "people/jdoe.yaml"))
	if !strings.Contains(string(data), "givenName: Janet") {
		t.Fatal("loading a revision changed the working tree")
	}
	if _, _, err := Revision(context.Background(), dir, "no-such-branch"); err == nil || !strings.Contains(err.Error(), "no-such-branch") {
		t.Fatalf("unknown revision: %v", err)
	}
}

// TestReads: what the loader reads is what --require-approved must see approved.
func TestReads(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"alm.yaml", true},
		{"people/jdoe.yaml", true},
		{"service-accounts/svc-web.yml", true},
		{"templates/employee.yaml", true},
		{"roles/vpn-users.yaml", true},
		{"policies/descriptions.rego", true},
		{"README.md", false},
		{"people/README.md", false},
		{"people/archive/jdoe.yaml", false},
		{"policies/data.json", false},
		{"docs/alm.yaml", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := Reads(tt.path); got != tt.want {
				t.Errorf("Reads(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// gitRepo makes dir a Git repository; commit commits all it holds.
func gitRepo(t *testing.T, dir string) (*git.Repository, func(msg string) string) {
	t.Helper()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	sig := &object.Signature{Name: "Test", Email: "test@example.test", When: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	return r, func(msg string) string {
		t.Helper()
		if err := wt.AddGlob("."); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, AllowEmptyCommits: true})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
}

// TestCache: two revisions loaded through one cache give what loading each
// alone gives - objects, problems and policies - with the shared files
// parsed once, and each repository its own objects.
func TestCache(t *testing.T) {
	dir := copyTree(t, "testdata/minimal")
	r, commit := gitRepo(t, dir)
	base := commit("valid")
	edit(t, dir, "people/jdoe.yaml", "manager: asmith", "manager: nobody")
	head := commit("break the manager")

	ctx := context.Background()
	cache := NewCache()
	for _, rev := range []string{base, head, base} {
		want, wantProblems, err := Commit(ctx, r, rev)
		if err != nil {
			t.Fatal(err)
		}
		got, gotProblems, err := cache.Commit(ctx, r, rev)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
			t.Errorf("%s through the cache differs from a load of its own:\n%+v\n%v", rev[:8], got, gotProblems)
		}
	}
	if n := len(cache.files); n != len(files(t, r, base))+1 {
		t.Errorf("%d files in the cache: want each file of base once, and head's jdoe", n)
	}
	a, _, _ := cache.Commit(ctx, r, base)
	b, _, _ := cache.Commit(ctx, r, base)
	if a.People["asmith"] == b.People["asmith"] {
		t.Error("two loads share a person: a change to one would show in the other")
	}
	// Loads of base alone: head's jdoe, unused, is dropped after keepLoads.
	for range keepLoads {
		if _, _, err := cache.Commit(ctx, r, base); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cache.files); n != len(files(t, r, base)) {
		t.Errorf("%d files in the cache after %d loads of base: want base's alone", n, keepLoads)
	}
}

func files(t *testing.T, r *git.Repository, rev string) []string {
	t.Helper()
	c, err := r.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := c.Tree()
	var out []string
	_ = tree.Files().ForEach(func(f *object.File) error {
		if wanted(f.Name) {
			out = append(out, f.Name)
		}
		return nil
	})
	return out
}
