package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// leavers makes n of the fixture's people leavers at 2026-03-01, so the
// plan disables n accounts and removes their groups after the grace period.
func leavers(t *testing.T, n int, endDate string) *Plan {
	t.Helper()
	r := repository()
	d0 := compute(t, r, "2026-01-01")
	for _, name := range []string{"jdoe", "bking", "cwu", "asmith"}[:n] {
		person(r, name).EndDate = model.MustDate(endDate)
	}
	return Diff(compute(t, r, "2026-03-01"), inSync(d0), Options{})
}

func TestGuardLimits(t *testing.T) {
	tests := []struct {
		name     string
		plan     func(t *testing.T) *Plan
		limits   model.Limits
		override map[string]model.Limit
		want     []string // phrases of the error; none: the plan passes
		kind     string
	}{
		{name: "under every limit", plan: func(t *testing.T) *Plan { return leavers(t, 2, "2026-02-27") },
			limits: model.Limits{Disable: model.Limit{Count: 2, Fraction: 0.5}}},
		{name: "no limits set", plan: func(t *testing.T) *Plan { return leavers(t, 4, "2026-02-27") }},
		{name: "over the disable count", plan: func(t *testing.T) *Plan { return leavers(t, 3, "2026-02-27") },
			limits: model.Limits{Disable: model.Limit{Count: 2}}, kind: LimitDisable,
			want: []string{"plan refused: it disables 3 accounts, over the limit of 2 (alm.yaml spec.limits.disable.count)", "allow it for this run with --max-disable 3"}},
		{name: "over the disable fraction", plan: func(t *testing.T) *Plan { return leavers(t, 3, "2026-02-27") },
			limits: model.Limits{Disable: model.Limit{Count: 10, Fraction: 0.5}}, kind: LimitDisable,
			want: []string{"disables 3 accounts, 60% of 5 managed accounts, over the limit of 50% (alm.yaml spec.limits.disable.fraction)", "--max-disable 60%"}},
		{name: "raised for one run", plan: func(t *testing.T) *Plan { return leavers(t, 3, "2026-02-27") },
			limits: model.Limits{Disable: model.Limit{Count: 2}}, override: map[string]model.Limit{LimitDisable: {Count: 3}}},
		{name: "over a limit given on the command line", plan: func(t *testing.T) *Plan { return leavers(t, 3, "2026-02-27") },
			limits: model.Limits{Disable: model.Limit{Count: 10}}, override: map[string]model.Limit{LimitDisable: {Fraction: 0.2}}, kind: LimitDisable,
			want: []string{"over the limit of 20% (--max-disable for this run)"}},
		{name: "over the group removal count", plan: func(t *testing.T) *Plan { return leavers(t, 2, "2026-01-02") },
			limits: model.Limits{RemoveFromGroup: model.Limit{Count: 3}}, kind: LimitRemove,
			want: []string{"removes 4 group memberships from 2 accounts, over the limit of 3 (alm.yaml spec.limits.removeFromGroup.count)", "--max-remove 4"}},
		{name: "over the delete count", plan: func(t *testing.T) *Plan { return leavers(t, 1, "2025-10-01") },
			limits: model.Limits{Delete: model.Limit{Count: 1, Fraction: 0.1}}, kind: LimitDelete,
			want: []string{"deletes 1 account, 20% of 5 managed accounts, over the limit of 10% (alm.yaml spec.limits.delete.fraction)", "--max-delete 20%"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan(t)
			err := Guard(p, GuardOptions{Protected: model.AlwaysProtected, Limits: tc.limits, Override: tc.override})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LimitError, got %v", err)
			}
			if le.Kind != tc.kind {
				t.Errorf("limit %s, want %s", le.Kind, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nshould say %q", err, w)
				}
			}
		})
	}
}

func TestGuardRefuses(t *testing.T) {
	d := compute(t, repository(), "2026-03-01")
	snap := inSync(d)
	live(t, snap, "jdoe").Attributes[directory.AttrTitle] = "CTO"
	ok := Diff(d, snap, Options{})
	if err := Guard(ok, NewGuardOptions(d)); err != nil {
		t.Fatalf("a plain plan is refused: %v", err)
	}
	tests := []struct {
		name string
		edit func(c *Change)
		want string
	}{
		{"a protected account", func(c *Change) { c.Account, c.DN = "krbtgt", "CN=krbtgt,CN=Users,"+base }, "krbtgt (CN=krbtgt,CN=Users,DC=example,DC=test) is a protected account"},
		{"a protected DN", func(c *Change) { c.NewDN = "cn=old erp,OU=People,OU=ALM," + base }, "jdoe (cn=old erp,OU=People,OU=ALM,DC=example,DC=test) is a protected account"},
		{"an object without the marker", func(c *Change) { c.Marker = "" }, `does not carry alm's marker for id "004217"`},
		{"another account's marker", func(c *Change) { c.Marker = "alm:001001" }, `does not carry alm's marker for id "004217"`},
		{"an orphan alm.yaml does not let it disable", func(c *Change) { c.Action, c.AccountID, c.Marker = DisableOrphan, "", "" }, "alm.yaml does not say orphans: disable"},
		{"an OU outside the base DN", func(c *Change) { c.Action, c.DN = CreateOU, "OU=Elsewhere,DC=other,DC=test" }, "OU OU=Elsewhere,DC=other,DC=test is not below the base DN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := *ok
			p.Changes = []Change{ok.Changes[0]}
			tc.edit(&p.Changes[0])
			g := NewGuardOptions(d)
			g.Protected = append(g.Protected, "CN=Old ERP, OU=People,OU=ALM,"+base)
			err := Guard(&p, g)
			var re *RefusedError
			if !errors.As(err, &re) || re.Change != "update:004217" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a *RefusedError saying %q", err, tc.want)
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want model.Limit
		err  bool
	}{
		{in: "25", want: model.Limit{Count: 25}},
		{in: " 20% ", want: model.Limit{Fraction: 0.2}},
		{in: "2.5%", want: model.Limit{Fraction: 0.025}},
		{in: "0", err: true},
		{in: "-3", err: true},
		{in: "150%", err: true},
		{in: "many", err: true},
	}
	for _, tc := range tests {
		got, err := ParseLimit(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestDecode(t *testing.T) {
	r := repository()
	person(r, "jdoe").EndDate = model.MustDate("2026-02-27")
	d0 := compute(t, repository(), "2026-03-01")
	p := Diff(compute(t, r, "2026-03-01"), inSync(d0), Options{Previous: d0})
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(p); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("the plan does not survive JSON:\n%+v\n%+v", got, p)
	}
	if _, err := Decode(strings.NewReader(`{"formatVersion": 2}`)); err == nil || !strings.Contains(err.Error(), "plan format version 2: this alm reads version 1") {
		t.Errorf("a newer format: %v", err)
	}
	if _, err := Decode(strings.NewReader(`{`)); err == nil {
		t.Error("broken JSON is read")
	}
}

// TestDefaultLimits: an alm.yaml without limits is bounded by alm's own,
// and the refusal says where the limit came from.
func TestDefaultLimits(t *testing.T) {
	d := compute(t, repository(), "2026-03-01")
	d.Limits = model.Limits{}
	g := NewGuardOptions(d)
	if g.Limits != model.DefaultLimits {
		t.Fatalf("limits %+v, want the defaults", g.Limits)
	}
	if err := Guard(leavers(t, 4, "2026-02-27"), g); err != nil {
		t.Fatalf("4 disables are within the defaults: %v", err)
	}
	g.Limits.Disable.Count = 3 // as if the default were lower, to see the refusal name it
	err := Guard(leavers(t, 4, "2026-02-27"), g)
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != LimitDisable || !strings.Contains(err.Error(), "alm's default limits.disable.count, as alm.yaml sets no limits.disable") {
		t.Fatalf("error %v", err)
	}
}

// TestDefaultLimitPerKind: each kind alm.yaml leaves unset keeps alm's
// default; setting only delete does not leave disables unbounded.
func TestDefaultLimitPerKind(t *testing.T) {
	d := compute(t, repository(), "2026-03-01")
	tests := []struct {
		name string
		set  model.Limits
		want model.Limits
	}{
		{"none set", model.Limits{}, model.DefaultLimits},
		{"only delete", model.Limits{Delete: model.Limit{Count: 1}},
			model.Limits{Disable: model.DefaultLimits.Disable, RemoveFromGroup: model.DefaultLimits.RemoveFromGroup, Delete: model.Limit{Count: 1}}},
		{"a fraction only", model.Limits{Disable: model.Limit{Fraction: 0.2}},
			model.Limits{Disable: model.Limit{Fraction: 0.2}, RemoveFromGroup: model.DefaultLimits.RemoveFromGroup, Delete: model.DefaultLimits.Delete}},
		{"all set", model.Limits{Disable: model.Limit{Count: 3}, RemoveFromGroup: model.Limit{Count: 4}, Delete: model.Limit{Count: 5}},
			model.Limits{Disable: model.Limit{Count: 3}, RemoveFromGroup: model.Limit{Count: 4}, Delete: model.Limit{Count: 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d.Limits = tc.set
			if g := NewGuardOptions(d); g.Limits != tc.want {
				t.Errorf("limits %+v, want %+v", g.Limits, tc.want)
			}
		})
	}
	// 11 disables with only delete set: refused by the default disable limit, which the refusal names.
	d.Limits = model.Limits{Delete: model.Limit{Count: 1}}
	p := leavers(t, 1, "2026-02-27")
	var disable Change
	for _, c := range p.Changes {
		if c.Action == Disable {
			disable = c
		}
	}
	for i := range model.DefaultLimits.Disable.Count {
		c := disable
		c.ID, c.DN = fmt.Sprintf("disable:%d", i), fmt.Sprintf("CN=x%d,%s", i, c.DN)
		p.Changes = append(p.Changes, c)
	}
	err := Guard(p, NewGuardOptions(d))
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != LimitDisable || !strings.Contains(err.Error(), "alm's default limits.disable.count, as alm.yaml sets no limits.disable") {
		t.Fatalf("error %v", err)
	}
}

// TestGuardIdentity: whatever a plan says, the guard checks each change
// against the object it targets in the directory read: a built-in account
// (RID below 1000, critical system object) is never touched, whatever its
// name and marker; an unmanaged privileged account is never disabled.
func TestGuardIdentity(t *testing.T) {
	live := &directory.Snapshot{Accounts: []directory.Account{
		{DN: "CN=ops,OU=People,OU=ALM," + base, GUID: "g-500", Name: "ops", Marker: "alm:004217", SID: "S-1-5-21-1-2-3-500"},
		{DN: "CN=svc,OU=People,OU=ALM," + base, GUID: "g-crit", Name: "svc", Marker: "alm:004300", SID: "S-1-5-21-1-2-3-1200", Critical: true},
		{DN: "CN=tier0,OU=People,OU=ALM," + base, GUID: "g-ac", Name: "tier0", SID: "S-1-5-21-1-2-3-1300", AdminCount: true},
		{DN: "CN=jdoe,OU=People,OU=ALM," + base, GUID: "g-ok", Name: "jdoe", Marker: "alm:004217", SID: "S-1-5-21-1-2-3-1400"},
		{DN: "CN=op,OU=People,OU=ALM," + base, GUID: "g-da", Name: "op", SID: "S-1-5-21-1-2-3-1500", MemberOf: []string{"CN=Domain Admins,CN=Users," + base}},
		{DN: "CN=pg,OU=People,OU=ALM," + base, GUID: "g-pg", Name: "pg", SID: "S-1-5-21-1-2-3-1600", PrimaryGroupID: 512},
	}, Groups: []directory.Group{{DN: "CN=Domain Admins,CN=Users," + base, Name: "Domain Admins", SID: "S-1-5-21-1-2-3-512"}}}
	tests := []struct {
		name   string
		change Change
		want   string // phrase of the refusal; "" passes
	}{
		{"RID 500 by GUID", Change{ID: "disable:004217", Action: Disable, AccountID: "004217", Account: "ops", Marker: "alm:004217", GUID: "g-500", DN: "CN=elsewhere," + base},
			"a built-in account of the domain (RID 500)"},
		{"RID 500 by DN", Change{ID: "update:004217", Action: Update, AccountID: "004217", Account: "ops", Marker: "alm:004217", DN: "CN=ops,OU=People,OU=ALM," + base},
			"RID 500"},
		{"critical system object", Change{ID: "delete:004300", Action: Delete, AccountID: "004300", Account: "svc", Marker: "alm:004300", GUID: "g-crit", DN: "CN=svc,OU=People,OU=ALM," + base},
			"a critical system object"},
		{"privileged orphan", Change{ID: "disable-orphan:x", Action: DisableOrphan, Account: "tier0", GUID: "g-ac", DN: "CN=tier0,OU=People,OU=ALM," + base},
			"unmanaged privileged account (adminCount=1)"},
		{"orphan in Domain Admins, adminCount or not", Change{ID: "disable-orphan:y", Action: DisableOrphan, Account: "op", GUID: "g-da", DN: "CN=op,OU=People,OU=ALM," + base},
			"a member of CN=Domain Admins,CN=Users," + base},
		{"orphan whose primary group is Domain Admins", Change{ID: "disable-orphan:z", Action: DisableOrphan, Account: "pg", GUID: "g-pg", DN: "CN=pg,OU=People,OU=ALM," + base},
			"primary group (primaryGroupID 512)"},
		{"an ordinary account", Change{ID: "disable:004217", Action: Disable, AccountID: "004217", Account: "jdoe", Marker: "alm:004217", GUID: "g-ok", DN: "CN=jdoe,OU=People,OU=ALM," + base}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plan{BaseDN: base, Managed: 3, Changes: []Change{tc.change}}
			err := Guard(p, GuardOptions{Live: live, DisableOrphans: true, Limits: model.DefaultLimits})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "":
				var re *RefusedError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want a refusal saying %q", err, tc.want)
				}
			}
		})
	}
}
