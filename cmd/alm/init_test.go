package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/go-ldap/ldap/v3"
)

var exampleFlags = []string{"--domain", "example.test", "--base-dn", "DC=example,DC=test"}

// withStdin makes the rest of the test read answers from text, and be at a
// terminal or not.
func withStdin(t *testing.T, text string, atTerminal bool) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	stdin, term := os.Stdin, terminal
	os.Stdin = f
	if atTerminal {
		terminal = func() bool { return true }
	}
	t.Cleanup(func() { os.Stdin, terminal = stdin, term; f.Close() })
}

func TestInit(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		before   map[string]string // files in DIR before
		stdin    string
		terminal bool // a person is at the terminal (else stdin is a file)
		code     int
		says     string // on stderr
		baseDN   string // alm.yaml's baseDN, when init succeeds
	}{
		{name: "flags", args: exampleFlags, baseDN: "DC=example,DC=test"},
		{name: "every flag", args: []string{"--domain", "corp.example.com", "--base-dn", "DC=corp,DC=example,DC=com", "--ou", "OU=Identity",
			"--time-zone", "Europe/Berlin", "--url", "ldaps://dc1.corp.example.com:636"}, baseDN: "DC=corp,DC=example,DC=com"},
		{name: "asked at the terminal", stdin: "corp.example.com\n\n", terminal: true, baseDN: "DC=corp,DC=example,DC=com"},
		{name: "base DN answered", args: []string{"--domain", "example.test"}, stdin: "OU=Lab,DC=example,DC=test\n", terminal: true, baseDN: "OU=Lab,DC=example,DC=test"},
		{name: "no flags, no terminal", code: exitInvalid, says: "--domain is required (no terminal to ask at)"},
		{name: "no base DN, no terminal", args: []string{"--domain", "example.test"}, code: exitInvalid, says: "--base-dn is required"},
		{name: "nothing answered", stdin: "\n", terminal: true, code: exitInvalid, says: "--domain is required"},
		{name: "an existing file", args: exampleFlags, before: map[string]string{"alm.yaml": "mine\n"}, code: exitInvalid, says: "alm.yaml exists already"},
		{name: "existing files", args: exampleFlags, before: map[string]string{"alm.yaml": "mine\n", "README.md": "mine\n"}, code: exitInvalid,
			says: "2 files init writes exist already"},
		{name: "forced", args: append([]string{"--force"}, exampleFlags...), before: map[string]string{"alm.yaml": "mine\n"}, baseDN: "DC=example,DC=test"},
		{name: "other files", args: exampleFlags, before: map[string]string{"LICENSE": "mine\n", "people/.keep": ""}, baseDN: "DC=example,DC=test"},
		{name: "a bad time zone", args: append([]string{"--time-zone", "Mars/Olympus"}, exampleFlags...), code: exitInvalid, says: "--time-zone: "},
		{name: "markdown", args: append([]string{"--format", "markdown"}, exampleFlags...), code: exitInvalid, says: "init prints text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin, tt.terminal)
			dir := filepath.Join(t.TempDir(), "access")
			for p, data := range tt.before {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut := runAlm(t, append([]string{"init", dir}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.says) {
				t.Fatalf("exit %d, want %d saying %q\n%s%s", code, tt.code, tt.says, out, errOut)
			}
			if tt.code != exitOK {
				for p, data := range tt.before {
					if got, _ := os.ReadFile(filepath.Join(dir, p)); string(got) != data {
						t.Errorf("%s changed to %q", p, got)
					}
				}
				if _, err := os.Stat(filepath.Join(dir, "templates")); err == nil {
					t.Error("init refused but wrote templates/")
				}
				return
			}
			if !strings.Contains(out, "  alm.yaml\n") || !strings.Contains(out, "  .github/workflows/alm.yaml\n") {
				t.Errorf("output does not list what init wrote:\n%s", out)
			}
			alm, _ := os.ReadFile(filepath.Join(dir, "alm.yaml"))
			if !strings.Contains(string(alm), "  baseDN: "+tt.baseDN+" ") {
				t.Errorf("alm.yaml does not hold baseDN %s:\n%s", tt.baseDN, alm)
			}
			if code, out, errOut := runAlm(t, "validate", "--repo", dir); code != exitOK {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
			}
			// The same, committed: alm validate --rev reads the commit.
			commitAll(t, dir)
			if code, out, errOut := runAlm(t, "validate", "--repo", dir, "--rev", "HEAD"); code != exitOK || !strings.Contains(out, "2 templates") {
				t.Fatalf("validate --rev HEAD: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

func TestInitJSON(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runAlm(t, append([]string{"init", dir, "--format", "json"}, exampleFlags...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var got struct {
		Directory string
		Wrote     []string
		Valid     bool
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || dec.More() {
		t.Fatalf("not one JSON document (%v):\n%s", err, out)
	}
	for _, want := range []string{"alm.yaml", "templates/employee.yaml", "templates/service-account.yaml", "README.md",
		".github/workflows/alm.yaml", ".alm/schemas/serviceaccount.schema.json", "people/README.md", "service-accounts/README.md"} {
		if !slices.Contains(got.Wrote, want) {
			t.Errorf("wrote %v, want %s among them", got.Wrote, want)
		}
	}
	if got.Directory != dir || !got.Valid {
		t.Errorf("directory %q valid %v", got.Directory, got.Valid)
	}
	for _, p := range got.Wrote {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("listed but not written: %v", err)
		}
	}
}

func commitAll(t *testing.T, dir string) {
	t.Helper()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit("alm init", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// TestInitPlanOnSamba: a repository from alm init, with one person written
// by hand and a service account from alm new, planned against the real
// directory: the two OUs the accounts live in and the two accounts are
// created, and nothing else.
func TestInitPlanOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	base := env.OU(t) // the test's own OU stands in for the domain's DN
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	// Nothing is made by hand: alm creates the OUs (OU=ALM included) itself.
	dir := t.TempDir()
	if code, out, errOut := runAlm(t, "init", dir, "--domain", env.Domain, "--base-dn", base, "--url", env.URL); code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	person := adtest.Unique("u")
	if err := os.WriteFile(filepath.Join(dir, "people", person+".yaml"), []byte(`apiVersion: alm/v1
kind: Person
metadata: {name: `+person+`, id: "`+person[1:]+`"}
spec:
  givenName: Test
  surname: Person
  type: employee
  startDate: 2026-01-05
`), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := adtest.Unique("svc-")
	if code, out, errOut := runAlm(t, "new", "service-account", svc, "--owner", person, "--description", "Demo of alm init", "--repo", dir); code != exitOK {
		t.Fatalf("new service-account: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := runAlm(t, "plan", "--repo", dir, "--directory", env.URL, "--ca-file", env.CAFile,
		"--tls-server-name", env.ServerName, "--format", "json")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	p, err := plan.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatalf("decode plan: %v\n%s", err, out)
	}
	var got []string
	for _, c := range p.Changes {
		change := string(c.Action) + " " + c.DN
		if c.Action == plan.Update {
			for _, a := range c.Attributes {
				change += " " + a.Name + "=" + a.New
			}
		}
		got = append(got, change)
	}
	people, services := "OU=People,OU=ALM,"+base, "OU=Service Accounts,OU=ALM,"+base
	person, service := "CN="+person+","+people, "CN="+svc+","+services
	want := []string{
		"create-ou " + people,
		"create-ou " + services,
		"create " + person,
		"create " + service,
		// The owner is the service account's manager, set once both exist.
		"update " + service + " manager=" + person,
		"enable " + person,
		"enable " + service,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("changes\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(p.Findings) > 0 || len(p.Orphans) > 0 {
		t.Errorf("findings %v, orphans %v: want none in a new OU", p.Findings, p.Orphans)
	}

	// Committed and applied, the directory then matches.
	commitAll(t, dir)
	conn := []string{"--repo", dir, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	if code, out, errOut := runAlm(t, append([]string{"apply", "--yes"}, conn...)...); code != exitOK || !strings.Contains(out, "Apply: 7 applied, 0 failed") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runAlm(t, append([]string{"plan", "--detailed-exitcode"}, conn...)...); code != exitOK || !strings.Contains(out, "No changes. The directory matches") {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errOut)
	}
}

// TestAcmeOnFreshDomain: alm apply of examples/acme, as written, against a
// domain where nothing was made for it but OU=ALM, delegated to alm's
// account as docs/permissions.md says (binding as the administrator, alm
// creates OU=ALM too): the OUs below it, the groups the roles name and the
// accounts are created; a second plan is empty.
func TestAcmeOnFreshDomain(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	root := env.Root(t, "OU=ALM")
	repo := copyExample(t)
	commitAll(t, repo)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	conn := []string{"--repo", repo, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	code, out, errOut := runAlm(t, append([]string{"apply", "--yes"}, conn...)...)
	if code != exitOK || !strings.Contains(out, " 0 failed, 0 skipped.") || !strings.Contains(out, "+ create-group") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runAlm(t, append([]string{"plan", "--detailed-exitcode"}, conn...)...); code != exitOK || !strings.Contains(out, "No changes. The directory matches") {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errOut)
	}

	c := env.Conn(t)
	search := func(base, filter string, attrs ...string) []*ldap.Entry {
		t.Helper()
		sr, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
		if err != nil {
			t.Fatalf("search %s: %v", base, err)
		}
		return sr.Entries
	}
	groups := search("OU=Groups,"+root, "(objectClass=group)", "sAMAccountName", "adminDescription", "groupType", "member")
	if len(groups) != 10 {
		t.Errorf("%d groups below OU=Groups,%s, want the 10 acme's roles name", len(groups), root)
	}
	for _, g := range groups {
		name := g.GetAttributeValue("sAMAccountName")
		if g.GetAttributeValue("adminDescription") != "alm:group:"+strings.ToLower(name) || g.GetAttributeValue("groupType") != "-2147483646" {
			t.Errorf("group %s: marker %q, groupType %s; want alm's group marker, a global security group", g.DN,
				g.GetAttributeValue("adminDescription"), g.GetAttributeValue("groupType"))
		}
	}
	vpn := search("OU=Groups,"+root, "(sAMAccountName=VPN Users)", "member")
	if len(vpn) != 1 || len(vpn[0].GetAttributeValues("member")) == 0 {
		t.Errorf("VPN Users: %v, want members", vpn)
	}
	people := search("OU=People,"+root, "(objectClass=user)", "sAMAccountName")
	if len(people) == 0 {
		t.Error("no accounts in OU=People")
	}
}
