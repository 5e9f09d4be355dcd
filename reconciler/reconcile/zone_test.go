package reconcile_test

import (
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// With alm.yaml's timeZone Pacific/Auckland (UTC+13 in November), a person
// whose endDate is 2026-11-30 stays enabled until 2026-11-29T11:00Z, is a
// leaver from then, 13 hours before midnight UTC, and loses the groups at
// midnight there 14 days on. The accountExpires Samba holds is that instant.
// The zone goes through the files: alm.yaml as written, loaded from Git.
func TestTimeZone(t *testing.T) {
	w := newWorld(t)
	w.alm.Spec.TimeZone = model.MustTimeZone("Pacific/Auckland")
	w.putDirectory()
	eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
	p := employee("tz")
	p.Spec.EndDate = date("2026-11-30")
	w.putPerson(p)
	w.commit("a person in Auckland")
	login := p.Metadata.Name
	home, leavers := w.accountDN(login, "People"), w.accountDN(login, "Leavers")
	expires := desired.FileTime(time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC))
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}

	w.steps(func() string { return login }, []step{
		{name: "the second before midnight in Auckland", now: utc("2026-11-29T10:59:59Z"), want: []string{"add-member " + eng, "create", "enable"},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, home)
				wantEnabled(t, o, true)
				wantGroups(t, o, eng)
				wantAttr(t, o, directory.AttrAccountExpires, expires)
			}},
		{name: "midnight in Auckland", now: utc("2026-11-29T11:00:00Z"), want: []string{"disable", "move"},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, leavers)
				wantEnabled(t, o, false)
				wantGroups(t, o, eng) // within the 14d grace period
				wantAttr(t, o, directory.AttrAccountExpires, expires)
			}},
		{name: "the grace's last second", now: utc("2026-12-13T10:59:59Z"),
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantGroups(t, o, eng)
			}},
		{name: "midnight in Auckland 14 days on", now: utc("2026-12-13T11:00:00Z"), want: []string{"remove-member " + eng},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, leavers)
				wantGroups(t, o)
			}},
	})
}
