package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/plan"
)

// batcher is a recorder that also writes many members at once, recorded
// as "AddMembers group m1,m2,...".
type batcher struct{ recorder }

func (b *batcher) AddMembers(ctx context.Context, g directory.Ref, ms []directory.Ref) error {
	return b.do(ctx, "AddMembers", g.DN, names(ms))
}

func (b *batcher) RemoveMembers(ctx context.Context, g directory.Ref, ms []directory.Ref) error {
	return b.do(ctx, "RemoveMembers", g.DN, names(ms))
}

func names(ms []directory.Ref) string {
	var out []string
	for _, m := range ms {
		out = append(out, strings.TrimPrefix(strings.Split(m.DN, ",")[0], "CN="))
	}
	return strings.Join(out, ",")
}

const vpn = "CN=VPN,OU=Groups,OU=ALM," + base

// memberPlan: n joiners created, each added to Sales, the first also to
// VPN; two leavers removed from Sales.
func memberPlan(n int) *plan.Plan {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Revision: "c0ffee", DirectoryState: "7", BaseDN: base}
	for i := range n {
		id, name := fmt.Sprint(5000+i), fmt.Sprintf("u%d", i)
		c := plan.Change{AccountID: id, Account: name, Marker: "alm:" + id, DN: "CN=" + name + "," + people}
		create, add := c, c
		create.ID, create.Action = "create:"+id, plan.Create
		add.ID, add.Action, add.Group, add.GroupName, add.DependsOn = "add-member:"+id+":Sales", plan.AddMember, sales, "Sales", []string{create.ID}
		p.Changes = append(p.Changes, create, add)
		if i == 0 {
			v := add
			v.ID, v.Group, v.GroupName = "add-member:"+id+":VPN", vpn, "VPN"
			p.Changes = append(p.Changes, v)
		}
	}
	for _, name := range []string{"l1", "l2"} {
		p.Changes = append(p.Changes, plan.Change{ID: "remove-member:" + name + ":Sales", Action: plan.RemoveMember, AccountID: name, Account: name,
			DN: "CN=" + name + "," + people, Group: sales, GroupName: "Sales"})
	}
	return p
}

// TestMemberBatchesGrouping: the batches are found in one pass, by phase,
// action and group (by GUID, else by DN however written), leaving out a
// change that depends on another of its phase.
func TestMemberBatchesGrouping(t *testing.T) {
	add := func(id, group, guid string, deps ...string) plan.Change {
		return plan.Change{ID: id, Action: plan.AddMember, Group: group, GroupGUID: guid, DependsOn: deps}
	}
	changes := []plan.Change{
		add("a1", sales, ""), add("a2", strings.ToUpper(sales), ""), add("a3", "cn=Sales, ou=Groups,OU=ALM,"+base, ""),
		add("g1", vpn, "1234"), add("g2", vpn, "1234"),
		add("d1", sales, "", "a1"), // depends on a change of its own phase
		{ID: "r1", Action: plan.RemoveMember, Group: sales},
	}
	got := memberBatches(changes)
	want := map[int][]int{0: {0, 1, 2}, 3: {3, 4}, 6: {6}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", got, want)
	}
}

func TestMemberBatches(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		script map[string][]error
		always map[string]error
		calls  []string // the member writes, in order
		want   map[Outcome]int
		notes  []string // outcomes that must be in the result
	}{
		{name: "one write per group and action", n: 3,
			calls: []string{"RemoveMembers " + sales + " l1,l2", "AddMembers " + sales + " u0,u1,u2", "AddMember " + vpn + " CN=u0," + people},
			want:  map[Outcome]int{Applied: 9},
			notes: []string{"applied add-member:5001:Sales\n"}},
		{name: "more than BatchMax members: several writes", n: BatchMax + 2,
			want: map[Outcome]int{Applied: 2*(BatchMax+2) + 3}},
		{name: "a refused write is made again member by member", n: 3,
			script: map[string][]error{"AddMembers " + sales: {fail(directory.ErrExists)}, "AddMember " + sales: {nil, fail(directory.ErrExists)}},
			calls: []string{"RemoveMembers " + sales + " l1,l2", "AddMembers " + sales + " u0,u1,u2",
				"AddMember " + sales + " CN=u0," + people, "AddMember " + sales + " CN=u1," + people, "AddMember " + sales + " CN=u2," + people,
				"AddMember " + vpn + " CN=u0," + people},
			want:  map[Outcome]int{Applied: 9},
			notes: []string{"applied add-member:5001:Sales (already a member)"}},
		{name: "a member whose create failed is left out of the write", n: 3,
			always: map[string]error{"Create CN=u1," + people: fail(directory.ErrConstraint)},
			calls:  []string{"RemoveMembers " + sales + " l1,l2", "AddMembers " + sales + " u0,u2", "AddMember " + vpn + " CN=u0," + people},
			want:   map[Outcome]int{Applied: 7, Failed: 1, Skipped: 1}},
		// As without batches: the first change fails, the rest are not attempted.
		{name: "a directory gone fails the write and stops the run", n: 3,
			always: map[string]error{"RemoveMembers " + sales: fail(directory.ErrUnreachable)},
			calls:  []string{"RemoveMembers " + sales + " l1,l2"},
			want:   map[Outcome]int{Failed: 1, Skipped: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &batcher{recorder{script: tt.script, always: tt.always}}
			if w.script == nil {
				w.script = map[string][]error{}
			}
			res := Run(context.Background(), w, memberPlan(tt.n), Options{Retries: 0})
			var calls []string
			for _, c := range w.calls {
				if strings.Contains(c, "Member") {
					calls = append(calls, c)
				}
			}
			if tt.calls != nil && strings.Join(calls, "\n") != strings.Join(tt.calls, "\n") {
				t.Errorf("member writes:\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(tt.calls, "\n"))
			}
			if tt.n > BatchMax && (len(calls) != 4 || !strings.HasPrefix(calls[1], "AddMembers") || !strings.HasPrefix(calls[2], "AddMembers")) {
				t.Errorf("member writes %d: want the leavers' one, two of the joiners' and VPN's", len(calls))
			}
			got := map[Outcome]int{Applied: res.Applied, Failed: res.Failed, Skipped: res.Skipped}
			for _, o := range []Outcome{Applied, Failed, Skipped} {
				if got[o] != tt.want[o] {
					t.Errorf("%s %d, want %d: %v", o, got[o], tt.want[o], outcomes(res))
				}
			}
			all := strings.Join(outcomes(res), "\n")
			for _, n := range tt.notes {
				if !strings.Contains(all, n) {
					t.Errorf("outcomes lack %q:\n%s", n, all)
				}
			}
		})
	}
}
