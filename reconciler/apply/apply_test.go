package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/plan"
)

// recorder is a Writer that records each call as "Method dn [args]" and
// answers from a script of errors per call key ("Method dn"): each call
// takes the next error; always errors fail every call.
type recorder struct {
	calls    []string
	script   map[string][]error
	always   map[string]error
	accounts []directory.NewAccount
	refs     []directory.Ref // the objects written, as each call named them
	cancel   func()          // called on the first call, to test cancellation
	ctxErrs  []error         // each call's ctx.Err() once the call is made
}

func (r *recorder) do(ctx context.Context, method, dn string, args ...string) error {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	r.ctxErrs = append(r.ctxErrs, ctx.Err())
	key := method + " " + dn
	r.calls = append(r.calls, strings.Join(append([]string{key}, args...), " "))
	if err, ok := r.always[key]; ok {
		return err
	}
	if errs := r.script[key]; len(errs) > 0 {
		r.script[key] = errs[1:]
		return errs[0]
	}
	return nil
}

func (r *recorder) CreateOU(ctx context.Context, dn string) error { return r.do(ctx, "CreateOU", dn) }
func (r *recorder) CreateGroup(ctx context.Context, g directory.NewGroup) error {
	return r.do(ctx, "CreateGroup", g.DN, g.Name, g.Marker)
}
func (r *recorder) Adopt(ctx context.Context, t directory.Ref, marker string) error {
	r.refs = append(r.refs, t)
	return r.do(ctx, "Adopt", t.DN, marker)
}
func (r *recorder) Create(ctx context.Context, a directory.NewAccount) error {
	r.accounts = append(r.accounts, a)
	return r.do(ctx, "Create", a.DN)
}
func (r *recorder) SetPassword(ctx context.Context, t directory.Ref, _ directory.Seal) error {
	r.refs = append(r.refs, t)
	return r.do(ctx, "SetPassword", t.DN)
}
func (r *recorder) Modify(ctx context.Context, t directory.Ref, attrs map[string]string) error {
	var kv []string
	for k, v := range attrs {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	r.refs = append(r.refs, t)
	return r.do(ctx, "Modify", t.DN, kv...)
}
func (r *recorder) SetAccountControl(ctx context.Context, t directory.Ref, uac int) error {
	r.refs = append(r.refs, t)
	return r.do(ctx, "SetAccountControl", t.DN, fmt.Sprint(uac))
}
func (r *recorder) Move(ctx context.Context, t directory.Ref, newDN string) error {
	r.refs = append(r.refs, t)
	return r.do(ctx, "Move", t.DN, newDN)
}
func (r *recorder) AddMember(ctx context.Context, g, m directory.Ref) error {
	r.refs = append(r.refs, m)
	return r.do(ctx, "AddMember", g.DN, m.DN)
}
func (r *recorder) RemoveMember(ctx context.Context, g, m directory.Ref) error {
	r.refs = append(r.refs, m)
	return r.do(ctx, "RemoveMember", g.DN, m.DN)
}
func (r *recorder) Delete(ctx context.Context, t directory.Ref) error {
	r.refs = append(r.refs, t)
	return r.do(ctx, "Delete", t.DN)
}

func fail(class error) error {
	return &directory.Error{Op: "modify", DN: "x", Class: class, Detail: "injected"}
}

const (
	base    = "DC=example,DC=test"
	people  = "OU=People,OU=ALM," + base
	leavers = "OU=Leavers,OU=ALM," + base
	sales   = "CN=Sales,OU=Groups,OU=ALM," + base
)

func uacAttr(old, new string) []plan.AttrChange {
	return []plan.AttrChange{{Name: directory.AttrUserAccountControl, Old: old, New: new}}
}

// changes is a plan in the shape Diff makes: a joiner (created, grouped,
// enabled) and a leaver (moved, removed from a group, disabled), listed
// out of order on purpose: Run orders them itself.
func changes() *plan.Plan {
	njoin := plan.Change{AccountID: "5000", Account: "njoin", Marker: "alm:5000", DN: "CN=njoin," + people}
	jdoe := plan.Change{AccountID: "4217", Account: "jdoe", Marker: "alm:4217", DN: "CN=jdoe," + people}
	set := func(c plan.Change, f func(*plan.Change)) plan.Change { f(&c); return c }
	return &plan.Plan{FormatVersion: plan.FormatVersion, Revision: "c0ffee", DirectoryState: "7", BaseDN: base, Changes: []plan.Change{
		set(jdoe, func(c *plan.Change) {
			c.ID, c.Action, c.Attributes = "disable:4217", plan.Disable, uacAttr("512", "514")
		}),
		set(njoin, func(c *plan.Change) {
			c.ID, c.Action, c.Attributes, c.DependsOn = "enable:5000", plan.Enable, uacAttr("514", "512"), []string{"create:5000"}
		}),
		set(jdoe, func(c *plan.Change) {
			c.ID, c.Action, c.Group, c.GroupName = "remove-member:4217:Sales", plan.RemoveMember, sales, "Sales"
		}),
		set(njoin, func(c *plan.Change) {
			c.ID, c.Action, c.Group, c.GroupName, c.DependsOn = "add-member:5000:Sales", plan.AddMember, sales, "Sales", []string{"create:5000"}
		}),
		set(jdoe, func(c *plan.Change) {
			c.ID, c.Action, c.NewDN, c.DependsOn = "move:4217", plan.Move, "CN=jdoe,"+leavers, []string{"create-ou:" + leavers}
		}),
		set(jdoe, func(c *plan.Change) {
			c.ID, c.Action = "update:4217", plan.Update
			c.Attributes = []plan.AttrChange{{Name: "title", Old: "CTO", New: "Engineer"}, {Name: "manager", Old: "CN=x," + people, New: ""}}
		}),
		set(njoin, func(c *plan.Change) {
			c.ID, c.Action = "create:5000", plan.Create
			c.Attributes = []plan.AttrChange{{Name: "givenName", New: "Nia"}, {Name: "userAccountControl", New: "514"}}
		}),
		{ID: "create-ou:" + leavers, Action: plan.CreateOU, DN: leavers},
	}}
}

// fullRun is the safe order: what takes access away first, what grants it last.
var fullRun = []string{
	"SetAccountControl CN=jdoe," + people + " 514",
	"RemoveMember " + sales + " CN=jdoe," + people,
	"CreateOU " + leavers,
	"Create CN=njoin," + people,
	"Modify CN=jdoe," + people + " manager= title=Engineer",
	"Move CN=jdoe," + people + " CN=jdoe," + leavers,
	"AddMember " + sales + " CN=njoin," + people,
	"SetAccountControl CN=njoin," + people + " 512",
}

func outcomes(res Result) []string {
	var out []string
	for _, cr := range res.Changes {
		s := string(cr.Outcome) + " " + cr.Change.ID
		if cr.Error != "" {
			s += ": " + cr.Error
		}
		if cr.Note != "" {
			s += " (" + cr.Note + ")"
		}
		out = append(out, s)
	}
	return out
}

func TestRun(t *testing.T) {
	unavailable := fail(directory.ErrUnavailable)
	tests := []struct {
		name     string
		script   map[string][]error
		always   map[string]error
		retries  int
		calls    []string // nil: the full run
		outcomes []string // phrases, in order, each outcome line must contain
		counts   [3]int   // applied, failed, skipped
	}{
		{name: "everything applies, in the safe order", counts: [3]int{8, 0, 0}},
		{
			name:   "a failed create skips what depends on it, and nothing else",
			always: map[string]error{"Create CN=njoin," + people: fail(directory.ErrExists)},
			calls: slices.DeleteFunc(slices.Clone(fullRun), func(c string) bool {
				return strings.Contains(c, "AddMember") || strings.Contains(c, "CN=njoin,"+people+" 512")
			}),
			outcomes: []string{"applied disable:4217", "applied remove-member", "applied create-ou", "failed create:5000: modify x: already exists: injected",
				"applied update:4217", "applied move:4217",
				"skipped add-member:5000:Sales: depends on create:5000, which failed", "skipped enable:5000: depends on create:5000, which failed"},
			counts: [3]int{5, 1, 2},
		},
		{
			name:   "a failed move: the rest applies",
			always: map[string]error{"Move CN=jdoe," + people: fail(directory.ErrAccessDenied)},
			counts: [3]int{7, 1, 0},
		},
		{
			name:    "transient errors are retried",
			script:  map[string][]error{"Create CN=njoin," + people: {unavailable, unavailable}},
			retries: 2,
			calls:   append(append(slices.Clone(fullRun[:4]), fullRun[3], fullRun[3]), fullRun[4:]...),
			counts:  [3]int{8, 0, 0},
		},
		{
			name:     "retries run out",
			script:   map[string][]error{"Create CN=njoin," + people: {unavailable, unavailable, unavailable}},
			retries:  2,
			calls:    []string{fullRun[0], fullRun[1], fullRun[2], fullRun[3], fullRun[3], fullRun[3], fullRun[4], fullRun[5]},
			outcomes: []string{"applied", "applied", "applied", "failed create:5000: after 3 attempts: modify x: directory unavailable: injected"},
			counts:   [3]int{5, 1, 2},
		},
		{
			name:     "a refused bind stops the run: no bind after bind to lock the account out",
			always:   map[string]error{"RemoveMember " + sales: fail(directory.ErrAuth)},
			calls:    fullRun[:2],
			outcomes: []string{"applied disable:4217", "failed remove-member:4217:Sales", "skipped create-ou:" + leavers + ": not attempted: the directory refused alm's bind"},
			counts:   [3]int{1, 1, 6},
		},
		{
			name:   "an unreachable directory stops the run: the rest is not attempted",
			always: map[string]error{"RemoveMember " + sales: fail(directory.ErrUnreachable)},
			calls:  fullRun[:2],
			outcomes: []string{"applied disable:4217", "failed remove-member:4217:Sales: modify x: directory unreachable",
				"skipped create-ou:" + leavers + ": not attempted: the directory could not be reached"},
			counts: [3]int{1, 1, 6},
		},
		{
			name:    "errors that are not transient are not retried",
			script:  map[string][]error{"Modify CN=jdoe," + people: {fail(directory.ErrConstraint), nil}},
			retries: 5,
			counts:  [3]int{7, 1, 0},
		},
		{
			name: "what is already done is applied, with a note",
			always: map[string]error{
				"CreateOU " + leavers: fail(directory.ErrExists), "AddMember " + sales: fail(directory.ErrExists),
				"RemoveMember " + sales: fail(directory.ErrNoSuchObject),
			},
			outcomes: []string{"applied disable", "applied remove-member:4217:Sales (not a member)", "applied create-ou:" + leavers + " (already exists)",
				"applied", "applied", "applied", "applied add-member:5000:Sales (already a member)", "applied"},
			counts: [3]int{8, 0, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &recorder{script: tc.script, always: tc.always}
			if w.script == nil {
				w.script = map[string][]error{}
			}
			res := Run(context.Background(), w, changes(), Options{Retries: tc.retries, Backoff: time.Microsecond})
			want := tc.calls
			if want == nil {
				want = fullRun
			}
			if !slices.Equal(w.calls, want) {
				t.Errorf("calls\n  %s\nwant\n  %s", strings.Join(w.calls, "\n  "), strings.Join(want, "\n  "))
			}
			got := outcomes(res)
			for i, o := range tc.outcomes {
				if i >= len(got) || !strings.Contains(got[i], o) {
					t.Errorf("outcomes\n  %s\nwant, in order, phrases\n  %s", strings.Join(got, "\n  "), strings.Join(tc.outcomes, "\n  "))
					break
				}
			}
			if c := [3]int{res.Applied, res.Failed, res.Skipped}; c != tc.counts {
				t.Errorf("applied, failed, skipped = %v, want %v\n  %s", c, tc.counts, strings.Join(got, "\n  "))
			}
			if res.OK() != (tc.counts[1]+tc.counts[2] == 0) {
				t.Errorf("OK() = %v", res.OK())
			}
		})
	}
}

// Create gets userAccountControl as the account's flags, not as an attribute.
func TestCreate(t *testing.T) {
	w := &recorder{}
	Run(context.Background(), w, changes(), Options{})
	want := directory.NewAccount{DN: "CN=njoin," + people, Name: "njoin", Marker: "alm:5000", UAC: 514, Attributes: map[string]string{"givenName": "Nia"}}
	if len(w.accounts) != 1 || fmt.Sprint(w.accounts[0]) != fmt.Sprint(want) {
		t.Errorf("created %+v, want %+v", w.accounts, want)
	}
}

func TestRenameAndFlags(t *testing.T) {
	p := &plan.Plan{BaseDN: base, Changes: []plan.Change{
		{ID: "rename:1", Action: plan.Rename, AccountID: "1", Account: "jdoe", DN: "CN=jsmith," + people, NewDN: "CN=jdoe," + people,
			Attributes: []plan.AttrChange{{Name: "sAMAccountName", Old: "jsmith", New: "jdoe"}, {Name: "userPrincipalName", New: "jdoe@example.test"}}},
		{ID: "update:2", Action: plan.Update, AccountID: "2", Account: "svc", DN: "CN=svc," + people,
			Attributes: []plan.AttrChange{{Name: "userAccountControl", Old: "66048", New: "1114624"}}},
		{ID: "add-member:1:Sales", Action: plan.AddMember, AccountID: "1", Account: "jdoe", DN: "CN=jsmith," + people, Group: sales},
	}}
	w := &recorder{}
	res := Run(context.Background(), w, p, Options{})
	want := []string{
		"SetAccountControl CN=svc," + people + " 1114624",
		"Move CN=jsmith," + people + " CN=jdoe," + people,
		"Modify CN=jdoe," + people + " sAMAccountName=jdoe userPrincipalName=jdoe@example.test",
		"AddMember " + sales + " CN=jdoe," + people,
	}
	if !slices.Equal(w.calls, want) || !res.OK() {
		t.Errorf("calls\n  %s\nwant\n  %s\n%v", strings.Join(w.calls, "\n  "), strings.Join(want, "\n  "), outcomes(res))
	}
}

// An OU whose parents are missing too is created from the top down.
func TestCreateOUParents(t *testing.T) {
	deep := "OU=Leavers,OU=Accounts,OU=ALM," + base
	w := &recorder{script: map[string][]error{
		"CreateOU " + deep:                    {fail(directory.ErrNoSuchObject)},
		"CreateOU OU=Accounts,OU=ALM," + base: {fail(directory.ErrNoSuchObject)},
		"CreateOU OU=ALM," + base:             {fail(directory.ErrExists)},
	}}
	res := Run(context.Background(), w, &plan.Plan{BaseDN: base, Changes: []plan.Change{{ID: "create-ou:" + deep, Action: plan.CreateOU, DN: deep}}}, Options{})
	want := []string{"CreateOU " + deep, "CreateOU OU=Accounts,OU=ALM," + base, "CreateOU OU=ALM," + base, "CreateOU OU=Accounts,OU=ALM," + base, "CreateOU " + deep}
	if !slices.Equal(w.calls, want) || !res.OK() {
		t.Errorf("calls\n  %s\nwant\n  %s\n%v", strings.Join(w.calls, "\n  "), strings.Join(want, "\n  "), outcomes(res))
	}
	// Never above the base DN, nor into a container that is not an OU.
	w = &recorder{always: map[string]error{"CreateOU OU=X,CN=Users," + base: fail(directory.ErrNoSuchObject)}}
	res = Run(context.Background(), w, &plan.Plan{BaseDN: base, Changes: []plan.Change{{ID: "c", Action: plan.CreateOU, DN: "OU=X,CN=Users," + base}}}, Options{})
	if len(w.calls) != 1 || res.Failed != 1 {
		t.Errorf("calls %q, result %v", w.calls, outcomes(res))
	}
}

// A stop (SIGINT, SIGTERM) lets the change in flight finish and skips the
// rest: the write in flight runs under a context the stop does not cancel.
func TestStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &recorder{cancel: cancel}
	res := Run(ctx, w, changes(), Options{})
	if len(w.calls) != 1 || res.Applied != 1 || res.Skipped != 7 || !strings.Contains(res.Changes[1].Error, "not attempted: the run was stopped (context canceled)") {
		t.Errorf("calls %q\n%s", w.calls, strings.Join(outcomes(res), "\n"))
	}
	if w.ctxErrs[0] != nil {
		t.Errorf("the write in flight saw its context end (%v): a stop must not cut it short", w.ctxErrs[0])
	}
	// A stop while waiting to retry ends the change at once.
	ctx, cancel = context.WithCancel(context.Background())
	w = &recorder{always: map[string]error{"SetAccountControl CN=jdoe," + people: fail(directory.ErrUnavailable)}, cancel: cancel}
	start := time.Now()
	res = Run(ctx, w, changes(), Options{Retries: 3, Backoff: time.Hour})
	if time.Since(start) > time.Minute || res.Failed != 1 || !strings.Contains(res.Changes[0].Error, "retry cancelled") {
		t.Errorf("%s", strings.Join(outcomes(res), "\n"))
	}
}

// Writes name the object as the plan read it: its GUID and marker, at the
// DN it has after a move made earlier in the run.
func TestWritesNameTheObjectRead(t *testing.T) {
	p := &plan.Plan{BaseDN: base, Changes: []plan.Change{
		{ID: "move:1", Action: plan.Move, AccountID: "1", Account: "jdoe", GUID: "g-1", Marker: "alm:1", DN: "CN=jdoe," + people, NewDN: "CN=jdoe," + leavers},
		{ID: "set-password:1", Action: plan.SetPassword, AccountID: "1", Account: "jdoe", GUID: "g-1", Marker: "alm:1", DN: "CN=jdoe," + people},
		{ID: "add-member:1:Sales", Action: plan.AddMember, AccountID: "1", Account: "jdoe", GUID: "g-1", Marker: "alm:1", DN: "CN=jdoe," + people, Group: sales, GroupGUID: "g-sales"},
		{ID: "enable:1", Action: plan.Enable, AccountID: "1", Account: "jdoe", GUID: "g-1", Marker: "alm:1", DN: "CN=jdoe," + people,
			Attributes: uacAttr("514", "512"), DependsOn: []string{"set-password:1"}},
	}}
	w := &recorder{}
	res := Run(context.Background(), w, p, Options{})
	want := []directory.Ref{
		{DN: "CN=jdoe," + people, GUID: "g-1", Marker: "alm:1"},
		{DN: "CN=jdoe," + people, GUID: "g-1", Marker: "alm:1"},
		{DN: "CN=jdoe," + leavers, GUID: "g-1", Marker: "alm:1"},
		{DN: "CN=jdoe," + leavers, GUID: "g-1", Marker: "alm:1"},
	}
	// The repair runs before the move (phases), the rest after it.
	if !slices.Equal(w.refs, want) || !res.OK() {
		t.Errorf("refs\n  %v\nwant\n  %v\n%v\n%v", w.refs, want, w.calls, outcomes(res))
	}
	// Never enabled when the repair fails.
	w = &recorder{always: map[string]error{"SetPassword CN=jdoe," + people: fail(directory.ErrChanged)}}
	res = Run(context.Background(), w, p, Options{})
	if got := outcomes(res); !strings.Contains(got[len(got)-1], "skipped enable:1: depends on set-password:1, which failed") {
		t.Errorf("outcomes %v", got)
	}
}

// A removal from a privileged group goes before everything else.
func TestPrivilegedFirst(t *testing.T) {
	p := changes()
	admins := "CN=Domain Admins,CN=Users," + base
	p.Changes = append(p.Changes, plan.Change{ID: "remove-member:5000:Domain Admins", Action: plan.RemoveMember, AccountID: "4217", Account: "jdoe",
		Marker: "alm:4217", DN: "CN=jdoe," + people, Group: admins, GroupName: "Domain Admins", Privileged: "one of AD's privileged groups"})
	w := &recorder{}
	Run(context.Background(), w, p, Options{})
	if want := "RemoveMember " + admins + " CN=jdoe," + people; len(w.calls) == 0 || w.calls[0] != want {
		t.Errorf("calls %q, want %q first", w.calls, want)
	}
}

func TestUnknownAction(t *testing.T) {
	res := Run(context.Background(), &recorder{}, &plan.Plan{Changes: []plan.Change{{ID: "x", Action: "explode"}}}, Options{})
	if res.Failed != 1 || !strings.Contains(res.Changes[0].Error, `unknown action "explode"`) {
		t.Errorf("%v", outcomes(res))
	}
}

func TestCheckFresh(t *testing.T) {
	p := &plan.Plan{Revision: "aaa", DirectoryState: "100"}
	tests := []struct {
		name, rev, state string
		want             []string
	}{
		{"fresh", "aaa", "100", nil},
		{"new revision", "bbb", "100", []string{"made at revision aaa, and the access repository is now at bbb"}},
		{"directory changed", "aaa", "101", []string{"the directory has changed since it was made (state 100, now 101)"}},
		{"both", "bbb", "101", []string{"revision aaa", "state 100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFresh(p, tc.rev, tc.state)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrStale) {
				t.Fatalf("error %v is not ErrStale", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q should say %q", err, w)
				}
			}
		})
	}
}
