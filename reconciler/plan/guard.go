package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// Limit kinds, as alm.yaml's spec.limits names them.
const (
	LimitDisable = "disable"
	LimitRemove  = "removeFromGroup"
	LimitDelete  = "delete"
)

// LimitFlags are the command-line flags that raise a limit for one run.
var LimitFlags = map[string]string{
	LimitDisable: "--max-disable",
	LimitRemove:  "--max-remove",
	LimitDelete:  "--max-delete",
}

// GuardOptions are what Guard checks a plan against.
type GuardOptions struct {
	// Protected are names (sAMAccountName) or DNs never touched, the
	// always-protected ones included (desired.State.Protected).
	Protected []string
	// Limits come from alm.yaml. A zero count or fraction sets no bound.
	Limits model.Limits
	// Override replaces a kind's limit for one run (from --max-disable,
	// --max-remove, --max-delete; see ParseLimit), keyed by LimitDisable,
	// LimitRemove, LimitDelete.
	Override map[string]model.Limit
	// DisableOrphans allows disable-orphan changes (alm.yaml orphans: disable).
	DisableOrphans bool
	// Live is the directory the plan was made from, when known: every
	// change is checked against the object it targets there, so that a
	// built-in account (RID below 1000, critical system object) is never
	// touched and a privileged orphan (adminCount=1) never disabled,
	// whatever the plan says of them.
	Live *directory.Snapshot
	// defaulted: the kinds whose limit alm.yaml leaves unset, and that
	// Limits holds alm's default for.
	defaulted map[string]bool
}

// NewGuardOptions returns the guard options alm.yaml sets. Each kind of
// limit alm.yaml leaves unset (neither count nor fraction) gets alm's
// default for that kind: setting only delete must not leave disables
// unbounded.
func NewGuardOptions(d *desired.State) GuardOptions {
	g := GuardOptions{Protected: d.Protected, Limits: d.Limits, DisableOrphans: d.Orphans == model.OrphansDisable, defaulted: map[string]bool{}}
	for _, k := range []struct {
		kind      string
		set, dflt *model.Limit
	}{
		{LimitDisable, &g.Limits.Disable, &model.DefaultLimits.Disable},
		{LimitRemove, &g.Limits.RemoveFromGroup, &model.DefaultLimits.RemoveFromGroup},
		{LimitDelete, &g.Limits.Delete, &model.DefaultLimits.Delete},
	} {
		if *k.set == (model.Limit{}) {
			*k.set = *k.dflt
			g.defaulted[k.kind] = true
		}
	}
	return g
}

// RefusedError is a change the guards never allow: on a protected account,
// or on an object without alm's marker.
type RefusedError struct {
	Change string // the change's ID
	Why    string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("change %s refused: %s", e.Change, e.Why) }

// LimitError is a plan over one of the limits on destructive changes.
type LimitError struct {
	Kind     string      // LimitDisable, LimitRemove or LimitDelete
	Changes  int         // changes of the kind in the plan
	Accounts int         // distinct accounts they touch
	Managed  int         // accounts carrying alm's marker
	Limit    model.Limit // the limit exceeded
	ByCount  bool        // over the count, else over the fraction
	Source   string      // where the limit was set: alm.yaml's field, or the flag
	Flag     string      // the flag that raises it for one run
}

func (e *LimitError) Error() string {
	var what string
	switch e.Kind {
	case LimitDisable:
		what = fmt.Sprintf("disables %d %s", e.Changes, plural(e.Changes, "account"))
	case LimitRemove:
		what = fmt.Sprintf("removes %d group %s from %d %s", e.Changes, plural(e.Changes, "membership"), e.Accounts, plural(e.Accounts, "account"))
	case LimitDelete:
		what = fmt.Sprintf("deletes %d %s", e.Changes, plural(e.Changes, "account"))
	}
	if e.ByCount {
		return fmt.Sprintf("plan refused: it %s, over the limit of %d (%s); check the plan, and if it is right allow it for this run with %s %d",
			what, e.Limit.Count, e.Source, e.Flag, e.Changes)
	}
	pct := (e.Accounts*100 + e.Managed - 1) / e.Managed // rounded up, so the flag suggested lets the plan through
	return fmt.Sprintf("plan refused: it %s, %d%% of %d managed accounts, over the limit of %s (%s); check the plan, and if it is right allow it for this run with %s %d%%",
		what, pct, e.Managed, percent(e.Limit.Fraction), e.Source, e.Flag, pct)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// plural2 is one or many, by n.
func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }

// ParseLimit reads a --max-* flag: a count ("25") or a percentage of the
// managed accounts ("10%").
func ParseLimit(v string) (model.Limit, error) {
	s := strings.TrimSpace(v)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return model.Limit{}, fmt.Errorf("limit %q: write a percentage above 0 and at most 100, e.g. 20%%", v)
		}
		return model.Limit{Fraction: f / 100}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return model.Limit{}, fmt.Errorf("limit %q: write a count above 0 (e.g. 25) or a percentage (e.g. 20%%)", v)
	}
	return model.Limit{Count: n}, nil
}

// Guard checks the whole plan before anything is written. It refuses a
// change to a protected account, a change to an object without alm's
// marker (orphans only where alm.yaml allows it), and a plan over any limit
// on disables, group removals or deletes. The error joins every refusal;
// errors.As finds the *RefusedError and *LimitError values in it.
func Guard(p *Plan, g GuardOptions) error {
	var errs []error
	refuse := func(c Change, format string, args ...any) {
		errs = append(errs, &RefusedError{Change: c.ID, Why: fmt.Sprintf(format, args...)})
	}
	type tally struct {
		changes  int
		accounts map[string]bool
	}
	count := map[string]*tally{LimitDisable: {accounts: map[string]bool{}}, LimitRemove: {accounts: map[string]bool{}}, LimitDelete: {accounts: map[string]bool{}}}
	byGUID, byDN := map[string]*directory.Account{}, map[string]*directory.Account{}
	groups := map[string]*directory.Group{} // by GUID and by lower-case DN
	var privileged map[string]string
	if g.Live != nil {
		privileged = g.Live.Privileged()
		for i := range g.Live.Groups {
			gr := &g.Live.Groups[i]
			groups[strings.ToLower(gr.DN)] = gr
			if gr.GUID != "" {
				groups[gr.GUID] = gr
			}
		}
		for i := range g.Live.Accounts {
			l := &g.Live.Accounts[i]
			byDN[strings.ToLower(l.DN)] = l
			if l.GUID != "" {
				byGUID[l.GUID] = l
			}
		}
	}
	for _, c := range p.Changes {
		target := byGUID[c.GUID]
		if target == nil && c.Action != Create && c.Action != CreateGroup {
			target = byDN[strings.ToLower(c.DN)]
		}
		switch {
		case target == nil:
		case target.Builtin() != "":
			refuse(c, "%s is %s; alm never touches it", target.DN, target.Builtin())
			continue
		case c.Action == DisableOrphan && target.AdminCount:
			refuse(c, "%s is an unmanaged privileged account (adminCount=1); alm never disables it", target.DN)
			continue
		case c.Action == DisableOrphan && directory.PrivilegedVia(target.MemberOf, privileged) != "":
			refuse(c, "%s is an unmanaged privileged account (%s); alm never disables it", target.DN, directory.PrivilegedVia(target.MemberOf, privileged))
			continue
		case c.Action == DisableOrphan && g.Live.PrivilegedPrimary(target, privileged) != "":
			refuse(c, "%s is an unmanaged privileged account (%s); alm never disables it", target.DN, g.Live.PrivilegedPrimary(target, privileged))
			continue
		}
		if c.Action == CreateOU {
			if !directory.Under(c.DN, p.BaseDN) || directory.SameDN(c.DN, p.BaseDN) {
				refuse(c, "OU %s is not below the base DN %s", c.DN, p.BaseDN)
			}
			continue
		}
		if c.Action == CreateGroup || c.Action == RenameGroup {
			live := groups[c.GUID]
			switch {
			case !directory.Under(c.DN, p.BaseDN) || (c.NewDN != "" && !directory.Under(c.NewDN, p.BaseDN)):
				refuse(c, "group %s is not below the base DN %s", c.DN, p.BaseDN)
			case !directory.IsGroupMarker(c.Marker):
				refuse(c, "group %s would not carry alm's group marker (%q)", c.DN, c.Marker)
			case c.Action == RenameGroup && g.Live != nil && (live == nil || live.Marker != c.Marker || !g.Live.Created(live, privileged)):
				refuse(c, "group %s does not carry alm's marker %q as read, or is built-in or privileged: alm renames only groups it created", c.DN, c.Marker)
			}
			continue
		}
		// A member alm does not manage, removed from a group alm created.
		memberOnly := c.Action == RemoveMember && c.AccountID == ""
		if memberOnly {
			live := groups[c.GroupGUID]
			if live == nil {
				live = groups[strings.ToLower(c.Group)]
			}
			member := target != nil
			if g.Live != nil && !member {
				member = groups[strings.ToLower(c.DN)] != nil
			}
			switch {
			case !directory.IsGroupMarker(c.GroupMarker):
				refuse(c, "%s is a member of %s, which the plan does not say alm created; alm removes only the members of its own groups", c.DN, c.Group)
			case g.Live != nil && (live == nil || live.Marker != c.GroupMarker || !g.Live.Created(live, privileged)):
				refuse(c, "group %s does not carry alm's marker %q as read, or is built-in or privileged; alm removes only the members of its own groups", c.Group, c.GroupMarker)
			case g.Live != nil && !member:
				refuse(c, "%s is not an account or group alm read: alm cannot tell whether it is protected, and leaves it", c.DN)
			}
		}
		if c.Action == Adopt && target != nil && target.Marker != "" {
			refuse(c, "%s already carries %q in the marker attribute; alm adopts only accounts without one", target.DN, target.Marker)
			continue
		}
		for _, dn := range []string{c.DN, c.NewDN} {
			if desired.IsProtected(g.Protected, c.Account, dn) {
				refuse(c, "%s (%s) is a protected account; alm never touches it", c.Account, dn)
				break
			}
		}
		switch id, ok := directory.IDFromMarker(c.Marker); {
		case c.Action == DisableOrphan:
			if !g.DisableOrphans {
				refuse(c, "%s is not alm's, and alm.yaml does not say orphans: disable", c.DN)
			}
		case memberOnly:
		case !ok || id != c.AccountID:
			refuse(c, "%s does not carry alm's marker for id %q, and alm changes only accounts it owns", c.DN, c.AccountID)
		}
		kind := ""
		switch c.Action {
		case Disable, DisableOrphan:
			kind = LimitDisable
		case RemoveMember:
			kind = LimitRemove
		case Delete:
			kind = LimitDelete
		default:
			continue
		}
		t := count[kind]
		t.changes++
		t.accounts[strings.ToLower(c.DN)] = true
	}
	for _, kind := range []string{LimitDisable, LimitRemove, LimitDelete} {
		field := "limits.disable"
		limit := g.Limits.Disable
		switch kind {
		case LimitRemove:
			field, limit = "limits.removeFromGroup", g.Limits.RemoveFromGroup
		case LimitDelete:
			field, limit = "limits.delete", g.Limits.Delete
		}
		override, overridden := g.Override[kind]
		if overridden {
			limit = override
		}
		t := count[kind]
		e := &LimitError{Kind: kind, Changes: t.changes, Accounts: len(t.accounts), Managed: p.Managed, Limit: limit, Flag: LimitFlags[kind]}
		switch {
		case limit.Count > 0 && t.changes > limit.Count:
			e.ByCount = true
			field += ".count"
		// The fraction needs accounts to be a fraction of: with none
		// managed yet (a first run) only the count applies.
		case limit.Fraction > 0 && p.Managed > 0 && float64(len(t.accounts))/float64(p.Managed) > limit.Fraction:
			field += ".fraction"
		default:
			continue
		}
		var source string
		switch {
		case overridden:
			source = LimitFlags[kind] + " for this run"
		case g.defaulted[kind]:
			source = "alm's default " + field + ", as alm.yaml sets no limits." + strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(field, ".count"), ".fraction"), "limits.")
		default:
			source = "alm.yaml spec." + field
		}
		e.Source = source
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}
