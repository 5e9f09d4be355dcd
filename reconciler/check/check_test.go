package check

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	now   = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	jane  = historytest.Person{Name: "Jane Doe", Email: "jdoe@acme.test"}
	kim   = historytest.Person{Name: "Kim Fox", Email: "kfox@acme.test"}
	alex  = historytest.Person{Name: "Alex Smith", Email: "asmith@acme.test"}
	host  = historytest.Person{Name: "Git Host", Email: "noreply@git.acme.test"}
	svcOK = `apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: svc-web
  id: sa-02
spec:
  template: service-account
  description: %s
  owner: jdoe
  roles: [vpn-users]
  created: 2026-05-01
  expires: 2026-12-31
`
)

const (
	approvedBySec   = "Approved-by: Sam Sec <sec1@acme.test>"
	approvedByAlex  = "Approved-by: Alex Smith <asmith@acme.test>"
	approvedByJane  = "Approved-by: Jane Doe <jdoe@acme.test>"
	fixtureFolder   = "testdata/access"
	descriptionLine = 8 // of svcOK
)

// newAccessRepo makes a Git repository holding the fixture on main.
func newAccessRepo(t *testing.T) *historytest.Repo {
	t.Helper()
	r := historytest.New(t)
	r.CopyDir(fixtureFolder)
	r.Commit("Start the access repository", alex)
	return r
}

// request makes a branch with edit, committed by author, and merges it
// into main with the trailers; it returns the merge commit.
func request(t *testing.T, r *historytest.Repo, branch string, author historytest.Person, edit func(), trailers ...string) string {
	t.Helper()
	r.Branch(branch)
	edit()
	r.Commit("Change "+branch, author)
	r.Checkout("main")
	msg := "Merge " + branch
	if len(trailers) > 0 {
		msg += "\n\n" + strings.Join(trailers, "\n") + "\n"
	}
	return r.Merge(branch, msg, host)
}

func svc(description string) string { return strings.Replace(svcOK, "%s", description, 1) }

func TestRunOverMerges(t *testing.T) {
	tests := []struct {
		name      string
		author    historytest.Person
		edit      func(r *historytest.Repo)
		trailers  []string
		denied    bool
		rule      string // a rule that must be among the denials
		file      string
		line      int
		message   string
		noDenials []string // rules that must not deny
	}{
		{
			name:   "valid request passes",
			author: jane,
			edit: func(r *historytest.Repo) {
				r.Write("service-accounts/svc-web.yaml", svc("Serves the intranet web site"))
			},
			trailers: []string{approvedBySec, approvedByAlex},
		},
		{
			name:   "request approved by its own author is denied",
			author: jane,
			edit: func(r *historytest.Repo) {
				r.Write("service-accounts/svc-web.yaml", svc("Serves the intranet web site"))
			},
			trailers: []string{approvedBySec, approvedByAlex, approvedByJane},
			denied:   true, rule: "separation-of-duties",
			message: "jdoe approved a change they authored",
		},
		{
			name:   "privileged role without the security approver is denied",
			author: kim,
			edit: func(r *historytest.Repo) {
				data, err := os.ReadFile(filepath.Join(fixtureFolder, "people/jdoe.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				r.Write("people/jdoe.yaml", strings.Replace(string(data), "roles: [vpn-users]", "roles: [vpn-users, domain-admins]", 1))
			},
			trailers: []string{approvedByAlex},
			denied:   true, rule: "privileged-role", file: "people/jdoe.yaml",
			message:   "privileged role domain-admins",
			noDenials: []string{"template-approvals"}, // the manager approved, as the template asks
		},
		{
			name:   "revocation approved by the manager alone passes",
			author: kim,
			edit: func(r *historytest.Repo) {
				data, err := os.ReadFile(filepath.Join(fixtureFolder, "service-accounts/svc-backup.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				r.Write("service-accounts/svc-backup.yaml", strings.Replace(string(data), "  roles: [backup-operators]\n", "", 1))
			},
			trailers: []string{approvedByAlex},
		},
		{
			name:     "deleted live account file is denied",
			author:   kim,
			edit:     func(r *historytest.Repo) { r.Remove("service-accounts/svc-backup.yaml") },
			trailers: []string{approvedByAlex},
			denied:   true, rule: "live-account-deleted", file: "service-accounts/svc-backup.yaml",
			message: "state: retired",
		},
		{
			name:     "organisation rule denies with its message",
			author:   jane,
			edit:     func(r *historytest.Repo) { r.Write("service-accounts/svc-web.yaml", svc("web")) },
			trailers: []string{approvedBySec, approvedByAlex},
			denied:   true, rule: "alm.org.descriptions", file: "service-accounts/svc-web.yaml", line: descriptionLine,
			message: `description "web" is shorter than 20 characters`,
		},
		{
			name:   "merge without approvals is denied",
			author: jane,
			edit: func(r *historytest.Repo) {
				r.Write("service-accounts/svc-web.yaml", svc("Serves the intranet web site"))
			},
			trailers: nil,
			denied:   true, rule: "two-person",
		},
		{
			name:   "schema problems from the loader are in the same result",
			author: jane,
			edit: func(r *historytest.Repo) {
				r.Write("service-accounts/svc-web.yaml", strings.Replace(svc("Serves the intranet web site"), "  owner: jdoe\n", "  owner: jdoe\n  colour: blue\n", 1))
			},
			trailers: []string{approvedBySec, approvedByAlex},
			denied:   true, rule: RuleLoad, file: "service-accounts/svc-web.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAccessRepo(t)
			merge := request(t, r, "change", tt.author, func() { tt.edit(r) }, tt.trailers...)
			res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Denied != tt.denied {
				t.Fatalf("denied = %v, want %v:\n%s", res.Denied, tt.denied, text(t, res))
			}
			if tt.rule != "" {
				found := false
				for _, v := range res.Violations {
					if v.Rule != tt.rule || v.Severity != policy.Deny {
						continue
					}
					found = true
					if tt.file != "" && v.File != tt.file {
						t.Errorf("%s names file %q, want %q", tt.rule, v.File, tt.file)
					}
					if tt.line != 0 && v.Line != tt.line {
						t.Errorf("%s at line %d, want %d", tt.rule, v.Line, tt.line)
					}
					if !strings.Contains(v.Message, tt.message) {
						t.Errorf("%s says %q, want it to contain %q", tt.rule, v.Message, tt.message)
					}
				}
				if !found {
					t.Errorf("no denial of %s:\n%s", tt.rule, text(t, res))
				}
			}
			for _, rule := range tt.noDenials {
				for _, v := range res.Violations {
					if v.Rule == rule && v.Severity == policy.Deny {
						t.Errorf("unexpected denial %s", v)
					}
				}
			}
		})
	}
}

// TestRunUsesBasePolicies: a pull request that weakens an organisation rule
// is still judged by the rule as it stands on main.
func TestRunUsesBasePolicies(t *testing.T) {
	r := newAccessRepo(t)
	merge := request(t, r, "weaken", jane, func() {
		r.Write("policies/descriptions.rego", "package alm.org.descriptions\n")
		r.Write("service-accounts/svc-web.yaml", svc("web"))
	}, approvedBySec, approvedByAlex)
	res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Denied {
		t.Errorf("the weakened rule let the change pass:\n%s", text(t, res))
	}
}

// fixture returns a file of the fixture with old replaced by new (once).
func fixture(t *testing.T, path, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureFolder, path))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	return strings.Replace(string(data), old, new, 1)
}

const laxTemplate = `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: lax
spec:
  appliesTo: ServiceAccount
  ou: OU=Service Accounts
  lifetime: {default: 180d, max: 3650d}
  ownerMayApprove: true
`

// ownersMayApprove lets people approve changes to their own file.
func ownersMayApprove(t *testing.T, r *historytest.Repo) {
	r.Write("templates/employee.yaml", fixture(t, "templates/employee.yaml", "  approvals:", "  ownerMayApprove: true\n  approvals:"))
}

// TestRunJudgesByBase: nothing a pull request changes judges it. Each case
// passed before templates, roles, people and alm.yaml were read at base.
func TestRunJudgesByBase(t *testing.T) {
	svcWeb := svc("Serves the intranet web site")
	tests := []struct {
		name     string
		setup    func(t *testing.T, r *historytest.Repo) // committed on main before the request
		author   historytest.Person
		edit     func(t *testing.T, r *historytest.Repo)
		trailers []string
		rule     string // the rule that must deny
		file     string
		message  string
	}{
		{
			name:   "account under a template the request adds",
			author: jane,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("templates/lax.yaml", laxTemplate)
				r.Write("service-accounts/svc-web.yaml", strings.Replace(svcWeb, "template: service-account", "template: lax", 1))
			},
			trailers: []string{approvedByAlex},
			rule:     "new-template", file: "service-accounts/svc-web.yaml",
			message: "merge templates/lax.yaml first, in its own pull request",
		},
		{
			name:   "template loosened in the same request",
			author: jane,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("templates/service-account.yaml", fixture(t, "templates/service-account.yaml",
					"    grant: [{role: security-approvers, count: 1}, {relation: owner-manager}]\n", ""))
				r.Write("service-accounts/svc-web.yaml", svcWeb)
			},
			trailers: []string{approvedByAlex},
			rule:     "template-approvals", file: "service-accounts/svc-web.yaml",
			message: "template service-account asks for 1 approval from a holder of role security-approvers",
		},
		{
			name:   "ownerMayApprove set in the same request",
			author: kim,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("templates/service-account.yaml", fixture(t, "templates/service-account.yaml", "  approvals:\n", "  ownerMayApprove: true\n  approvals:\n"))
				r.Write("service-accounts/svc-backup.yaml", fixture(t, "service-accounts/svc-backup.yaml", "  roles: [backup-operators]\n", ""))
			},
			trailers: []string{approvedByJane},
			rule:     "separation-of-duties", file: "service-accounts/svc-backup.yaml",
			message: "jdoe approved a change to svc-backup, an account they own",
		},
		{
			name: "deleted account judged by its template at base",
			setup: func(t *testing.T, r *historytest.Repo) {
				r.Write("service-accounts/svc-backup.yaml", fixture(t, "service-accounts/svc-backup.yaml", "  created:", "  state: retired\n  created:"))
			},
			author: kim,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Remove("service-accounts/svc-backup.yaml")
				r.Remove("templates/service-account.yaml")
			},
			trailers: []string{"Approved-by: Chris Boss <cboss@acme.test>"},
			rule:     "template-approvals", file: "service-accounts/svc-backup.yaml",
			message: "is a revoke change: template service-account asks for 1 approval from the owner-or-manager",
		},
		{
			name:   "alm.yaml changed without a security approver",
			author: jane,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("alm.yaml", fixture(t, "alm.yaml", "  baseDN:", "  orphans: disable\n  baseDN:"))
			},
			trailers: []string{approvedByAlex},
			rule:     "configuration-approvals", file: "alm.yaml",
			message: "needs 1 approval from a holder of role security-approvers",
		},
		{
			// Owners may approve changes to their own person file, so only
			// reading people at base stops the impersonation.
			name:   "approver's e-mail given away in the same request",
			setup:  ownersMayApprove,
			author: kim,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("people/sec1.yaml", fixture(t, "people/sec1.yaml", "sec1@acme.test", "kim.alt@acme.test"))
				r.Write("service-accounts/svc-web.yaml", svcWeb)
			},
			trailers: []string{approvedByAlex, "Approved-by: Kim Alt <kim.alt@acme.test>"},
			rule:     "template-approvals", file: "service-accounts/svc-web.yaml",
			message: "a holder of role security-approvers",
		},
		{
			name:   "owner's manager changed in the same request",
			author: jane,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("people/jdoe.yaml", fixture(t, "people/jdoe.yaml", "manager: asmith", "manager: kfox"))
				r.Write("service-accounts/svc-web.yaml", svcWeb)
			},
			trailers: []string{approvedBySec, "Approved-by: Kim Fox <kfox@acme.test>"},
			rule:     "template-approvals", file: "service-accounts/svc-web.yaml",
			message: "1 approval from the owner-manager (spec.approvals.grant), and it has 0; approved by kfox, sec1; can approve: asmith",
		},
		{
			name:   "approver role granted in the same request",
			setup:  ownersMayApprove,
			author: jane,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("people/kfox.yaml", fixture(t, "people/kfox.yaml", "manager: asmith", "manager: asmith\n  roles: [security-approvers]"))
				r.Write("service-accounts/svc-web.yaml", svcWeb)
			},
			trailers: []string{approvedByAlex, "Approved-by: Kim Fox <kfox@acme.test>"},
			rule:     "template-approvals", file: "service-accounts/svc-web.yaml",
			message: "a holder of role security-approvers",
		},
		{
			name:   "role added and granted in the same request",
			author: kim,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("roles/super.yaml", "apiVersion: alm/v1\nkind: Role\nmetadata:\n  name: super\nspec:\n  groups: [Domain Admins]\n")
				r.Write("people/jdoe.yaml", fixture(t, "people/jdoe.yaml", "roles: [vpn-users]", "roles: [vpn-users, super]"))
			},
			trailers: []string{approvedByAlex},
			rule:     "new-role", file: "people/jdoe.yaml",
			message: "merge roles/super.yaml first",
		},
		{
			name: "organisation policy in a built-in package",
			setup: func(t *testing.T, r *historytest.Repo) {
				r.Write("policies/owners.rego", "package alm.builtin.lib\n\nowner_may_approve(_) if true\n")
			},
			author: kim,
			edit: func(t *testing.T, r *historytest.Repo) {
				r.Write("service-accounts/svc-backup.yaml", fixture(t, "service-accounts/svc-backup.yaml", "  roles: [backup-operators]\n", ""))
			},
			trailers: []string{approvedByJane},
			rule:     "separation-of-duties", file: "service-accounts/svc-backup.yaml",
			message: "jdoe approved a change to svc-backup, an account they own",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAccessRepo(t)
			if tt.setup != nil {
				tt.setup(t, r)
				r.Commit("Set up", alex)
			}
			merge := request(t, r, "change", tt.author, func() { tt.edit(t, r) }, tt.trailers...)
			res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Denied {
				t.Fatalf("passed:\n%s", text(t, res))
			}
			found := false
			for _, v := range res.Violations {
				if v.Rule == tt.rule && v.Severity == policy.Deny && v.File == tt.file && strings.Contains(v.Message, tt.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("no denial of %s on %s saying %q:\n%s", tt.rule, tt.file, tt.message, text(t, res))
			}
		})
	}
}

// TestRunTemplateMergedFirst: the way the new-template denial points to
// works. The template, approved by a security approver, is merged on its
// own; then it judges the account that uses it.
func TestRunTemplateMergedFirst(t *testing.T) {
	r := newAccessRepo(t)
	first := request(t, r, "template", jane, func() { r.Write("templates/lax.yaml", laxTemplate) }, approvedBySec)
	second := request(t, r, "account", jane, func() {
		r.Write("service-accounts/svc-web.yaml", strings.Replace(svc("Serves the intranet web site"), "template: service-account", "template: lax", 1))
	}, approvedByAlex)
	for _, merge := range []string{first, second} {
		res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Denied {
			t.Errorf("denied:\n%s", text(t, res))
		}
	}
}

// TestRunConfigurationNeedsSecurityApprover: a change to alm.yaml passes
// with a holder of the role that approves privileged roles.
func TestRunConfigurationNeedsSecurityApprover(t *testing.T) {
	r := newAccessRepo(t)
	merge := request(t, r, "orphans", jane, func() {
		r.Write("alm.yaml", fixture(t, "alm.yaml", "  baseDN:", "  orphans: disable\n  baseDN:"))
	}, approvedBySec)
	res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied {
		t.Errorf("denied:\n%s", text(t, res))
	}
}

func TestRunReportsBrokenHeadPolicy(t *testing.T) {
	r := newAccessRepo(t)
	merge := request(t, r, "broken", jane, func() {
		r.Write("policies/broken.rego", "package alm.org.broken\n\ndeny contains msg if {\n")
	}, approvedBySec, approvedByAlex)
	res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range res.Violations {
		if v.Rule == policy.RulePolicyFile && v.File == "policies/broken.rego" && v.Line > 0 {
			found = true
		}
	}
	if !found || !res.Denied {
		t.Errorf("broken policy file not reported:\n%s", text(t, res))
	}
}

// fakeReviews is a GitHub pull request held in memory.
type fakeReviews struct {
	pr      github.PullRequest
	reviews []github.Review
	commits []github.CommitAuthor
}

func (f fakeReviews) PullRequest(context.Context, int) (github.PullRequest, error) { return f.pr, nil }
func (f fakeReviews) Approvals(_ context.Context, _ int, head string) ([]github.Review, error) {
	return github.Latest(f.reviews, head), nil
}
func (f fakeReviews) CommitAuthors(context.Context, int) ([]github.CommitAuthor, error) {
	return f.commits, nil
}

func TestRunWithGitHubApprovals(t *testing.T) {
	r := newAccessRepo(t)
	r.Branch("svc-web")
	r.Write("service-accounts/svc-web.yaml", svc("Serves the intranet web site"))
	head := r.Commit("Add svc-web", jane)
	gh := fakeReviews{
		pr:      github.PullRequest{Number: 7, Author: "jdoe-gh", Head: head},
		commits: []github.CommitAuthor{{Login: "jdoe-gh", Name: "Jane Doe", Email: "jdoe@acme.test"}},
	}
	for _, tt := range []struct {
		name    string
		reviews []github.Review
		denied  bool
	}{
		{"approved by security and the owner's manager", []github.Review{{Login: "sec1-gh", State: github.StateApproved, Commit: head}, {Login: "asmith-gh", State: github.StateApproved, Commit: head}}, false},
		{"manager's approval dismissed", []github.Review{{Login: "sec1-gh", State: github.StateApproved, Commit: head}, {Login: "asmith-gh", State: github.StateApproved, Commit: head}, {Login: "asmith-gh", State: github.StateDismissed, Commit: head}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh.reviews = tt.reviews
			res, err := Run(context.Background(), r.R, Options{Base: "main", Head: head, Now: now, Approvals: GitHub{Client: gh, Number: 7}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Denied != tt.denied {
				t.Errorf("denied = %v, want %v:\n%s", res.Denied, tt.denied, text(t, res))
			}
			if res.PullRequest.Author != "jdoe" || res.PullRequest.Number != 7 {
				t.Errorf("pull request %+v", res.PullRequest)
			}
		})
	}
}

func TestRunWithoutApprovalsWarns(t *testing.T) {
	r := newAccessRepo(t)
	r.Write("service-accounts/svc-web.yaml", svc("Serves the intranet web site"))
	head := r.Commit("Add svc-web", jane)
	res, err := Run(context.Background(), r.R, Options{Base: "main~1", Head: head, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied || res.PullRequest != nil {
		t.Fatalf("without a pull request:\n%s", text(t, res))
	}
	if _, warned := res.Counts(); warned != 1 {
		t.Errorf("want the one warning that approvals were not checked:\n%s", text(t, res))
	}
}

func text(t *testing.T, r *Result) string {
	var b bytes.Buffer
	if err := Text(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRender compares each output format with its golden file.
func TestRender(t *testing.T) {
	r := newAccessRepo(t)
	merge := request(t, r, "svc-web", jane, func() {
		r.Write("service-accounts/svc-web.yaml", svc("web | site"))
		data, err := os.ReadFile(filepath.Join(fixtureFolder, "people/jdoe.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		r.Write("people/jdoe.yaml", strings.Replace(string(data), "roles: [vpn-users]", "roles: [vpn-users, domain-admins]", 1))
	}, approvedByAlex, "Approved-by: Eve <eve@example.org>")
	res, err := Run(context.Background(), r.R, Options{Base: merge + "^1", Head: merge, Now: now, Approvals: Trailers{Repo: r.R, Commit: merge}})
	if err != nil {
		t.Fatal(err)
	}
	// Hashes differ from run to run; name them.
	res.Base, res.Head = "base0000000000000000", "head0000000000000000"
	res.Change.Base, res.Change.Head = res.Base, res.Head
	res.PullRequest.Head = res.Head
	res.Preview = samplePreview()
	for _, tt := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"check.txt", func(b *bytes.Buffer) error { return Text(b, res) }},
		{"check.md", func(b *bytes.Buffer) error { return Markdown(b, res) }},
		{"check.annotations", func(b *bytes.Buffer) error { return Annotations(b, res) }},
		{"check.json", func(b *bytes.Buffer) error { return JSON(b, res) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.file+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs from %s:\n%s", tt.file, golden, b.String())
			}
		})
	}
}

type fakeMerged struct {
	fakeReviews
	prs map[string][]int
}

func (f fakeMerged) PullRequestsWithCommit(_ context.Context, sha string) ([]int, error) {
	return f.prs[sha], nil
}

func TestGitHubMerge(t *testing.T) {
	r := newAccessRepo(t)
	head := r.Commit("empty", jane)
	gh := fakeMerged{
		fakeReviews: fakeReviews{
			pr:      github.PullRequest{Number: 9, Author: "jdoe-gh", Head: "feedface", Merged: true, MergeCommit: "c0ffee"},
			reviews: []github.Review{{Login: "asmith-gh", State: github.StateApproved, Commit: "feedface"}},
		},
		prs: map[string][]int{"c0ffee": {9}, "0dd": {9}},
	}
	head1, _, err := loadHead(t, r, head)
	if err != nil {
		t.Fatal(err)
	}
	req, err := GitHubMerge{Client: gh, Commit: "c0ffee"}.Request(context.Background(), head1)
	if err != nil || req.Number != 9 || len(req.Approvers) != 1 || req.Approvers[0] != "asmith" {
		t.Errorf("merged pull request: %+v, %v", req, err)
	}
	// A commit that is in a pull request but was not its merge is not approved by it.
	if _, err := (GitHubMerge{Client: gh, Commit: "0dd"}).Request(context.Background(), head1); !errors.Is(err, ErrNoPullRequest) {
		t.Errorf("commit of a pull request, not its merge: %v", err)
	}
	if _, err := (GitHubMerge{Client: gh, Commit: "abc"}).Request(context.Background(), head1); !errors.Is(err, ErrNoPullRequest) {
		t.Errorf("commit without a pull request: %v", err)
	}
}

func loadHead(t *testing.T, r *historytest.Repo, rev string) (*model.Repository, load.Problems, error) {
	t.Helper()
	return load.Commit(context.Background(), r.R, rev)
}
