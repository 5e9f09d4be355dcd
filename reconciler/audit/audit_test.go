package audit_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/audittest"
	"github.com/alm-project/alm/reconciler/receipt"
)

func open(t *testing.T, h *audittest.History, withGitHub bool) *audit.History {
	t.Helper()
	o := audit.Options{Branch: "main", CacheDir: t.TempDir()}
	if withGitHub {
		gh, err := github.New("acme/access", github.Options{BaseURL: h.GitHubURL, Token: githubtest.Token})
		if err != nil {
			t.Fatal(err)
		}
		o.GitHub = gh
	}
	a, err := audit.Open(context.Background(), h.Path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

const (
	admin  = "Ada Admin <admin@acme.test>"
	asmith = "Alex Smith <asmith@acme.test>"
	kfox   = "Kim Fox <kfox@acme.test>"
	jdoe   = "Jane Doe <jdoe@acme.test>"
	eve    = "Eve Ops <eve@acme.test>"
)

func TestTimelineFollowsRename(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	ctx := context.Background()
	for _, name := range []string{"kfox", "kwest"} {
		id, err := a.Resolve(name)
		if err != nil || id != "000005" {
			t.Fatalf("Resolve(%s) = %q, %v; want 000005", name, id, err)
		}
	}
	tl, err := a.Account(ctx, "000005")
	if err != nil {
		t.Fatal(err)
	}
	at := func(m time.Month, d, hour int) string { return fmt.Sprintf("%02d-%02dT%02d", m, d, hour) }
	want := []string{
		at(1, 5, 9) + " pushed kfox " + "pushed straight to the branch by " + admin + `, not through an approved merge: "Import the access repository"`,
		at(1, 5, 9) + " created kfox new person kfox",
		at(1, 5, 10) + " applied kfox create: applied",
		at(2, 2, 9) + " requested kfox requested by " + kfox + ` (pull request #1): "Give kfox the VPN"`,
		at(2, 2, 9) + " approved kfox approved by " + asmith + " (trailers)",
		at(2, 2, 9) + " changed kfox roles + vpn-users",
		at(2, 2, 10) + " applied kfox add-member VPN Users: applied",
		at(4, 6, 9) + " requested kwest requested by " + kfox + ` (pull request #3): "Rename kfox to kwest"`,
		at(4, 6, 9) + " approved kwest approved by " + asmith + " (trailers)",
		at(4, 6, 9) + " changed kwest file moved from people/kfox.yaml to people/kwest.yaml",
		at(4, 6, 9) + " renamed kwest renamed from kfox to kwest",
		at(4, 6, 9) + " changed kwest spec.previousNames changed",
		at(4, 6, 9) + " changed kwest surname Fox → West",
		at(4, 6, 10) + " applied kwest rename: applied",
		at(7, 6, 9) + " pushed kwest pushed straight to the branch by " + eve + `, not through an approved merge: "quick fix: kwest needs backups tonight"`,
		at(7, 6, 9) + " changed kwest roles + backup-operators",
		at(7, 6, 10) + " applied kwest add-member FS Backup Operators: applied",
		at(8, 3, 9) + " requested kwest requested by " + jdoe + ` (pull request #5): "Revert the unapproved backup grant"`,
		at(8, 3, 9) + " approved kwest approved by " + asmith + " (trailers)",
		at(8, 3, 9) + " changed kwest roles - backup-operators",
		at(8, 3, 10) + " applied kwest remove-member FS Backup Operators: applied",
	}
	var got []string
	for _, e := range tl.Events {
		got = append(got, e.At.Format("01-02T15")+" "+e.Kind+" "+e.Account+" "+e.Text)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !reflect.DeepEqual(tl.Names, []string{"kfox", "kwest"}) || !reflect.DeepEqual(tl.Paths, []string{"people/kfox.yaml", "people/kwest.yaml"}) {
		t.Errorf("names %v paths %v", tl.Names, tl.Paths)
	}
}

func TestTimelineKinds(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	ctx := context.Background()
	tests := []struct {
		name, id string
		want     []string // events of these kinds, "kind text"
		kinds    []string
	}{
		{name: "GitHub approval, a move and drift", id: "000003", kinds: []string{audit.Requested, audit.Approved, audit.Drift},
			want: []string{
				"requested requested by " + asmith + ` (pull request #2): "Move jdoe to Finance"`,
				"approved approved by Chris Boss <cboss@acme.test> (trailers)",
				`requested requested by jdoe-gh (pull request #4): "Give jdoe backup-operators"`,
				"approved approved by asmith-gh (github)",
				"drift drift found: add-member VPN Users: applied, reverted",
			}},
		{name: "move in words", id: "000003", kinds: []string{audit.Changed},
			want: []string{"changed department Sales → Finance", "changed roles + backup-operators"}},
		{name: "renewal, expiry and retirement", id: "sa-02", kinds: []string{audit.Applied, audit.Retired},
			want: []string{"applied create: applied", "applied add-member VPN Users: applied", "applied disable: applied",
				"retired state active → retired", "applied move: applied"}},
		{name: "renewal in words", id: "sa-01", kinds: []string{audit.Changed},
			want: []string{"changed expires moved later, from 2026-12-31 to 2027-01-04 (renewal)"}},
		{name: "access review confirmed", id: "sa-01", kinds: []string{audit.Requested, audit.Approved, audit.Reviewed},
			want: []string{
				`requested requested by alm <alm@acme.test> (pull request #8): "Access review: asmith, 1 account due"`,
				"approved approved by " + asmith + " (trailers)",
				"reviewed access review confirmed: reviewed (none) → 2026-07-04",
				`requested requested by ` + jdoe + ` (pull request #6): "Renew svc-backup"`,
				"approved approved by Sam Sec <sec1@acme.test>, " + asmith + " (trailers)",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := a.Account(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range tl.Events {
				for _, k := range tt.kinds {
					if e.Kind == k {
						got = append(got, e.Kind+" "+e.Text)
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := a.Resolve("nobody"); !errors.Is(err, audit.ErrNoAccount) {
		t.Errorf("Resolve(nobody): %v, want ErrNoAccount", err)
	}
}

// holding is an account at an instant: enabled or not, and its groups.
func holdings(acc audit.Access) map[string]string {
	out := map[string]string{}
	for _, h := range acc.Accounts {
		s := "disabled"
		if h.Enabled {
			s = "enabled"
		}
		out[h.Account] = s + " " + strings.Join(h.Groups, ",")
	}
	return out
}

func TestAccessAt(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, false)
	ctx := context.Background()
	tests := []struct {
		name     string
		at       time.Time
		group    string
		revision string
		want     map[string]string
	}{
		{name: "before the first run", at: audittest.Day(1, 5), want: map[string]string{}},
		{name: "after the import", at: audittest.Day(1, 20), revision: "import", want: map[string]string{
			"asmith": "enabled ", "cboss": "enabled ", "jdoe": "enabled VPN Users", "kfox": "enabled ",
			"sec1": "enabled Security Approvers", "svc-backup": "enabled FS Backup Operators", "svc-report": "enabled VPN Users"}},
		{name: "during the direct push", at: audittest.Day(7, 20), revision: "push", want: map[string]string{
			"asmith": "enabled ", "cboss": "enabled ", "jdoe": "enabled FS Backup Operators,VPN Users", "kwest": "enabled FS Backup Operators,VPN Users",
			"sec1": "enabled Security Approvers", "svc-backup": "enabled FS Backup Operators", "svc-report": "enabled VPN Users"}},
		{name: "after the expiry", at: audittest.Day(10, 20), revision: "renew", want: map[string]string{
			"asmith": "enabled ", "cboss": "enabled ", "jdoe": "enabled FS Backup Operators,VPN Users", "kwest": "enabled VPN Users",
			"sec1": "enabled Security Approvers", "svc-backup": "enabled FS Backup Operators", "svc-report": "disabled VPN Users"}},
		{name: "one group", at: audittest.Day(10, 20), group: "VPN Users", revision: "renew", want: map[string]string{
			"jdoe": "enabled VPN Users", "kwest": "enabled VPN Users", "svc-report": "disabled VPN Users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, err := a.At(ctx, tt.at, tt.group)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Revision != h.Commits[tt.revision] {
				t.Errorf("revision in force %s, want %s (%s)", acc.Revision, h.Commits[tt.revision], tt.revision)
			}
			if got := holdings(acc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("access\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{name: "the year", from: audittest.Day(1, 20), to: audittest.Day(10, 20), want: []string{
			"jdoe FS Backup Operators granted 05-04T10 backup #4 jdoe-gh [asmith-gh]",
			"kwest VPN Users granted 02-02T10 vpn #1 " + kfox + " [" + asmith + "]",
			"svc-report  removed 10-01T09 - #0  []",
		}},
		{name: "the direct push and its revert", from: audittest.Day(6, 20), to: audittest.Day(7, 20), want: []string{
			"kwest FS Backup Operators granted 07-06T10 push #0 " + eve + " []",
		}},
		{name: "the revert", from: audittest.Day(7, 20), to: audittest.Day(8, 20), want: []string{
			"kwest FS Backup Operators removed 08-03T10 revoke #5 " + jdoe + " [" + asmith + "]",
		}},
	}
	names := map[string]string{}
	for k, v := range h.Commits {
		names[v] = k
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := a.Diff(ctx, tt.from, tt.to, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range d.Grants {
				c := names[g.Commit]
				if c == "" {
					c = "-"
				}
				got = append(got, fmt.Sprintf("%s %s %s %s %s #%d %s %v", g.Account, g.Group, g.Change, g.AppliedAt.Format("01-02T15"), c, g.PullRequest, g.Requester, g.Approvers))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diff\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestVerify(t *testing.T) {
	h := audittest.New(t)
	tests := []struct {
		name   string
		github bool
		want   []string
	}{
		{name: "GitHub reviews", github: true, want: []string{"drift jdoe -", "unapproved - push"}},
		// Without GitHub, #4 has no Approved-by trailer: it was not approved,
		// and the merges made on top of its content approve nothing (verify's rule).
		{name: "trailers only", want: []string{"unapproved - backup", "drift jdoe -", "unapproved - review", "unapproved - push", "unapproved - renew", "unapproved - retire"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := open(t, h, tt.github)
			x, err := a.Verify(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range x.Items {
				c := "-"
				if e.Kind == audit.Unapproved {
					for k, v := range h.Commits {
						if v == e.Commit {
							c = k
						}
					}
				}
				acc := e.Account
				if acc == "" {
					acc = "-"
				}
				got = append(got, e.Kind+" "+acc+" "+c)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("exceptions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyReceiptOfAnotherHistory(t *testing.T) {
	h := audittest.New(t)
	stray := "0123456789abcdef0123456789abcdef01234567"
	r := receipt.Receipt{Revision: stray, AppliedAt: audittest.Day(12, 1), Directory: "ldaps://dc1.acme.test"}
	if _, err := receipt.Write(context.Background(), h.Path, "", r, receipt.Signature{}); err != nil {
		t.Fatal(err)
	}
	x, err := open(t, h, true).Verify(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	last := x.Items[len(x.Items)-1]
	if len(x.Items) != 3 || last.Kind != audit.UnknownRevision || last.Commit != stray {
		t.Errorf("exceptions %+v, want the drift, the push and the receipt of %s", x.Items, stray)
	}
}

func TestReport(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	p, err := a.Report(context.Background(), audittest.Day(1, 20), audittest.Day(10, 20), 4)
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Diff(context.Background(), audittest.Day(1, 20), audittest.Day(10, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Diff, d) || len(p.Exceptions.Items) != 2 {
		t.Errorf("period diff %+v exceptions %+v", p.Diff, p.Exceptions.Items)
	}
	var counts []int
	for _, pt := range p.Points {
		counts = append(counts, pt.Accounts)
	}
	// Seven accounts all year, until svc-report expired (disabled) in October.
	if want := []int{7, 7, 7, 6}; !reflect.DeepEqual(counts, want) {
		t.Errorf("enabled accounts over time %v, want %v", counts, want)
	}
}

// TestReportReviews: the period's confirmed reviews (what the merge of
// alm's review pull request moved, with its approver and the due date it
// met) and the reviews overdue at the end, by the revision in force then.
func TestReportReviews(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, false)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to time.Time
		reviewed []string // account due reviewed at commit by
		overdue  []string // account due reviewer
	}{
		{name: "before anything fell due", from: audittest.Day(1, 20), to: audittest.Day(6, 30)},
		{name: "one confirmed, one overdue", from: audittest.Day(1, 20), to: audittest.Day(10, 20),
			reviewed: []string{"svc-backup 2026-07-04 2026-07-04 review " + asmith},
			overdue:  []string{"svc-report 2026-07-04 asmith"}},
		{name: "the confirmation before the period", from: audittest.Day(7, 6), to: audittest.Day(10, 20),
			overdue: []string{"svc-report 2026-07-04 asmith"}},
		{name: "retired, no longer reviewed", from: audittest.Day(7, 6), to: audittest.Day(11, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Report(ctx, tt.from, tt.to, 2)
			if err != nil {
				t.Fatal(err)
			}
			var reviewed, overdue []string
			for _, r := range p.Reviewed {
				commit := r.Commit
				for k, v := range h.Commits {
					if v == r.Commit {
						commit = k
					}
				}
				if !r.Approved {
					t.Errorf("review of %s not approved", r.Account)
				}
				reviewed = append(reviewed, fmt.Sprintf("%s %s %s %s %s", r.Account, r.Due.Format(time.DateOnly), r.Reviewed, commit, strings.Join(r.Reviewers, ",")))
			}
			for _, o := range p.Overdue {
				overdue = append(overdue, fmt.Sprintf("%s %s %s", o.Account, o.Due.Format(time.DateOnly), o.Reviewer))
			}
			if !reflect.DeepEqual(reviewed, tt.reviewed) || !reflect.DeepEqual(overdue, tt.overdue) {
				t.Errorf("reviewed %q overdue %q, want %q and %q", reviewed, overdue, tt.reviewed, tt.overdue)
			}
		})
	}
}

// TestReportExceptionsInPeriod: a period's report keeps the exceptions that
// happened within it.
func TestReportExceptionsInPeriod(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{name: "the drift and the push", from: audittest.Day(1, 20), to: audittest.Day(10, 20), want: []string{"drift 2026-06-01", "unapproved 2026-07-06"}},
		{name: "the push alone", from: audittest.Day(7, 1), to: audittest.Day(7, 31), want: []string{"unapproved 2026-07-06"}},
		{name: "none", from: audittest.Day(8, 1), to: audittest.Day(12, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Report(context.Background(), tt.from, tt.to, 2)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range p.Exceptions.Items {
				got = append(got, e.Kind+" "+e.At.Format(time.DateOnly))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("exceptions %q, want %q", got, tt.want)
			}
		})
	}
}
