package report

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/audittest"
)

// TestChromiumYear: the report of the generated year of history - requests,
// approvals by trailer and by GitHub review, a move, a rename, an expiry, a
// retirement, drift reverted, a direct push, an access review confirmed and
// one missed - computed by the audit package, opens in headless Chromium
// with no console error nor fetch, and shows the expected grants, removals,
// the direct push and the reviews.
func TestChromiumYear(t *testing.T) {
	chromium(t)
	h := audittest.New(t)
	gh, err := github.New("acme/access", github.Options{BaseURL: h.GitHubURL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.Open(context.Background(), h.Path, audit.Options{Branch: "main", CacheDir: t.TempDir(), GitHub: gh})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p, err := a.Report(context.Background(), audittest.Day(1, 20), audittest.Day(10, 20), 6)
	if err != nil {
		t.Fatal(err)
	}
	d := FromPeriod(p, time.UTC, "acme/access", audittest.Day(10, 21))
	got, problems := open(t, artifacts(t), "year-audited", d)
	for _, pr := range problems {
		t.Errorf("the browser reported: %s", pr)
	}
	has := func(rows []string, parts ...string) bool {
		for _, r := range rows {
			ok := true
			for _, part := range parts {
				ok = ok && strings.Contains(r, part)
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, want := range [][]string{
		{"jdoe", "FS Backup Operators", "asmith-gh"},            // approved by a GitHub review
		{"kwest", "VPN Users", "Alex Smith <asmith@acme.test>"}, // approved by trailer
	} {
		if !has(got.Grants, want...) {
			t.Errorf("grants %q lack %q", got.Grants, want)
		}
	}
	if !has(got.Removals, "svc-report") {
		t.Errorf("removals %q lack the expired svc-report", got.Removals)
	}
	if !has(got.Done, "svc-backup", "Alex Smith <asmith@acme.test>", "2026-07-04", "2026-07-05") || len(got.Done) != 1 {
		t.Errorf("reviews done %q, want svc-backup's, approved by asmith", got.Done)
	}
	if !has(got.Overdue, "svc-report", "asmith", "2026-07-04", "108 days") || len(got.Overdue) != 1 {
		t.Errorf("reviews overdue %q, want svc-report's, 108 days late", got.Overdue)
	}
	if !has(got.Exceptions, "Eve Ops") {
		t.Errorf("exceptions %q do not show the direct push %s", got.Exceptions, h.Commits["push"][:12])
	}
}
