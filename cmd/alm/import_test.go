package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/adopt/adopttest"
	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
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

// TestImportOnSamba runs alm import against hand-made accounts, then alm
// validate on what it wrote, then import again: nothing new.
func TestImportOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	ou := env.OU(t)
	dom, err := adopttest.Build(env.Conn(t), env.BaseDN, ou, adopttest.Options{People: 30, Services: 5,
		Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
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
	imp := func(extra ...string) (int, string, string) {
		return runAlm(t, append([]string{"import", "--repo", repo, "--directory", env.URL, "--ca-file", env.CAFile,
			"--tls-server-name", env.ServerName, "--ou", dom.People, "--ou", dom.Services}, extra...)...)
	}
	code, out, errOut := imp("--dry-run")
	if code != exitOK || !strings.Contains(out, "--- people/"+dom.PersonLogins[0]+".yaml (new)") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "people")); err == nil {
		t.Fatal("a dry run wrote files")
	}
	if code, out, errOut := imp(); code != exitOK || !strings.Contains(out, "The files are valid") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runAlm(t, "validate", "--repo", repo); code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = imp("--format", "json")
	if code != exitOK || !strings.Contains(out, `"status": "unchanged"`) || strings.Contains(out, `"status": "new"`) {
		t.Fatalf("second import: exit %d, want only unchanged files\n%s%s", code, out, errOut)
	}
	if code, out, _ := imp(); !strings.HasPrefix(out, "0 new, 0 changed, ") || code != exitOK {
		t.Errorf("third import: exit %d\n%s", code, out)
	}
}
