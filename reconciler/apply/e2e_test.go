package apply_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

const base = "DC=example,DC=test"

// world is the example repository reconciled into an in-memory domain.
type world struct {
	t    *testing.T
	repo *model.Repository
	dir  *memory.Directory
	last *desired.State // the desired state of the last apply
}

func newWorld(t *testing.T, missingGroup string) *world {
	t.Helper()
	repo, problems, err := load.Dir("../../examples/acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("examples/acme: %v", problems)
	}
	repo.Revision = "r1"
	d, err := desired.Compute(repo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := memory.New(base)
	dir.SetMarkerAttribute(d.MarkerAttribute)
	if err := dir.AddOU(d.GroupsOU); err != nil {
		t.Fatal(err)
	}
	for _, g := range d.Groups {
		if g.Name != missingGroup {
			if err := dir.AddGroup(d.GroupDN(g.Name), g.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &world{t: t, repo: repo, dir: dir}
}

// plan makes the plan at now, knowing the last apply.
func (w *world) plan(now string) (*desired.State, *plan.Plan) {
	w.t.Helper()
	at, err := time.Parse(time.DateOnly, now)
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := desired.Compute(w.repo, at)
	if err != nil {
		w.t.Fatal(err)
	}
	snap, err := w.dir.Read(context.Background(), d.Scope())
	if err != nil {
		w.t.Fatal(err)
	}
	return d, plan.Diff(d, snap, plan.Options{Previous: w.last})
}

// apply plans, guards and applies at now, and checks that a second plan
// of the same revision at the same time has no changes.
func (w *world) apply(now string, g func(*plan.GuardOptions)) apply.Result {
	w.t.Helper()
	d, p := w.plan(now)
	opts := plan.NewGuardOptions(d)
	if g != nil {
		g(&opts)
	}
	if err := plan.Guard(p, opts); err != nil {
		w.t.Fatalf("guard at %s: %v", now, err)
	}
	res := apply.Run(context.Background(), w.dir, p, apply.Options{Retries: 2, Backoff: time.Millisecond})
	w.last = d
	return res
}

func (w *world) noChanges(now string) {
	w.t.Helper()
	if _, p := w.plan(now); !p.Empty() {
		w.t.Errorf("a second plan at %s has changes:\n  %s", now, strings.Join(briefs(p), "\n  "))
	}
}

func briefs(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := string(c.Action) + " " + c.Account
		if c.GroupName != "" {
			s += " " + c.GroupName
		}
		if c.Drift {
			s += " (drift)"
		}
		out = append(out, s)
	}
	return out
}

func failures(res apply.Result) string {
	var out []string
	for _, cr := range res.Changes {
		if cr.Outcome != apply.Applied {
			out = append(out, string(cr.Outcome)+" "+cr.Change.ID+": "+cr.Error)
		}
	}
	return strings.Join(out, "\n  ")
}

func (w *world) group(dn string) *directory.Group {
	w.t.Helper()
	snap, err := w.dir.Read(context.Background(), w.last.Scope())
	if err != nil {
		w.t.Fatal(err)
	}
	for i := range snap.Groups {
		if directory.SameDN(snap.Groups[i].DN, dn) {
			return &snap.Groups[i]
		}
	}
	return nil
}

func (w *world) account(name string) *directory.Account {
	w.t.Helper()
	snap, err := w.dir.Read(context.Background(), w.last.Scope())
	if err != nil {
		w.t.Fatal(err)
	}
	for i := range snap.Accounts {
		if snap.Accounts[i].Name == name {
			return &snap.Accounts[i]
		}
	}
	return nil
}

// TestLifecycle carries the example repository through months of joiners,
// movers, a rename, leavers and expiries, with changes by hand in between:
// every apply succeeds, and a second plan right after each has no changes.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "")
	if res := w.apply("2026-11-23", nil); !res.OK() {
		t.Fatalf("first apply:\n  %s", failures(res))
	}
	w.noChanges("2026-11-23")

	// Drift: changes by hand are reverted, and reported as drift.
	people := "OU=People,OU=ALM," + base
	mustDo(t, w.dir.SetAccountControl(ctx, w.dir.RefOf("CN=oobrien,OU=Leavers,OU=ALM,"+base), directory.UACNormalAccount))
	mustDo(t, w.dir.Modify(ctx, w.dir.RefOf("CN=rpatel,"+people), map[string]string{directory.AttrTitle: "CISO"}))
	mustDo(t, w.dir.AddMember(ctx, w.dir.RefOf(w.last.GroupDN("FS Backup Operators")), w.dir.RefOf("CN=jdoe,"+people)))
	mustDo(t, w.dir.RemoveMember(ctx, w.dir.RefOf(w.last.GroupDN("VPN Users")), w.dir.RefOf("CN=hokafor,"+people)))
	_, p := w.plan("2026-11-23")
	want := []string{"disable oobrien (drift)", "remove-member jdoe FS Backup Operators (drift)", "update rpatel (drift)", "add-member hokafor VPN Users (drift)"}
	if got := briefs(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift plan\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if res := w.apply("2026-11-23", nil); !res.OK() || res.Applied != 4 {
		t.Fatalf("drift apply: %d applied\n  %s", res.Applied, failures(res))
	}
	w.noChanges("2026-11-23")

	// Two weeks on: lchen has joined; jdoe is renamed jsmith; ewright
	// moves to Engineering; tnguyen leaves; svc-ci-runner is retired.
	jdoe := w.repo.People["jdoe"]
	delete(w.repo.People, "jdoe")
	jdoe.Metadata.Name, jdoe.Spec.PreviousNames = "jsmith", []string{"jdoe"}
	w.repo.People["jsmith"] = jdoe
	for _, sa := range w.repo.ServiceAccounts {
		if sa.Spec.Owner == "jdoe" {
			sa.Spec.Owner = "jsmith"
		}
	}
	w.repo.People["ewright"].Spec.Department = "Engineering"
	w.repo.People["tnguyen"].Spec.EndDate = model.MustDate("2026-12-04")
	w.repo.Revision = "r2"
	_, p = w.plan("2026-12-08")
	for _, c := range p.Changes {
		if c.Drift {
			t.Errorf("a change the files asked for is marked drift: %s", c.ID)
		}
	}
	marker := w.account("jdoe").Marker
	if res := w.apply("2026-12-08", nil); !res.OK() {
		t.Fatalf("apply at 2026-12-08:\n  %s", failures(res))
	}
	w.noChanges("2026-12-08")
	js := w.account("jsmith")
	if js == nil || js.Marker != marker || js.DN != "CN=jsmith,"+people || len(js.MemberOf) != 3 {
		t.Errorf("after the rename: %+v", js)
	}
	if w.account("lchen") == nil || !w.account("lchen").Enabled() || w.account("svc-ci-runner") != nil {
		t.Error("lchen should be enabled and svc-ci-runner gone")
	}
	tn := w.account("tnguyen")
	if tn.Enabled() || !strings.HasSuffix(tn.DN, "OU=Leavers,OU=ALM,"+base) || len(tn.MemberOf) == 0 {
		t.Errorf("tnguyen in the grace period: %+v", tn)
	}

	// Months on: tnguyen's grace period is over, oobrien is archived,
	// kwalker's contract has ended, more service accounts are retired.
	// More deletes than alm.yaml allows: raised for this run.
	w.repo.Revision = "r3"
	d, p := w.plan("2027-02-15")
	err := plan.Guard(p, plan.NewGuardOptions(d))
	if err == nil || !strings.Contains(err.Error(), "--max-delete") {
		t.Fatalf("the guard should refuse the deletes: %v", err)
	}
	res := w.apply("2027-02-15", func(g *plan.GuardOptions) {
		g.Override = map[string]model.Limit{plan.LimitDelete: {Count: 10}}
	})
	if !res.OK() {
		t.Fatalf("apply at 2027-02-15:\n  %s", failures(res))
	}
	w.noChanges("2027-02-15")
	if tn := w.account("tnguyen"); len(tn.MemberOf) != 0 {
		t.Errorf("tnguyen keeps %q after the grace period", tn.MemberOf)
	}
	if w.account("oobrien") != nil {
		t.Error("oobrien should be deleted")
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// One failing change leaves every other change applied - all but what
// depends on it - and is all that the next plan still has to do.
func TestOneFailureLeavesTheRest(t *testing.T) {
	w := newWorld(t, "")
	w.dir.FailOn("Modify", "CN=rpatel,OU=People,OU=ALM,"+base, directory.ErrAccessDenied)
	res := w.apply("2026-11-23", nil)
	if res.Failed != 1 || res.Skipped != 0 || res.Applied != len(res.Changes)-1 {
		t.Fatalf("applied %d, failed %d, skipped %d:\n  %s", res.Applied, res.Failed, res.Skipped, failures(res))
	}
	if f := failures(res); !strings.Contains(f, "update:") || !strings.Contains(f, "insufficient access rights") {
		t.Errorf("failure:\n  %s", f)
	}
	w.dir.ClearFailures()
	_, p := w.plan("2026-11-23")
	if got := briefs(p); len(got) != 1 || got[0] != "update rpatel (drift)" {
		t.Errorf("next plan: %q", got)
	}
}

// A group a role names by name that does not exist is created by alm,
// carrying its marker, and the accounts the role grants it are added; in
// it, a member no role grants - added by hand - is drift, removed.
func TestMissingGroupIsCreated(t *testing.T) {
	w := newWorld(t, "CRM API Users")
	res := w.apply("2026-11-23", nil)
	if !res.OK() {
		t.Fatalf("%s", failures(res))
	}
	w.noChanges("2026-11-23")
	dn := w.last.GroupDN("CRM API Users")
	g := w.group(dn)
	if g == nil || g.Marker != directory.GroupMarker("CRM API Users") {
		t.Fatalf("group %s read back %+v, want it made with alm's group marker", dn, g)
	}
	if sa := w.account("svc-crm-sync"); sa == nil || !slices.ContainsFunc(g.Members, func(m string) bool { return directory.SameDN(m, sa.DN) }) {
		t.Errorf("members of %s: %q, want svc-crm-sync", dn, g.Members)
	}

	hand := "CN=hand-made,OU=Service Accounts,OU=ALM," + base
	mustDo(t, w.dir.AddUser(directory.NewAccount{DN: hand, Name: "hand-made", UAC: directory.UACNormalAccount}))
	mustDo(t, w.dir.AddMember(context.Background(), directory.Ref{DN: dn}, directory.Ref{DN: hand}))
	_, p := w.plan("2026-11-23")
	if got := briefs(p); len(got) != 1 || got[0] != "remove-member hand-made CRM API Users (drift)" {
		t.Fatalf("after a member was added by hand: %q", got)
	}
	if res := w.apply("2026-11-23", nil); !res.OK() {
		t.Fatalf("%s", failures(res))
	}
	w.noChanges("2026-11-23")
}

// A group alm created, renamed in its role (renamedGroups), is renamed in
// place: same objectGUID, same members, the new cn and sAMAccountName.
func TestCreatedGroupRenamed(t *testing.T) {
	w := newWorld(t, "CRM API Users")
	if res := w.apply("2026-11-23", nil); !res.OK() {
		t.Fatalf("%s", failures(res))
	}
	old := w.group(w.last.GroupDN("CRM API Users"))
	role := w.repo.Roles["crm-integration"]
	role.Spec.Groups = []string{"CRM Integration"}
	role.Spec.RenamedGroups = []model.GroupRename{{From: "CRM API Users", To: "CRM Integration"}}
	_, p := w.plan("2026-11-23")
	if got := briefs(p); len(got) != 1 || got[0] != "rename-group  CRM Integration" {
		t.Fatalf("plan of the rename: %q", got)
	}
	if res := w.apply("2026-11-23", nil); !res.OK() {
		t.Fatalf("%s", failures(res))
	}
	w.noChanges("2026-11-23")
	g := w.group(w.last.GroupDN("CRM Integration"))
	if g == nil || g.GUID != old.GUID || g.Name != "CRM Integration" || !slices.Equal(g.Members, old.Members) || len(g.Members) == 0 {
		t.Errorf("after the rename %+v, want %+v under the new name", g, old)
	}
	if w.group(w.last.GroupDN("CRM API Users")) != nil {
		t.Error("the old name is still there")
	}
}

// Transient errors from the directory are retried, and then apply.
func TestTransientErrorsRetried(t *testing.T) {
	w := newWorld(t, "")
	w.dir.FailTimes("Create", "", 2, directory.ErrUnavailable)
	w.dir.FailTimes("AddMember", "", 1, directory.ErrUnavailable)
	res := w.apply("2026-11-23", nil)
	if !res.OK() {
		t.Fatalf("%s", failures(res))
	}
	var retried int
	for _, cr := range res.Changes {
		if cr.Attempts > 1 {
			retried++
		}
	}
	if retried != 2 {
		t.Errorf("%d changes retried, want 2 (the first create twice, the first group addition once)", retried)
	}
	w.noChanges("2026-11-23")
}

// A saved plan is refused once the directory has changed under it.
func TestSavedPlanGoesStale(t *testing.T) {
	w := newWorld(t, "")
	d, p := w.plan("2026-11-23")
	if err := apply.CheckFresh(p, "r1", p.DirectoryState); err != nil {
		t.Fatal(err)
	}
	mustDo(t, w.dir.AddOU("OU=Elsewhere,"+base))
	snap, err := w.dir.Read(context.Background(), d.Scope())
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.CheckFresh(p, "r1", snap.State); err == nil {
		t.Error("a plan made before a change to the directory is still fresh")
	}
}
