package review

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
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// files is the test access repository in testdata/access, path to content.
func files(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	root := filepath.Join("testdata", "access")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		m[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
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

// summary is one line per request: reviewer, branch, accounts in order.
func summary(reqs []Request) []string {
	var out []string
	for _, r := range reqs {
		var names []string
		for _, a := range r.Accounts {
			names = append(names, a.Name)
		}
		out = append(out, r.Reviewer+" "+r.Branch+" "+strings.Join(names, ","))
	}
	return out
}

func TestDue(t *testing.T) {
	repo := repository(t, files(t))
	tests := []struct {
		name string
		now  string
		want []string
	}{
		{name: "nothing due", now: "2027-01-27T23:59:59Z"},
		{name: "a contractor never reviewed counts from startDate", now: "2027-01-28T00:00:00Z",
			want: []string{"asmith alm/review/asmith/2027-01-28 kfox"}},
		{name: "privileged first, then by risk; one request per reviewer", now: "2027-03-02T08:00:00Z",
			want: []string{
				"asmith alm/review/asmith/2027-03-01 jdoe,kfox",
				"cboss alm/review/cboss/2027-03-01 asmith",
				"jdoe alm/review/jdoe/2027-03-01 svc-backup",
			}},
		{name: "the same on a later day: the same branches", now: "2027-03-20T00:00:00Z",
			want: []string{
				"asmith alm/review/asmith/2027-03-01 jdoe,kfox",
				"cboss alm/review/cboss/2027-03-01 asmith",
				"jdoe alm/review/jdoe/2027-03-01 svc-backup",
			}},
		{name: "a leaver is not reviewed", now: "2028-01-05T00:00:00Z",
			want: []string{
				"asmith alm/review/asmith/2027-03-01 jdoe",
				"cboss alm/review/cboss/2027-03-01 asmith",
				"jdoe alm/review/jdoe/2027-03-01 svc-backup",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped := Due(repo, at(tt.now))
			if g, w := strings.Join(summary(got), "\n"), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("due:\n%s\nwant:\n%s", g, w)
			}
			for _, s := range skipped {
				if s.Account != "cboss" || !strings.Contains(s.Why, "no manager") {
					t.Errorf("skipped %+v", s)
				}
			}
		})
	}
	got, _ := Due(repo, at("2027-03-02T08:00:00Z"))
	jdoe, kfox := got[0].Accounts[0], got[0].Accounts[1]
	if strings.Join(jdoe.Risk, "; ") != "privileged role domain-admins; privileged group Domain Admins (role domain-admins)" ||
		jdoe.DisableOn.String() != "2027-03-15" || jdoe.Disabled || jdoe.From != "spec.reviewed" {
		t.Errorf("jdoe: %+v", jdoe)
	}
	if jdoe.Roles[1].Name != "domain-admins" || jdoe.Roles[1].Line != 18 || !jdoe.Roles[1].Privileged {
		t.Errorf("jdoe's roles: %+v", jdoe.Roles)
	}
	if !kfox.Disabled || kfox.From != "spec.startDate" || strings.Join(kfox.Risk, ",") != "contractor" {
		t.Errorf("kfox: %+v", kfox)
	}
	if sa := got[2].Accounts[0]; strings.Join(sa.Risk, ",") != "service account never reviewed" {
		t.Errorf("svc-backup: %+v", sa)
	}
}

func TestEdit(t *testing.T) {
	fs := files(t)
	tests := []struct {
		name, in, want string
	}{
		{name: "moves reviewed, keeping the comment", in: fs["people/jdoe.yaml"],
			want: strings.Replace(fs["people/jdoe.yaml"], "reviewed: 2026-09-02   #", "reviewed: 2027-03-02   #", 1)},
		{name: "keeps the quotes", in: fs["people/asmith.yaml"],
			want: strings.Replace(fs["people/asmith.yaml"], `reviewed: "2026-09-02"`, `reviewed: "2027-03-02"`, 1)},
		{name: "adds it after startDate", in: fs["people/kfox.yaml"],
			want: strings.Replace(fs["people/kfox.yaml"], "  startDate: 2026-08-01\n", "  startDate: 2026-08-01\n  reviewed: 2027-03-02\n", 1)},
		{name: "adds it after expires", in: fs["service-accounts/svc-backup.yaml"],
			want: strings.Replace(fs["service-accounts/svc-backup.yaml"], "  expires: 2027-05-30\n", "  expires: 2027-05-30\n  reviewed: 2027-03-02\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Edit("f.yaml", []byte(tt.in), "2027-03-02")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			again, err := Edit("f.yaml", got, "2027-03-02")
			if err != nil || string(again) != string(got) {
				t.Errorf("a second edit changed the file: %v\n%s", err, again)
			}
		})
	}
	if _, err := Edit("people/x.yaml", []byte("spec: {startDate: 2026-01-01}\n"), "2027-03-02"); err == nil || !strings.Contains(err.Error(), `add "reviewed: 2027-03-02" under spec by hand`) {
		t.Errorf("a flow mapping: %v", err)
	}
}

// TestCycle is a review cycle: one pull request per reviewer, opened once
// over repeated runs; merging confirms (the next Due lists nothing for
// those accounts); a role line removed in the pull request revokes in the
// next plan; a review left unconfirmed disables after the grace.
func TestCycle(t *testing.T) {
	fs := files(t)
	repo := repository(t, fs)
	gh := githubtest.New(t, strings.Repeat("a", 40), fs)
	client, err := github.New("acme/access", github.Options{BaseURL: gh.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var last Report
	for _, now := range []string{"2027-03-02T08:00:00Z", "2027-03-02T09:00:00Z", "2027-03-05T08:00:00Z"} {
		if last, err = Open(ctx, client, repo, at(now), nil); err != nil {
			t.Fatalf("%s: %v", now, err)
		}
	}
	if len(gh.Pulls) != 3 || gh.Calls["POST pulls"] != 3 || gh.Calls["POST git/refs"] != 3 || gh.Calls["PUT contents"] != 4 {
		t.Fatalf("pulls %d, calls %v: want three pull requests, three branches, four commits", len(gh.Pulls), gh.Calls)
	}
	for _, o := range last.Opened {
		if len(o.Existing) != 1 || o.Number != 0 {
			t.Errorf("third run, %s: %+v", o.Reviewer, o)
		}
	}
	pr := gh.Pulls[0]
	if pr.Head != "alm/review/asmith/2027-03-01" || pr.Base != "main" || pr.Title != "Access review for asmith: 2 accounts due by 2027-03-01" ||
		strings.Join(pr.Requested, ",") != "asmith-gh" {
		t.Errorf("pull request %q from %s into %s, reviewers %v", pr.Title, pr.Head, pr.Base, pr.Requested)
	}
	for _, want := range []string{"1. **jdoe**", "2. **kfox**", "role domain-admins (privileged): Domain Admins - line 18",
		"disabled on 2027-03-15 unless this is merged", "**disabled since 2027-02-11**", "**Merge** to confirm",
		"**Remove a role line**", "**Close** to confirm nothing"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if strings.Index(pr.Body, "**jdoe**") > strings.Index(pr.Body, "**kfox**") {
		t.Error("the privileged account is not first")
	}
	if got := gh.Files[pr.Head]["people/jdoe.yaml"]; got != strings.Replace(fs["people/jdoe.yaml"], "2026-09-02", "2027-03-02", 1) {
		t.Errorf("jdoe on the branch:\n%s", got)
	}
	if gh.Files["main"]["people/jdoe.yaml"] != fs["people/jdoe.yaml"] {
		t.Error("the default branch changed")
	}
	msgs := last.Messages(at("2027-03-05T08:00:00Z"))
	if len(msgs) != 3 || msgs[0].ID != "review:alm/review/asmith/2027-03-01" || msgs[0].To[0].Email != "asmith@acme.test" ||
		!strings.Contains(msgs[0].Text, "jdoe, kfox") || !strings.Contains(msgs[0].Text, "pull request #100") {
		t.Errorf("messages: %+v", msgs)
	}

	// Merged: every branch's files on main; nothing is due for them any more.
	merged := map[string]string{}
	for p, c := range fs {
		merged[p] = c
	}
	for _, p := range gh.Pulls {
		for path, c := range gh.Files[p.Head] {
			if c != fs[path] {
				merged[path] = c
			}
		}
	}
	after := repository(t, merged)
	if due, _ := Due(after, at("2027-03-20T00:00:00Z")); len(due) != 0 {
		t.Errorf("after merging, due: %v", summary(due))
	}
	// A period later, the next cycle: new branches, so new pull requests.
	if due, _ := Due(after, at("2027-08-29T00:00:00Z")); strings.Join(summary(due), ";") !=
		"asmith alm/review/asmith/2027-08-29 jdoe,kfox;cboss alm/review/cboss/2027-08-29 asmith;jdoe alm/review/jdoe/2027-05-31 svc-backup" {
		t.Errorf("a period later: %v", summary(due))
	}
	kfox := after.People["kfox"]
	if st := lifecycle.Person(kfox, after.TemplateOf(kfox), time.UTC, at("2027-03-20T00:00:00Z")); st.Status != lifecycle.Active {
		t.Errorf("kfox after the merge: %s (%s)", st.Status, st.Reason)
	}

	// A role line removed in the pull request, then merged: the next plan
	// takes the role's group away.
	revoked := strings.Replace(gh.Files[pr.Head]["people/jdoe.yaml"], "    - vpn-users\n", "", 1)
	merged["people/jdoe.yaml"] = revoked
	now := at("2027-03-20T00:00:00Z")
	before := compute(t, repo, at("2027-03-02T08:00:00Z"))
	p := plan.Diff(compute(t, repository(t, merged), now), inSync(before), plan.Options{})
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Account+" "+c.Group)
	}
	// kfox, disabled when its grace ran out, is enabled again by the merge.
	if strings.Join(got, "\n") != "remove-member jdoe CN=VPN Users,OU=Groups,OU=ALM,DC=acme,DC=test\nenable kfox " {
		t.Errorf("plan after the revoking merge:\n%s", strings.Join(got, "\n"))
	}
}

// TestOverdueDisables: a review closed without merging; before the grace
// runs out the plan changes nothing, after it the account is disabled,
// groups kept, with the reason the plan shows.
func TestOverdueDisables(t *testing.T) {
	repo := repository(t, files(t))
	live := inSync(compute(t, repo, at("2027-03-02T08:00:00Z")))
	actions := func(p *plan.Plan) []string {
		var out []string
		for _, c := range p.Changes {
			out = append(out, string(c.Action)+" "+c.Account)
		}
		return out
	}
	// svc-backup's grace (7d from 2027-03-01) ran out on 2027-03-08.
	if got := actions(plan.Diff(compute(t, repo, at("2027-03-14T23:59:59Z")), live, plan.Options{})); strings.Join(got, ",") != "disable svc-backup" {
		t.Errorf("before the grace ran out: %v", got)
	}
	p := plan.Diff(compute(t, repo, at("2027-03-15T00:00:00Z")), live, plan.Options{})
	if got := actions(p); strings.Join(got, ",") != "disable asmith,disable jdoe,disable svc-backup" {
		t.Fatalf("after the grace: %v", got)
	}
	c := p.Changes[1]
	want := "access review due 2027-03-01 (every 180d from spec.reviewed), not confirmed within grace 14d: disabled until reviewed"
	if c.Reason.Text != want || c.Reason.Field != "spec.reviewed" || c.Reason.File != "people/jdoe.yaml" || c.Reason.Line != 14 {
		t.Errorf("reason %+v, want %q at people/jdoe.yaml:14 spec.reviewed", c.Reason, want)
	}
}

func compute(t *testing.T, r *model.Repository, now time.Time) *desired.State {
	t.Helper()
	d, err := desired.Compute(r, now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inSync is the directory as a perfect apply of d leaves it (as the plan
// package's tests build it): every account marked, with its attributes and
// groups, and every group roles name.
func inSync(d *desired.State) *directory.Snapshot {
	s := &directory.Snapshot{BaseDN: d.BaseDN, State: "4711", OUs: append(append([]string{}, d.OUs...), d.GroupsOU)}
	index := map[string]int{}
	for _, g := range d.Groups {
		index[strings.ToLower(g.Name)] = len(s.Groups)
		s.Groups = append(s.Groups, directory.Group{DN: d.GroupDN(g.Name), Name: g.Name})
	}
	for _, a := range d.Accounts {
		if !a.Exists || a.Delete {
			continue
		}
		l := directory.Account{DN: a.DN, Name: a.Name, Marker: directory.Marker(a.ID), UAC: a.UAC, Attributes: map[string]string{}}
		for k, v := range a.Attributes {
			if v != "" {
				l.Attributes[k] = v
			}
		}
		for _, g := range a.Groups {
			i := index[strings.ToLower(g.Name)]
			s.Groups[i].Members = append(s.Groups[i].Members, a.DN)
			l.MemberOf = append(l.MemberOf, s.Groups[i].DN)
		}
		s.Accounts = append(s.Accounts, l)
	}
	s.Sort()
	return s
}

var _ Host = (*github.Client)(nil)
