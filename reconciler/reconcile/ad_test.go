package reconcile_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// These tests reconcile small access repositories into a real Samba AD DC
// over LDAPS, through reconcile.Plan and reconcile.Apply as alm plan and
// alm apply do. They need ALM_TEST_AD_ENV (see connectors/ad/adtest) and
// skip without it.

// A joiner's account is created disabled, without groups, provisionAhead
// before the start date, and enabled with its birthright and requested
// groups on the day, as the same object.
func TestJoiner(t *testing.T) {
	w := newWorld(t)
	eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
	vpn := w.role("vpn-users", nil, false)
	p := employee("jn")
	p.Spec.StartDate = date("2026-11-27")
	p.Spec.Roles = []string{"vpn-users"}
	w.putPerson(p)
	w.commit("joiner")
	login := p.Metadata.Name
	home := w.accountDN(login, "People")
	var created []byte

	w.steps(func() string { return login }, []step{
		{name: "before provisionAhead", now: at("2026-11-19"), check: func(t *testing.T, o *object) {
			if o != nil {
				t.Errorf("%s exists 8 days before its start date; provisionAhead is 7d", o.DN)
			}
		}},
		{name: "provisioned ahead", now: at("2026-11-22"), want: []string{"create"}, check: func(t *testing.T, o *object) {
			wantPresent(t, o)
			created = o.GUID
			wantDN(t, o, home)
			wantEnabled(t, o, false)
			wantGroups(t, o)
			wantAttr(t, o, model.DefaultMarkerAttribute, directory.Marker(p.Metadata.ID))
			wantAttr(t, o, directory.AttrEmployeeID, p.Metadata.ID)
			wantAttr(t, o, directory.AttrUserPrincipalName, login+"@"+w.env.Domain)
			wantAttr(t, o, directory.AttrDepartment, "Engineering")
		}},
		{name: "start date", now: at("2026-11-27"), want: []string{"add-member " + eng, "add-member " + vpn, "enable"}, check: func(t *testing.T, o *object) {
			wantPresent(t, o)
			wantDN(t, o, home)
			if o.UAC != directory.UACNormalAccount {
				t.Errorf("userAccountControl %d, want %d (a normal, enabled account)", o.UAC, directory.UACNormalAccount)
			}
			wantGroups(t, o, eng, vpn)
			if !slices.Equal(o.GUID, created) {
				t.Error("objectGUID changed: the account was made again rather than enabled")
			}
		}},
	})
}

// Inactive, resume, leaver (undone within the grace period, then for
// good), groups removed after the grace period, and archived: one person
// through the calendar and edits of their file.
func TestPersonLifecycle(t *testing.T) {
	w := newWorld(t)
	eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
	vpn := w.role("vpn-users", nil, false)
	p := employee("lc")
	p.Spec.Roles = []string{"vpn-users"}
	w.putPerson(p)
	w.commit("person")
	login := p.Metadata.Name
	home, leavers := w.accountDN(login, "People"), w.accountDN(login, "Leavers")

	w.steps(func() string { return login }, []step{
		{name: "active", now: at("2026-11-22"), want: []string{"add-member " + eng, "add-member " + vpn, "create", "enable"},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, home)
				wantEnabled(t, o, true)
				wantGroups(t, o, eng, vpn)
				wantAttr(t, o, directory.AttrAccountExpires, directory.AccountExpiresNever)
			}},
		{name: "inactive", now: at("2026-11-23"), want: []string{"disable"},
			edit: func() {
				p.Spec.Inactive = &model.Inactive{Type: model.InactiveSuspended, Reason: "Investigation", From: date("2026-11-23")}
				w.putPerson(p)
			},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, home)
				wantEnabled(t, o, false)
				wantGroups(t, o, eng, vpn) // kept while inactive
			}},
		{name: "resume", now: at("2026-11-24"), want: []string{"enable"},
			edit: func() {
				p.Spec.Inactive = nil
				w.putPerson(p)
			},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantEnabled(t, o, true)
				wantGroups(t, o, eng, vpn)
			}},
		{name: "end date set", now: at("2026-11-25"), want: []string{"update"},
			edit: func() {
				p.Spec.EndDate = date("2026-11-30")
				w.putPerson(p)
			},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantEnabled(t, o, true)
				// The account stops working on the day even if no run comes.
				wantAttr(t, o, directory.AttrAccountExpires, desired.FileTime(date("2026-11-30").Time))
			}},
		{name: "leaver", now: at("2026-11-30"), want: []string{"disable", "move"}, check: func(t *testing.T, o *object) {
			wantPresent(t, o)
			wantDN(t, o, leavers)
			wantEnabled(t, o, false)
			wantGroups(t, o, eng, vpn) // within the 14d grace period: reversible
		}},
		{name: "leaver undone within the grace period", now: at("2026-12-01"), want: []string{"enable", "move", "update"},
			edit: func() {
				p.Spec.EndDate = model.Date{}
				w.putPerson(p)
			},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, home)
				wantEnabled(t, o, true)
				wantGroups(t, o, eng, vpn)
				wantAttr(t, o, directory.AttrAccountExpires, directory.AccountExpiresNever)
			}},
		{name: "leaves again", now: at("2026-12-02"), want: []string{"disable", "move", "update"},
			edit: func() {
				p.Spec.EndDate = date("2026-12-02")
				w.putPerson(p)
			},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, leavers)
				wantEnabled(t, o, false)
				wantGroups(t, o, eng, vpn)
			}},
		{name: "after the grace period", now: at("2026-12-17"), want: []string{"remove-member " + eng, "remove-member " + vpn},
			check: func(t *testing.T, o *object) {
				wantPresent(t, o)
				wantDN(t, o, leavers)
				wantEnabled(t, o, false)
				wantGroups(t, o)
			}},
		{name: "archived", now: at("2027-03-03"), want: []string{"delete"}, check: func(t *testing.T, o *object) {
			if o != nil {
				t.Errorf("%s is still there 90 days after endDate; the template archives by deleting", o.DN)
			}
		}},
	})
	if o := w.lookup(login); o != nil {
		t.Errorf("%s is still findable by its login after archiving", o.DN)
	}
}

// A mover's access changes in one run: the new department's birthright
// group added and the old one's removed; a change of type to contractor
// moves the account to the contractor template's OU; a new manager and
// fewer requested roles - the same object throughout.
func TestMover(t *testing.T) {
	type groups struct{ eng, sales, vpn string }
	tests := []struct {
		name string
		edit func(p, boss *model.Person)
		ou   string
		// changes and groups the mover must have, given the world's group names
		want func(g groups) (changes, member []string)
	}{
		{
			name: "department", ou: "People",
			edit: func(p, _ *model.Person) { p.Spec.Department = "Sales" },
			want: func(g groups) ([]string, []string) {
				return []string{"add-member " + g.sales, "remove-member " + g.eng, "update"}, []string{g.sales, g.vpn}
			},
		},
		{
			name: "contractor", ou: "Contractors",
			edit: func(p, _ *model.Person) { p.Spec.Type, p.Spec.EndDate = model.TypeContractor, date("2027-06-30") },
			want: func(g groups) ([]string, []string) {
				return []string{"move", "update"}, []string{g.eng, g.vpn} // update: accountExpires from endDate
			},
		},
		{
			name: "department and contractor", ou: "Contractors",
			edit: func(p, _ *model.Person) {
				p.Spec.Department, p.Spec.Type, p.Spec.EndDate = "Sales", model.TypeContractor, date("2027-06-30")
			},
			want: func(g groups) ([]string, []string) {
				return []string{"add-member " + g.sales, "move", "remove-member " + g.eng, "update"}, []string{g.sales, g.vpn}
			},
		},
		{
			name: "manager and requested roles", ou: "People",
			edit: func(p, boss *model.Person) { p.Spec.Manager, p.Spec.Roles = boss.Metadata.Name, nil },
			want: func(g groups) ([]string, []string) {
				return []string{"remove-member " + g.vpn, "update"}, []string{g.eng}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			g := groups{
				eng:   w.role("engineering", &model.Birthright{Department: "Engineering"}, false),
				sales: w.role("sales", &model.Birthright{Department: "Sales"}, false),
				vpn:   w.role("vpn-users", nil, false),
			}
			boss, p := employee("bo"), employee("mv")
			p.Spec.Roles = []string{"vpn-users"}
			w.putPerson(boss)
			w.putPerson(p)
			w.commit("people")
			login := p.Metadata.Name
			w.reconcile(at("2026-11-22"))
			before := w.mustLookup(login)
			wantGroups(t, before, g.eng, g.vpn)

			tc.edit(p, boss)
			w.putPerson(p)
			w.commit("move " + login)
			wantChanges, wantMember := tc.want(g)
			pl := w.reconcile(at("2026-11-23"))
			if got := actions(pl.Plan, login); !slices.Equal(got, wantChanges) {
				t.Errorf("changes %q, want %q in one run\n%s", got, wantChanges, text(t, pl.Plan))
			}
			noDrift(t, pl)
			after := w.byGUID(before.GUID)
			wantPresent(t, after)
			wantDN(t, after, w.accountDN(login, tc.ou))
			wantEnabled(t, after, true)
			wantGroups(t, after, wantMember...)
			wantAttr(t, after, directory.AttrDepartment, p.Spec.Department)
			if !p.Spec.EndDate.IsZero() {
				wantAttr(t, after, directory.AttrAccountExpires, desired.FileTime(p.Spec.EndDate.Time))
			}
			if p.Spec.Manager != "" {
				wantAttr(t, after, directory.AttrManager, w.mustLookup(boss.Metadata.Name).DN)
			}
		})
	}
}

// A rename is a rename: the same AD object (objectGUID) gets the new CN,
// sAMAccountName and userPrincipalName, and keeps its groups.
func TestRename(t *testing.T) {
	// person writes a person holding roles; rename renames it in the files
	// (a new file, the old name in previousNames) and returns the new login.
	person := func(w *world, roles []string, contractor bool) (login string, rename func() string) {
		p := employee("rn")
		p.Spec.Roles = roles
		p.Spec.Email = p.Metadata.Name + "@" + w.env.Domain
		w.putPerson(p)
		return p.Metadata.Name, func() string {
			w.remove("people/" + p.Metadata.Name + ".yaml")
			to := adtest.Unique("rn")
			p.Spec.PreviousNames = append(p.Spec.PreviousNames, p.Metadata.Name)
			p.Metadata.Name, p.Spec.Email = to, to+"@"+w.env.Domain
			if contractor {
				p.Spec.Type, p.Spec.EndDate = model.TypeContractor, date("2027-06-30")
			}
			w.putPerson(p)
			return to
		}
	}
	tests := []struct {
		name string
		ou   string
		make func(w *world, roles []string) (string, func() string)
		want []string
		mail bool // the rename sets mail too
	}{
		{
			name: "person", ou: "People", want: []string{"rename"}, mail: true,
			make: func(w *world, roles []string) (string, func() string) { return person(w, roles, false) },
		},
		{
			// one modrdn renames and moves; update: accountExpires from endDate
			name: "person renamed and made a contractor", ou: "Contractors", want: []string{"rename", "update"}, mail: true,
			make: func(w *world, roles []string) (string, func() string) { return person(w, roles, true) },
		},
		{
			name: "service account", ou: "Service Accounts", want: []string{"rename", "update"}, // displayName is the login
			make: func(w *world, roles []string) (string, func() string) {
				owner := employee("own")
				w.putPerson(owner)
				a := service(tplSADelete, owner.Metadata.Name)
				a.Spec.Expires = date("2027-05-31")
				a.Spec.Roles = roles
				w.putService(a)
				return a.Metadata.Name, func() string {
					w.remove("service-accounts/" + a.Metadata.Name + ".yaml")
					a.Spec.PreviousNames = append(a.Spec.PreviousNames, a.Metadata.Name)
					a.Metadata.Name = adtest.Unique("svc-")
					w.putService(a)
					return a.Metadata.Name
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			vpn := w.role("vpn-users", nil, false)
			old, rename := tc.make(w, []string{"vpn-users"})
			w.commit("account")
			w.reconcile(at("2026-11-22"))
			before := w.mustLookup(old)

			to := rename()
			w.commit("rename " + old + " to " + to)
			pl := w.reconcile(at("2026-11-23"))
			if got := actions(pl.Plan, to); !slices.Equal(got, tc.want) {
				t.Errorf("changes %q, want %q\n%s", got, tc.want, text(t, pl.Plan))
			}
			noDrift(t, pl)
			if c := find(pl.Plan, plan.Rename, to); c == nil || !strings.Contains(c.Reason.Text, "previousNames") {
				t.Errorf("the rename should say it follows spec.previousNames: %+v", c)
			}

			after := w.byGUID(before.GUID)
			wantPresent(t, after)
			wantDN(t, after, w.accountDN(to, tc.ou))
			wantAttr(t, after, directory.AttrSAMAccountName, to)
			wantAttr(t, after, directory.AttrUserPrincipalName, to+"@"+w.env.Domain)
			wantAttr(t, after, model.DefaultMarkerAttribute, before.Attrs[model.DefaultMarkerAttribute])
			if tc.mail {
				wantAttr(t, after, directory.AttrMail, to+"@"+w.env.Domain)
			}
			wantEnabled(t, after, true)
			wantGroups(t, after, vpn)
			if o := w.lookup(old); o != nil {
				t.Errorf("the old login %s still names %s", old, o.DN)
			}
		})
	}
}

// A service account is disabled at expiry, groups kept, and retired after
// retireAfter: deleted or moved to the retired OU, as its template says.
func TestServiceAccountEndOfLife(t *testing.T) {
	tests := []struct {
		template string
		// what retirement changes, given the account's group
		retire  func(group string) []string
		retired func(t *testing.T, w *world, login string, o *object)
	}{
		{
			template: tplSADelete,
			retire:   func(string) []string { return []string{"delete"} },
			retired: func(t *testing.T, w *world, login string, o *object) {
				if o != nil {
					t.Errorf("%s is still there; retire: delete", o.DN)
				}
			},
		},
		{
			template: tplSAMove,
			retire:   func(group string) []string { return []string{"move", "remove-member " + group} },
			retired: func(t *testing.T, w *world, login string, o *object) {
				wantPresent(t, o)
				wantDN(t, o, w.accountDN(login, "Retired"))
				wantEnabled(t, o, false)
				wantGroups(t, o)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.template, func(t *testing.T) {
			w := newWorld(t)
			backup := w.role("backup-operators", nil, false)
			owner := employee("own")
			w.putPerson(owner)
			a := service(tc.template, owner.Metadata.Name)
			a.Spec.Roles = []string{"backup-operators"}
			w.putService(a)
			w.commit("service account")
			login := a.Metadata.Name
			flags := directory.UACNormalAccount | directory.UACDontExpirePassword

			w.steps(func() string { return login }, []step{
				{name: "active", now: at("2026-11-22"), want: []string{"add-member " + backup, "create", "enable", "update"},
					check: func(t *testing.T, o *object) {
						wantPresent(t, o)
						wantDN(t, o, w.accountDN(login, "Service Accounts"))
						if o.UAC != flags {
							t.Errorf("userAccountControl %d, want %d (enabled, DONT_EXPIRE_PASSWORD from the template)", o.UAC, flags)
						}
						wantGroups(t, o, backup)
						wantAttr(t, o, directory.AttrAccountExpires, desired.FileTime(date("2026-12-01").Time))
						wantAttr(t, o, directory.AttrDescription, "Test service")
						wantAttr(t, o, directory.AttrManager, w.mustLookup(owner.Metadata.Name).DN)
					}},
				{name: "expired", now: at("2026-12-01"), want: []string{"disable"}, check: func(t *testing.T, o *object) {
					wantPresent(t, o)
					if o.UAC != flags|directory.UACAccountDisable {
						t.Errorf("userAccountControl %d, want %d (disabled, flags kept)", o.UAC, flags|directory.UACAccountDisable)
					}
					wantGroups(t, o, backup) // a renewal within retireAfter brings it back as it was
				}},
				{name: "retired", now: at("2026-12-31"), want: tc.retire(backup), check: func(t *testing.T, o *object) {
					tc.retired(t, w, login, o)
				}},
			})
		})
	}
}

// Hand edits of managed accounts are drift: the next plan, knowing the
// last applied state from the receipt on alm-status, reverts each and
// says so. A value changed both by hand and in the files is a requested
// change, not drift; a membership of a group no role names, outside the
// groups OU and not privileged, is left alone and reported as a finding.
// Without the receipt (a working tree) the same changes are planned but
// cannot be told apart from requested ones.
func TestDriftReverted(t *testing.T) {
	w := newWorld(t)
	eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
	sales := w.role("sales", &model.Birthright{Department: "Sales"}, false)
	vpn := w.role("vpn-users", nil, false)
	active, suspended, moved, renamed, deleted, both := employee("da"), employee("ds"), employee("dm"), employee("dr"), employee("dd"), employee("db")
	active.Spec.Roles = []string{"vpn-users"}
	suspended.Spec.Inactive = &model.Inactive{Type: model.InactiveSuspended, From: date("2026-11-01")}
	for _, p := range []*model.Person{active, suspended, moved, renamed, deleted, both} {
		w.putPerson(p)
	}
	w.commit("people")
	first := w.reconcile(at("2026-11-22"))
	if first.Plan.DriftKnown {
		t.Error("the first plan knows a last applied state, but nothing was applied before")
	}
	live := map[string]*object{}
	for _, p := range []*model.Person{active, suspended, moved, renamed, deleted, both} {
		live[p.Metadata.Name] = w.mustLookup(p.Metadata.Name)
	}
	a, s := live[active.Metadata.Name], live[suspended.Metadata.Name]
	wantEnabled(t, s, false)

	// A group no role names, outside the groups OU: alm leaves the
	// membership alone (unmanagedMemberships: report, the default).
	unmanaged := adtest.Unique("hand-")
	unmanagedDN := "CN=" + unmanaged + "," + w.ou
	req := ldap.NewAddRequest(unmanagedDN, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute(directory.AttrSAMAccountName, []string{unmanaged})
	req.Attribute("member", []string{a.DN})
	if err := w.conn.Add(req); err != nil {
		t.Fatal(err)
	}

	type change struct {
		action plan.Action
		login  string
		group  string
	}
	tests := []struct {
		name      string
		tamper    func()
		changes   []change
		requested bool // the files changed the value too: not drift
		verify    func(t *testing.T)
	}{
		{
			name:    "group added by hand",
			tamper:  func() { w.modify(w.groupDN[sales], func(r *ldap.ModifyRequest) { r.Add("member", []string{a.DN}) }) },
			changes: []change{{plan.RemoveMember, active.Metadata.Name, sales}},
			verify:  func(t *testing.T) { wantGroups(t, w.mustLookup(active.Metadata.Name), eng, vpn, unmanaged) },
		},
		{
			name:    "group removed by hand",
			tamper:  func() { w.modify(w.groupDN[vpn], func(r *ldap.ModifyRequest) { r.Delete("member", []string{a.DN}) }) },
			changes: []change{{plan.AddMember, active.Metadata.Name, vpn}},
			verify:  func(t *testing.T) { wantGroups(t, w.mustLookup(active.Metadata.Name), eng, vpn, unmanaged) },
		},
		{
			name: "re-enabled by hand",
			tamper: func() {
				w.modify(s.DN, func(r *ldap.ModifyRequest) {
					r.Replace(directory.AttrUserAccountControl, []string{strconv.Itoa(directory.UACNormalAccount)})
				})
			},
			changes: []change{{plan.Disable, suspended.Metadata.Name, ""}},
			verify:  func(t *testing.T) { wantEnabled(t, w.mustLookup(suspended.Metadata.Name), false) },
		},
		{
			name: "attribute edited by hand",
			tamper: func() {
				w.modify(a.DN, func(r *ldap.ModifyRequest) { r.Replace(directory.AttrTitle, []string{"Chief Hacker"}) })
			},
			changes: []change{{plan.Update, active.Metadata.Name, ""}},
			verify:  func(t *testing.T) { wantAttr(t, w.mustLookup(active.Metadata.Name), directory.AttrTitle, "Engineer") },
		},
		{
			name: "moved by hand to another managed OU",
			tamper: func() {
				w.addOU(w.ouDN("Contractors"))
				req := ldap.NewModifyDNRequest(live[moved.Metadata.Name].DN, "CN="+moved.Metadata.Name, true, w.ouDN("Contractors"))
				if err := w.conn.ModifyDN(req); err != nil {
					t.Fatal(err)
				}
			},
			changes: []change{{plan.Move, moved.Metadata.Name, ""}},
			verify: func(t *testing.T) {
				wantDN(t, w.mustLookup(moved.Metadata.Name), w.accountDN(moved.Metadata.Name, "People"))
			},
		},
		{
			name: "sAMAccountName changed by hand",
			tamper: func() {
				w.modify(live[renamed.Metadata.Name].DN, func(r *ldap.ModifyRequest) {
					r.Replace(directory.AttrSAMAccountName, []string{"x" + renamed.Metadata.Name})
				})
			},
			changes: []change{{plan.Rename, renamed.Metadata.Name, ""}},
			verify: func(t *testing.T) {
				o := w.byGUID(live[renamed.Metadata.Name].GUID)
				wantPresent(t, o)
				wantAttr(t, o, directory.AttrSAMAccountName, renamed.Metadata.Name)
			},
		},
		{
			name: "deleted by hand",
			tamper: func() {
				if err := w.conn.Del(ldap.NewDelRequest(live[deleted.Metadata.Name].DN, nil)); err != nil {
					t.Fatal(err)
				}
			},
			changes: []change{{plan.Create, deleted.Metadata.Name, ""}, {plan.AddMember, deleted.Metadata.Name, eng}, {plan.Enable, deleted.Metadata.Name, ""}},
			verify: func(t *testing.T) {
				o := w.mustLookup(deleted.Metadata.Name)
				wantEnabled(t, o, true)
				wantGroups(t, o, eng)
				wantAttr(t, o, model.DefaultMarkerAttribute, directory.Marker(deleted.Metadata.ID))
			},
		},
		{
			name: "edited by hand and in the file",
			tamper: func() {
				w.modify(live[both.Metadata.Name].DN, func(r *ldap.ModifyRequest) { r.Replace(directory.AttrTitle, []string{"By hand"}) })
				both.Spec.Title = "Lead Engineer"
				w.putPerson(both)
				w.commit("promote " + both.Metadata.Name)
			},
			changes:   []change{{plan.Update, both.Metadata.Name, ""}},
			requested: true,
			verify: func(t *testing.T) {
				wantAttr(t, w.mustLookup(both.Metadata.Name), directory.AttrTitle, "Lead Engineer")
			},
		},
	}
	for _, tc := range tests {
		tc.tamper()
	}

	now := at("2026-11-23")
	pl := w.plan(now)
	if !pl.Plan.DriftKnown {
		t.Fatal("the plan does not know the last applied state: was no receipt written on alm-status?")
	}
	rendered := text(t, pl.Plan)
	want := 0
	for _, tc := range tests {
		want += len(tc.changes)
	}
	if len(pl.Plan.Changes) != want {
		t.Errorf("%d changes, want %d: those the hand edits call for, no more\n%s", len(pl.Plan.Changes), want, rendered)
	}
	working, err := reconcile.Plan(context.Background(), w.dir, reconcile.Source{Path: w.repo.Path}, w.options(now))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		w.run("planned/"+tc.name, func(t *testing.T) {
			for i, wc := range tc.changes {
				var c *plan.Change
				for i, x := range pl.Plan.Changes {
					if x.Action == wc.action && x.Account == wc.login && x.GroupName == wc.group {
						c = &pl.Plan.Changes[i]
					}
				}
				if c == nil {
					t.Errorf("no %s of %s %s in the plan\n%s", wc.action, wc.login, wc.group, rendered)
					continue
				}
				if c.Drift == tc.requested {
					t.Errorf("%s: drift %v, want %v (%s)", c.ID, c.Drift, !tc.requested, c.Reason.Text)
				}
				// The change that finds the hand edit says what it found.
				if i == 0 && !tc.requested && (c.Reason.Rule != "drift" || !strings.HasPrefix(c.Reason.Text, "drift: ")) {
					t.Errorf("%s: reason %+v, want a drift reason", c.ID, c.Reason)
				}
				if c.Action == plan.Update && !tc.requested {
					ac, ok := c.Attribute(directory.AttrTitle)
					if !ok || ac.Old != "Chief Hacker" || ac.New != "Engineer" || !ac.Drift {
						t.Errorf("title change %+v, want Chief Hacker -> Engineer, drift", ac)
					}
				}
				found := false
				for _, x := range working.Plan.Changes {
					if x.ID == c.ID {
						found = true
						if x.Drift {
							t.Errorf("%s is marked drift in a plan of the working tree, which has no receipt", x.ID)
						}
					}
				}
				if !found {
					t.Errorf("a plan of the working tree lacks %s", c.ID)
				}
			}
		})
	}
	if !strings.Contains(rendered, "(drift)") || !strings.Contains(rendered, "revert drift") {
		t.Errorf("the rendered plan does not show the drift:\n%s", rendered)
	}
	if !strings.Contains(rendered, "a member of "+unmanagedDN+", which no role names") || len(pl.Plan.Findings) != 1 ||
		pl.Plan.Findings[0].Kind != plan.FindingUnmanagedMembership {
		t.Errorf("the plan does not report the membership of %s as a finding:\n%s", unmanaged, rendered)
	}

	res, err := w.apply(pl, w.options(now))
	if err != nil || !res.Result.OK() {
		t.Fatalf("apply: %v\n%s", err, failures(res))
	}
	for _, tc := range tests {
		w.run("reverted/"+tc.name, tc.verify)
	}
	if !slices.ContainsFunc(w.mustLookup(active.Metadata.Name).MemberOf, func(dn string) bool { return strings.EqualFold(dn, unmanagedDN) }) {
		t.Errorf("alm removed %s from %s, which no role names", active.Metadata.Name, unmanaged)
	}
	again := w.plan(now)
	if !again.Plan.Empty() {
		t.Errorf("a plan after reverting has changes:\n%s", text(t, again.Plan))
	}
	if again.Plan.Matches() || !strings.Contains(text(t, again.Plan), "No changes can be made, but the directory does not match") {
		t.Errorf("a plan with the unmanaged membership left says the directory matches:\n%s", text(t, again.Plan))
	}
}

// An account made by hand in a managed OU (no marker) is an orphan:
// reported, never changed. A protected account is never changed either: a
// file naming one is refused as invalid; one without alm's marker is an
// orphan the plan says it never touches; one carrying the marker of a
// file's id is a finding, and is not touched.
func TestOrphanAndProtected(t *testing.T) {
	w := newWorld(t)
	vpn := w.role("vpn-users", nil, false)
	managed := employee("mg")
	managed.Spec.Roles = []string{"vpn-users"}
	w.putPerson(managed)
	protA, protB := employee("pa"), employee("pb")
	w.alm.Spec.Protected = []string{protA.Metadata.Name, protB.Metadata.Name}
	w.putDirectory()
	w.commit("people")
	w.reconcile(at("2026-11-22"))

	// A file whose login is protected is refused, at its line.
	w.putPerson(protA)
	w.commit("a file for a protected account")
	if _, err := reconcile.Plan(context.Background(), w.dir, w.src, w.options(at("2026-11-22"))); err == nil ||
		!strings.Contains(err.Error(), "people/"+protA.Metadata.Name+".yaml:") || !strings.Contains(err.Error(), "protected by alm.yaml spec.protected") {
		t.Errorf("plan of a file naming a protected account: %v, want it refused at its line", err)
	}
	w.remove("people/" + protA.Metadata.Name + ".yaml")
	w.commit("remove it again")

	orphan := adtest.Unique("orph")
	// A file that wants the name of an account made by hand: alm does not
	// create it (the name is taken) and does not take the account over.
	clash := employee("cl")
	// A file whose id a protected account carries as its marker.
	marked := employee("mb")
	hand := []struct {
		name   string
		login  string
		marker string
		orphan string // phrase of the orphan's reason; "" for no orphan
	}{
		{name: "orphan", login: orphan, orphan: "no alm marker"},
		{name: "orphan holding a file's name", login: clash.Metadata.Name, orphan: "wants its name"},
		{name: "protected, no marker", login: protA.Metadata.Name, orphan: "on alm's protected list: alm never disables or deletes it"},
		{name: "protected, with alm's marker", login: protB.Metadata.Name, marker: directory.Marker(marked.Metadata.ID)},
	}
	before := map[string]*object{}
	for _, h := range hand {
		attrs := map[string]string{directory.AttrTitle: "Made by hand",
			directory.AttrUserAccountControl: strconv.Itoa(directory.UACNormalAccount)}
		if h.marker != "" {
			attrs[model.DefaultMarkerAttribute] = h.marker
		}
		w.addUser(w.accountDN(h.login, "People"), h.login, attrs)
		before[h.login] = w.mustLookup(h.login)
		wantEnabled(t, before[h.login], true)
	}
	// Something else to do, so that the apply writes.
	managed.Spec.Title = "Senior Engineer"
	w.putPerson(managed)
	w.putPerson(clash)
	w.putPerson(marked)
	w.alm.Spec.Orphans = model.OrphansDisable // even so
	w.putDirectory()
	w.commit("promotion")

	pl := w.plan(at("2026-11-23"))
	res, err := w.apply(pl, w.options(at("2026-11-23")))
	if err != nil || !res.Result.OK() {
		t.Fatalf("apply: %v\n%s", err, failures(res))
	}
	if got := actions(pl.Plan, managed.Metadata.Name); !slices.Equal(got, []string{"update"}) {
		t.Errorf("changes to %s: %q, want [update]", managed.Metadata.Name, got)
	}
	if got := actions(pl.Plan, orphan); !slices.Equal(got, []string{"disable-orphan"}) {
		t.Errorf("changes to %s: %q, want [disable-orphan] (alm.yaml says orphans: disable)", orphan, got)
	}
	for _, h := range hand[1:] {
		w.run(h.name, func(t *testing.T) {
			var reported *plan.Orphan
			for i, o := range pl.Plan.Orphans {
				if strings.EqualFold(o.Name, h.login) {
					reported = &pl.Plan.Orphans[i]
				}
			}
			switch {
			case h.orphan != "" && (reported == nil || reported.Action != model.OrphansReport || !strings.Contains(reported.Reason, h.orphan)):
				t.Errorf("orphan %s reported as %+v, want reported (action report) saying %q", h.login, reported, h.orphan)
			case h.orphan == "" && reported != nil:
				t.Errorf("%s carries alm's marker, yet is reported as an orphan: %+v", h.login, reported)
			}
			for _, c := range pl.Plan.Changes {
				if strings.EqualFold(c.Account, h.login) || strings.EqualFold(c.DN, before[h.login].DN) {
					t.Errorf("the plan changes %s: %s", h.login, c.ID)
				}
			}
			after := w.mustLookup(h.login)
			if after.USN != before[h.login].USN {
				t.Errorf("%s was written (uSNChanged %s -> %s)", after.DN, before[h.login].USN, after.USN)
			}
			wantEnabled(t, after, true)
			wantAttr(t, after, directory.AttrTitle, "Made by hand")
			wantAttr(t, after, model.DefaultMarkerAttribute, h.marker)
			wantGroups(t, after)
		})
	}
	if o := w.lookup(marked.Metadata.Name); o != nil {
		t.Errorf("alm created %s, though the protected %s carries its marker", o.DN, protB.Metadata.Name)
	}
	wantGroups(t, w.mustLookup(managed.Metadata.Name), vpn)
	last, err := receipt.Last(context.Background(), w.repo.Path, "")
	if err != nil || last == nil {
		t.Fatalf("last receipt: %v, %v", last, err)
	}
	var recorded []string
	for _, o := range last.Orphans {
		recorded = append(recorded, o.Action+" "+strings.ToLower(o.Account))
	}
	slices.Sort(recorded)
	if want := slices.Sorted(slices.Values([]string{"disabled " + orphan, "reported " + clash.Metadata.Name, "reported " + protA.Metadata.Name})); !slices.Equal(recorded, want) {
		t.Errorf("receipt orphans %q, want %q", recorded, want)
	}
	var kinds []string
	for _, f := range last.Findings {
		kinds = append(kinds, f.Kind+" "+f.Account)
	}
	slices.Sort(kinds)
	if want := []string{plan.FindingNameTaken + " " + clash.Metadata.Name, plan.FindingProtectedMarked + " " + protB.Metadata.Name}; !slices.Equal(kinds, want) {
		t.Errorf("receipt findings %q, want %q", kinds, want)
	}
	if !strings.Contains(text(t, pl.Plan), clash.Metadata.Name+" is not created: its name is held by an account alm does not own") {
		t.Errorf("the plan does not say why %s is not created:\n%s", clash.Metadata.Name, text(t, pl.Plan))
	}
}

// A plan over a limit on destructive changes is refused as a whole:
// nothing in the directory is written, and a refusal's receipt records the
// limit exceeded, while the last applied receipt stays the one drift is
// told from. Raising the limit for one run (as --max-disable, --max-remove
// and --max-delete do) lets it through.
func TestLimitRefused(t *testing.T) {
	leave := func(p *model.Person) { p.Spec.EndDate = date("2026-11-23") }
	tests := []struct {
		name   string
		limits model.Limits
		edit   func(p *model.Person) // made to two of three people
		kind   string
		source string
		raise  model.Limit
		after  func(t *testing.T, w *world, p *model.Person, sales string)
	}{
		{
			name: "disable count", limits: model.Limits{Disable: model.Limit{Count: 1}}, edit: leave,
			kind: plan.LimitDisable, source: "alm.yaml spec.limits.disable.count", raise: model.Limit{Count: 2},
			after: func(t *testing.T, w *world, p *model.Person, _ string) {
				o := w.mustLookup(p.Metadata.Name)
				wantEnabled(t, o, false)
				wantDN(t, o, w.accountDN(p.Metadata.Name, "Leavers"))
			},
		},
		{
			name: "disable fraction", limits: model.Limits{Disable: model.Limit{Fraction: 0.5}}, edit: leave,
			kind: plan.LimitDisable, source: "alm.yaml spec.limits.disable.fraction", raise: model.Limit{Fraction: 0.7},
			after: func(t *testing.T, w *world, p *model.Person, _ string) {
				wantEnabled(t, w.mustLookup(p.Metadata.Name), false)
			},
		},
		{
			name: "removeFromGroup count", limits: model.Limits{RemoveFromGroup: model.Limit{Count: 1}},
			edit: func(p *model.Person) { p.Spec.Department = "Sales" },
			kind: plan.LimitRemove, source: "alm.yaml spec.limits.removeFromGroup.count", raise: model.Limit{Count: 2},
			after: func(t *testing.T, w *world, p *model.Person, sales string) {
				wantGroups(t, w.mustLookup(p.Metadata.Name), sales)
			},
		},
		{
			name: "delete count", limits: model.Limits{Delete: model.Limit{Count: 1}},
			edit: func(p *model.Person) { p.Spec.EndDate = date("2026-06-01") }, // retention 90d long past: archived
			kind: plan.LimitDelete, source: "alm.yaml spec.limits.delete.count", raise: model.Limit{Count: 2},
			after: func(t *testing.T, w *world, p *model.Person, _ string) {
				if o := w.lookup(p.Metadata.Name); o != nil {
					t.Errorf("%s is still there", o.DN)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.alm.Spec.Limits = tc.limits
			w.putDirectory()
			eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
			sales := w.role("sales", &model.Birthright{Department: "Sales"}, false)
			var people []*model.Person
			for range 3 {
				p := employee("lim")
				w.putPerson(p)
				people = append(people, p)
			}
			applied := w.commit("people")
			w.reconcile(at("2026-11-22"))

			for _, p := range people[:2] {
				tc.edit(p)
				w.putPerson(p)
			}
			w.commit("two change")
			now := at("2026-11-23")
			usns := w.usns()
			pl := w.plan(now)
			var limit *plan.LimitError
			if !errors.As(pl.Refused, &limit) {
				t.Fatalf("refused = %v, want a *plan.LimitError\n%s", pl.Refused, text(t, pl.Plan))
			}
			if limit.Kind != tc.kind || limit.Changes != 2 || limit.Source != tc.source {
				t.Errorf("limit error %+v, want 2 changes of kind %s over %s", limit, tc.kind, tc.source)
			}
			if msg := pl.Refused.Error(); !strings.Contains(msg, tc.source) || !strings.Contains(msg, plan.LimitFlags[tc.kind]) {
				t.Errorf("refusal %q should name the limit and the flag that raises it", msg)
			}
			res, err := w.apply(pl, w.options(now))
			if !errors.Is(err, reconcile.ErrRefused) || res == nil || res.Receipt == "" || len(res.Result.Changes) != 0 {
				t.Fatalf("apply of a refused plan: error %v, result %+v; want ErrRefused and only the refusal's receipt", err, res)
			}
			refusal, err := receipt.Latest(context.Background(), w.repo.Path, "")
			if err != nil || refusal == nil || refusal.Refused == nil || refusal.Refused.By != receipt.ByGuard || refusal.Revision != pl.Repo.Revision {
				t.Fatalf("latest receipt %+v (%v), want the guards' refusal of %s", refusal, err, pl.Repo.Revision)
			}
			if got, want := len(refusal.Refused.Limits), len(limitErrors(pl.Refused)); got != want {
				t.Errorf("refusal records %d limits, the guards exceeded %d: %+v", got, want, refusal.Refused.Limits)
			}
			i := slices.IndexFunc(refusal.Refused.Limits, func(l receipt.Limit) bool { return l.Kind == tc.kind })
			if i < 0 {
				t.Fatalf("refusal records no %s limit: %+v", tc.kind, refusal.Refused.Limits)
			}
			rec := refusal.Refused.Limits[i]
			exceeded := "fraction"
			if limit.ByCount {
				exceeded = "count"
			}
			if rec.Kind != tc.kind || rec.Changes != 2 || rec.Accounts != limit.Accounts || rec.Managed != limit.Managed ||
				rec.Fraction != float64(limit.Accounts)/float64(limit.Managed) || rec.Exceeded != exceeded ||
				rec.Limit.Count != limit.Limit.Count || rec.Limit.Fraction != limit.Limit.Fraction ||
				rec.Source != tc.source || rec.Flag != plan.LimitFlags[tc.kind] {
				t.Errorf("limit recorded %+v, want %+v", rec, limit)
			}
			if strings.Contains(refusal.Refused.Message+refusal.Directory, w.env.Password) {
				t.Error("the refusal's receipt holds the bind password")
			}

			if after := w.usns(); !maps.Equal(after, usns) {
				t.Errorf("objects below %s were written by a refused plan:\nbefore %v\nafter  %v", w.ou, usns, after)
			}
			again := w.plan(now)
			if !reflect.DeepEqual(again.Snapshot.Accounts, pl.Snapshot.Accounts) || !reflect.DeepEqual(again.Snapshot.Groups, pl.Snapshot.Groups) {
				t.Error("the directory read after the refusal differs from the one before")
			}
			if last, err := receipt.Last(context.Background(), w.repo.Path, ""); err != nil || last == nil || last.Revision != applied {
				t.Errorf("last receipt %+v (%v), want still the one of %s", last, err, applied)
			}

			raised := w.options(now)
			raised.Limits = map[string]model.Limit{tc.kind: tc.raise}
			pl, err = reconcile.Plan(context.Background(), w.dir, w.src, raised)
			if err != nil || pl.Refused != nil {
				t.Fatalf("plan with the limit raised: %v, refused %v", err, pl.Refused)
			}
			if res, err := w.apply(pl, raised); err != nil || !res.Result.OK() {
				t.Fatalf("apply with the limit raised: %v\n%s", err, failures(res))
			}
			for _, p := range people[:2] {
				tc.after(t, w, p, sales)
			}
			untouched := w.mustLookup(people[2].Metadata.Name)
			wantEnabled(t, untouched, true)
			wantGroups(t, untouched, eng)
		})
	}
}

// One change that fails - a group deleted by hand between plan and apply
// - leaves every other change applied, is recorded as failed in the
// receipt, and is planned again next time. A role naming a group the
// directory lacks (named by DN: alm creates only groups named by name) is
// not planned as an addition that would fail: it is a
// finding, in the plan and in the receipt.
func TestOneFailureLeavesTheRest(t *testing.T) {
	w := newWorld(t)
	vpn := w.role("vpn-users", nil, false)
	solo := w.role("solo", nil, false)
	ghost := w.role("ghost", nil, true)
	a, b := employee("fa"), employee("fb")
	a.Spec.Roles = []string{"ghost", "solo", "vpn-users"}
	b.Spec.Roles = []string{"vpn-users"}
	w.putPerson(a)
	w.putPerson(b)
	w.commit("people")
	now := at("2026-11-22")

	pl := w.plan(now)
	if len(pl.Plan.Findings) != 1 || pl.Plan.Findings[0].Kind != plan.FindingMissingGroup ||
		!strings.Contains(pl.Plan.Findings[0].Text, `group "`+ghost+`" (role ghost names it) does not exist`) {
		t.Errorf("the plan does not report the missing group as a finding:\n%s", text(t, pl.Plan))
	}
	for _, c := range pl.Plan.Changes {
		if c.GroupName == ghost {
			t.Errorf("the plan adds %s to %s, which does not exist: %s", c.Account, ghost, c.ID)
		}
	}
	if err := w.conn.Del(ldap.NewDelRequest(w.groupDN[solo], nil)); err != nil {
		t.Fatal(err)
	}
	res, err := w.apply(pl, w.options(now))
	if err != nil {
		t.Fatal(err)
	}
	if res.Result.Failed != 1 || res.Result.Skipped != 0 || res.Result.Applied != len(pl.Plan.Changes)-1 {
		t.Errorf("applied %d, failed %d, skipped %d of %d changes; want all but one applied\n%s",
			res.Result.Applied, res.Result.Failed, res.Result.Skipped, len(pl.Plan.Changes), failures(res))
	}
	for _, cr := range res.Result.Changes {
		if cr.Outcome != "failed" {
			continue
		}
		if cr.Change.Action != plan.AddMember || cr.Change.GroupName != solo || cr.Change.Account != a.Metadata.Name {
			t.Errorf("failed change %s, want the add-member to %s", cr.Change.ID, solo)
		}
		if !strings.Contains(cr.Error, directory.ErrNoSuchObject.Error()) || cr.Attempts != 1 {
			t.Errorf("failure %q after %d attempts; want no such object, not retried", cr.Error, cr.Attempts)
		}
	}
	for _, p := range []*model.Person{a, b} {
		o := w.mustLookup(p.Metadata.Name)
		wantEnabled(t, o, true)
		wantGroups(t, o, vpn)
	}
	last, err := receipt.Last(context.Background(), w.repo.Path, "")
	if err != nil || last == nil {
		t.Fatalf("last receipt: %v, %v", last, err)
	}
	if last.Plan.Failed != 1 || last.Plan.Applied != res.Result.Applied {
		t.Errorf("receipt counts %+v, want %d applied and 1 failed", last.Plan, res.Result.Applied)
	}
	if len(last.Findings) != 1 || last.Findings[0].Kind != plan.FindingMissingGroup || last.Findings[0].Group != ghost {
		t.Errorf("receipt findings %+v, want the missing %s", last.Findings, ghost)
	}

	// Made again by hand (a new object): planned again, as the drift it is.
	req := ldap.NewAddRequest(w.groupDN[solo], nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute(directory.AttrSAMAccountName, []string{solo})
	if err := w.conn.Add(req); err != nil {
		t.Fatal(err)
	}
	next := w.plan(at("2026-11-23"))
	if got, want := actions(next.Plan, a.Metadata.Name), []string{"add-member " + solo}; !slices.Equal(got, want) || len(next.Plan.Changes) != 1 {
		t.Errorf("next plan: %q (%d changes), want only %q\n%s", got, len(next.Plan.Changes), want, text(t, next.Plan))
	}
}

// Applying twice: the second plan is empty, prints "No changes.", writes
// nothing and records no receipt.
func TestApplyTwice(t *testing.T) {
	w := newWorld(t)
	eng := w.role("engineering", &model.Birthright{Department: "Engineering"}, false)
	w.role("vpn-users", nil, false)
	boss, report := employee("bo"), employee("re")
	report.Spec.Manager = boss.Metadata.Name
	report.Spec.Roles = []string{"vpn-users"}
	report.Spec.EndDate = date("2027-12-31")
	w.putPerson(boss)
	w.putPerson(report)
	svc := service(tplSAMove, report.Metadata.Name)
	svc.Spec.Expires = date("2027-05-31")
	svc.Spec.Roles = []string{"engineering"}
	w.putService(svc)
	head := w.commit("people and a service account")
	now := at("2026-11-22")

	pl := w.plan(now)
	res, err := w.apply(pl, w.options(now))
	if err != nil || !res.Result.OK() {
		t.Fatalf("first apply: %v\n%s", err, failures(res))
	}
	if res.Receipt == "" {
		t.Error("the first apply wrote no receipt")
	}
	last, err := receipt.Last(context.Background(), w.repo.Path, "")
	if err != nil || last == nil || last.Revision != head || !last.AppliedAt.Equal(now) || last.Plan.Applied != len(pl.Plan.Changes) {
		t.Errorf("receipt %+v (%v), want revision %s applied at %s with %d changes", last, err, head, now, len(pl.Plan.Changes))
	}
	bossDN, reportDN := w.mustLookup(boss.Metadata.Name).DN, w.mustLookup(report.Metadata.Name).DN
	wantAttr(t, w.mustLookup(report.Metadata.Name), directory.AttrManager, bossDN)
	wantAttr(t, w.mustLookup(svc.Metadata.Name), directory.AttrManager, reportDN)
	wantGroups(t, w.mustLookup(svc.Metadata.Name), eng)

	usns := w.usns()
	second := w.plan(now)
	if !second.Plan.Empty() {
		t.Errorf("second plan has changes:\n%s", text(t, second.Plan))
	}
	if out := text(t, second.Plan); !strings.Contains(out, "No changes.") {
		t.Errorf("render.Text of the second plan:\n%s\nwant \"No changes.\"", out)
	}
	res, err = w.apply(second, w.options(now))
	if err != nil || res.Result.Applied != 0 || len(res.Result.Changes) != 0 {
		t.Fatalf("second apply: %v; want nothing done\n%s", err, failures(res))
	}
	if res.Receipt != "" {
		t.Errorf("second apply wrote receipt %s for an empty plan", res.Receipt)
	}
	if after := w.usns(); !maps.Equal(after, usns) {
		t.Errorf("the second apply wrote to the directory:\nbefore %v\nafter  %v", usns, after)
	}
}

// TestDefaultLimitPerKindOnSamba: alm.yaml sets only a delete limit; a
// plan disabling more accounts than alm's default disable limit is refused
// by that default, named as such, and writes nothing.
func TestDefaultLimitPerKindOnSamba(t *testing.T) {
	w := newWorld(t)
	w.alm.Spec.Limits = model.Limits{Delete: model.Limit{Count: 1}}
	w.putDirectory()
	n := model.DefaultLimits.Disable.Count + 1
	var people []*model.Person
	for range n {
		p := employee("dl")
		w.putPerson(p)
		people = append(people, p)
	}
	w.commit("people")
	w.reconcile(at("2026-11-22"))
	for _, p := range people {
		p.Spec.EndDate = date("2026-11-23")
		w.putPerson(p)
	}
	w.commit("everyone leaves")
	usns := w.usns()
	pl := w.plan(at("2026-11-23"))
	var limit *plan.LimitError
	if !errors.As(pl.Refused, &limit) || limit.Kind != plan.LimitDisable || limit.Changes != n ||
		limit.Source != "alm's default limits.disable.count, as alm.yaml sets no limits.disable" {
		t.Fatalf("refused = %v, want the default disable limit", pl.Refused)
	}
	if _, err := w.apply(pl, w.options(at("2026-11-23"))); !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("apply: %v, want ErrRefused", err)
	}
	if after := w.usns(); !maps.Equal(after, usns) {
		t.Errorf("a refused plan wrote below %s", w.ou)
	}
}

// TestPrivilegedPrimaryGroupOnSamba: a managed account made a Domain
// Admin through its primary group - a membership no member attribute
// shows - is a finding: the plan does not say the directory matches.
func TestPrivilegedPrimaryGroupOnSamba(t *testing.T) {
	w := newWorld(t)
	p := employee("pg")
	w.putPerson(p)
	w.commit("a person")
	w.reconcile(at("2026-11-22"))
	o := w.mustLookup(p.Metadata.Name)
	domainAdmins := "CN=Domain Admins,CN=Users," + w.env.BaseDN
	w.modify(domainAdmins, func(r *ldap.ModifyRequest) { r.Add("member", []string{o.DN}) })
	w.modify(o.DN, func(r *ldap.ModifyRequest) { r.Replace("primaryGroupID", []string{"512"}) })
	// Deleting the test OU at the end takes the account, and its
	// memberships, with it.

	pl := w.plan(at("2026-11-22"))
	var kinds []string
	for _, f := range pl.Plan.Findings {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Contains(kinds, plan.FindingPrivilegedPrimaryGroup) || pl.Plan.Matches() {
		t.Errorf("findings %q: want the privileged primary group\n%s", kinds, text(t, pl.Plan))
	}
	if out := text(t, pl.Plan); strings.Contains(out, "The directory matches") {
		t.Errorf("the plan says the directory matches:\n%s", out)
	}
}
