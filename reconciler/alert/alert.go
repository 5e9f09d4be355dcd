// Package alert tells the operators when the reconciler needs them: a run
// a guard refused, changes that failed, no successful run for too long, a
// lease held too long. Each incident is told once and its recovery once.
//
// Evaluate is pure: it reads the facts of the last run and the ledger of
// messages sent (on the status branch, with the notices), and returns the
// messages to hand to notify.Send, which sends each on the channels that
// have not sent it yet. The ledger is the only memory: an incident is open
// while its alert is in the ledger and its recovery is not.
package alert

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/receipt"
)

// MessageKind is the notify.Message kind of every alert and recovery.
const MessageKind = "alert"

// Kinds of incident: the second part of an alert's ID.
const (
	KindRefused   = "refused"        // the last run was refused: it changed nothing
	KindFailed    = "failed-changes" // the last run's changes failed
	KindNoSuccess = "no-success"     // no run succeeded within spec.alerts.noSuccessWithin
	KindLease     = "lease"          // one reconciler held the lease longer than spec.alerts.leaseHeldLongerThan
)

// Facts are what Evaluate judges.
type Facts struct {
	// Alerts are alm.yaml's spec.alerts; nil: no alerts at all.
	Alerts *model.Alerts
	// Run is the last run, nil when none ran since the last evaluation:
	// then the refused and failed-changes incidents stay as they are.
	Run *Run
	// LastSuccess is when the last successful run ended (a run that found
	// nothing changed counts); Started is when this reconciler started,
	// from which no-success counts while there has been no success yet.
	LastSuccess time.Time
	Started     time.Time
	// LeaseHolder holds the lease since LeaseSince; "" when nobody does.
	LeaseHolder string
	LeaseSince  time.Time
}

// Run is one run's facts.
type Run struct {
	At time.Time // when it ran
	// Refused is its refusal's record, nil when it was not refused.
	Refused *receipt.Refusal
	// Error is what stopped it before it applied (Git or the directory
	// unreachable, an invalid repository); "" when it got that far. A
	// stopped run neither opens nor closes a failed-changes incident.
	Error string
	// Failed counts its changes that failed; Errors are the first of
	// them, "change: error" (Evaluate quotes up to five).
	Failed int
	Errors []string
}

// maxErrors is how many changes' errors an alert quotes.
const maxErrors = 5

// Evaluate returns the alerts and recoveries to send at now: for every
// incident open (its condition holds), its alert, and for every incident
// the ledger holds open whose condition has cleared, its recovery.
// notify.Send sends each on the channels the ledger says have not sent it,
// so an alert returned run after run is told once; a channel that failed
// is tried again on the next run.
func Evaluate(f Facts, sent notify.Ledger, now time.Time) []notify.Message {
	if f.Alerts == nil {
		return nil
	}
	to := Recipients(f.Alerts)
	var out []notify.Message
	for _, c := range conditions(f, now) {
		if !c.known {
			continue
		}
		inc := incidents(sent, c.kind)
		if c.holds {
			start := c.start
			if len(inc.open) > 0 {
				// The incident goes on: keep its start, so its ID is the
				// one the ledger holds.
				start = inc.open[len(inc.open)-1]
			}
			out = append(out, c.message(start, to))
		} else {
			for _, start := range inc.open {
				out = append(out, recovery(c, start, now, to))
			}
		}
		// A recovery some channel that told the incident has not sent.
		for _, start := range inc.partial {
			out = append(out, recovery(c, start, now, to))
		}
	}
	return out
}

// Recipients are one notify.Recipient per address of spec.alerts.to.
func Recipients(a *model.Alerts) []notify.Recipient {
	var out []notify.Recipient
	for _, addr := range a.To {
		out = append(out, notify.Recipient{Email: addr, Role: "operator"})
	}
	return out
}

// ID is the alert of the incident of kind that began at start; its
// recovery's ID adds ":recovered".
func ID(kind string, start time.Time) string {
	return "alert:" + kind + ":" + start.UTC().Format(time.RFC3339)
}

const recoveredSuffix = ":recovered"

// condition is one kind of incident judged at an instant.
type condition struct {
	kind  string
	title string    // the incident in a few words, for a recovery's subject
	known bool      // the facts say whether it holds; else the incident is left as it is
	holds bool      // the incident is going on
	start time.Time // when it began, for a new incident
	// message is the alert for the incident that began at start.
	message func(start time.Time, to []notify.Recipient) notify.Message
	// cleared says, for a recovery, what is well again.
	cleared string
}

func conditions(f Facts, now time.Time) []condition {
	return []condition{refused(f, now), failed(f, now), noSuccess(f, now), lease(f, now)}
}

func refused(f Facts, now time.Time) condition {
	c := condition{kind: KindRefused, title: "runs refused", cleared: "runs are no longer refused"}
	if f.Run == nil || (f.Run.Refused == nil && f.Run.Error != "") {
		return c
	}
	r := f.Run
	c.known, c.holds, c.start = true, r.Refused != nil, r.At
	c.message = func(start time.Time, to []notify.Recipient) notify.Message {
		what := "Fix the files, or, if the plan is right, allow it as the reason says (a flag for one run, or alm.yaml's spec.limits). `alm plan` shows the changes."
		if r.Refused.By == receipt.ByUnapproved {
			what = "Restore or get approved what the reason names, file by file (docs/receipts.md); the next run goes on once the branch holds only approved content."
		}
		return message(KindRefused, start, now, to,
			"alm: reconcile runs refused since "+stamp(start),
			fmt.Sprintf("The run at %s was refused and changed nothing in the directory:\n\n%s\n\nRuns have been refused since %s; every run is refused until this is resolved.\n\nWhat to do: %s",
				stamp(r.At), r.Refused.Message, stamp(start), what))
	}
	return c
}

func failed(f Facts, now time.Time) condition {
	c := condition{kind: KindFailed, title: "changes failing", cleared: "the last run applied every change it tried"}
	if f.Run == nil || f.Run.Refused != nil || f.Run.Error != "" {
		return c
	}
	r := f.Run
	c.known, c.holds, c.start = true, r.Failed > 0, r.At
	c.message = func(start time.Time, to []notify.Recipient) notify.Message {
		var b strings.Builder
		fmt.Fprintf(&b, "The run at %s could not apply %d %s:\n\n", stamp(r.At), r.Failed, plural(r.Failed, "change"))
		for i, e := range r.Errors {
			if i == maxErrors {
				fmt.Fprintf(&b, "- and %d more\n", len(r.Errors)-maxErrors)
				break
			}
			fmt.Fprintf(&b, "- %s\n", e)
		}
		fmt.Fprintf(&b, "\nChanges have been failing since %s.\n\nWhat to do: read each change's error in the run's receipt on the status branch and in the log, and fix its cause (the bind account's rights, the directory's state, the file); every run tries the changes again.", stamp(start))
		return message(KindFailed, start, now, to, fmt.Sprintf("alm: changes failing since %s", stamp(start)), b.String())
	}
	return c
}

func noSuccess(f Facts, now time.Time) condition {
	c := condition{kind: KindNoSuccess, title: "no successful run", cleared: "a run has succeeded"}
	within := f.Alerts.NoSuccessWithin.Std()
	from, since := f.LastSuccess, "the last successful run ended at "+stamp(f.LastSuccess)
	if from.IsZero() {
		from, since = f.Started, "the reconciler started at "+stamp(f.Started)+" and no run has succeeded since"
	}
	if within <= 0 || from.IsZero() {
		return c
	}
	c.known, c.holds, c.start = true, now.Sub(from) >= within, from.Add(within)
	c.message = func(start time.Time, to []notify.Recipient) notify.Message {
		last := ""
		if r := f.Run; r != nil {
			switch {
			case r.Error != "":
				last = fmt.Sprintf("\n\nThe last run, at %s, stopped: %s", stamp(r.At), r.Error)
			case r.Refused != nil:
				last = fmt.Sprintf("\n\nThe last run, at %s, was refused: %s", stamp(r.At), r.Refused.Message)
			case r.Failed > 0:
				last = fmt.Sprintf("\n\nThe last run, at %s, had %d failed %s.", stamp(r.At), r.Failed, plural(r.Failed, "change"))
			}
		}
		return message(KindNoSuccess, start, now, to,
			"alm: no successful run since "+stamp(from),
			fmt.Sprintf("No reconcile run has succeeded for %s (spec.alerts.noSuccessWithin): %s.%s\n\nWhat to do: check that the reconciler is running (its /healthz and log), that it reaches the Git repository and the directory, and that its runs are not refused or failing.",
				round(now.Sub(from)), since, last))
	}
	return c
}

func lease(f Facts, now time.Time) condition {
	c := condition{kind: KindLease, title: "lease held too long", cleared: "the lease was released or changed hands"}
	longer := f.Alerts.LeaseHeldLongerThan.Std()
	if longer <= 0 {
		return c
	}
	c.known = true
	if f.LeaseHolder == "" || f.LeaseSince.IsZero() {
		return c
	}
	c.holds, c.start = now.Sub(f.LeaseSince) >= longer, f.LeaseSince.Add(longer)
	c.message = func(start time.Time, to []notify.Recipient) notify.Message {
		return message(KindLease, start, now, to,
			fmt.Sprintf("alm: lease held by %s since %s", f.LeaseHolder, stamp(f.LeaseSince)),
			fmt.Sprintf("%s has held the reconciler's lease since %s, %s, longer than %s (spec.alerts.leaseHeldLongerThan). No other reconciler applies changes while it does.\n\nWhat to do: check that %s is running and that its run is not stuck (its log, its /healthz). If it has stopped, another reconciler takes the lease over when it expires.",
				f.LeaseHolder, stamp(f.LeaseSince), round(now.Sub(f.LeaseSince)), f.Alerts.LeaseHeldLongerThan, f.LeaseHolder))
	}
	return c
}

func message(kind string, start, now time.Time, to []notify.Recipient, subject, text string) notify.Message {
	return notify.Message{ID: ID(kind, start), Kind: MessageKind, Subject: subject, Text: text, Date: start.UTC(), DueAt: now.UTC(), To: to}
}

func recovery(c condition, start, now time.Time, to []notify.Recipient) notify.Message {
	return notify.Message{
		ID:      ID(c.kind, start) + recoveredSuffix,
		Kind:    MessageKind,
		Subject: fmt.Sprintf("alm: recovered: %s since %s", c.title, stamp(start)),
		Text: fmt.Sprintf("Recovered at %s: %s. The incident (%s) began at %s and lasted %s.\n\nNothing more to do for it.",
			stamp(now), c.cleared, c.title, stamp(start), round(now.Sub(start))),
		Date: start.UTC(), DueAt: now.UTC(), To: to,
	}
}

// found are the incidents of one kind the ledger holds, by start, oldest
// first: open (alerted, not recovered) and partial (recovered on fewer of
// the channels than told the incident).
type found struct{ open, partial []time.Time }

func incidents(sent notify.Ledger, kind string) found {
	prefix := "alert:" + kind + ":"
	alerted := map[time.Time]map[string]time.Time{}
	recovered := map[time.Time]map[string]time.Time{}
	for id, chans := range sent {
		rest, ok := strings.CutPrefix(id, prefix)
		if !ok {
			continue
		}
		into := alerted
		if r, ok := strings.CutSuffix(rest, recoveredSuffix); ok {
			rest, into = r, recovered
		}
		start, err := time.Parse(time.RFC3339, rest)
		if err != nil || len(chans) == 0 {
			continue
		}
		into[start] = chans
	}
	var out found
	for start, told := range alerted {
		rec, ok := recovered[start]
		if !ok {
			out.open = append(out.open, start)
			continue
		}
		for ch := range told {
			if _, ok := rec[ch]; !ok {
				out.partial = append(out.partial, start)
				break
			}
		}
	}
	sortTimes(out.open)
	sortTimes(out.partial)
	return out
}

func sortTimes(ts []time.Time) { sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) }) }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// round writes a span to the minute: 40m, 3h, 1h30m.
func round(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
