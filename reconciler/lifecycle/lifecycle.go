// Package lifecycle computes where an account stands in its life at an
// instant: a pure function of its file, its template, the time zone its
// dates are written in and the time. It says what the account in the
// directory must look like (exists, enabled, holds its groups, where it
// lives) and when that next changes, so the reconciler needs no memory
// between runs.
//
// A date in a file means the instant that day begins in the zone
// (model.Date.Midnight); a duration added to a date counts whole days as
// calendar days there (model.Date.Plus), so a 14d grace from an endDate ends
// at midnight 14 days later whatever daylight saving does in between.
package lifecycle

import (
	"fmt"
	"time"

	"github.com/alm-project/alm/reconciler/model"
)

// Status names a stage of an account's life.
type Status string

// People: pending, active, inactive, leaver, archived.
// Service accounts: active, expiring, expired, retired, and disabled by hand.
const (
	Pending  Status = "pending"
	Active   Status = "active"
	Inactive Status = "inactive"
	Leaver   Status = "leaver"
	Archived Status = "archived"
	Expiring Status = "expiring"
	Expired  Status = "expired"
	Retired  Status = "retired"
	Disabled Status = "disabled"
	// Unreviewed: an access review fell due and was not confirmed within
	// the template's review.grace; the account is disabled, keeping its
	// groups, until a merged review moves spec.reviewed.
	Unreviewed Status = "unreviewed"
)

// Placement is which OU an account belongs in.
type Placement string

const (
	Home    Placement = "home"    // the template's OU
	Leavers Placement = "leavers" // the directory's leavers OU
	Gone    Placement = "retired" // the directory's retired OU
)

// Reason says which field and date put the account where it is.
type Reason struct {
	Field string    `json:"field"` // "spec.endDate"
	Date  time.Time `json:"date,omitzero"`
	Text  string    `json:"text"`
}

func (r Reason) String() string { return r.Text }

// State is an account's stage at one instant, and what it means for the
// directory.
type State struct {
	Status Status `json:"status"`
	Reason Reason `json:"reason"`
	// Exists: the account should be in the directory (false before provisioning and once deleted).
	Exists    bool      `json:"exists"`
	Enabled   bool      `json:"enabled"`
	Groups    bool      `json:"groups"` // holds the groups of its roles
	Placement Placement `json:"placement"`
	// Next is the next instant at which any of the above changes; zero when none is scheduled.
	Next       time.Time `json:"next,omitzero"`
	NextReason string    `json:"nextReason,omitempty"`
}

// day is the date an instant falls on in zone, as the files write dates.
func day(t time.Time, zone *time.Location) string { return t.In(zone).Format(time.DateOnly) }

// Person returns a person's state at now under template t (nil: defaults),
// reading the file's dates in zone.
func Person(p *model.Person, t *model.WorkflowTemplate, zone *time.Location, now time.Time) State {
	s := personState(p, t, zone, now)
	due, field := ReviewDue(t, p.Spec.Reviewed, p.Spec.StartDate, "spec.startDate")
	return overdue(s, t, due, field, zone, now)
}

func personState(p *model.Person, t *model.WorkflowTemplate, zone *time.Location, now time.Time) State {
	var (
		ahead     model.Duration
		grace     model.Duration
		retention model.Duration
		archive   = model.ArchiveStub
	)
	if t != nil {
		ahead = t.Spec.ProvisionAhead
		if l := t.Spec.Leaver; l != nil {
			grace, retention = l.GroupGrace, l.Retention
			if l.Archive != "" {
				archive = l.Archive
			}
		}
	}
	start := p.Spec.StartDate.Midnight(zone)
	endDay, endField := LeavingDate(p, t)
	var end time.Time
	if !endDay.IsZero() {
		end = endDay.Midnight(zone)
	}
	var s State
	var next []event

	switch {
	case !end.IsZero() && !retention.IsZero() && !now.Before(endDay.Plus(retention, zone)):
		at := endDay.Plus(retention, zone)
		s = State{Status: Archived, Reason: Reason{endField, at, fmt.Sprintf("%s %s plus retention %s passed on %s", fieldName(endField), endDay, retention, day(at, zone))}}
		if archive == model.ArchiveStub {
			s.Exists, s.Placement = true, Leavers
		}
	case !end.IsZero() && !now.Before(end):
		s = State{Status: Leaver, Exists: true, Placement: Leavers, Reason: Reason{endField, end, fmt.Sprintf("%s %s has passed", fieldName(endField), endDay)}}
		if ungrouped := endDay.Plus(grace, zone); now.Before(ungrouped) {
			s.Groups = true
			next = append(next, event{ungrouped, fmt.Sprintf("groups removed after the %s grace period", grace)})
		}
		if !retention.IsZero() {
			next = append(next, event{endDay.Plus(retention, zone), "archived after the " + retention.String() + " retention"})
		}
	case now.Before(start):
		s = State{Status: Pending, Placement: Home, Reason: Reason{"spec.startDate", start, fmt.Sprintf("startDate %s is ahead", p.Spec.StartDate)}}
		provisionAt := p.Spec.StartDate.Minus(ahead, zone)
		switch {
		case now.Before(provisionAt) && ahead.IsZero():
			next = append(next, event{provisionAt, "startDate: account created and enabled"})
		case now.Before(provisionAt):
			next = append(next, event{provisionAt, fmt.Sprintf("account created %s ahead of startDate", ahead)})
		default:
			s.Exists = true
			next = append(next, event{start, "startDate: account enabled"})
		}
	case inWindow(p.Spec.Inactive, t, zone, now):
		w := p.Spec.Inactive
		s = State{Status: Inactive, Exists: true, Groups: true, Placement: Home,
			Reason: Reason{"spec.inactive", w.From.Midnight(zone), fmt.Sprintf("inactive (%s) since %s", w.Type, w.From)}}
		if !w.Until.IsZero() && atEnd(w.Type, t) == model.AtEndResume {
			next = append(next, event{w.Until.Midnight(zone), "inactive window ends: account enabled"})
		}
	default:
		s = State{Status: Active, Exists: true, Enabled: true, Groups: true, Placement: Home,
			Reason: Reason{"spec.startDate", start, fmt.Sprintf("startDate %s has passed", p.Spec.StartDate)}}
		if w := p.Spec.Inactive; w != nil && now.Before(w.From.Midnight(zone)) {
			next = append(next, event{w.From.Midnight(zone), fmt.Sprintf("inactive (%s) from %s", w.Type, w.From)})
		}
		if w := p.Spec.Inactive; w != nil && !w.Until.IsZero() && !now.Before(w.Until.Midnight(zone)) {
			s.Reason = Reason{"spec.inactive.until", w.Until.Midnight(zone), fmt.Sprintf("inactive window ended %s", w.Until)}
		}
	}
	if !end.IsZero() && now.Before(end) {
		next = append(next, event{end, fieldName(endField) + " " + endDay.String() + ": leaver"})
	}
	s.Next, s.NextReason = earliest(now, next)
	return s
}

// LeavingDate is the day a person becomes a leaver, and the field that sets
// it: endDate, or the end of an inactive window whose type leaves at its end,
// whichever comes first. Zero when neither is set. The person is a leaver
// from the instant the day begins in the repository's zone (Midnight).
func LeavingDate(p *model.Person, t *model.WorkflowTemplate) (model.Date, string) {
	end, field := p.Spec.EndDate, "spec.endDate"
	if w := p.Spec.Inactive; w != nil && !w.Until.IsZero() && atEnd(w.Type, t) == model.AtEndLeave {
		if end.IsZero() || w.Until.Before(end.Time) {
			end, field = w.Until, "spec.inactive.until"
		}
	}
	return end, field
}

func fieldName(field string) string {
	switch field {
	case "spec.endDate":
		return "endDate"
	case "spec.inactive.until":
		return "inactive until"
	}
	return field
}

// inWindow reports whether now falls in the inactive window. A window whose
// type remains inactive at its end lasts until the file is edited.
func inWindow(w *model.Inactive, t *model.WorkflowTemplate, zone *time.Location, now time.Time) bool {
	if w == nil || now.Before(w.From.Midnight(zone)) {
		return false
	}
	return w.Until.IsZero() || now.Before(w.Until.Midnight(zone)) || atEnd(w.Type, t) == model.AtEndRemain
}

// atEnd is what the end of an inactive window of this type does, per the
// template, else the built-in default.
func atEnd(typ string, t *model.WorkflowTemplate) string {
	if t != nil {
		if r, ok := t.Spec.Inactive[typ]; ok && r.AtEnd != "" {
			return r.AtEnd
		}
	}
	if r, ok := model.DefaultInactive[typ]; ok {
		return r.AtEnd
	}
	return model.AtEndResume
}

// ServiceAccount returns a service account's state at now under template t,
// reading the file's dates in zone.
func ServiceAccount(a *model.ServiceAccount, t *model.WorkflowTemplate, zone *time.Location, now time.Time) State {
	s := serviceAccountState(a, t, zone, now)
	due, field := ReviewDue(t, a.Spec.Reviewed, a.Spec.Created, "spec.created")
	return overdue(s, t, due, field, zone, now)
}

func serviceAccountState(a *model.ServiceAccount, t *model.WorkflowTemplate, zone *time.Location, now time.Time) State {
	eol := model.EndOfLife{Action: model.ActionDisable, Retire: model.RetireMove}
	var warnBefore model.Duration
	if t != nil {
		if t.Spec.EndOfLife != nil {
			eol = *t.Spec.EndOfLife
			if eol.Retire == "" {
				eol.Retire = model.RetireMove
			}
		}
		for _, n := range t.Spec.Notices {
			if n.Before.D > warnBefore.D {
				warnBefore = n.Before
			}
		}
	}
	var expires time.Time
	if !a.Spec.Expires.IsZero() {
		expires = a.Spec.Expires.Midnight(zone)
	}
	retired := func(r Reason) State {
		s := State{Status: Retired, Reason: r}
		if eol.Retire == model.RetireMove {
			s.Exists, s.Placement = true, Gone
		}
		return s
	}

	switch a.Spec.State {
	case model.StateRetired:
		return retired(Reason{Field: "spec.state", Text: "state: retired"})
	case model.StateDisabled:
		return State{Status: Disabled, Exists: true, Groups: true, Placement: Home, Reason: Reason{Field: "spec.state", Text: "state: disabled"}}
	}
	if expires.IsZero() {
		return State{Status: Active, Exists: true, Enabled: true, Groups: true, Placement: Home, Reason: Reason{Field: "spec.expires", Text: "no expiry"}}
	}

	retireAt := a.Spec.Expires.Plus(eol.RetireAfter, zone)
	switch {
	case eol.Action == model.ActionDelete && !now.Before(expires):
		eol.Retire = model.RetireDelete
		return retired(Reason{"spec.expires", expires, fmt.Sprintf("expired %s; end of life: delete", a.Spec.Expires)})
	case eol.RetireAfter.D > 0 && !now.Before(retireAt):
		return retired(Reason{"spec.expires", retireAt, fmt.Sprintf("expired %s, retired after %s", a.Spec.Expires, eol.RetireAfter)})
	case !now.Before(expires):
		s := State{Status: Expired, Exists: true, Groups: true, Placement: Home,
			Reason: Reason{"spec.expires", expires, fmt.Sprintf("expired %s; end of life: %s", a.Spec.Expires, eol.Action)}}
		s.Enabled = eol.Action == model.ActionReview
		if eol.RetireAfter.D > 0 {
			s.Next, s.NextReason = retireAt, fmt.Sprintf("retired %s after expiry (%s)", eol.RetireAfter, eol.Retire)
		}
		return s
	case !warnBefore.IsZero() && !now.Before(a.Spec.Expires.Minus(warnBefore, zone)):
		return State{Status: Expiring, Exists: true, Enabled: true, Groups: true, Placement: Home,
			Reason: Reason{"spec.expires", expires, fmt.Sprintf("expires %s, within %s", a.Spec.Expires, warnBefore)},
			Next:   expires, NextReason: "expires: " + eol.Action}
	}
	s := State{Status: Active, Exists: true, Enabled: true, Groups: true, Placement: Home,
		Reason: Reason{"spec.expires", expires, "expires " + a.Spec.Expires.String()}}
	if !warnBefore.IsZero() {
		s.Next, s.NextReason = a.Spec.Expires.Minus(warnBefore, zone), fmt.Sprintf("expiring: first notice %s before expiry", warnBefore)
	} else {
		s.Next, s.NextReason = expires, "expires: "+eol.Action
	}
	return s
}

// ReviewDue is the day an account's access review falls due under template
// t's review: review.every after spec.reviewed, or, for an account never
// reviewed, after since (a person's startDate, a service account's
// created), and the field it counts from. Zero when the template asks for
// no review or there is no date to count from.
func ReviewDue(t *model.WorkflowTemplate, reviewed, since model.Date, sinceField string) (model.Date, string) {
	if t == nil || t.Spec.Review == nil || t.Spec.Review.Every.IsZero() {
		return model.Date{}, ""
	}
	from, field := reviewed, "spec.reviewed"
	if from.IsZero() {
		from, field = since, sinceField
	}
	if from.IsZero() {
		return model.Date{}, ""
	}
	// Whole days: a review falls due on a day, as every other date in the files.
	at := from.Plus(t.Spec.Review.Every, time.UTC)
	return model.Date{Time: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)}, field
}

// overdue disables an enabled account whose review fell due on day due
// and was not confirmed within the template's review.grace; before then, it
// schedules that instant as the state's next change. No grace: a missed
// review changes nothing but the listing alm review opens.
func overdue(s State, t *model.WorkflowTemplate, due model.Date, field string, zone *time.Location, now time.Time) State {
	if !s.Enabled || due.IsZero() || t.Spec.Review.Grace.IsZero() {
		return s
	}
	r := t.Spec.Review
	at := due.Plus(r.Grace, zone)
	if now.Before(at) {
		if s.Next.IsZero() || at.Before(s.Next) {
			s.Next, s.NextReason = at, fmt.Sprintf("access review due %s not confirmed within grace %s: disabled", due, r.Grace)
		}
		return s
	}
	s.Status, s.Enabled = Unreviewed, false
	s.Reason = Reason{Field: field, Date: at, Text: fmt.Sprintf("access review due %s (every %s from %s), not confirmed within grace %s: disabled until reviewed",
		due, r.Every, field, r.Grace)}
	return s
}

type event struct {
	at   time.Time
	what string
}

// earliest returns the first event after now.
func earliest(now time.Time, events []event) (time.Time, string) {
	var best event
	for _, e := range events {
		if e.at.After(now) && (best.at.IsZero() || e.at.Before(best.at)) {
			best = e
		}
	}
	return best.at, best.what
}
