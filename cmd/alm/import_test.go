package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/adopt"
	"github.com/alm-project/alm/adopt/adopttest"
	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/go-ldap/ldap/v3"
)

func TestImportFlags(t *testing.T) {
	repo := copyExample(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no OU", []string{"import", "--directory", "ldaps://127.0.0.1:1"}, "--ou: name at least one OU"},
		{"bad template", []string{"import", "--ou", "OU=X,DC=example,DC=test", "--template", "employee"}, "--template \"employee\": write OU-DN=TEMPLATE"},
		{"bad person type", []string{"import", "--ou", "OU=X,DC=example,DC=test", "--person-type", "intern"}, "--person-type \"intern\""},
		{"bad start date", []string{"import", "--ou", "OU=X,DC=example,DC=test", "--start-date", "monday"}, "--start-date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAlm(t, append(tc.args, "--repo", repo)...)
			if code != exitInvalid || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d and %q\n%s%s", code, exitInvalid, tc.want, out, errOut)
			}
		})
	}
}

// TestImportOnSamba is day one on a real domain: 200 hand-made accounts
// (people with employeeIDs, managers, titles and CNs such as "Brown,
// Alice"; service accounts with an expiry; 10 groups, some nested, and a
// BUILTIN group) imported, validated and committed; the plan then holds
// only adopt changes; after apply every attribute of every account is as it
// was, but the marker; a second plan is empty, and import writes nothing.
func TestImportOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	ou := env.OU(t)
	dom, err := adopttest.Build(env.Conn(t), env.BaseDN, ou, adopttest.Options{People: 180, Services: 20,
		Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Domain: env.Domain})
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	for p, content := range dom.Repo(env.Domain) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	conn := []string{"--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	imp := func(extra ...string) (int, string, string) {
		return runAlm(t, append(append([]string{"import", "--repo", repo, "--ou", dom.People, "--ou", dom.Services}, conn...), extra...)...)
	}
	code, out, errOut := imp("--dry-run")
	if code != exitOK || !strings.Contains(out, "--- people/"+dom.PersonLogins[0]+".yaml (new)") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "people")); err == nil {
		t.Fatal("a dry run wrote files")
	}
	// The report says, from alm's own plan of the files, that adopting changes nothing but the marker.
	if code, out, errOut := imp(); code != exitOK || !strings.Contains(out, "The files are valid") || !strings.Contains(out, "the plans after it change nothing else") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runAlm(t, "validate", "--repo", repo); code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := imp(); !strings.HasPrefix(out, "0 new, 0 changed, ") || code != exitOK {
		t.Fatalf("import again before adoption: exit %d, want nothing new\n%s", code, out)
	}
	commitAll(t, repo)

	// The plan: one adopt change per account, nothing else, no finding.
	code, out, errOut = runAlm(t, append([]string{"plan", "--repo", repo, "--format", "json"}, conn...)...)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	adopted := 0
	for _, c := range p.Changes {
		if c.Action != plan.Adopt {
			t.Errorf("plan: %s %s %v: want only adopt changes", c.Action, c.Account, c.Attributes)
			continue
		}
		adopted++
	}
	if adopted != 200 || len(p.Findings) != 0 || len(p.Orphans) != 0 {
		t.Fatalf("plan adopts %d accounts, findings %+v, orphans %+v; want 200, none, none", adopted, p.Findings, p.Orphans)
	}

	before := entries(t, env, ou)
	code, out, errOut = runAlm(t, append([]string{"apply", "--repo", repo, "--yes"}, conn...)...)
	if code != exitOK || !strings.Contains(out, "Apply: 200 applied, 0 failed, 0 skipped.") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	after := entries(t, env, ou)
	if len(after) != len(before) || len(before) != 200 {
		t.Fatalf("%d accounts before, %d after; want 200", len(before), len(after))
	}
	// Attribute by attribute, every value as it was; only the marker is new,
	// and what the directory itself keeps of every write.
	changed := map[string]bool{"adminDescription": true, "whenChanged": true, "uSNChanged": true}
	for guid, was := range before {
		now := after[guid]
		for name := range union(was, now) {
			if changed[name] {
				continue
			}
			if !slices.Equal(was[name], now[name]) {
				t.Errorf("%s: %s was %q, is %q after adoption", was["distinguishedName"], name, was[name], now[name])
			}
		}
		if want := "alm:"; len(now["adminDescription"]) != 1 || !strings.HasPrefix(now["adminDescription"][0], want) {
			t.Errorf("%s: marker %q after adoption", was["distinguishedName"], now["adminDescription"])
		}
	}

	code, out, errOut = runAlm(t, append([]string{"plan", "--repo", repo, "--detailed-exitcode"}, conn...)...)
	if code != exitOK || !strings.Contains(out, "No changes. The directory matches") {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errOut)
	}
	// Adopted, every account carries alm's marker: import leaves them to
	// their files and writes nothing.
	code, out, errOut = imp("--format", "json")
	var again adopt.Report
	if err := json.Unmarshal([]byte(out), &again); code != exitOK || err != nil || len(again.Files) != 0 || len(again.Managed) != 200 {
		t.Fatalf("import again: exit %d, %d files, %d managed already (want 0 and 200)\n%s%s", code, len(again.Files), len(again.Managed), out, errOut)
	}
	if code, out, _ := imp(); !strings.HasPrefix(out, "0 new, 0 changed, ") || code != exitOK {
		t.Errorf("import a third time: exit %d\n%s", code, out)
	}
}

// entries reads every user below ou with all its attributes, by objectGUID.
func entries(t *testing.T, env *adtest.Env, ou string) map[string]map[string][]string {
	t.Helper()
	sr, err := env.Conn(t).SearchWithPaging(ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectCategory=person)(objectClass=user))", []string{"*"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for _, e := range sr.Entries {
		attrs := map[string][]string{}
		for _, a := range e.Attributes {
			vals := slices.Clone(a.Values)
			slices.Sort(vals)
			attrs[a.Name] = vals
		}
		out[string(e.GetRawAttributeValue("objectGUID"))] = attrs
	}
	return out
}

func union(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
