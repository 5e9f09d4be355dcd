package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/receipt"
)

// Access is who held which account and which groups at an instant: the
// desired state, at that instant, of the revision the last run that
// applied at or before it had applied (what was in force, not merely
// merged).
type Access struct {
	At time.Time `json:"at"`
	// Revision is the revision in force; "" when no run had applied yet,
	// and then nobody held anything alm manages.
	Revision  string    `json:"revision"`
	AppliedAt time.Time `json:"appliedAt,omitzero"` // when that revision was applied
	Group     string    `json:"group,omitempty"`    // the group asked about (--group), or "" for all
	Accounts  []Holding `json:"accounts"`           // sorted by login
}

// Holding is one account and its groups at an instant. An account exists
// in the directory when it is listed; Enabled says whether it could log on.
type Holding struct {
	Account string   `json:"account"` // the login
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	State   string   `json:"state"` // the lifecycle state (active, leaver, expired, ...)
	Enabled bool     `json:"enabled"`
	Groups  []string `json:"groups"` // sorted; narrowed to Group when one was asked about
	// Privileged are those of Groups a role marked privileged grants.
	Privileged []string `json:"privileged,omitempty"`
}

// At returns the access in force at t, narrowed to group when not "".
func (h *History) At(ctx context.Context, t time.Time, group string) (Access, error) {
	a := Access{At: t.UTC(), Group: group, Accounts: []Holding{}}
	r := h.lastApplied(t)
	if r == nil {
		return a, nil
	}
	a.Revision, a.AppliedAt = r.Revision, r.AppliedAt.UTC()
	state, err := h.state(ctx, r.Revision, t)
	if err != nil {
		return Access{}, err
	}
	for _, acc := range state.Accounts {
		if !acc.Exists || acc.Delete {
			continue
		}
		hd := Holding{Account: acc.Name, ID: acc.ID, Kind: acc.Kind, State: string(acc.State.Status), Enabled: acc.Enabled, Groups: []string{}}
		for _, g := range acc.Groups {
			if group == "" || strings.EqualFold(g.Name, group) {
				hd.Groups = append(hd.Groups, g.Name)
				if g.Privileged {
					hd.Privileged = append(hd.Privileged, g.Name)
				}
			}
		}
		if group != "" && len(hd.Groups) == 0 {
			continue
		}
		sort.Strings(hd.Groups)
		sort.Strings(hd.Privileged)
		a.Accounts = append(a.Accounts, hd)
	}
	sort.Slice(a.Accounts, func(i, j int) bool { return a.Accounts[i].Account < a.Accounts[j].Account })
	return a, nil
}

// state is the desired state of a revision at t.
func (h *History) state(ctx context.Context, rev string, t time.Time) (*desired.State, error) {
	repo, problems, err := h.cache.Commit(ctx, h.repo, rev)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", short(rev), err)
	}
	if len(problems) > 0 {
		// A revision a run applied had none; say so rather than guess.
		h.log.Warn("the revision in force has problems", "revision", rev, "problems", len(problems), "first", problems[0].String())
	}
	s, err := desired.Compute(repo, t)
	if err != nil {
		return nil, fmt.Errorf("desired state of %s at %s: %w", short(rev), t.UTC().Format(time.RFC3339), err)
	}
	return s, nil
}

// Grant changes.
const (
	Granted = "granted"
	Revoked = "removed"
)

// Grant is one access granted or removed between two instants: a group
// membership, or (Group "") the account itself being able to log on.
type Grant struct {
	Account string `json:"account"`
	ID      string `json:"id"`
	Group   string `json:"group"` // "" for the account itself (enabled or not)
	Change  string `json:"change"`
	// AppliedAt is when a run applied it (the latest run in the period
	// whose receipt has the change applied); zero when no run did (the
	// revision in force says so from a date on, and no run applied since).
	AppliedAt time.Time `json:"appliedAt,omitzero"`
	Revision  string    `json:"revision,omitempty"` // the revision that run applied
	// Commit is the branch's commit that asked for it: the newest in the
	// period, up to Revision, that changed the account's file (or, when
	// none did, a role, template or alm.yaml); "" when a date alone did it.
	Commit      string   `json:"commit,omitempty"`
	PullRequest int      `json:"pullRequest,omitempty"`
	Requester   string   `json:"requester,omitempty"`
	Approvers   []string `json:"approvers"`
	Source      string   `json:"source,omitempty"` // trailers, github, or "" for a commit pushed straight
	Reason      string   `json:"reason,omitempty"` // why the revision in force asks for it (or not)
}

// Diff is the access granted and removed between two instants.
type Diff struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	FromRevision string    `json:"fromRevision"`
	ToRevision   string    `json:"toRevision"`
	Group        string    `json:"group,omitempty"`
	Grants       []Grant   `json:"grants"` // by account, then group
}

// Granted returns the grants; Removed the removals.
func (d Diff) Granted() []Grant { return d.only(Granted) }

// Removed returns the removals.
func (d Diff) Removed() []Grant { return d.only(Revoked) }

func (d Diff) only(change string) []Grant {
	var out []Grant
	for _, g := range d.Grants {
		if g.Change == change {
			out = append(out, g)
		}
	}
	return out
}

// Diff returns the access granted and removed between from and to,
// narrowed to group when not "", each with when it was applied, the commit
// that asked for it, its requester and approvers.
func (h *History) Diff(ctx context.Context, from, to time.Time, group string) (Diff, error) {
	if to.Before(from) {
		return Diff{}, fmt.Errorf("--diff %s %s: the second date is before the first: swap them", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	a, err := h.At(ctx, from, group)
	if err != nil {
		return Diff{}, err
	}
	b, err := h.At(ctx, to, group)
	if err != nil {
		return Diff{}, err
	}
	return h.between(ctx, a, b)
}

func (h *History) between(ctx context.Context, a, b Access) (Diff, error) {
	d := Diff{From: a.At, To: b.At, FromRevision: a.Revision, ToRevision: b.Revision, Group: b.Group, Grants: []Grant{}}
	type key struct{ id, group string }
	held := func(x Access) (map[key]Holding, map[string]Holding) {
		m, byID := map[key]Holding{}, map[string]Holding{}
		for _, hd := range x.Accounts {
			byID[hd.ID] = hd
			if hd.Enabled && x.Group == "" {
				m[key{hd.ID, ""}] = hd
			}
			for _, g := range hd.Groups {
				m[key{hd.ID, g}] = hd
			}
		}
		return m, byID
	}
	before, _ := held(a)
	after, _ := held(b)
	var reasons *reasonBook
	add := func(k key, hd Holding, change string) error {
		g := Grant{Account: hd.Account, ID: k.id, Group: k.group, Change: change, Approvers: []string{}}
		if r := h.appliedIn(a.At, b.At, k.id, k.group, change); r != nil {
			g.AppliedAt, g.Revision = r.AppliedAt.UTC(), r.Revision
		}
		upTo := g.Revision
		if upTo == "" {
			upTo = b.Revision
		}
		if c := h.askedBy(k.id, a.Revision, upTo); c != "" {
			rq, err := h.Request(ctx, c)
			if err != nil {
				return err
			}
			g.Commit, g.PullRequest, g.Requester, g.Approvers, g.Source = c, rq.PullRequest, rq.Requester, rq.Approvers, rq.Source
		}
		if reasons == nil {
			reasons = &reasonBook{}
		}
		why, err := reasons.of(ctx, h, b, k.id, k.group, change)
		if err != nil {
			return err
		}
		g.Reason = why
		d.Grants = append(d.Grants, g)
		return nil
	}
	for k, hd := range after {
		if _, ok := before[k]; !ok {
			if err := add(k, hd, Granted); err != nil {
				return Diff{}, err
			}
		}
	}
	for k, hd := range before {
		if _, ok := after[k]; !ok {
			if err := add(k, hd, Revoked); err != nil {
				return Diff{}, err
			}
		}
	}
	sort.Slice(d.Grants, func(i, j int) bool {
		x, y := d.Grants[i], d.Grants[j]
		if x.Account != y.Account {
			return x.Account < y.Account
		}
		if x.Group != y.Group {
			return x.Group < y.Group
		}
		return x.Change < y.Change
	})
	return d, nil
}

// appliedIn returns the latest receipt in (from, to] that applied the
// change to the account: for a group, its add-member or remove-member (or,
// for a removal, the account's deletion); for the account itself, its
// creation or enabling, or its disabling or deletion.
func (h *History) appliedIn(from, to time.Time, id, group, change string) *receipt.Receipt {
	var actions []string
	switch {
	case group != "" && change == Granted:
		actions = []string{"add-member"}
	case group != "":
		actions = []string{"remove-member", "delete"}
	case change == Granted:
		actions = []string{"create", "enable"}
	default:
		actions = []string{"disable", "delete"}
	}
	var out *receipt.Receipt
	for i := range h.receipts {
		r := &h.receipts[i]
		if !r.AppliedAt.After(from) || r.AppliedAt.After(to) || r.Refused != nil {
			continue
		}
		for _, e := range r.Changes {
			acc, g := entryAccount(e.ID)
			if acc != id || e.Result != receipt.Applied || !contains(actions, e.Action) {
				continue
			}
			if e.Action == "add-member" || e.Action == "remove-member" {
				if !strings.EqualFold(g, group) {
					continue
				}
			}
			out = r
		}
	}
	return out
}

// askedBy returns the newest commit after from and at or before upTo that
// changed the account's file, or failing that one of the files every
// account is read with; "" when none did.
func (h *History) askedBy(id, from, upTo string) string {
	lo := -1
	if i, ok := h.index.Position(from); ok {
		lo = i
	}
	hi, ok := h.index.Position(upTo)
	if !ok {
		return ""
	}
	newest := func(paths []string, match func(PathChange) bool) int {
		best := -1
		for _, p := range paths {
			for _, pc := range h.index.Paths[p] {
				if pc.Commit > lo && pc.Commit <= hi && pc.Commit > best && match(pc) {
					best = pc.Commit
				}
			}
		}
		return best
	}
	best := newest(h.index.IDs[id], func(pc PathChange) bool { return pc.ID == id })
	if best < 0 {
		var sharedPaths []string
		for p := range h.index.Paths {
			if shared(p) {
				sharedPaths = append(sharedPaths, p)
			}
		}
		best = newest(sharedPaths, func(PathChange) bool { return true })
	}
	if best < 0 {
		return ""
	}
	return h.index.Commits[best].Hash
}

// reasonBook says, from the desired state in force at the diff's end, why
// an account holds a group or not.
type reasonBook struct {
	state *desired.State
	rev   string
}

func (rb *reasonBook) of(ctx context.Context, h *History, b Access, id, group, change string) (string, error) {
	if b.Revision == "" {
		return "no run had applied anything yet", nil
	}
	if rb.state == nil || rb.rev != b.Revision {
		s, err := h.state(ctx, b.Revision, b.At)
		if err != nil {
			return "", err
		}
		rb.state, rb.rev = s, b.Revision
	}
	acc := rb.state.Account(id)
	if acc == nil {
		return "the account's file is gone", nil
	}
	if change == Granted && group != "" {
		for _, g := range acc.Groups {
			if strings.EqualFold(g.Name, group) {
				return g.Reason.Text, nil
			}
		}
	}
	if change == Revoked && group != "" && acc.NoGroups.Text != "" {
		return acc.NoGroups.Text, nil
	}
	if group == "" || change == Revoked {
		return acc.Lifecycle.Text, nil
	}
	return "", nil
}
