package renew

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

const template = `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: service-account
spec:
  appliesTo: ServiceAccount
  ou: OU=Service Accounts
  lifetime: {default: 180d, max: 365d}
  renewal: {before: 30d, retire: true}
`

// account is a service account file with a comment and a quoted date, to
// show the edit keeps them.
func account(name, created, expires, extra string) string {
	return `# Owned by the web team. Renew by moving expires.
apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: ` + name + `
  id: sa-` + name[4:] + `
spec:
  template: service-account
  description: Serves the intranet
  owner: jdoe   # the web team's lead
  created: ` + created + `
  expires: "` + expires + `"  # renewal PRs move this
` + extra
}

// files is an access repository: alm.yaml, a template that renews, two
// people (jdoe has a GitHub login) and the accounts given.
func files(t *testing.T, accounts map[string]string) map[string]string {
	t.Helper()
	m := map[string]string{"templates/service-account.yaml": template}
	for _, f := range []string{"alm.yaml", "people/jdoe.yaml", "people/asmith.yaml", "people/cboss.yaml", "templates/employee.yaml", "roles/vpn-users.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "check", "testdata", "access", f))
		if err != nil {
			t.Fatal(err)
		}
		m[f] = string(data)
	}
	for name, content := range accounts {
		m["service-accounts/"+name+".yaml"] = content
	}
	return m
}

func repository(t *testing.T, fs map[string]string) *model.Repository {
	t.Helper()
	mfs := fstest.MapFS{}
	for p, c := range fs {
		mfs[p] = &fstest.MapFile{Data: []byte(c)}
	}
	repo, problems, err := load.FS(mfs, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return repo
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	accounts := map[string]string{
		"svc-web":  account("svc-web", "2026-06-01", "2026-12-01", ""),                    // due from 2026-11-01
		"svc-far":  account("svc-far", "2026-06-01", "2027-05-01", ""),                    // not yet
		"svc-cap":  account("svc-cap", "2026-03-01", "2027-01-15", ""),                    // 180d more passes max: held to 2027-03-01
		"svc-max":  account("svc-max", "2026-01-01", "2027-01-01", ""),                    // already at max: skipped
		"svc-gone": account("svc-gone", "2026-01-01", "2026-12-01", "  state: retired\n"), // retired: nothing
	}
	repo := repository(t, files(t, accounts))
	tests := []struct {
		name    string
		now     string
		want    []string // kind account renewed branch
		skipped []string
	}{
		{name: "before any window", now: "2026-10-01T00:00:00Z"},
		{name: "renewal due at the window's start", now: "2026-11-01T00:00:00Z",
			want: []string{"renew svc-web 2027-05-30 alm/renew/svc-web/2026-12-01"}},
		// A renewal is a new request: from the expiry, or from today once
		// it is past, and lifetime.max counts from today.
		{name: "a renewal is a new request", now: "2026-12-20T00:00:00Z",
			want: []string{
				"renew svc-cap 2027-07-14 alm/renew/svc-cap/2027-01-15",
				"renew svc-max 2027-06-30 alm/renew/svc-max/2027-01-01",
				"renew svc-web 2027-06-18 alm/renew/svc-web/2026-12-01",
				"retire svc-web 0001-01-01 alm/retire/svc-web",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped := Due(repo, at(tt.now))
			var lines []string
			for _, p := range got {
				lines = append(lines, strings.Join([]string{string(p.Kind), p.Account, p.Renewed.Time.Format(time.DateOnly), p.Branch}, " "))
				if p.Reviewer != "jdoe-gh" || p.File != "service-accounts/"+p.Account+".yaml" {
					t.Errorf("%s: reviewer %q, file %q", p.Account, p.Reviewer, p.File)
				}
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("due:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			var names []string
			for _, s := range skipped {
				names = append(names, s.Account)
				if !strings.Contains(s.Why, "lifetime.max") {
					t.Errorf("skipped %s: %s", s.Account, s.Why)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.skipped, ",") {
				t.Errorf("skipped %v, want %v", names, tt.skipped)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	before := account("svc-web", "2026-06-01", "2026-12-01", "")
	tests := []struct {
		name string
		p    Proposal
		in   string
		want string
	}{
		{name: "renew moves expires only", p: Proposal{Kind: Renew, Renewed: model.MustDate("2027-05-30"), File: "f"}, in: before,
			want: strings.Replace(before, `expires: "2026-12-01"`, `expires: "2027-05-30"`, 1)},
		{name: "renew a plain date", p: Proposal{Kind: Renew, Renewed: model.MustDate("2027-05-30"), File: "f"},
			in: "kind: ServiceAccount\nspec:\n  expires: 2026-12-01\n  owner: jdoe\n", want: "kind: ServiceAccount\nspec:\n  expires: 2027-05-30\n  owner: jdoe\n"},
		{name: "retire adds state after expires", p: Proposal{Kind: Retire, File: "f"}, in: before,
			want: strings.Replace(before, "  # renewal PRs move this\n", "  # renewal PRs move this\n  state: retired\n", 1)},
		{name: "retire sets a state", p: Proposal{Kind: Retire, File: "f"}, in: "spec:\n    state: disabled # paused\n    expires: 2026-12-01\n",
			want: "spec:\n    state: retired # paused\n    expires: 2026-12-01\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Edit([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			again, err := tt.p.Edit(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("a second edit changed the file: %v\n%s", err, again)
			}
		})
	}
}

// TestOpenOnce: three runs on the days around the renewal window open one
// renewal pull request, with the owner asked to review; after it is closed,
// later runs open nothing again; the retirement comes once after expiry.
func TestOpenOnce(t *testing.T) {
	fs := files(t, map[string]string{"svc-web": account("svc-web", "2026-06-01", "2026-12-01", "")})
	repo := repository(t, fs)
	gh := githubtest.New(t, strings.Repeat("a", 40), fs)
	client, err := github.New("acme/access", github.Options{BaseURL: gh.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, now := range []string{"2026-11-01T00:00:00Z", "2026-11-01T06:00:00Z", "2026-11-02T00:00:00Z"} {
		if _, err := Open(ctx, client, repo, at(now), nil); err != nil {
			t.Fatalf("%s: %v", now, err)
		}
	}
	if len(gh.Pulls) != 1 || gh.Calls["POST pulls"] != 1 || gh.Calls["POST git/refs"] != 1 || gh.Calls["PUT contents"] != 1 {
		t.Fatalf("pulls %d, calls %v: want one pull request, one branch, one commit", len(gh.Pulls), gh.Calls)
	}
	pr := gh.Pulls[0]
	if pr.Title != "Renew svc-web until 2027-05-30" || pr.Head != "alm/renew/svc-web/2026-12-01" || pr.Base != "main" {
		t.Errorf("pull request %q from %s into %s", pr.Title, pr.Head, pr.Base)
	}
	for _, want := range []string{"expires on 2026-12-01", "**Merge** to renew", "**Close** to let it expire", "is disabled"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if strings.Join(pr.Requested, ",") != "jdoe-gh" {
		t.Errorf("reviewers %v, want the owner's login", pr.Requested)
	}
	// expires moved, and created: the renewal is requested on the day it is opened
	want := strings.NewReplacer(`"2026-12-01"`, `"2027-05-30"`, "created: 2026-06-01", "created: 2026-11-01").Replace(fs["service-accounts/svc-web.yaml"])
	if got := gh.Files[pr.Head]["service-accounts/svc-web.yaml"]; got != want {
		t.Errorf("file on the branch:\n%s\nwant:\n%s", got, want)
	}
	if gh.Files["main"]["service-accounts/svc-web.yaml"] != fs["service-accounts/svc-web.yaml"] {
		t.Error("the default branch changed")
	}

	// Closed: the account is let expire; the renewal is not proposed again.
	pr.State = "closed"
	if rep, err := Open(ctx, client, repo, at("2026-11-20T00:00:00Z"), nil); err != nil || len(rep.Opened) != 1 || len(rep.Opened[0].Existing) != 1 {
		t.Fatalf("after closing: %+v, %v", rep, err)
	}
	// Expired: the retirement, once over two runs.
	for _, now := range []string{"2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"} {
		if _, err := Open(ctx, client, repo, at(now), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(gh.Pulls) != 2 || gh.Pulls[1].Title != "Retire svc-web" || !strings.Contains(gh.Files["alm/retire/svc-web"]["service-accounts/svc-web.yaml"], "\n  state: retired\n") {
		t.Errorf("pulls %d; second %+v", len(gh.Pulls), gh.Pulls[len(gh.Pulls)-1])
	}
}

// A run that made the branch and stopped: the next run goes on from it.
func TestOpenResumesAnAbandonedBranch(t *testing.T) {
	fs := files(t, map[string]string{"svc-web": account("svc-web", "2026-06-01", "2026-12-01", "")})
	repo := repository(t, fs)
	gh := githubtest.New(t, strings.Repeat("a", 40), fs)
	gh.Branches["alm/renew/svc-web/2026-12-01"] = strings.Repeat("a", 40)
	gh.Files["alm/renew/svc-web/2026-12-01"] = map[string]string{"service-accounts/svc-web.yaml": fs["service-accounts/svc-web.yaml"]}
	client, _ := github.New("acme/access", github.Options{BaseURL: gh.URL, Token: githubtest.Token})
	if _, err := Open(context.Background(), client, repo, at("2026-11-05T00:00:00Z"), nil); err != nil {
		t.Fatal(err)
	}
	if len(gh.Pulls) != 1 || gh.Calls["POST git/refs"] != 0 || gh.Calls["PUT contents"] != 1 {
		t.Errorf("pulls %d, calls %v", len(gh.Pulls), gh.Calls)
	}
}

var _ Host = (*github.Client)(nil)
