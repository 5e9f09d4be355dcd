package reconcile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// TestGitHubFollowUpOnce: a merged pull request changes svc-crm-sync, whose
// expiry (2027-03-01) is within acme's renewal window (30d) on 2027-02-05.
// Three reconciler runs against a GitHub speaking GitHub's JSON tell the
// pull request once what was done, and open one renewal pull request with
// the owner asked to review.
func TestGitHubFollowUpOnce(t *testing.T) {
	repo, dir, _ := acme(t)
	file := filepath.Join(repo.Path, "service-accounts", "svc-crm-sync.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	repo.Branch("crm-description")
	repo.Write("service-accounts/svc-crm-sync.yaml", strings.Replace(string(data), "description: ", "description: Nightly ", 1))
	repo.Commit("Say when svc-crm-sync runs", importer)
	repo.Checkout("main")
	merge := repo.Merge("crm-description", "Merge pull request #12 from acme/crm-description", importer)

	edited, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, name := range []string{"svc-backup", "svc-ci-runner", "svc-crm-sync", "svc-monitoring", "svc-payroll-export", "svc-report-mailer"} {
		data, err := os.ReadFile(filepath.Join(repo.Path, "service-accounts", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		files["service-accounts/"+name+".yaml"] = string(data)
	}
	if files["service-accounts/svc-crm-sync.yaml"] != string(edited) {
		t.Fatal("GitHub's copy is not the merged file")
	}
	gh := githubtest.New(t, merge, files)
	gh.Pulls = []*githubtest.PullRequest{{Number: 12, Author: "david-kim", Head: "crm-description", Base: "main", State: "closed", Merged: true, MergeCommit: merge}}
	gh.Commits[merge] = []int{12}
	client, err := github.New("acme/access", github.Options{BaseURL: gh.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	for run, at := range []time.Time{
		time.Date(2027, 2, 5, 9, 0, 0, 0, time.UTC), time.Date(2027, 2, 5, 10, 0, 0, 0, time.UTC), time.Date(2027, 2, 6, 9, 0, 0, 0, time.UTC),
	} {
		// acme's three deletes of that day are over its limit: allowed here.
		opts := reconcile.Options{Now: at, Limits: map[string]model.Limit{plan.LimitDelete: {Count: 5}}}
		pl, err := reconcile.Plan(ctx, dir, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		res, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: opts, Requesters: client, Renewals: client})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if res != nil && len(res.FollowUp) > 0 {
			t.Errorf("run %d: %v", run, res.FollowUp)
		}
	}

	gh.Mu.Lock()
	defer gh.Mu.Unlock()
	var told []string
	for _, c := range gh.Comments {
		if c.Issue == 12 {
			told = append(told, c.Body)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "svc-crm-sync") {
		t.Errorf("pull request #12 got %d comments, want one about svc-crm-sync: %q", len(told), told)
	}
	var renewals []*githubtest.PullRequest
	for _, p := range gh.Pulls {
		if strings.HasPrefix(p.Head, "alm/renew/svc-crm-sync/") {
			renewals = append(renewals, p)
		}
	}
	if len(renewals) != 1 {
		t.Fatalf("%d renewal pull requests for svc-crm-sync, want one", len(renewals))
	}
	if r := renewals[0]; len(r.Requested) != 1 || r.Requested[0] != "david-kim" {
		t.Errorf("renewal #%d asked %v to review, want the owner david-kim", r.Number, r.Requested)
	}
}
