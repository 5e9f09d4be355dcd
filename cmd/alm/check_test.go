package main

import (
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
)

// TestCheckShowsThePlan: with a directory, the Markdown a pull request
// comment holds shows what the merge would change there.
func TestCheckShowsThePlan(t *testing.T) {
	env := adtest.New(t)
	f := newFixture(t, env)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	base := "HEAD"
	f.writePerson("Sales")
	f.repo.Commit("Move to Sales", admin)

	code, out, errOut := runAlm(t, "check", "--repo", f.repo.Path, "--base", base+"~1", "--head", "HEAD",
		"--format", "markdown", "--now", "2026-11-22T09:00:00Z",
		"--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName)
	if code != exitOK && code != exitInvalid {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"### Plan", "# " + f.login, "+ create", `department: "Sales"`} {
		if !strings.Contains(out, want) {
			t.Errorf("comment does not show %q:\n%s", want, out)
		}
	}

	// An unreachable directory costs the plan, never the verdict.
	code2, out2, _ := runAlm(t, "check", "--repo", f.repo.Path, "--base", "HEAD~1", "--head", "HEAD",
		"--format", "markdown", "--now", "2026-11-22T09:00:00Z", "--directory", "ldaps://127.0.0.1:1")
	if code2 != code || !strings.Contains(out2, "No plan: the directory could not be reached") {
		t.Fatalf("unreachable directory: exit %d (was %d)\n%s", code2, code, out2)
	}
}
