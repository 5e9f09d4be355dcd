package notify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

func acme(t *testing.T) *model.Repository {
	t.Helper()
	repo, problems, err := load.Dir("../../examples/acme")
	if err != nil || len(problems) > 0 {
		t.Fatalf("examples/acme: %v %v", err, problems)
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

// find returns the scheduled notices about one account.
func find(all []notify.Scheduled, account string) []notify.Scheduled {
	var out []notify.Scheduled
	for _, s := range all {
		if s.Account == account {
			out = append(out, s)
		}
	}
	return out
}

func logins(rs []notify.Recipient) []string {
	var out []string
	for _, r := range rs {
		who := r.Login
		if who == "" {
			who = r.Email
		}
		out = append(out, r.Role+":"+who)
	}
	return out
}

// TestSchedule: svc-crm-sync (expires 2027-03-01, owner dkim, custodian
// ewright) under acme's service-account template: 30d before to owner and
// custodians, 7d before to owner and owner's manager, at end to owner and
// the approvers (holders of security-approvers); kwalker, a contractor
// leaving 2027-01-31, 14d before to the manager.
func TestSchedule(t *testing.T) {
	all := notify.Schedule(acme(t))
	tests := []struct {
		account string
		want    []string // id, due, until, recipients
	}{
		{"svc-crm-sync", []string{
			"notice:sa-01KJPXDKQGC9VA0QRH34YENBSG:30d-before:2027-03-01 due 2027-01-30T00:00:00Z until 2027-03-01T00:00:00Z [owner:dkim custodian:ewright]",
			"notice:sa-01KJPXDKQGC9VA0QRH34YENBSG:7d-before:2027-03-01 due 2027-02-22T00:00:00Z until 2027-03-01T00:00:00Z [owner:dkim owner's manager:hokafor]",
			"notice:sa-01KJPXDKQGC9VA0QRH34YENBSG:at-end:2027-03-01 due 2027-03-01T00:00:00Z until 2027-03-31T00:00:00Z [owner:dkim approver:asmith approver:rpatel]",
		}},
		{"kwalker", []string{
			"notice:C10871:14d-before:2027-01-31 due 2027-01-17T00:00:00Z until 2027-01-31T00:00:00Z [manager:asmith]",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.account, func(t *testing.T) {
			var got []string
			for _, s := range find(all, tc.account) {
				got = append(got, s.ID+" due "+s.DueAt.UTC().Format(time.RFC3339)+" until "+s.Until.UTC().Format(time.RFC3339)+" "+strings.Join([]string{"[" + strings.Join(logins(s.To), " ") + "]"}, ""))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("scheduled\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
	crm := find(all, "svc-crm-sync")
	if m := crm[0]; !strings.Contains(m.Text, "ends on 2027-03-01") || !strings.Contains(m.Text, "it is disabled, keeping its groups, and deleted after 30d unless renewed") ||
		!strings.Contains(m.Text, "moves spec.expires in service-accounts/svc-crm-sync.yaml (at most 365d after spec.created)") {
		t.Errorf("30d notice text:\n%s", m.Text)
	}
	if m := crm[2]; !strings.Contains(m.Subject, "reached its end of life on 2027-03-01") || !strings.Contains(m.Text, "it is disabled") {
		t.Errorf("at-end notice %q:\n%s", m.Subject, m.Text)
	}
}

// TestDue: a notice is due from its moment until its end: before the end
// of life only until the end, at the end for AfterEndWindow.
func TestDue(t *testing.T) {
	all := find(notify.Schedule(acme(t)), "svc-crm-sync")
	for _, tc := range []struct {
		now  string
		want []string // offsets due
	}{
		{"2027-01-29T23:59:59Z", nil},
		{"2027-01-30T00:00:00Z", []string{"30d before"}},
		{"2027-02-24T12:00:00Z", []string{"30d before", "7d before"}},
		{"2027-03-01T00:00:00Z", []string{"at end"}},
		{"2027-03-30T23:59:59Z", []string{"at end"}},
		{"2027-03-31T00:00:00Z", nil},
	} {
		var got []string
		for _, s := range notify.Due(all, at(tc.now)) {
			got = append(got, s.Offset)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("due at %s: %q, want %q", tc.now, got, tc.want)
		}
	}
}

// TestRenewalRearms: moving expires gives new ids, so what was sent for
// the old date does not silence the notices of the new one.
func TestRenewalRearms(t *testing.T) {
	repo := acme(t)
	before := find(notify.Schedule(repo), "svc-crm-sync")
	repo.ServiceAccounts["svc-crm-sync"].Spec.Expires = model.MustDate("2027-09-01")
	after := find(notify.Schedule(repo), "svc-crm-sync")
	for i := range before {
		if before[i].ID == after[i].ID {
			t.Errorf("%s: same id after the renewal", before[i].ID)
		}
	}
}

type recorder struct {
	name string
	got  []notify.Message
	fail error
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Send(_ context.Context, m notify.Message) error {
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, m)
	return nil
}

// TestSendOnce: each message goes out once per channel; a channel that
// fails is not recorded, and sends on the next run.
func TestSendOnce(t *testing.T) {
	due := notify.Messages(notify.Due(notify.Schedule(acme(t)), at("2027-02-24T09:00:00Z")))
	if len(due) == 0 {
		t.Fatal("nothing due")
	}
	mail, hook := &recorder{name: "email"}, &recorder{name: "webhook", fail: errors.New("503")}
	ledger := notify.Ledger{}
	for run := range 3 {
		ds := notify.Send(context.Background(), due, []notify.Channel{mail, hook}, ledger, at("2027-02-24T09:00:00Z").Add(time.Duration(run)*time.Hour), nil)
		ledger.Record(ds)
		wantFailed, wantSent := 0, 0
		switch run {
		case 0:
			wantFailed, wantSent = len(due), 2*len(due)
			hook.fail = nil // the webhook comes back for the next run
		case 1:
			wantSent = len(due) // the webhook's, again
		}
		if notify.Failed(ds) != wantFailed || len(ds) != wantSent {
			t.Errorf("run %d: %d deliveries, %d failed; want %d and %d", run, len(ds), notify.Failed(ds), wantSent, wantFailed)
		}
	}
	if len(mail.got) != len(due) || len(hook.got) != len(due) {
		t.Errorf("sent %d by e-mail and %d by webhook, want %d each: once", len(mail.got), len(hook.got), len(due))
	}
	if p := notify.Pending(due, []string{"email", "webhook"}, ledger); len(p) != 0 {
		t.Errorf("still pending after every channel sent: %v", p)
	}
}
