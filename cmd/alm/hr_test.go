package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

// TestHRSync runs alm hr sync on a Git repository of the HR fixtures: a
// dry run writes nothing; --github opens one pull request, and a second
// run updates it; --write changes the working tree, which validates, and
// alm check of that change asks for the approvals the templates name.
func TestHRSync(t *testing.T) {
	t.Setenv(github.TokenEnv, githubtest.Token)
	repo := historytest.New(t)
	repo.CopyDir("../../hr/testdata/repo")
	head := repo.Commit("Import the people", admin)
	served := map[string]string{}
	for _, p := range []string{"people/jdoe.yaml", "people/kfox.yaml", "people/asmith.yaml", "people/bwhite.yaml", "people/rgreen.yaml", "people/ccontr.yaml"} {
		data, err := os.ReadFile(filepath.Join(repo.Path, p))
		if err != nil {
			t.Fatal(err)
		}
		served[p] = string(data)
	}
	srv := githubtest.New(t, head, served)
	export, mapping := "../../hr/testdata/export.csv", "../../hr/testdata/mapping.yaml"
	sync := []string{"--repo", repo.Path, "--now", "2026-11-29T09:00:00Z", "hr", "sync", "--csv", export, "--mapping", mapping}
	gh := []string{"--github", "acme/access", "--github-api", srv.URL}

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{name: "dry run", args: sync, code: exitChanges,
			want: []string{"3 joiners, 1 rehire, 1 leaver, 1 rename, 1 contract end moved, 2 movers, 1 reference to a renamed login; 5 rows skipped", "Nothing written"}},
		{name: "opens the pull request", args: append(sync[:len(sync):len(sync)], gh...), code: exitChanges,
			want: []string{"Opened pull request #100 from alm/hr/sync"}},
		{name: "updates it", args: append(sync[:len(sync):len(sync)], gh...), code: exitChanges,
			want: []string{"Updated pull request #100: alm/hr/sync now at"}},
		{name: "no export", args: []string{"--repo", repo.Path, "hr", "sync"}, code: exitInvalid},
		{name: "a mapping that does not parse", args: []string{"--repo", repo.Path, "hr", "sync", "--csv", export, "--mapping", export}, code: exitInvalid},
		{name: "--write and --github", args: append(append(sync[:len(sync):len(sync)], "--write"), gh...), code: exitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runAlm(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if len(srv.Pulls) != 1 || srv.Calls["POST pulls"] != 1 || srv.Calls["PATCH pulls"] != 1 {
		t.Errorf("pulls %d, calls %v: want one pull request, opened once and updated once", len(srv.Pulls), srv.Calls)
	}
	if status, _ := repo.W.Status(); !status.IsClean() {
		t.Fatalf("a dry run or a pull request changed the working tree:\n%s", status)
	}

	// --write, as one JSON document.
	code, out, errOut := runAlm(t, append(sync[:len(sync):len(sync)], "--write", "--format", "json")...)
	var doc struct {
		Written bool     `json:"written"`
		Files   []string `json:"files"`
		Skipped []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitChanges || !doc.Written || len(doc.Files) != 11 || len(doc.Skipped) != 5 {
		t.Fatalf("--write: exit %d, %v, %+v\n%s%s", code, err, doc, out, errOut)
	}
	if code, out, errOut := runAlm(t, "--repo", repo.Path, "--now", "2026-11-29T09:00:00Z", "validate"); code != exitOK {
		t.Fatalf("validate after --write: exit %d\n%s%s", code, out, errOut)
	}
	if err := repo.W.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("hr"), Create: true, Keep: true}); err != nil {
		t.Fatal(err)
	}
	if err := repo.W.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	repo.Commit("HR sync", historytest.Person{Name: "alm", Email: "alm@acme.test"})
	// Merged without approvals, then with the managers' approvals: the
	// check applies the templates' rules to the HR change as to any other.
	repo.Checkout("main")
	for _, tt := range []struct {
		name      string
		approvers []historytest.Person
		code      int
		want, not []string
	}{
		{name: "nobody approved", code: exitInvalid, want: []string{"`two-person`", "7 denials",
			"person bwhite is a revoke change: template employee asks for 1 approval from the manager (spec.approvals.revoke), and it has 0; approved by nobody; can approve: asmith",
			"person zangstrom is a create change", "can approve: jdoe"}},
		// The managers' approvals satisfy the templates, but not for their
		// own files and accounts (separation of duties: asmith owns svc-crm,
		// whose custodian was renamed), nor for a joiner whose manager has
		// not started.
		{name: "the managers approved", approvers: []historytest.Person{{Name: "Alex Smith", Email: "asmith@acme.test"}, {Name: "Jane Doe", Email: "jdoe@acme.test"}},
			code: exitInvalid, want: []string{"4 denials", "asmith approved a change to asmith, an account they own", "jdoe approved a change to jdoe, an account they own",
				"asmith approved a change to svc-crm, an account they own",
				"person jdoe2 is a create change"},
			not: []string{"person bwhite is a revoke change", "person zangstrom is a create change", "`two-person`"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := repo.W.Reset(&git.ResetOptions{Commit: plumbing.NewHash(head), Mode: git.HardReset}); err != nil {
				t.Fatal(err)
			}
			msg := "Merge pull request #100 from acme/alm/hr/sync\n\nHR sync\n"
			for i, a := range tt.approvers {
				if i == 0 {
					msg += "\n"
				}
				msg += "Approved-by: " + a.Name + " <" + a.Email + ">\n"
			}
			merge := repo.Merge("hr", msg, admin)
			code, out, errOut := runAlm(t, "--repo", repo.Path, "--now", "2026-11-29T09:00:00Z", "check", "--base", head, "--head", merge, "--format", "markdown")
			if code != tt.code {
				t.Fatalf("check: exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("check lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("check has %q:\n%s", w, out)
				}
			}
		})
	}
}
