package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/model"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) model.Date { return model.MustDate(s) }

func employeeTemplate() *model.WorkflowTemplate {
	return &model.WorkflowTemplate{
		Metadata: model.Metadata{Name: "employee"},
		Spec: model.TemplateSpec{
			AppliesTo:      model.KindPerson,
			ProvisionAhead: model.MustDuration("7d"),
			Leaver:         &model.Leaver{GroupGrace: model.MustDuration("14d"), Retention: model.MustDuration("90d"), Archive: model.ArchiveDelete},
		},
	}
}

func person(mod func(*model.PersonSpec)) *model.Person {
	p := &model.Person{
		Metadata: model.AccountMetadata{Name: "jdoe", ID: "004217"},
		Spec: model.PersonSpec{
			GivenName: "Jane", Surname: "Doe", Type: model.TypeEmployee,
			Department: "Engineering", StartDate: date("2026-01-05"),
		},
	}
	if mod != nil {
		mod(&p.Spec)
	}
	return p
}

// want is what a case expects; zero Next means no change is scheduled.
type want struct {
	status    Status
	exists    bool
	enabled   bool
	groups    bool
	placement Placement
	next      string
	field     string
}

func check(t *testing.T, got State, w want) {
	t.Helper()
	if got.Status != w.status || got.Exists != w.exists || got.Enabled != w.enabled || got.Groups != w.groups {
		t.Errorf("got %s exists=%v enabled=%v groups=%v, want %s exists=%v enabled=%v groups=%v (reason: %s)",
			got.Status, got.Exists, got.Enabled, got.Groups, w.status, w.exists, w.enabled, w.groups, got.Reason)
	}
	if w.exists && got.Placement != w.placement {
		t.Errorf("placement %s, want %s", got.Placement, w.placement)
	}
	var next string
	if !got.Next.IsZero() {
		next = got.Next.UTC().Format(time.RFC3339)
	}
	if next != w.next {
		t.Errorf("next %q (%s), want %q", next, got.NextReason, w.next)
	}
	if w.field != "" && got.Reason.Field != w.field {
		t.Errorf("reason field %q, want %q", got.Reason.Field, w.field)
	}
	if got.Reason.Text == "" {
		t.Error("state has no reason")
	}
}

func TestPerson(t *testing.T) {
	tmpl := employeeTemplate()
	stubTmpl := employeeTemplate()
	stubTmpl.Spec.Leaver.Archive = model.ArchiveStub
	sabbatical := func(s *model.PersonSpec) {
		s.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, Reason: "Sabbatical", From: date("2026-07-01"), Until: date("2026-12-31")}
	}
	leaving := func(s *model.PersonSpec) { s.EndDate = date("2026-10-31") }

	tests := []struct {
		name string
		p    *model.Person
		t    *model.WorkflowTemplate
		now  string
		want want
	}{
		// create and join
		{"create: file merged long before start, no account yet", person(func(s *model.PersonSpec) { s.StartDate = date("2026-12-07") }), tmpl, "2026-11-22T09:00:00Z",
			want{status: Pending, next: "2026-11-30T00:00:00Z", field: "spec.startDate"}},
		{"pending: provisioned ahead, disabled, no groups", person(func(s *model.PersonSpec) { s.StartDate = date("2026-12-07") }), tmpl, "2026-11-30T00:00:00Z",
			want{status: Pending, exists: true, placement: Home, next: "2026-12-07T00:00:00Z"}},
		{"pending without provisionAhead: no account until the start", person(func(s *model.PersonSpec) { s.StartDate = date("2026-12-07") }), nil, "2026-12-06T23:59:59Z",
			want{status: Pending, next: "2026-12-07T00:00:00Z"}},
		{"join: active at startDate", person(func(s *model.PersonSpec) { s.StartDate = date("2026-12-07") }), tmpl, "2026-12-07T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		// move and rename leave the status alone
		{"move: a new department keeps the person active", person(func(s *model.PersonSpec) { s.Department = "Finance"; s.Title = "Controller" }), tmpl, "2026-11-22T09:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		{"rename: previous names keep the person active", person(func(s *model.PersonSpec) { s.PreviousNames = []string{"jsmith"} }), tmpl, "2026-11-22T09:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		// inactive, each type
		{"active before an inactive window, which is next", person(sabbatical), tmpl, "2026-06-30T12:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-07-01T00:00:00Z"}},
		{"inactive long-term-away: disabled, groups kept, resumes at until", person(sabbatical), tmpl, "2026-11-22T09:00:00Z",
			want{status: Inactive, exists: true, groups: true, placement: Home, next: "2026-12-31T00:00:00Z", field: "spec.inactive"}},
		{"resume from long-term-away at until", person(sabbatical), tmpl, "2026-12-31T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, field: "spec.inactive.until"}},
		{"inactive suspended with no until lasts until the file changes", person(func(s *model.PersonSpec) {
			s.Inactive = &model.Inactive{Type: model.InactiveSuspended, Reason: "Investigation", From: date("2026-11-01")}
		}), tmpl, "2027-06-01T00:00:00Z",
			want{status: Inactive, exists: true, groups: true, placement: Home}},
		{"inactive suspended stays inactive past its until", person(func(s *model.PersonSpec) {
			s.Inactive = &model.Inactive{Type: model.InactiveSuspended, From: date("2026-11-01"), Until: date("2026-11-15")}
		}), tmpl, "2026-11-22T09:00:00Z",
			want{status: Inactive, exists: true, groups: true, placement: Home}},
		{"inactive garden-leave: disabled until its end, which is the leaving date", person(func(s *model.PersonSpec) {
			s.Inactive = &model.Inactive{Type: model.InactiveGardenLeave, From: date("2026-11-01"), Until: date("2026-12-01")}
		}), tmpl, "2026-11-22T09:00:00Z",
			want{status: Inactive, exists: true, groups: true, placement: Home, next: "2026-12-01T00:00:00Z"}},
		{"garden-leave ends as a leaver", person(func(s *model.PersonSpec) {
			s.Inactive = &model.Inactive{Type: model.InactiveGardenLeave, From: date("2026-11-01"), Until: date("2026-12-01")}
		}), tmpl, "2026-12-01T00:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-12-15T00:00:00Z", field: "spec.inactive.until"}},
		{"a template can make long-term-away leave at its end", person(sabbatical), func() *model.WorkflowTemplate {
			t := employeeTemplate()
			t.Spec.Inactive = map[string]model.InactiveRule{model.InactiveLongTermAway: {AtEnd: model.AtEndLeave}}
			return t
		}(), "2027-01-02T00:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2027-01-14T00:00:00Z"}},
		// leaver and archive
		{"active with an endDate ahead: the endDate is next", person(leaving), tmpl, "2026-10-01T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-10-31T00:00:00Z"}},
		{"leaver: disabled, moved, groups kept in the grace period", person(leaving), tmpl, "2026-10-31T00:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-11-14T00:00:00Z", field: "spec.endDate"}},
		{"leaver after grace: groups removed, archive next", person(leaving), tmpl, "2026-11-22T09:00:00Z",
			want{status: Leaver, exists: true, placement: Leavers, next: "2027-01-29T00:00:00Z"}},
		{"endDate wins over an inactive window", person(func(s *model.PersonSpec) { sabbatical(s); leaving(s) }), tmpl, "2026-11-22T09:00:00Z",
			want{status: Leaver, exists: true, placement: Leavers, next: "2027-01-29T00:00:00Z"}},
		{"archived: deleted per template", person(leaving), tmpl, "2027-01-29T00:00:00Z",
			want{status: Archived, exists: false}},
		{"archived: a disabled stub kept per template", person(leaving), stubTmpl, "2027-02-01T00:00:00Z",
			want{status: Archived, exists: true, placement: Leavers}},
		{"leaver without retention is never archived", person(leaving), nil, "2030-01-01T00:00:00Z",
			want{status: Leaver, exists: true, placement: Leavers}},
		// resume: the same file with the end removed
		{"resume from inactive: window removed", person(nil), tmpl, "2026-11-22T09:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		{"resume from leaver: endDate removed inside the grace period", person(nil), tmpl, "2026-11-05T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		{"resume from archived: endDate removed, the account comes back", person(nil), tmpl, "2027-03-01T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		{"contractor leaves at the end of the contract", person(func(s *model.PersonSpec) { s.Type = model.TypeContractor; s.EndDate = date("2027-01-31") }), tmpl, "2027-01-31T00:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2027-02-14T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, Person(tc.p, tc.t, time.UTC, at(tc.now)), tc.want)
		})
	}
}

func serviceTemplate(action, retire string) *model.WorkflowTemplate {
	return &model.WorkflowTemplate{
		Metadata: model.Metadata{Name: "service-account"},
		Spec: model.TemplateSpec{
			AppliesTo: model.KindServiceAccount,
			Notices: []model.Notice{
				{Before: model.MustDuration("30d"), To: []string{"owner"}},
				{Before: model.MustDuration("7d"), To: []string{"owner"}},
				{At: "end", To: []string{"owner"}},
			},
			EndOfLife: &model.EndOfLife{Action: action, RetireAfter: model.MustDuration("30d"), Retire: retire},
		},
	}
}

func TestServiceAccount(t *testing.T) {
	sa := func(mod func(*model.ServiceAccountSpec)) *model.ServiceAccount {
		a := &model.ServiceAccount{
			Metadata: model.AccountMetadata{Name: "svc-backup", ID: "sa-01J9ZK3Q"},
			Spec: model.ServiceAccountSpec{Template: "service-account", Owner: "jdoe",
				Created: date("2026-06-01"), Expires: date("2026-12-10")},
		}
		if mod != nil {
			mod(&a.Spec)
		}
		return a
	}
	disable := serviceTemplate(model.ActionDisable, model.RetireDelete)
	tests := []struct {
		name string
		a    *model.ServiceAccount
		t    *model.WorkflowTemplate
		now  string
		want want
	}{
		{"active until the first notice", sa(nil), disable, "2026-09-01T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-11-10T00:00:00Z"}},
		{"expiring inside the first notice window", sa(nil), disable, "2026-11-22T09:00:00Z",
			want{status: Expiring, exists: true, enabled: true, groups: true, placement: Home, next: "2026-12-10T00:00:00Z"}},
		{"expired: disabled, groups kept until retirement", sa(nil), disable, "2026-12-10T00:00:00Z",
			want{status: Expired, exists: true, groups: true, placement: Home, next: "2027-01-09T00:00:00Z", field: "spec.expires"}},
		{"expired with review: stays enabled for the owner to decide", sa(nil), serviceTemplate(model.ActionReview, model.RetireDelete), "2026-12-11T00:00:00Z",
			want{status: Expired, exists: true, enabled: true, groups: true, placement: Home, next: "2027-01-09T00:00:00Z"}},
		{"retired after retireAfter: deleted", sa(nil), disable, "2027-01-09T00:00:00Z",
			want{status: Retired, exists: false}},
		{"retired after retireAfter: moved to the retired OU", sa(nil), serviceTemplate(model.ActionDisable, model.RetireMove), "2027-01-09T00:00:00Z",
			want{status: Retired, exists: true, placement: Gone}},
		{"end of life delete retires at expiry", sa(nil), serviceTemplate(model.ActionDelete, ""), "2026-12-10T00:00:00Z",
			want{status: Retired, exists: false}},
		{"renewal: expires moved out, active again", sa(func(s *model.ServiceAccountSpec) { s.Expires = date("2027-06-01") }), disable, "2026-12-20T00:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2027-05-02T00:00:00Z"}},
		{"state disabled overrides: disabled, groups kept", sa(func(s *model.ServiceAccountSpec) { s.State = model.StateDisabled }), disable, "2026-09-01T00:00:00Z",
			want{status: Disabled, exists: true, groups: true, placement: Home, field: "spec.state"}},
		{"state retired overrides before expiry", sa(func(s *model.ServiceAccountSpec) { s.State = model.StateRetired }), disable, "2026-09-01T00:00:00Z",
			want{status: Retired, exists: false, field: "spec.state"}},
		{"no template: expires then disabled, never retired", sa(nil), nil, "2027-06-01T00:00:00Z",
			want{status: Expired, exists: true, groups: true, placement: Home}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, ServiceAccount(tc.a, tc.t, time.UTC, at(tc.now)), tc.want)
		})
	}
}

// TestNextIsWhenStateChanges walks each person case forward to its Next and
// checks that the state really differs there, and not just before.
func TestNextIsWhenStateChanges(t *testing.T) {
	tmpl := employeeTemplate()
	p := person(func(s *model.PersonSpec) {
		s.StartDate = date("2026-12-07")
		s.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, From: date("2027-03-01"), Until: date("2027-04-01")}
		s.EndDate = date("2027-09-30")
	})
	now := at("2026-11-01T00:00:00Z")
	var walked []Status
	for i := 0; i < 20; i++ {
		s := Person(p, tmpl, time.UTC, now)
		walked = append(walked, s.Status)
		if s.Next.IsZero() {
			break
		}
		if before := Person(p, tmpl, time.UTC, s.Next.Add(-time.Second)); !sameEffect(before, s) {
			t.Fatalf("state changed before Next %s: %+v vs %+v", s.Next, before, s)
		}
		if after := Person(p, tmpl, time.UTC, s.Next); sameEffect(after, s) {
			t.Fatalf("nothing changed at Next %s (%s)", s.Next, s.NextReason)
		}
		now = s.Next
	}
	want := []Status{Pending, Pending, Active, Inactive, Active, Leaver, Leaver, Archived}
	if len(walked) != len(want) {
		t.Fatalf("walked %v, want %v", walked, want)
	}
	for i := range want {
		if walked[i] != want[i] {
			t.Fatalf("walked %v, want %v", walked, want)
		}
	}
}

// sameEffect compares what two states mean for the directory.
func sameEffect(a, b State) bool {
	return a.Status == b.Status && a.Exists == b.Exists && a.Enabled == b.Enabled &&
		a.Groups == b.Groups && a.Placement == b.Placement
}

func zone(name string) *time.Location { return model.MustTimeZone(name).Location() }

// TestZones: a date means midnight in the repository's zone, east and west
// of UTC, and a duration's days are calendar days there across daylight
// saving changes. Instants are written in UTC; the reason shows the date as
// the file writes it.
func TestZones(t *testing.T) {
	auckland, losAngeles := zone("Pacific/Auckland"), zone("America/Los_Angeles")
	tmpl := employeeTemplate()
	leavesOn := func(d string) *model.Person { return person(func(s *model.PersonSpec) { s.EndDate = date(d) }) }
	startsOn := func(d string) *model.Person { return person(func(s *model.PersonSpec) { s.StartDate = date(d) }) }
	tests := []struct {
		name   string
		p      *model.Person
		zone   *time.Location
		now    string
		want   want
		reason string // a fragment of the reason's text
	}{
		// Auckland is UTC+13 in November: 2026-11-30 begins at 2026-11-29T11:00Z.
		{"Auckland: not yet a leaver the second before its midnight", leavesOn("2026-11-30"), auckland, "2026-11-29T10:59:59Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-11-29T11:00:00Z"}, "startDate 2026-01-05 has passed"},
		{"Auckland: a leaver at its midnight, 13 hours before UTC's", leavesOn("2026-11-30"), auckland, "2026-11-29T11:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-12-13T11:00:00Z", field: "spec.endDate"}, "endDate 2026-11-30 has passed"},
		{"UTC: the same instant is still the day before", leavesOn("2026-11-30"), time.UTC, "2026-11-29T11:00:00Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-11-30T00:00:00Z"}, ""},
		// Los Angeles is UTC-8 in November: 2026-11-30 begins at 08:00Z.
		{"Los Angeles: still active at UTC's midnight", leavesOn("2026-11-30"), losAngeles, "2026-11-30T07:59:59Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-11-30T08:00:00Z"}, ""},
		{"Los Angeles: a leaver at its own midnight", leavesOn("2026-11-30"), losAngeles, "2026-11-30T08:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-12-14T08:00:00Z"}, "endDate 2026-11-30 has passed"},
		// Auckland moves to UTC+13 on 2026-09-27: 14 calendar days from
		// 2026-09-20 (begins 09-19T12:00Z) end at 10-03T11:00Z, 335 hours later.
		{"Auckland DST: groups kept until the grace's last calendar day ends", leavesOn("2026-09-20"), auckland, "2026-10-03T10:59:59Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-10-03T11:00:00Z"}, ""},
		{"Auckland DST: groups removed at midnight 14 days on, not 14×24h on", leavesOn("2026-09-20"), auckland, "2026-10-03T11:00:00Z",
			want{status: Leaver, exists: true, placement: Leavers, next: "2026-12-18T11:00:00Z"}, ""},
		// Los Angeles goes back to UTC-8 on 2026-11-01: 2026-10-25 begins at
		// 07:00Z, 2026-11-08 at 08:00Z.
		{"Los Angeles DST: the grace is 14 days and one hour", leavesOn("2026-10-25"), losAngeles, "2026-10-25T07:00:00Z",
			want{status: Leaver, exists: true, groups: true, placement: Leavers, next: "2026-11-08T08:00:00Z"}, ""},
		{"Los Angeles DST: archived at midnight 90 days on", leavesOn("2026-10-25"), losAngeles, "2027-01-23T08:00:00Z",
			want{status: Archived}, "plus retention 90d passed on 2027-01-23"},
		// Los Angeles moves to UTC-7 on 2026-03-08: 7 days ahead of 2026-03-12
		// (07:00Z) is 2026-03-05 (08:00Z).
		{"Los Angeles DST: provisioned 7 calendar days ahead", startsOn("2026-03-12"), losAngeles, "2026-03-05T07:59:59Z",
			want{status: Pending, next: "2026-03-05T08:00:00Z"}, "startDate 2026-03-12 is ahead"},
		{"Los Angeles DST: provisioned, enabled at the start's midnight", startsOn("2026-03-12"), losAngeles, "2026-03-05T08:00:00Z",
			want{status: Pending, exists: true, placement: Home, next: "2026-03-12T07:00:00Z"}, ""},
		{"Auckland: an inactive window begins at its midnight", person(func(s *model.PersonSpec) {
			s.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, From: date("2026-07-01"), Until: date("2026-12-31")}
		}), auckland, "2026-06-30T12:00:00Z",
			want{status: Inactive, exists: true, groups: true, placement: Home, next: "2026-12-30T11:00:00Z"}, "inactive (long-term-away) since 2026-07-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Person(tc.p, tmpl, tc.zone, at(tc.now))
			check(t, got, tc.want)
			if !strings.Contains(got.Reason.Text, tc.reason) {
				t.Errorf("reason %q does not say %q", got.Reason.Text, tc.reason)
			}
			if w := tc.want.field; w != "" {
				// The reason's instant falls on the date the file writes, in the zone.
				if d := got.Reason.Date.In(tc.zone).Format(time.DateOnly); d != tc.p.Spec.EndDate.String() {
					t.Errorf("reason date %s in the zone, want %s", d, tc.p.Spec.EndDate)
				}
			}
		})
	}
}

func TestServiceAccountZones(t *testing.T) {
	auckland := zone("Pacific/Auckland")
	sa := &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-backup", ID: "sa-01J9ZK3Q"},
		Spec: model.ServiceAccountSpec{Template: "service-account", Owner: "jdoe", Created: date("2026-06-01"), Expires: date("2026-12-10")}}
	disable := serviceTemplate(model.ActionDisable, model.RetireDelete)
	tests := []struct {
		name string
		now  string
		want want
	}{
		// 2026-12-10 begins at 2026-12-09T11:00Z; the 30-day notice at 2026-11-10, 2026-11-09T11:00Z.
		{"active until the notice's midnight", "2026-11-09T10:59:59Z",
			want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2026-11-09T11:00:00Z"}},
		{"expiring from the notice's midnight", "2026-11-09T11:00:00Z",
			want{status: Expiring, exists: true, enabled: true, groups: true, placement: Home, next: "2026-12-09T11:00:00Z"}},
		{"expired at midnight of expires", "2026-12-09T11:00:00Z",
			want{status: Expired, exists: true, groups: true, placement: Home, next: "2027-01-08T11:00:00Z", field: "spec.expires"}},
		{"retired 30 days on", "2027-01-08T11:00:00Z",
			want{status: Retired}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, ServiceAccount(sa, disable, auckland, at(tc.now)), tc.want)
		})

	}
}

// The longest durations added to the latest and earliest dates a file can
// hold, in zones at both ends of the offsets: every instant the lifecycle
// computes stays in order, none wraps round to before the date it came from.
func TestLongestDurationsAtTheEdgesOfTime(t *testing.T) {
	longest := model.Duration{D: model.MaxDuration}
	person := &model.WorkflowTemplate{Metadata: model.Metadata{Name: "employee"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, ProvisionAhead: longest,
		Leaver: &model.Leaver{GroupGrace: longest, Retention: longest, Archive: model.ArchiveStub},
	}}
	service := &model.WorkflowTemplate{Metadata: model.Metadata{Name: "service-account"}, Spec: model.TemplateSpec{
		AppliesTo: model.KindServiceAccount,
		Notices:   []model.Notice{{Before: longest, To: []string{"owner"}}},
		EndOfLife: &model.EndOfLife{Action: model.ActionDisable, RetireAfter: longest, Retire: model.RetireMove},
	}}
	last, first := date("9999-12-31"), date("0000-01-01")
	for _, name := range []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		zone := model.MustTimeZone(name).Location()
		latest := last.Plus(longest, zone)
		nows := []time.Time{first.Minus(longest, zone), first.Midnight(zone), at("2026-05-01T00:00:00Z"),
			last.Midnight(zone), latest.Add(-time.Hour), latest, latest.Add(model.MaxDuration)}
		for _, d := range []model.Date{first, last} {
			p := &model.Person{Metadata: model.AccountMetadata{Name: "jdoe"}, Spec: model.PersonSpec{Type: model.TypeEmployee, StartDate: d, EndDate: d}}
			sa := &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-x"}, Spec: model.ServiceAccountSpec{Template: "service-account", Expires: d}}
			for _, now := range nows {
				for _, s := range []State{Person(p, person, zone, now), ServiceAccount(sa, service, zone, now)} {
					if !s.Next.IsZero() && !s.Next.After(now) {
						t.Errorf("%s, date %s at %s: %s, next %s is not after now", name, d, now, s.Status, s.Next)
					}
					if s.Next.After(latest) {
						t.Errorf("%s, date %s at %s: %s, next %s is past the latest date plus the longest duration", name, d, now, s.Status, s.Next)
					}
				}
			}
			archived := d.Plus(longest, zone)
			if got := Person(p, person, zone, archived.Add(-time.Hour)); got.Status != Leaver || !got.Groups || !got.Next.Equal(archived) {
				t.Errorf("%s, date %s, an hour before archiving: %s groups=%v next %s", name, d, got.Status, got.Groups, got.Next)
			}
			if got := Person(p, person, zone, archived); got.Status != Archived {
				t.Errorf("%s, date %s plus 36500d: %s, want archived", name, d, got.Status)
			}
		}
	}
}

// TestReview: an access review due and not confirmed within the template's
// grace disables the account, keeping its groups, and says why; before
// that instant it is the next change; without a grace nothing changes.
func TestReview(t *testing.T) {
	reviewed := func(every, grace string) *model.WorkflowTemplate {
		tp := employeeTemplate()
		tp.Spec.Review = &model.Review{Every: model.MustDuration(every), By: "manager"}
		if grace != "" {
			tp.Spec.Review.Grace = model.MustDuration(grace)
		}
		return tp
	}
	const text = "access review due 2027-03-01 (every 180d from spec.reviewed), not confirmed within grace 14d: disabled until reviewed"
	tests := []struct {
		name string
		tp   *model.WorkflowTemplate
		spec func(*model.PersonSpec)
		now  string
		want want
		text string
	}{
		{name: "due, within grace", tp: reviewed("180d", "14d"), spec: func(s *model.PersonSpec) { s.Reviewed = date("2026-09-02") },
			now:  "2027-03-10T00:00:00Z",
			want: want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2027-03-15T00:00:00Z"}},
		{name: "past grace: disabled, groups kept", tp: reviewed("180d", "14d"), spec: func(s *model.PersonSpec) { s.Reviewed = date("2026-09-02") },
			now:  "2027-03-15T00:00:00Z",
			want: want{status: Unreviewed, exists: true, groups: true, placement: Home, field: "spec.reviewed"}, text: text},
		{name: "never reviewed counts from startDate", tp: reviewed("180d", "14d"), now: "2026-07-18T00:00:00Z",
			want: want{status: Unreviewed, exists: true, groups: true, placement: Home, field: "spec.startDate"},
			text: "access review due 2026-07-04 (every 180d from spec.startDate), not confirmed within grace 14d: disabled until reviewed"},
		{name: "reviewed since: enabled again", tp: reviewed("180d", "14d"), spec: func(s *model.PersonSpec) { s.Reviewed = date("2027-03-14") },
			now:  "2027-03-20T00:00:00Z",
			want: want{status: Active, exists: true, enabled: true, groups: true, placement: Home, next: "2027-09-24T00:00:00Z"}},
		{name: "no grace: nothing changes", tp: reviewed("180d", ""), spec: func(s *model.PersonSpec) { s.Reviewed = date("2026-09-02") },
			now:  "2028-01-01T00:00:00Z",
			want: want{status: Active, exists: true, enabled: true, groups: true, placement: Home}},
		{name: "a leaver is a leaver", tp: reviewed("180d", "14d"), spec: func(s *model.PersonSpec) { s.EndDate = date("2026-06-01") },
			now:  "2026-12-01T00:00:00Z",
			want: want{status: Archived, exists: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Person(person(tt.spec), tt.tp, time.UTC, at(tt.now))
			check(t, got, tt.want)
			if tt.text != "" && got.Reason.Text != tt.text {
				t.Errorf("reason %q, want %q", got.Reason.Text, tt.text)
			}
		})
	}
	// A service account counts from spec.created when never reviewed.
	sa := &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-web", ID: "sa-1"},
		Spec: model.ServiceAccountSpec{Template: "sa", Owner: "jdoe", Created: date("2026-01-01"), Expires: date("2028-01-01")}}
	tp := reviewed("90d", "7d")
	if got := ServiceAccount(sa, tp, time.UTC, at("2026-04-07T23:00:00Z")); got.Status != Active || got.Next != at("2026-04-08T00:00:00Z") {
		t.Errorf("before grace: %s next %s", got.Status, got.Next)
	}
	if got := ServiceAccount(sa, tp, time.UTC, at("2026-04-08T00:00:00Z")); got.Status != Unreviewed || got.Enabled || !got.Groups || got.Reason.Field != "spec.created" {
		t.Errorf("after grace: %+v", got)
	}
}
