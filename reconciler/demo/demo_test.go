package demo_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/demo"
	"github.com/alm-project/alm/reconciler/receipt"
)

// checkStory runs the walk-through and checks what each step must show.
func checkStory(t *testing.T, dir demo.Directory) {
	t.Helper()
	var out bytes.Buffer
	work := t.TempDir()
	err := demo.Run(context.Background(), dir, demo.Options{Out: &out, WorkDir: work, DirectoryURL: "test"})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	steps := strings.Split(text, "== Step ")[1:]
	if len(steps) != 9 {
		t.Fatalf("%d steps, want 9:\n%s", len(steps), text)
	}
	wants := [][]string{
		{"+ create asmith", "+ create-ou OU=Leavers,OU=ALM", "+ create-group CN=VPN Users,OU=Groups,OU=ALM", "Apply: 100 applied, 0 failed, 0 skipped.",
			"Sent (2):", "  | Subject: svc-ci-runner reached its end of life on 2026-11-01", "  | Subject: svc-payroll-export ends on 2026-12-10"},
		{"No changes."},
		{"# lchen", "+ create", "userAccountControl: 514 (disabled)", "Apply: 2 applied"},
		{"# lchen", "~ enable", "+ add-member", "# svc-ci-runner", "- delete"},
		{"# svc-payroll-export", "~ disable", "expired 2026-12-10; end of life: disable", "  | Subject: svc-payroll-export reached its end of life on 2026-12-10"},
		{"# jdoe", "+ add-member CN=Sales,", "- remove-member CN=Engineering,", "manager:"},
		{"# oobrien", "~ disable", "1 of them reverts drift"},
		{"The guards: plan refused: it deletes 2 accounts", "Sent (2):", "  | To: dkim <david.kim@example.test> (owner), ewright <emma.wright@example.test> (custodian)",
			"  | Subject: svc-crm-sync ends on 2027-03-01", "  | Subject: kwalker ends on 2027-01-31"},
		{"The guards: plan refused: it deletes 2 accounts", "> move kwalker", "- delete oobrien", "- delete svc-payroll-export", "Apply: 7 applied, 0 failed, 0 skipped."},
	}
	for i, want := range wants {
		for _, w := range want {
			if !strings.Contains(steps[i], w) {
				t.Errorf("step %d does not show %q:\n%s", i+1, w, steps[i])
			}
		}
	}
	last, err := receipt.Last(context.Background(), work, receipt.DefaultBranch)
	if err != nil || last == nil || last.Plan.Applied != 7 {
		t.Fatalf("last receipt %+v, %v", last, err)
	}
}

func TestDemoInMemory(t *testing.T) {
	checkStory(t, memory.New("DC=example,DC=test"))
}

// TestDemoOnSamba runs the same walk-through against the real directory,
// as README's second demo command does. It owns OU=ALM of the test domain.
func TestDemoOnSamba(t *testing.T) {
	env := adtest.New(t)
	env.Root(t, "OU=ALM") // shared with cmd/alm's test of acme on a fresh domain
	cfg := ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName, BindDN: env.BindDN, Password: env.Password}
	d, err := ad.Dial(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	checkStory(t, d)
}
