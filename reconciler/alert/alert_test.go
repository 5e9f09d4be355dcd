package alert

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/receipt"
)

// channel records what it sends, and fails while down.
type channel struct {
	name string
	down bool
	sent []notify.Message
}

func (c *channel) Name() string { return c.name }
func (c *channel) Send(_ context.Context, m notify.Message) error {
	if c.down {
		return errors.New("connection refused")
	}
	c.sent = append(c.sent, m)
	return nil
}

var t0 = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

var overLimit = &receipt.Refusal{By: receipt.ByGuard,
	Message: "plan refused: it disables 12 accounts, over the limit of 10 (alm.yaml spec.limits.disable); check the plan, and if it is right allow it for this run with --max-disable 12",
	Limits:  []receipt.Limit{{Kind: "disable", Changes: 12}}}

// step is one evaluation, as the reconciler makes one after each run (or
// on a tick): the facts, which channels are down, and what is sent.
type step struct {
	now   time.Duration // after t0
	facts Facts         // Alerts is filled in from the case
	down  []string      // channels that fail this step
	want  []string      // "channel id" of each message sent, in order
}

func TestEvaluateSequences(t *testing.T) {
	settings := &model.Alerts{To: []string{"ops@example.test"}, NoSuccessWithin: model.MustInterval("2h"), LeaseHeldLongerThan: model.MustInterval("30m")}
	ok := func(d time.Duration) Facts { return Facts{Run: &Run{At: at(d)}, LastSuccess: at(d), Started: t0} }
	refusedAt := func(d time.Duration) Facts {
		return Facts{Run: &Run{At: at(d), Refused: overLimit}, LastSuccess: t0, Started: t0}
	}
	failedAt := func(d time.Duration, n int) Facts {
		return Facts{Run: &Run{At: at(d), Failed: n, Errors: []string{"disable:jdoe: insufficient access rights"}}, LastSuccess: at(d), Started: t0}
	}
	leaseSince := func(f Facts, holder string, since time.Duration) Facts {
		f.LeaseHolder, f.LeaseSince = holder, at(since)
		return f
	}
	refusedID := ID(KindRefused, at(10*time.Minute))
	failedID := ID(KindFailed, at(10*time.Minute))
	noSuccessID := ID(KindNoSuccess, at(2*time.Hour))
	leaseID := ID(KindLease, at(30*time.Minute))

	cases := []struct {
		name     string
		settings *model.Alerts
		steps    []step
	}{
		{"refused three times, then ok: one alert, one recovery", settings, []step{
			{now: 10 * time.Minute, facts: refusedAt(10 * time.Minute), want: []string{"email " + refusedID, "webhook " + refusedID}},
			{now: 20 * time.Minute, facts: refusedAt(20 * time.Minute)},
			{now: 30 * time.Minute, facts: refusedAt(30 * time.Minute)},
			{now: 40 * time.Minute, facts: ok(40 * time.Minute), want: []string{"email " + refusedID + ":recovered", "webhook " + refusedID + ":recovered"}},
			{now: 50 * time.Minute, facts: ok(50 * time.Minute)},
		}},
		{"refused again after recovering: a new incident", settings, []step{
			{now: 10 * time.Minute, facts: refusedAt(10 * time.Minute), want: []string{"email " + refusedID, "webhook " + refusedID}},
			{now: 20 * time.Minute, facts: ok(20 * time.Minute), want: []string{"email " + refusedID + ":recovered", "webhook " + refusedID + ":recovered"}},
			{now: 30 * time.Minute, facts: refusedAt(30 * time.Minute), want: []string{"email " + ID(KindRefused, at(30*time.Minute)), "webhook " + ID(KindRefused, at(30*time.Minute))}},
		}},
		{"failing changes: told once while they fail, a stopped run changes nothing", settings, []step{
			{now: 10 * time.Minute, facts: failedAt(10*time.Minute, 2), want: []string{"email " + failedID, "webhook " + failedID}},
			{now: 20 * time.Minute, facts: failedAt(20*time.Minute, 1)},
			{now: 30 * time.Minute, facts: Facts{Run: &Run{At: at(30 * time.Minute), Error: "directory unreachable"}, LastSuccess: at(20 * time.Minute)}},
			{now: 40 * time.Minute, facts: ok(40 * time.Minute), want: []string{"email " + failedID + ":recovered", "webhook " + failedID + ":recovered"}},
		}},
		{"no success for 3h: told when 2h pass, recovered by a success", settings, []step{
			{now: time.Hour, facts: Facts{Run: &Run{At: at(time.Hour), Error: "fetch: connection refused"}, LastSuccess: t0}},
			{now: 2*time.Hour + 5*time.Minute, facts: Facts{Run: &Run{At: at(2*time.Hour + 5*time.Minute), Error: "fetch: connection refused"}, LastSuccess: t0},
				want: []string{"email " + noSuccessID, "webhook " + noSuccessID}},
			{now: 3 * time.Hour, facts: Facts{LastSuccess: t0}},
			{now: 3*time.Hour + 10*time.Minute, facts: ok(3*time.Hour + 10*time.Minute), want: []string{"email " + noSuccessID + ":recovered", "webhook " + noSuccessID + ":recovered"}},
		}},
		{"no run has ever succeeded: counted from the start", settings, []step{
			{now: time.Hour, facts: Facts{Started: t0}},
			{now: 2 * time.Hour, facts: Facts{Started: t0}, want: []string{"email " + noSuccessID, "webhook " + noSuccessID}},
		}},
		{"lease held 40m: told once, recovered when released", settings, []step{
			{now: 20 * time.Minute, facts: leaseSince(ok(20*time.Minute), "host-a/41", 0)},
			{now: 40 * time.Minute, facts: leaseSince(ok(20*time.Minute), "host-a/41", 0), want: []string{"email " + leaseID, "webhook " + leaseID}},
			{now: 45 * time.Minute, facts: leaseSince(ok(20*time.Minute), "host-a/41", 0)},
			{now: 50 * time.Minute, facts: ok(50 * time.Minute), want: []string{"email " + leaseID + ":recovered", "webhook " + leaseID + ":recovered"}},
		}},
		{"a channel down: the alert is sent there on the next run, not again elsewhere", settings, []step{
			{now: 10 * time.Minute, facts: refusedAt(10 * time.Minute), down: []string{"webhook"}, want: []string{"email " + refusedID}},
			{now: 20 * time.Minute, facts: refusedAt(20 * time.Minute), want: []string{"webhook " + refusedID}},
			{now: 30 * time.Minute, facts: ok(30 * time.Minute), down: []string{"email"}, want: []string{"webhook " + refusedID + ":recovered"}},
			{now: 40 * time.Minute, facts: ok(40 * time.Minute), want: []string{"email " + refusedID + ":recovered"}},
			{now: 50 * time.Minute, facts: ok(50 * time.Minute)},
		}},
		{"every channel down: nothing is recorded, the alert waits", settings, []step{
			{now: 10 * time.Minute, facts: refusedAt(10 * time.Minute), down: []string{"email", "webhook"}},
			{now: 20 * time.Minute, facts: refusedAt(20 * time.Minute), want: []string{"email " + ID(KindRefused, at(20*time.Minute)), "webhook " + ID(KindRefused, at(20*time.Minute))}},
		}},
		{"no thresholds: refusals only", &model.Alerts{To: []string{"ops@example.test"}}, []step{
			{now: 5 * time.Hour, facts: leaseSince(Facts{Started: t0}, "host-a/41", 0)},
			{now: 5*time.Hour + 10*time.Minute, facts: refusedAt(5*time.Hour + 10*time.Minute), want: []string{"email " + ID(KindRefused, at(5*time.Hour+10*time.Minute)), "webhook " + ID(KindRefused, at(5*time.Hour+10*time.Minute))}},
		}},
		{"no spec.alerts: nothing", nil, []step{
			{now: 10 * time.Hour, facts: leaseSince(refusedAt(10*time.Hour), "host-a/41", 0)},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email, webhook := &channel{name: "email"}, &channel{name: "webhook"}
			chans := []notify.Channel{email, webhook}
			ledger := notify.Ledger{}
			for i, st := range tc.steps {
				email.down, webhook.down = slices.Contains(st.down, "email"), slices.Contains(st.down, "webhook")
				email.sent, webhook.sent = nil, nil
				st.facts.Alerts = tc.settings
				now := at(st.now)
				ms := Evaluate(st.facts, ledger, now)
				ds := notify.Send(context.Background(), ms, chans, ledger, now, nil)
				ledger.Record(ds)
				var got []string
				for _, d := range ds {
					if d.Error == "" {
						got = append(got, d.Channel+" "+d.ID)
					}
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("step %d (%s): sent %q, want %q", i+1, now.Format(time.TimeOnly), got, st.want)
				}
				for _, m := range append(email.sent, webhook.sent...) {
					if m.Kind != MessageKind || len(m.To) != 1 || m.To[0].Email != "ops@example.test" {
						t.Errorf("step %d: message %s has kind %q, to %+v", i+1, m.ID, m.Kind, m.To)
					}
				}
			}
		})
	}
}

// TestTexts: each alert says what happened, since when, and what to do;
// a recovery says when it ended.
func TestTexts(t *testing.T) {
	settings := &model.Alerts{NoSuccessWithin: model.MustInterval("2h"), LeaseHeldLongerThan: model.MustInterval("30m")}
	cases := []struct {
		name  string
		facts Facts
		now   time.Time
		want  []string // fragments of subject + text
	}{
		{"refused by a limit", Facts{Run: &Run{At: at(time.Minute), Refused: overLimit}, LastSuccess: t0},
			at(time.Minute), []string{"runs refused since 2026-05-04 08:01 UTC", "disables 12 accounts", "--max-disable 12", "What to do:"}},
		{"refused as unapproved", Facts{Run: &Run{At: at(time.Minute), Refused: &receipt.Refusal{By: receipt.ByUnapproved, Message: "people/jdoe.yaml: unapproved"}}, LastSuccess: t0},
			at(time.Minute), []string{"people/jdoe.yaml: unapproved", "docs/receipts.md"}},
		{"failed changes", Facts{Run: &Run{At: at(time.Minute), Failed: 7, Errors: []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}}, LastSuccess: at(time.Minute)},
			at(time.Minute), []string{"could not apply 7 changes", "- e5\n- and 2 more", "failing since 2026-05-04 08:01 UTC", "bind account's rights"}},
		{"no success", Facts{Run: &Run{At: at(3 * time.Hour), Error: "fetch: connection refused"}, LastSuccess: t0},
			at(3 * time.Hour), []string{"no successful run since 2026-05-04 08:00 UTC", "for 3h", "stopped: fetch: connection refused", "/healthz"}},
		{"lease", Facts{LeaseHolder: "host-a/41", LeaseSince: t0, LastSuccess: at(40 * time.Minute)},
			at(40 * time.Minute), []string{"lease held by host-a/41 since 2026-05-04 08:00 UTC", "40m, longer than 30m", "expires"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.facts.Alerts = settings
			ms := Evaluate(tc.facts, notify.Ledger{}, tc.now)
			if len(ms) != 1 {
				t.Fatalf("got %d messages, want 1: %+v", len(ms), ms)
			}
			all := ms[0].Subject + "\n" + ms[0].Text
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("message lacks %q:\n%s", w, all)
				}
			}
		})
	}
	sent := notify.Ledger{ID(KindLease, at(30*time.Minute)): {"email": at(30 * time.Minute)}}
	ms := Evaluate(Facts{Alerts: settings, LastSuccess: at(90 * time.Minute)}, sent, at(90*time.Minute))
	if len(ms) != 1 || !strings.Contains(ms[0].Text, "Recovered at 2026-05-04 09:30 UTC: the lease was released") || !strings.Contains(ms[0].Text, "lasted 1h") ||
		ms[0].Subject != "alm: recovered: lease held too long since 2026-05-04 08:30 UTC" {
		t.Errorf("recovery = %+v", ms)
	}
}
