package reply

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/plan"
)

var jane = historytest.Person{Name: "Jane Doe", Email: "jdoe@acme.test"}

// world is an access repository where pull request 7 added svc-web and
// pull request 8 renamed svc-old, each merged; a commit pushed straight to
// main changed svc-misc. It returns the repository, the revision before the
// merges, the head, and GitHub knowing both pull requests.
func world(t *testing.T) (*historytest.Repo, string, string, *githubtest.Server, *github.Client) {
	repo := historytest.New(t)
	repo.Write("service-accounts/svc-old.yaml", "name: svc-old\n")
	repo.Write("service-accounts/svc-misc.yaml", "name: svc-misc\n")
	base := repo.Commit("Import", jane)

	repo.Branch("svc-web")
	repo.Write("service-accounts/svc-web.yaml", "name: svc-web\n")
	repo.Commit("Add svc-web", jane)
	repo.Checkout("main")
	m7 := repo.Merge("svc-web", "Merge pull request #7 from acme/svc-web", jane)

	repo.Branch("rename")
	repo.Remove("service-accounts/svc-old.yaml")
	repo.Write("service-accounts/svc-new.yaml", "name: svc-new\n")
	repo.Commit("Rename svc-old", jane)
	repo.Checkout("main")
	m8 := repo.Merge("rename", "Merge pull request #8 from acme/rename", jane)

	repo.Write("service-accounts/svc-misc.yaml", "name: svc-misc\ndescription: pushed\n")
	head := repo.Commit("Pushed straight to main", jane)

	gh := githubtest.New(t, head, nil)
	gh.Pulls = []*githubtest.PullRequest{
		{Number: 7, Author: "jdoe-gh", Head: "svc-web", Base: "main", State: "closed", Merged: true, MergeCommit: m7},
		{Number: 8, Author: "jdoe-gh", Head: "rename", Base: "main", State: "closed", Merged: true, MergeCommit: m8},
		{Number: 9, Author: "kfox-gh", Head: "other", Base: "main", State: "open"}, // holds m7 too, not merged as it
	}
	gh.Commits[m7] = []int{9, 7}
	gh.Commits[m8] = []int{8}
	gh.Commits[head] = []int{}
	client, err := github.New("acme/access", github.Options{BaseURL: gh.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	return repo, base, head, gh, client
}

func results(at time.Time) apply.Result {
	ch := func(action plan.Action, account, file string, o apply.Outcome, err string) apply.ChangeResult {
		return apply.ChangeResult{Change: plan.Change{Action: action, Account: account, File: file, GroupName: "VPN Users"}, Outcome: o, Error: err}
	}
	return apply.Result{Changes: []apply.ChangeResult{
		ch(plan.Create, "svc-web", "service-accounts/svc-web.yaml", apply.Applied, ""),
		ch(plan.AddMember, "svc-web", "service-accounts/svc-web.yaml", apply.Failed, "insufficient access rights\non the group"),
		ch(plan.Rename, "svc-new", "service-accounts/svc-new.yaml", apply.Applied, ""),
		ch(plan.Update, "svc-misc", "service-accounts/svc-misc.yaml", apply.Applied, ""),
		{Change: plan.Change{Action: plan.CreateOU, DN: "OU=Service Accounts,DC=acme,DC=test"}, Outcome: apply.Applied},
	}}
}

// TestTellOnce: three runs - the apply, a run with nothing new, and the
// apply repeated at the same revision (its receipt was lost) - leave one
// comment on each pull request that asked, none on the pull request that
// merely holds a commit, and none for the commit pushed straight.
func TestTellOnce(t *testing.T) {
	repo, base, head, gh, client := world(t)
	at := time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC)
	res := FromApply(results(at), at)
	ctx := context.Background()
	runs := []struct {
		name     string
		from, to string
		posted   []int
		told     int
	}{
		{name: "the apply", from: base, to: head, posted: []int{7, 8}, told: 2},
		{name: "nothing new", from: head, to: head},
		{name: "repeated", from: base, to: "HEAD", told: 2},
	}
	for _, run := range runs {
		rep, err := Tell(ctx, client, repo.Path, run.from, run.to, res, nil)
		if err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
		var posted []int
		for _, told := range rep.Told {
			if told.Posted {
				posted = append(posted, told.PullRequest)
			}
		}
		if len(rep.Told) != run.told || len(posted) != len(run.posted) {
			t.Errorf("%s: told %+v, want %d told, posted on %v", run.name, rep.Told, run.told, run.posted)
		}
	}
	if len(gh.Comments) != 2 {
		t.Fatalf("%d comments, want 2", len(gh.Comments))
	}
	for _, tt := range []struct {
		issue int
		want  []string
		not   []string
	}{
		{issue: 7, want: []string{Marker(7, gh.Pull(7).MergeCommit), "Partly done", "2026-05-02 09:30 UTC", "`svc-web`: provisioned",
			"`svc-web`: **failed** to be added to group VPN Users: insufficient access rights on the group. alm tries again on its next run."},
			not: []string{"svc-new", "svc-misc"}},
		{issue: 8, want: []string{Marker(8, gh.Pull(8).MergeCommit), "✅ Done", "`svc-new`: renamed"}, not: []string{"svc-web", "svc-misc"}},
	} {
		var body string
		for _, c := range gh.Comments {
			if c.Issue == tt.issue {
				body = c.Body
			}
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("#%d lacks %q:\n%s", tt.issue, w, body)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(body, n) {
				t.Errorf("#%d names %q:\n%s", tt.issue, n, body)
			}
		}
	}
}

// A later pull request that changed the same file tells, not the earlier.
func TestTellLatestPullRequestOfAFile(t *testing.T) {
	repo, base, _, gh, client := world(t)
	repo.Branch("web-again")
	repo.Write("service-accounts/svc-web.yaml", "name: svc-web\ndescription: again\n")
	repo.Commit("Describe svc-web", jane)
	repo.Checkout("main")
	m := repo.Merge("web-again", "Merge pull request #10", jane)
	gh.Pulls = append(gh.Pulls, &githubtest.PullRequest{Number: 10, Author: "jdoe-gh", State: "closed", Merged: true, MergeCommit: m})
	gh.Commits[m] = []int{10}
	at := time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC)
	rep, err := Tell(context.Background(), client, repo.Path, base, m, FromApply(results(at), at), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, told := range rep.Told {
		got = append(got, told.PullRequest)
	}
	if len(got) != 2 || got[0] != 8 || got[1] != 10 {
		t.Errorf("told %v, want [8 10]", got)
	}
}

var _ Commenter = (*github.Client)(nil)
