package reconcile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// inbox is a channel that keeps what it is given.
type inbox struct {
	name string
	got  []notify.Message
	fail error
}

func (c *inbox) Name() string { return c.name }
func (c *inbox) Send(_ context.Context, m notify.Message) error {
	if c.fail != nil {
		return c.fail
	}
	c.got = append(c.got, m)
	return nil
}

// about counts the messages about one account, by their offset in the id.
func (c *inbox) about(account string) map[string]int {
	n := map[string]int{}
	for _, m := range c.got {
		if m.Account == account {
			parts := strings.Split(m.ID, ":")
			n[parts[2]]++
		}
	}
	return n
}

// runAt plans and applies acme at an instant, sending on the channels: a
// reconciler's run. It returns the plan and what the run did.
func runAt(t *testing.T, repo *historytest.Repo, dir *memory.Directory, at string, channels ...notify.Channel) (*reconcile.Planned, *reconcile.Applied) {
	t.Helper()
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: now})
	if err != nil {
		t.Fatalf("plan at %s: %v", at, err)
	}
	res, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: now}, Channels: channels})
	if err != nil && !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("apply at %s: %v", at, err)
	}
	return pl, res
}

// TestNoticesOnce: svc-crm-sync expires 2027-03-01 under acme's
// service-account template (30d and 7d before, and at the end). Runs on
// the day each is due, again the same day and on the days after: each is
// sent once; at the end the account is disabled, and the notice says so.
func TestNoticesOnce(t *testing.T) {
	repo, dir, _ := acme(t)
	mail := &inbox{name: "email"}
	for _, at := range []string{
		"2027-01-29T09:00:00Z", // nothing due yet
		"2027-01-30T09:00:00Z", "2027-01-30T18:00:00Z", "2027-02-02T09:00:00Z",
		"2027-02-22T09:00:00Z", "2027-02-23T09:00:00Z",
		"2027-03-01T09:00:00Z", "2027-03-02T09:00:00Z",
	} {
		pl, res := runAt(t, repo, dir, at, mail)
		if at == "2027-03-01T09:00:00Z" {
			disabled := false
			for _, c := range pl.Plan.Changes {
				if c.Account == "svc-crm-sync" && c.Action == plan.Disable {
					disabled = true
				}
			}
			if !disabled {
				t.Errorf("at the end of life the plan does not disable svc-crm-sync: %v", pl.Plan.Changes)
			}
			for _, d := range res.Notices {
				if d.Account == "svc-crm-sync" && d.Error != "" {
					t.Errorf("delivery failed: %+v", d)
				}
			}
		}
		if at == "2027-01-29T09:00:00Z" && len(mail.about("svc-crm-sync")) != 0 {
			t.Errorf("sent before anything was due: %v", mail.about("svc-crm-sync"))
		}
	}
	if got := mail.about("svc-crm-sync"); got["30d-before"] != 1 || got["7d-before"] != 1 || got["at-end"] != 1 {
		t.Errorf("svc-crm-sync's notices sent %v, want each offset once", got)
	}
	for _, m := range mail.got {
		if m.Account == "svc-crm-sync" && strings.HasSuffix(m.ID, "at-end:2027-03-01") {
			if !strings.Contains(m.Text, "reached its end of life on 2027-03-01") || !strings.Contains(m.Text, "it is disabled, keeping its groups") {
				t.Errorf("the at-end notice does not say what happened:\n%s", m.Text)
			}
			if len(m.To) == 0 || m.To[0].Login != "dkim" {
				t.Errorf("the at-end notice goes to %v, want the owner dkim first", m.To)
			}
		}
	}
	// The ledger on the status branch says what went out.
	ledger, err := receipt.Ledger(context.Background(), repo.Path, "")
	if err != nil {
		t.Fatal(err)
	}
	if !ledger.Sent("notice:sa-01KJPXDKQGC9VA0QRH34YENBSG:at-end:2027-03-01", "email") {
		t.Errorf("the ledger does not record the at-end notice: %v", ledger)
	}
}

// TestNoticesCatchUp: a reconciler down from 2027-01-20 to 2027-02-24
// sends the two notices it missed once, on its first run back.
func TestNoticesCatchUp(t *testing.T) {
	repo, dir, _ := acme(t)
	mail := &inbox{name: "email"}
	runAt(t, repo, dir, "2027-01-20T09:00:00Z", mail)
	if got := mail.about("svc-crm-sync"); len(got) != 0 {
		t.Fatalf("sent %v before the week away", got)
	}
	runAt(t, repo, dir, "2027-02-24T09:00:00Z", mail)
	runAt(t, repo, dir, "2027-02-25T09:00:00Z", mail)
	if got := mail.about("svc-crm-sync"); got["30d-before"] != 1 || got["7d-before"] != 1 || len(got) != 2 {
		t.Errorf("after a week down: %v, want the two missed notices once each", got)
	}
}

// TestNoticeRetriedAndRearmed: a channel that fails is retried on the next
// run, and sends once; the receipt records the failure. A renewal that
// moves expires schedules the notices of the new date.
func TestNoticeRetriedAndRearmed(t *testing.T) {
	repo, dir, _ := acme(t)
	hook := &inbox{name: "webhook", fail: errors.New("503 Service Unavailable")}
	_, res := runAt(t, repo, dir, "2027-01-30T09:00:00Z", hook)
	if res.Undelivered() == 0 {
		t.Fatal("the failing channel is not reported")
	}
	last, err := receipt.Latest(context.Background(), repo.Path, "")
	if err != nil || last == nil {
		t.Fatalf("receipt: %v", err)
	}
	failed := false
	for _, d := range last.Notices {
		failed = failed || (d.Account == "svc-crm-sync" && strings.Contains(d.Error, "503"))
	}
	if !failed {
		t.Errorf("the receipt does not record the failure: %+v", last.Notices)
	}
	hook.fail = nil
	runAt(t, repo, dir, "2027-01-31T09:00:00Z", hook)
	runAt(t, repo, dir, "2027-02-01T09:00:00Z", hook)
	if got := hook.about("svc-crm-sync"); got["30d-before"] != 1 {
		t.Errorf("after the channel came back: %v, want the 30d notice once", got)
	}

	raw, err := os.ReadFile(filepath.Join(repo.Path, "service-accounts", "svc-crm-sync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data := string(raw)
	repo.Write("service-accounts/svc-crm-sync.yaml", strings.NewReplacer("expires: 2027-03-01", "expires: 2027-09-01", "created: 2026-03-02", "created: 2027-01-31").Replace(data))
	repo.Commit("Renew svc-crm-sync", importer)
	runAt(t, repo, dir, "2027-08-02T09:00:00Z", hook)
	n := 0
	for _, m := range hook.got {
		if strings.HasSuffix(m.ID, ":30d-before:2027-09-01") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the renewed date's 30d notice sent %d times, want once", n)
	}
}
