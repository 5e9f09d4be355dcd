package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/receipt"
)

var admin = historytest.Person{Name: "Anna Smith", Email: "anna.smith@example.test"}

// TestApplyRequireApprovedRefusesDirectPush: a commit pushed straight to
// main is refused by name, before the directory is even contacted (the
// directory given here does not exist), and the refusal is recorded on the
// status branch. Reverting the push, as the advice says, lets the next run
// go on to the directory.
func TestApplyRequireApprovedRefusesDirectPush(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	t.Setenv(ad.EnvBindDN, "CN=alm-bind,CN=Users,DC=example,DC=test")
	t.Setenv(ad.EnvBindPassword, "B1nd-Secr3t")
	repo := historytest.New(t)
	repo.CopyDir("../../examples/acme")
	imported := repo.Commit("Import the access repository", admin)
	repo.Write("service-accounts/svc-sneaky.yaml", `apiVersion: alm/v1
kind: ServiceAccount
metadata: {name: svc-sneaky, id: sa-01SNEAKY}
spec:
  template: service-account
  description: Pushed straight to main, approved by nobody
  owner: jdoe
  custodians: [tnguyen]
  created: 2026-11-20
  expires: 2027-05-01
`)
	pushed := repo.Commit("Add svc-sneaky", historytest.Person{Name: "Mallory", Email: "mallory@example.test"})

	code, out, errOut := runAlm(t, "apply", "--repo", repo.Path, "--require-approved", "--approved-since", imported,
		"--yes", "--directory", "ldaps://127.0.0.1:1")
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}
	for _, want := range []string{pushed[:7], "Add svc-sneaky", "Mallory", "not approved"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("refusal does not name %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out, "svc-sneaky") {
		t.Errorf("a plan was shown for an unapproved change:\n%s", out)
	}

	if !strings.Contains(out, "The refusal is recorded in receipt") || !strings.Contains(out, "status branch alm-status") {
		t.Errorf("the output does not say where the refusal is recorded:\n%s", out)
	}
	rec, err := receipt.Latest(t.Context(), repo.Path, "")
	if err != nil || rec == nil || rec.Refused == nil {
		t.Fatalf("latest receipt %+v, %v; want the refusal", rec, err)
	}
	if rec.Revision != pushed || rec.Refused.By != receipt.ByUnapproved || len(rec.Refused.Commits) != 1 {
		t.Fatalf("refusal %+v of %s, want one commit refused at %s", rec.Refused, rec.Revision, pushed)
	}
	c := rec.Refused.Commits[0]
	if c.Hash != pushed || c.Subject != "Add svc-sneaky" || !strings.Contains(c.Author, "Mallory") || c.Cured ||
		!slices.Equal(c.Files, []string{"service-accounts/svc-sneaky.yaml"}) || !strings.Contains(c.Reason, "pushed straight") {
		t.Errorf("refused commit recorded as %+v", c)
	}
	if !strings.Contains(rec.Refused.Message, "git rm service-accounts/svc-sneaky.yaml") {
		t.Errorf("the recorded refusal does not carry its advice: %s", rec.Refused.Message)
	}
	data, err := receipt.Marshal(*rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "B1nd-Secr3t") || strings.Contains(string(data), "alm-bind") {
		t.Errorf("the refusal's receipt holds the bind credentials:\n%s", data)
	}
	if last, err := receipt.Last(t.Context(), repo.Path, ""); err != nil || last != nil {
		t.Errorf("last applied receipt %+v, %v; want none: nothing was applied", last, err)
	}

	// The advice: remove the file, here straight on the branch.
	repo.Remove("service-accounts/svc-sneaky.yaml")
	repo.Commit("Remove svc-sneaky", admin)
	code, out, errOut = runAlm(t, "apply", "--repo", repo.Path, "--require-approved", "--approved-since", imported,
		"--yes", "--directory", "ldaps://127.0.0.1:1")
	if code == exitOK || strings.Contains(errOut, "not approved") || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("after the revert the run should pass verification and fail only at the directory: exit %d\n%s%s", code, out, errOut)
	}
}

// TestApplyGuardRefusedOnSamba: a plan over a limit exits 3, writes nothing
// to the directory, and records the refusal with the limit exceeded.
func TestApplyGuardRefusedOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	f := newFixture(t, env)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	alm := func(args ...string) (int, string, string) {
		t.Helper()
		return runAlm(t, append(args, "--repo", f.repo.Path, "--directory", env.URL, "--ca-file", env.CAFile,
			"--tls-server-name", env.ServerName)...)
	}
	if code, out, errOut := alm("apply", "--yes"); code != exitOK {
		t.Fatalf("first apply: exit %d\n%s%s", code, out, errOut)
	}
	f.writePerson("Engineering\n  endDate: 2026-11-01")
	leaves := f.repo.Commit("The only person leaves", admin)

	// One disable of one managed account is 100%, over 50% for this run.
	code, out, errOut := alm("apply", "--yes", "--max-disable", "50%")
	if code != exitInvalid || !strings.Contains(errOut, "plan refused") {
		t.Fatalf("exit %d, want %d and the refusal\n%s%s", code, exitInvalid, out, errOut)
	}
	if !strings.Contains(out, "The refusal is recorded in receipt") {
		t.Errorf("the output does not say where the refusal is recorded:\n%s", out)
	}
	rec, err := receipt.Latest(t.Context(), f.repo.Path, "")
	if err != nil || rec == nil || rec.Refused == nil || rec.Revision != leaves {
		t.Fatalf("latest receipt %+v, %v; want the refusal of %s", rec, err, leaves)
	}
	i := slices.IndexFunc(rec.Refused.Limits, func(l receipt.Limit) bool { return l.Kind == "disable" })
	if i < 0 {
		t.Fatalf("the refusal records no disable limit: %+v", rec.Refused.Limits)
	}
	l := rec.Refused.Limits[i]
	if l.Changes != 1 || l.Managed != 1 || l.Fraction != 1 || l.Exceeded != "fraction" ||
		l.Limit.Fraction != 0.5 || l.Source != "--max-disable for this run" || l.Flag != "--max-disable" {
		t.Errorf("limit recorded %+v", l)
	}
	sr, err := env.Conn(t).Search(ldap.NewSearchRequest(f.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+f.login+")", []string{"userAccountControl"}, nil))
	if err != nil || len(sr.Entries) != 1 || sr.Entries[0].GetAttributeValue("userAccountControl") != "512" {
		t.Fatalf("after the refusal the account should still be enabled: %v %v", err, sr)
	}
}

// fixture is a small access repository whose OUs lie under one test OU of
// the shared Samba domain, with logins no other test uses.
type fixture struct {
	repo    *historytest.Repo
	ou      string // the test OU's DN
	login   string
	groupDN string
}

func newFixture(t *testing.T, env *adtest.Env) *fixture {
	t.Helper()
	ou := env.OU(t)
	rel := strings.TrimSuffix(ou, ","+env.BaseDN)
	f := &fixture{repo: historytest.New(t), ou: ou, login: adtest.Unique("u")}
	group := adtest.Unique("g")
	f.groupDN = "CN=" + group + "," + ou
	c := env.Conn(t)
	add := ldap.NewAddRequest(f.groupDN, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{group})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	f.repo.Write("alm.yaml", `apiVersion: alm/v1
kind: Directory
metadata: {name: test}
spec:
  domain: `+env.Domain+`
  baseDN: `+env.BaseDN+`
  groupsOU: `+rel+`
  leaversOU: OU=Leavers,`+rel+`
  limits: {disable: {count: 5}}
`)
	f.repo.Write("templates/employee.yaml", `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: employee}
spec:
  appliesTo: Person
  ou: OU=People,`+rel+`
`)
	f.repo.Write("roles/staff.yaml", `apiVersion: alm/v1
kind: Role
metadata: {name: staff}
spec:
  groups: [`+group+`]
`)
	f.writePerson("Engineering")
	f.repo.Commit("Import", admin)
	return f
}

func (f *fixture) writePerson(department string) {
	f.repo.Write("people/"+f.login+".yaml", `apiVersion: alm/v1
kind: Person
metadata: {name: `+f.login+`, id: "`+f.login[1:]+`"}
spec:
  givenName: Test
  surname: Person
  type: employee
  department: `+department+`
  startDate: 2026-01-05
  roles: [staff]
`)
}

// TestPlanApplyOnSamba drives the commands end to end against the real
// directory: apply, a second plan with nothing to do, a saved plan applied,
// and a saved plan refused once the repository has moved on.
func TestPlanApplyOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	f := newFixture(t, env)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	// Every command keeps its parsed files in one --cache-dir, as a
	// deployment does: each reads the snapshots the one before left.
	cacheDir := t.TempDir()
	common := []string{"--repo", f.repo.Path, "--directory", env.URL, "--ca-file", env.CAFile,
		"--tls-server-name", env.ServerName, "--cache-dir", cacheDir}
	alm := func(args ...string) (int, string, string) {
		t.Helper()
		return runAlm(t, append(args, common...)...)
	}
	t.Cleanup(func() {
		if parts, _ := filepath.Glob(filepath.Join(cacheDir, "files", "*", "*", "part-*")); len(parts) == 0 {
			t.Error("nothing was kept in --cache-dir")
		}
	})

	code, out, errOut := alm("apply", "--yes")
	if code != exitOK || !strings.Contains(out, "+ create") || !strings.Contains(out, "Receipt: ") {
		t.Fatalf("first apply: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, env.Password) {
		t.Fatal("the bind password reached the output")
	}
	code, out, errOut = alm("plan", "--detailed-exitcode")
	if code != exitOK || !strings.Contains(out, "No changes.") {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errOut)
	}

	f.writePerson("Sales")
	f.repo.Commit("Move to Sales", admin)
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, out, errOut = alm("plan", "--detailed-exitcode", "--out", saved)
	if code != exitChanges || !strings.Contains(out, `department: "Engineering" -> "Sales"`) {
		t.Fatalf("plan of the move: exit %d\n%s%s", code, out, errOut)
	}
	// Two hours on, the saved plan is too old, unless allowed for this run.
	atClock(t, "2026-11-22T11:00:00Z")
	code, out, errOut = alm("apply", "--yes", "--plan", saved)
	if code != exitInvalid || !strings.Contains(errOut, "a saved plan may be at most 1h0m0s old") {
		t.Fatalf("apply of a plan two hours old: exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}
	code, out, errOut = alm("apply", "--yes", "--plan", saved, "--max-plan-age", "3h")
	if code != exitOK || !strings.Contains(out, "applied ~ update") {
		t.Fatalf("apply of the saved plan: exit %d\n%s%s", code, out, errOut)
	}

	f.writePerson("Finance")
	f.repo.Commit("Move to Finance", admin)
	code, out, errOut = alm("plan", "--out", saved)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	// A saved plan edited by hand - here to write title instead of
	// department - is refused: apply writes only the plan alm makes itself.
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(tampered, []byte(strings.ReplaceAll(string(data), `"department"`, `"title"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = alm("apply", "--yes", "--plan", tampered)
	if code != exitInvalid || !strings.Contains(errOut, "differs from the plan alm makes now") {
		t.Fatalf("tampered saved plan: exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}

	f.writePerson("Legal")
	f.repo.Commit("Move to Legal instead", admin)
	code, out, errOut = alm("apply", "--yes", "--plan", saved)
	if code != exitInvalid || !strings.Contains(errOut, "make a new plan") {
		t.Fatalf("stale saved plan: exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}
	sr, err := env.Conn(t).Search(ldap.NewSearchRequest(f.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+f.login+")", []string{"department"}, nil))
	if err != nil || len(sr.Entries) != 1 || sr.Entries[0].GetAttributeValue("department") != "Sales" {
		t.Fatalf("after the refused apply the directory should still say Sales: %v %v", err, sr)
	}
}

// TestApplyNeedsYesWithoutTerminal: with no one to ask, apply refuses.
func TestApplyNeedsYesWithoutTerminal(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	f := newFixture(t, env)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	stdin := os.Stdin
	devnull, _ := os.Open(os.DevNull)
	os.Stdin = devnull
	defer func() { os.Stdin = stdin; devnull.Close() }()
	code, out, errOut := runAlm(t, "apply", "--repo", f.repo.Path, "--directory", env.URL, "--ca-file", env.CAFile,
		"--tls-server-name", env.ServerName)
	if code != exitInvalid || !strings.Contains(errOut, "--yes") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestRefusedInputExits3: what can never be run is refused before
// anything is read or written, with exit 3 as documented: --now where alm
// writes, and a directory URL that would leak or send the bind password.
func TestRefusedInputExits3(t *testing.T) {
	t.Setenv(ad.EnvBindDN, "CN=alm-bind,CN=Users,DC=example,DC=test")
	t.Setenv(ad.EnvBindPassword, "B1nd-Secr3t")
	repo := historytest.New(t)
	repo.CopyDir("../../examples/acme")
	repo.Commit("Import the access repository", admin)
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"apply --now", []string{"apply", "--yes", "--now", "2026-11-22T09:00:00Z", "--directory", "ldaps://127.0.0.1:1"}, "--now is for plan, validate, check and demo"},
		{"reconcile --now", []string{"reconcile", "--now", "2026-11-22T09:00:00Z", "--directory", "ldaps://127.0.0.1:1"}, "--now is for plan, validate, check and demo"},
		{"credentials in the URL", []string{"apply", "--yes", "--directory", "ldaps://svc:Pa55word@127.0.0.1:1"}, "holds credentials"},
		{"plain ldap without the opt-in", []string{"plan", "--directory", "ldap://127.0.0.1:1"}, "would send the bind password unencrypted"},
		{"reconcile, plain ldap", []string{"reconcile", "--directory", "ldap://127.0.0.1:1"}, "would send the bind password unencrypted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAlm(t, append(tc.args, "--repo", repo.Path)...)
			if code != exitInvalid || !strings.Contains(errOut, tc.says) {
				t.Errorf("exit %d, want %d saying %q\n%s%s", code, exitInvalid, tc.says, out, errOut)
			}
			if strings.Contains(out+errOut, "Pa55word") || strings.Contains(out+errOut, "B1nd-Secr3t") {
				t.Errorf("a secret reached the output:\n%s%s", out, errOut)
			}
		})
	}
}
