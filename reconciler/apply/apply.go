// Package apply carries a guarded plan into the directory: in the plan's
// safe order, each change on its own, transient errors retried with
// backoff, one failure never stopping the others - except a directory that
// cannot be reached at all, which stops the run. The result says exactly
// what applied, what failed and why, and what was not attempted and why.
// A directory that cannot be reached, or refuses alm's bind, stops the run.
package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/plan"
)

// Writer is what apply needs of a directory. connectors/ad and
// connectors/memory implement it. Errors are *directory.Error values of
// the directory.Err* classes, so apply can tell what to retry. Every write
// but CreateOU and Create names its object with a directory.Ref: the
// object as the plan read it, addressed by GUID, written only while it
// still carries the marker it had (else directory.ErrChanged).
type Writer interface {
	CreateOU(ctx context.Context, dn string) error
	// CreateGroup adds a global security group carrying its marker.
	CreateGroup(ctx context.Context, g directory.NewGroup) error
	// Adopt writes marker on an object that carries none, and refuses
	// with ErrChanged one that carries a value by then.
	Adopt(ctx context.Context, target directory.Ref, marker string) error
	// Create adds the account disabled, with a random password, in one
	// operation; the password leaves it only through a.Seal, encrypted.
	Create(ctx context.Context, a directory.NewAccount) error
	// SetPassword gives an account a random password, which leaves it
	// only through seal (nil: never).
	SetPassword(ctx context.Context, target directory.Ref, seal directory.Seal) error
	// Modify sets single-valued attributes; an empty value removes one.
	Modify(ctx context.Context, target directory.Ref, attrs map[string]string) error
	SetAccountControl(ctx context.Context, target directory.Ref, uac int) error
	// Move gives an object a new DN: a new RDN, a new parent, or both.
	Move(ctx context.Context, target directory.Ref, newDN string) error
	AddMember(ctx context.Context, group, member directory.Ref) error
	RemoveMember(ctx context.Context, group, member directory.Ref) error
	Delete(ctx context.Context, target directory.Ref) error
}

// Options tune Run.
type Options struct {
	Logger  *slog.Logger  // nil: no logs
	Retries int           // how many times a transient error is retried
	Backoff time.Duration // the wait before the first retry; it doubles each time
	// Credentials says, by account id, what becomes of the password a
	// create or a password repair draws: sealed to whom, and whether a
	// person must change it at first logon (credentials.Policies makes
	// it). An account it does not hold gets a password no one learns.
	Credentials map[string]credentials.Policy
}

// Outcome is what became of one change.
type Outcome string

const (
	Applied Outcome = "applied"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped" // not attempted: a change it depends on did not apply, the run was stopped, or the directory could not be reached
)

// ChangeResult is one change and what became of it.
type ChangeResult struct {
	Change   plan.Change `json:"change"`
	Outcome  Outcome     `json:"outcome"`
	Error    string      `json:"error,omitempty"` // why it failed or was skipped
	Note     string      `json:"note,omitempty"`  // e.g. "already a member": applied, nothing to write
	Attempts int         `json:"attempts"`        // directory operations tried, retries included
	// Credentials says, for a create or password repair that applied
	// under Options.Credentials, to whom the password was sealed, or why
	// it was not: never the password or its ciphertext.
	Credentials string `json:"credentials,omitempty"`
}

// Result is the outcome of a whole run.
type Result struct {
	Revision       string         `json:"revision"`
	DirectoryState string         `json:"directoryState"` // the state the plan was made against
	Changes        []ChangeResult `json:"changes"`        // in the run's order, a batch of members listed where each stands
	Applied        int            `json:"applied"`
	Failed         int            `json:"failed"`
	Skipped        int            `json:"skipped"`
	// Sealed holds, by change id, the password each applied create or
	// password repair set, sealed to its recipient (or why it was not),
	// for delivery: credentials.Message, then the channels. Never in JSON.
	Sealed map[string]credentials.Sealed `json:"-"`
}

// OK reports whether every change applied.
func (r *Result) OK() bool { return r.Failed == 0 && r.Skipped == 0 }

// Run applies a plan that plan.Guard has passed. Changes run in phase
// order (see plan.Change.Phase). A change whose dependencies did not apply
// is skipped; a change to an account moved earlier in the run finds it at
// its new DN, and at its old one if the move failed.
//
// When ctx ends (SIGINT, SIGTERM), the change in flight finishes - its
// writes run under a context that is not cancelled with ctx, bounded by
// the connector's timeouts - and the rest are skipped as not attempted.
// When the directory cannot be reached (directory.ErrUnreachable), the
// run stops there too, rather than trying every change against it.
func Run(ctx context.Context, w Writer, p *plan.Plan, opts Options) Result {
	r := &runner{w: w, opts: opts, log: opts.Logger, dn: map[string]string{}, outcome: map[string]Outcome{}, base: p.BaseDN,
		sealed: map[string]credentials.Sealed{}, now: time.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	changes := append([]plan.Change{}, p.Changes...)
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Phase() < changes[j].Phase() })
	res := Result{Revision: p.Revision, DirectoryState: p.DirectoryState, Changes: make([]ChangeResult, 0, len(changes))}
	record := func(cr ChangeResult) {
		c := cr.Change
		if s, ok := r.sealed[c.ID]; ok && cr.Outcome == Applied {
			if res.Sealed == nil {
				res.Sealed = map[string]credentials.Sealed{}
			}
			res.Sealed[c.ID] = s
			cr.Credentials = credentialNote(s)
		}
		r.outcome[c.ID] = cr.Outcome
		switch cr.Outcome {
		case Applied:
			res.Applied++
			r.log.Info("applied", "change", c.ID, "dn", c.DN, "attempts", cr.Attempts)
		case Failed:
			res.Failed++
			r.log.Warn("change failed", "change", c.ID, "dn", c.DN, "attempts", cr.Attempts, "error", cr.Error)
		case Skipped:
			res.Skipped++
			if r.dead != nil || ctx.Err() != nil {
				r.log.Debug("change not attempted", "change", c.ID, "dn", c.DN, "why", cr.Error)
			} else {
				r.log.Warn("change skipped", "change", c.ID, "dn", c.DN, "why", cr.Error)
			}
		}
		res.Changes = append(res.Changes, cr)
	}
	// Members of one group are written together, when the directory can;
	// their results are still listed where each change stands in the
	// order, as without batches.
	batcher, batches := w.(MemberBatcher)
	var groups map[int][]int // the first change of a batch -> the batch
	if batches {
		groups = memberBatches(changes)
	}
	written := map[int]ChangeResult{}
	for i, c := range changes {
		if cr, ok := written[i]; ok {
			record(cr)
			continue
		}
		if idx := groups[i]; len(idx) > 1 {
			cs := make([]plan.Change, len(idx))
			for k, j := range idx {
				cs[k] = changes[j]
			}
			for k, cr := range r.runMembers(ctx, batcher, cs) {
				written[idx[k]] = cr
				r.outcome[cr.Change.ID] = cr.Outcome
			}
			record(written[i])
			continue
		}
		record(r.run(ctx, c))
	}
	switch notAttempted := res.Skipped; {
	case r.dead != nil:
		r.log.Warn("the directory could not be reached or refused the bind: the run stopped", "notAttempted", notAttempted, "at", r.deadAt, "error", r.dead)
	case ctx.Err() != nil:
		r.log.Warn("the run was stopped after the change in flight", "notAttempted", notAttempted, "why", ctx.Err())
	}
	return res
}

type runner struct {
	w        Writer
	opts     Options
	log      *slog.Logger
	base     string
	dn       map[string]string // account id -> its DN after the moves made so far
	outcome  map[string]Outcome
	attempts int
	dead     error  // the directory could not be reached: nothing more is tried
	deadAt   string // the change that found it so
	sealed   map[string]credentials.Sealed
	now      func() time.Time
}

func (r *runner) run(ctx context.Context, c plan.Change) ChangeResult {
	if cr, ok := r.ready(ctx, c); !ok {
		return cr
	}
	cr := ChangeResult{Change: c}
	r.attempts = 0
	// The change in flight is not cut short by a stop: it finishes (or
	// fails on the connector's timeout) and is reported as what it became.
	note, err := r.change(context.WithoutCancel(ctx), ctx, c)
	cr.Attempts = r.attempts
	if err != nil {
		cr.Outcome, cr.Error = Failed, err.Error()
		if directory.Fatal(err) {
			r.dead, r.deadAt = err, c.ID
		}
		return cr
	}
	cr.Outcome, cr.Note = Applied, note
	return cr
}

// ready reports whether a change may be attempted; if not, the result
// says why it is skipped: the directory is gone, the run was stopped, or
// a change it depends on did not apply.
func (r *runner) ready(ctx context.Context, c plan.Change) (ChangeResult, bool) {
	cr := ChangeResult{Change: c}
	if r.dead != nil {
		why := "the directory could not be reached"
		if errors.Is(r.dead, directory.ErrAuth) {
			why = "the directory refused alm's bind"
		}
		cr.Outcome, cr.Error = Skipped, "not attempted: "+why+" (see "+r.deadAt+")"
		return cr, false
	}
	if err := ctx.Err(); err != nil {
		cr.Outcome, cr.Error = Skipped, "not attempted: the run was stopped ("+err.Error()+")"
		return cr, false
	}
	for _, dep := range c.DependsOn {
		switch o, ok := r.outcome[dep]; {
		case !ok:
			cr.Outcome, cr.Error = Skipped, fmt.Sprintf("depends on %s, which is not in the plan before it", dep)
			return cr, false
		case o != Applied:
			cr.Outcome, cr.Error = Skipped, fmt.Sprintf("depends on %s, which %s", dep, o)
			return cr, false
		}
	}
	return cr, true
}

// MemberBatcher is what a directory offers to add or remove many members
// of one group in one write (connectors/ad and connectors/memory do): all
// of them or, on any error, none.
type MemberBatcher interface {
	AddMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error
	RemoveMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error
}

// BatchMax is how many members one write carries: far below what AD
// takes in one request, and enough that a group of thousands is a handful
// of writes.
const BatchMax = 500

// memberBatches groups, in one pass, the membership changes a directory
// may write together: those of one phase, one action and one group, whose
// dependencies are all in earlier phases (so all have an outcome when the
// batch runs). It returns each batch under its first change's index.
func memberBatches(changes []plan.Change) map[int][]int {
	type key struct {
		phase  int
		action plan.Action
		group  string
	}
	phaseOf := map[string]int{}
	for _, c := range changes {
		phaseOf[c.ID] = c.Phase()
	}
	byKey := map[key][]int{}
	var order []key
	for i, c := range changes {
		if c.Action != plan.AddMember && c.Action != plan.RemoveMember {
			continue
		}
		later := false
		for _, dep := range c.DependsOn {
			if p, ok := phaseOf[dep]; !ok || p >= c.Phase() {
				later = true
			}
		}
		if later {
			continue
		}
		g := "guid:" + strings.ToLower(c.GroupGUID)
		if c.GroupGUID == "" {
			g = "dn:" + strings.ToLower(directory.Clean(c.Group))
		}
		k := key{c.Phase(), c.Action, g}
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	out := map[int][]int{}
	for _, k := range order {
		out[byKey[k][0]] = byKey[k]
	}
	return out
}

// runMembers makes changes that add (or remove) members of one group, in
// writes of up to BatchMax members each. A write the directory refuses
// for one of its values (a member there already, an object gone) is made
// again one member at a time, so each change gets its own outcome, as
// without batches; a directory that cannot be reached fails the write's
// changes and stops the run.
func (r *runner) runMembers(ctx context.Context, b MemberBatcher, cs []plan.Change) []ChangeResult {
	out := make([]ChangeResult, len(cs))
	var ready []int
	for k, c := range cs {
		var ok bool
		if out[k], ok = r.ready(ctx, c); ok {
			ready = append(ready, k)
		}
	}
	for len(ready) > 0 {
		chunk := ready[:min(BatchMax, len(ready))]
		ready = ready[len(chunk):]
		if r.dead != nil || ctx.Err() != nil {
			for _, k := range chunk {
				out[k] = r.run(ctx, cs[k]) // says why it is not attempted
			}
			continue
		}
		first := cs[chunk[0]]
		group := directory.Ref{DN: first.Group, GUID: first.GroupGUID}
		members := make([]directory.Ref, len(chunk))
		for i, k := range chunk {
			c := cs[k]
			dn := c.DN
			if cur, ok := r.dn[c.AccountID]; ok && c.AccountID != "" {
				dn = cur
			}
			members[i] = directory.Ref{DN: dn, GUID: c.GUID, Marker: c.Marker}
		}
		write := b.AddMembers
		if first.Action == plan.RemoveMember {
			write = b.RemoveMembers
		}
		r.attempts = 0
		err := r.try(ctx, func() error { return write(context.WithoutCancel(ctx), group, members) })
		// The write counts once, on the first change it carried.
		switch {
		case err == nil:
			r.log.Debug("members written at once", "group", first.Group, "action", first.Action, "members", len(chunk))
			for i, k := range chunk {
				out[k] = ChangeResult{Change: cs[k], Outcome: Applied}
				if i == 0 {
					out[k].Attempts = r.attempts
				}
			}
		case directory.Fatal(err) || directory.Transient(err):
			// As one change at a time would: the first fails, and after a
			// directory gone the others are not attempted.
			out[chunk[0]] = ChangeResult{Change: first, Outcome: Failed, Error: err.Error(), Attempts: r.attempts}
			if directory.Fatal(err) {
				r.dead, r.deadAt = err, first.ID
			}
			for _, k := range chunk[1:] {
				out[k] = r.run(ctx, cs[k])
			}
		default:
			// One value refused the whole write: each member on its own
			// finds which, and the others apply.
			r.log.Debug("a batch was refused: one member at a time", "group", first.Group, "members", len(chunk), "error", err)
			for _, k := range chunk {
				out[k] = r.run(ctx, cs[k])
			}
		}
	}
	return out
}

// change makes one change: one or two directory operations, under ctx;
// stop ends the waits between retries.
func (r *runner) change(ctx, stop context.Context, c plan.Change) (note string, err error) {
	dn := c.DN
	if cur, ok := r.dn[c.AccountID]; ok && c.AccountID != "" {
		dn = cur
	}
	// The account as the plan read it: its GUID finds it wherever it is.
	target := directory.Ref{DN: dn, GUID: c.GUID, Marker: c.Marker}
	group := directory.Ref{DN: c.Group, GUID: c.GroupGUID}
	try := func(op func() error) error { return r.try(stop, op) }
	switch c.Action {
	case plan.CreateOU:
		err = r.createOU(ctx, stop, c.DN)
		if errors.Is(err, directory.ErrExists) {
			return "already exists", nil
		}
		return "", err

	case plan.Adopt:
		return "", try(func() error { return r.w.Adopt(ctx, directory.Ref{DN: dn, GUID: c.GUID}, c.Marker) })

	case plan.CreateGroup:
		return "", try(func() error {
			return r.w.CreateGroup(ctx, directory.NewGroup{DN: c.Group, Name: c.GroupName, Marker: c.Marker})
		})

	case plan.RenameGroup:
		g := directory.Ref{DN: c.DN, GUID: c.GUID, Marker: c.Marker}
		if !directory.SameDN(c.DN, c.NewDN) {
			if err := try(func() error { return r.w.Move(ctx, g, c.NewDN) }); err != nil {
				return "", err
			}
		}
		g.DN = c.NewDN
		attrs, _, err := split(c.Attributes)
		if err != nil || len(attrs) == 0 {
			return "", err
		}
		if err := try(func() error { return r.w.Modify(ctx, g, attrs) }); err != nil {
			return "", fmt.Errorf("renamed to %s, but %w", c.NewDN, err)
		}
		return "", nil

	case plan.SetPassword:
		sealer, err := r.sealer(c)
		if err != nil {
			return "", err
		}
		return "", try(func() error { return r.w.SetPassword(ctx, target, sealer.seal()) })

	case plan.Create:
		sealer, err := r.sealer(c)
		if err != nil {
			return "", err
		}
		na := directory.NewAccount{DN: c.DN, Name: c.Account, Marker: c.Marker, Attributes: map[string]string{},
			UAC: directory.UACNormalAccount | directory.UACAccountDisable, Seal: sealer.seal()}
		if pol, ok := r.opts.Credentials[c.AccountID]; ok {
			na.MustChangePassword = pol.MustChange
		}
		for _, a := range c.Attributes {
			if a.Name == directory.AttrUserAccountControl {
				if na.UAC, err = uac(a.New); err != nil {
					return "", err
				}
				continue
			}
			na.Attributes[a.Name] = a.New
		}
		return "", try(func() error { return r.w.Create(ctx, na) })

	case plan.Update:
		attrs, flags, err := split(c.Attributes)
		if err != nil {
			return "", err
		}
		if len(attrs) > 0 {
			if err := try(func() error { return r.w.Modify(ctx, target, attrs) }); err != nil {
				return "", err
			}
		}
		if flags >= 0 {
			return "", try(func() error { return r.w.SetAccountControl(ctx, target, flags) })
		}
		return "", nil

	case plan.Move, plan.Rename:
		// A login changed by hand under the same CN needs no modrdn: Windows
		// AD may refuse one to the identical RDN.
		if !directory.SameDN(dn, c.NewDN) {
			if err := try(func() error { return r.w.Move(ctx, target, c.NewDN) }); err != nil {
				return "", err
			}
		}
		r.dn[c.AccountID] = c.NewDN
		target.DN = c.NewDN
		attrs, _, err := split(c.Attributes)
		if err != nil || len(attrs) == 0 {
			return "", err
		}
		if err := try(func() error { return r.w.Modify(ctx, target, attrs) }); err != nil {
			return "", fmt.Errorf("moved to %s, but %w", c.NewDN, err)
		}
		return "", nil

	case plan.AddMember:
		err = try(func() error { return r.w.AddMember(ctx, group, target) })
		if errors.Is(err, directory.ErrExists) {
			return "already a member", nil
		}
		return "", err

	case plan.RemoveMember:
		err = try(func() error { return r.w.RemoveMember(ctx, group, target) })
		if errors.Is(err, directory.ErrNoSuchObject) {
			return "not a member", nil
		}
		return "", err

	case plan.Enable, plan.Disable, plan.DisableOrphan:
		a, ok := c.Attribute(directory.AttrUserAccountControl)
		if !ok {
			return "", fmt.Errorf("%s %s: the plan gives no userAccountControl; make the plan again", c.Action, dn)
		}
		v, err := uac(a.New)
		if err != nil {
			return "", err
		}
		return "", try(func() error { return r.w.SetAccountControl(ctx, target, v) })

	case plan.Delete:
		err = try(func() error { return r.w.Delete(ctx, target) })
		if errors.Is(err, directory.ErrNoSuchObject) {
			return "already gone", nil
		}
		return "", err
	}
	return "", fmt.Errorf("unknown action %q: this alm cannot apply it; make the plan again", c.Action)
}

// sealer prepares the sealing of the password c draws, as
// Options.Credentials says: nil when it does not name the account. What
// was sealed is kept by change id once the change applies.
func (r *runner) sealer(c plan.Change) (*sealing, error) {
	pol, ok := r.opts.Credentials[c.AccountID]
	if !ok {
		return nil, nil
	}
	s := &sealing{r: r, id: c.ID, sealed: credentials.Sealed{Policy: pol}}
	if !pol.Sealed() {
		// Nothing to seal; the result still says why, for the notice.
		r.sealed[c.ID] = s.sealed
		return s, nil
	}
	var err error
	if s.to, err = credentials.NewSealer(pol.Key); err != nil {
		return nil, fmt.Errorf("%s: the password of %s cannot be sealed (nothing written): %w", pol.KeyAt, c.Account, err)
	}
	return s, nil
}

// sealing is one change's sealing: the Sealer the connector hands the
// password to, and the record kept for the result.
type sealing struct {
	r      *runner
	id     string
	to     *credentials.Sealer
	sealed credentials.Sealed
}

// seal is the directory.Seal the connector calls; nil seals nothing.
func (s *sealing) seal() directory.Seal {
	if s == nil || s.to == nil {
		return nil
	}
	return func(pw []byte) error {
		if err := s.to.Seal(pw); err != nil {
			return err
		}
		s.sealed.Armored, s.sealed.At = s.to.Armored(), s.r.now().UTC()
		s.r.sealed[s.id] = s.sealed
		return nil
	}
}

// credentialNote says in the result to whom a password was sealed, or
// why it was not.
func credentialNote(s credentials.Sealed) string {
	if len(s.Armored) == 0 {
		return "not sealed: " + s.Why
	}
	return fmt.Sprintf("sealed to %s (%s), for delivery", s.To.Login, s.To.Role)
}

// createOU creates an OU, and first the OUs above it below the base DN
// that do not exist either: the plan names only the managed OU itself.
func (r *runner) createOU(ctx, stop context.Context, dn string) error {
	err := r.try(stop, func() error { return r.w.CreateOU(ctx, dn) })
	if !errors.Is(err, directory.ErrNoSuchObject) {
		return err
	}
	parent := directory.Parent(dn)
	if !strings.HasPrefix(strings.ToUpper(parent), "OU=") || !directory.Under(parent, r.base) || directory.SameDN(parent, r.base) {
		return err
	}
	if perr := r.createOU(ctx, stop, parent); perr != nil && !errors.Is(perr, directory.ErrExists) {
		return perr
	}
	return r.try(stop, func() error { return r.w.CreateOU(ctx, dn) })
}

// split separates userAccountControl (written with SetAccountControl) from
// the other attributes; flags is -1 when the change does not set it.
func split(acs []plan.AttrChange) (attrs map[string]string, flags int, err error) {
	attrs, flags = map[string]string{}, -1
	for _, a := range acs {
		if a.Name == directory.AttrUserAccountControl {
			if flags, err = uac(a.New); err != nil {
				return nil, 0, err
			}
			continue
		}
		attrs[a.Name] = a.New
	}
	return attrs, flags, nil
}

func uac(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("userAccountControl %q in the plan is not a number; make the plan again", v)
	}
	return n, nil
}

// try runs one directory operation, retrying transient errors with
// exponential backoff until ctx (the run's) ends.
func (r *runner) try(ctx context.Context, op func() error) error {
	wait := r.opts.Backoff
	for retry := 0; ; retry++ {
		r.attempts++
		err := op()
		if err == nil || !directory.Transient(err) || retry >= r.opts.Retries {
			if err != nil && retry > 0 {
				return fmt.Errorf("after %d attempts: %w", retry+1, err)
			}
			return err
		}
		r.log.Debug("transient error; retrying", "error", err, "wait", wait, "retry", retry+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry cancelled: %v)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

// ErrStale is the class of CheckFresh's errors.
var ErrStale = errors.New("the plan is stale")

// CheckFresh refuses a saved plan (alm apply --plan) when the access
// repository's revision or the directory's state has changed since the plan
// was made: it would no longer say what applying it does.
func CheckFresh(p *plan.Plan, revision, directoryState string) error {
	var errs []error
	if p.Revision != revision {
		errs = append(errs, fmt.Errorf("%w: it was made at revision %s, and the access repository is now at %s; make a new plan with alm plan --out",
			ErrStale, orNone(p.Revision), orNone(revision)))
	}
	if p.DirectoryState != directoryState {
		errs = append(errs, fmt.Errorf("%w: the directory has changed since it was made (state %s, now %s); make a new plan with alm plan --out",
			ErrStale, orNone(p.DirectoryState), orNone(directoryState)))
	}
	return errors.Join(errs...)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
