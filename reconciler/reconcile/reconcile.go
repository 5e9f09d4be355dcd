// Package reconcile runs the reconciler's steps in order: load the access
// repository at a revision, compute the desired state, read the directory
// once, diff, guard, and - when asked - apply and record a receipt. Each
// step's logic lives in its own package; this one only sequences them, so
// alm plan, alm apply, alm reconcile and alm demo do exactly the same thing.
package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/renew"
	"github.com/alm-project/alm/reconciler/reply"
	"github.com/alm-project/alm/reconciler/review"
	"github.com/alm-project/alm/reconciler/verify"
)

// Reader reads the directory once per run.
type Reader interface {
	Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error)
}

// Directory is a directory alm can read and change.
type Directory interface {
	Reader
	apply.Writer
}

// Source is the access repository to read: a local path and a revision
// (empty: the working tree, which has no receipts and no drift history).
type Source struct {
	Path string
	Rev  string
	// Cache, when set, keeps the files of the revisions loaded parsed, so
	// that the next load parses only what changed (the reconcile loop
	// keeps one for its whole life).
	Cache *load.Cache
}

// InvalidError says the access repository has problems; nothing was planned.
type InvalidError struct{ Problems load.Problems }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("the access repository has %d problems (run alm validate):\n%s", len(e.Problems), e.Problems.Error())
}

// Options are the choices of one run.
type Options struct {
	Now    time.Time
	Limits map[string]model.Limit // --max-disable, --max-remove, --max-delete
	Logger *slog.Logger
	// Read is the directory read ahead (StartRead) while the repository
	// loaded; used when its scope is the plan's, else the plan reads.
	Read Prefetched
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Planned is a plan and what it was made from.
type Planned struct {
	Repo     *model.Repository
	Desired  *desired.State
	Snapshot *directory.Snapshot
	Plan     *plan.Plan
	// Refused is why the guards refuse the plan (a *plan.LimitError or
	// *plan.RefusedError, joined); nil when it may be applied.
	Refused error
	// Notices are the messages due now that some channel alm.yaml
	// configures has not sent (per the ledger on the status branch): what
	// an apply of this plan sends, refused or not.
	Notices []notify.Message
	// Ledger is what was sent before, as the status branch records it.
	Ledger notify.Ledger
	// LastApplied is the revision the last receipt applied, "" when none:
	// the pull requests merged since are the ones an apply answers.
	LastApplied string
	// Rotations are the service accounts whose template's rotateEvery has
	// passed since their last password (the ledger's): an apply with a
	// channel that carries attachments rotates them.
	Rotations []credentials.Rotation
}

// Load reads the access repository at the source's revision.
func Load(ctx context.Context, src Source) (*model.Repository, error) {
	var (
		repo     *model.Repository
		problems load.Problems
		err      error
	)
	switch {
	case src.Rev == "":
		repo, problems, err = load.Dir(src.Path)
	case src.Cache != nil:
		repo, problems, err = src.Cache.Revision(ctx, src.Path, src.Rev)
	default:
		repo, problems, err = load.Revision(ctx, src.Path, src.Rev)
	}
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	return repo, nil
}

// Plan makes the plan that would bring the directory to the repository's
// desired state at opts.Now. It never writes. The directory is read while
// the repository loads.
func Plan(ctx context.Context, dir Reader, src Source, opts Options) (*Planned, error) {
	var read *Reading[Reader]
	if settings, err := Settings(ctx, src); err == nil && settings != nil && opts.Read == nil {
		if read, err = StartRead(ctx, func(context.Context) (Reader, error) { return dir, nil }, settings, opts.Now); err != nil {
			read = nil
		}
	}
	repo, err := Load(ctx, src)
	if err != nil {
		read.Stop() // the caller's directory: not ours to close
		return nil, err
	}
	if read.For(repo) {
		opts.Read = read
	} else {
		read.Stop()
	}
	return PlanLoaded(ctx, dir, repo, src, opts)
}

// PlanLoaded is Plan for a repository the caller has loaded from src already.
func PlanLoaded(ctx context.Context, dir Reader, repo *model.Repository, src Source, opts Options) (*Planned, error) {
	log := opts.logger()
	want, err := desired.Compute(repo, opts.Now)
	if err != nil {
		return nil, err
	}
	// The directory's read mostly waits on the server: Git's part (the
	// last applied revision, the ledger) is read meanwhile.
	type gitPart struct {
		previous *desired.State
		lastRev  string
		ledger   notify.Ledger
		err      error
	}
	done := make(chan gitPart, 1)
	go func() {
		var g gitPart
		if g.previous, g.lastRev, g.err = lastApplied(ctx, src, repo, log); g.err == nil {
			g.ledger, g.err = ledgerOf(ctx, src, repo)
		}
		done <- g
	}()
	var snap *directory.Snapshot
	if opts.Read != nil {
		snap = opts.Read.snapshot(want.Scope())
	}
	if snap == nil {
		snap, err = dir.Read(ctx, want.Scope())
	}
	g := <-done
	if err != nil {
		return nil, fmt.Errorf("read directory: %w", err)
	}
	if g.err != nil {
		return nil, g.err
	}
	previous, lastRev, ledger := g.previous, g.lastRev, g.ledger
	log.Info("read directory", "accounts", len(snap.Accounts), "groups", len(snap.Groups), "state", snap.State)
	p := plan.Diff(want, snap, plan.Options{Previous: previous})
	var rotations []credentials.Rotation
	if src.Rev != "" {
		// A working tree records nothing: an apply of it sends no notice
		// and rotates no password, so its plan lists none.
		p.Notices = notify.Pending(notify.Messages(notify.Due(notify.Schedule(repo), opts.Now)), notify.Configured(repo.Directory.Spec.Notify), ledger)
		rotations = credentials.Due(repo, opts.Now, lastPasswords(ledger))
		for _, r := range rotations {
			p.Rotations = append(p.Rotations, plan.Rotation{Account: r.Account, File: r.File, DueAt: r.DueAt})
		}
	}
	return &Planned{
		Repo:        repo,
		Desired:     want,
		Snapshot:    snap,
		Plan:        p,
		Refused:     plan.Guard(p, guardOptions(want, snap, opts)),
		LastApplied: lastRev,
		Notices:     p.Notices,
		Rotations:   rotations,
		Ledger:      ledger,
	}, nil
}

// ledgerOf reads what messages went out, from the status branch; a working
// tree has none, and sends nothing (it could not record what it sent).
func ledgerOf(ctx context.Context, src Source, repo *model.Repository) (notify.Ledger, error) {
	if src.Rev == "" {
		return notify.Ledger{}, nil
	}
	l, err := receipt.Ledger(ctx, src.Path, statusBranch(repo))
	if err != nil {
		return nil, fmt.Errorf("notices sent: %w", err)
	}
	return l, nil
}

// Allow checks the plan against the guards again with limits raised for
// this run (as the --max-* flags do), without reading anything again.
func (p *Planned) Allow(limits map[string]model.Limit) {
	p.Refused = plan.Guard(p.Plan, guardOptions(p.Desired, p.Snapshot, Options{Limits: limits}))
}

func guardOptions(d *desired.State, snap *directory.Snapshot, opts Options) plan.GuardOptions {
	g := plan.NewGuardOptions(d)
	g.Override = opts.Limits
	g.Live = snap
	return g
}

// lastApplied returns the desired state as of the last receipt, so the diff
// can tell drift (the directory changed by hand) from requested changes.
// It is nil for a working tree or a repository never applied.
func lastApplied(ctx context.Context, src Source, repo *model.Repository, log *slog.Logger) (*desired.State, string, error) {
	if src.Rev == "" {
		return nil, "", nil
	}
	last, err := receipt.Last(ctx, src.Path, statusBranch(repo))
	if err != nil {
		return nil, "", fmt.Errorf("last receipt: %w", err)
	}
	if last == nil {
		return nil, "", nil
	}
	// The revision planned is most often the one applied last: no need to
	// read it again.
	prev, problems := repo, load.Problems(nil)
	if last.Revision != repo.Revision {
		if src.Cache != nil {
			prev, problems, err = src.Cache.Revision(ctx, src.Path, last.Revision)
		} else {
			prev, problems, err = load.Revision(ctx, src.Path, last.Revision)
		}
	}
	if err != nil || len(problems) > 0 {
		// A receipt of a revision that cannot be read again only costs the drift labels.
		log.Warn("cannot read the last applied revision; drift will not be told apart", "revision", last.Revision, "err", err, "problems", len(problems))
		return nil, last.Revision, nil
	}
	d, err := desired.Compute(prev, last.AppliedAt)
	return d, last.Revision, err
}

func statusBranch(repo *model.Repository) string {
	if repo.Directory != nil && repo.Directory.Spec.StatusBranch != "" {
		return repo.Directory.Spec.StatusBranch
	}
	return receipt.DefaultBranch
}

// ApplyOptions are the choices of an apply. Options.Now must be the
// clock: writes never travel in time.
type ApplyOptions struct {
	Options
	Retries      int
	Backoff      time.Duration
	DirectoryURL string // recorded in the receipt, without credentials
	NoReceipt    bool
	PushAuth     transport.AuthMethod // for pushing the receipt to origin; nil for none
	// MaxPlanAge bounds how old a saved plan may be (ApplySaved);
	// DefaultMaxPlanAge when zero.
	MaxPlanAge time.Duration
	// Channels deliver the plan's notices after the directory work (and
	// on a refused run too), and new accounts' sealed passwords (on the
	// channels that carry attachments). None: nothing is sent.
	Channels []notify.Channel
	// Requesters, when set, answers each merged pull request whose
	// accounts the run changed (reply.Tell); Renewals opens the renewal
	// and retirement pull requests due (renew.Open). Both on GitHub.
	Requesters reply.Commenter
	Renewals   renew.Host
	// Reviews opens the access-review pull requests due (review.Open) and
	// tells each reviewer on the channels.
	Reviews review.Host
	// Alerts, when set, gives the operators' alerts and recoveries due
	// after the run (reconciler/alert); they go out on the channels with
	// the notices and ride in the receipt's ledger, so each is sent once.
	Alerts func(pl *Planned, a *Applied) []notify.Message
	// Lease is the owner of the lease the run holds (alm reconcile
	// --interval), recorded in its receipt: who applied when.
	Lease string
}

// DefaultMaxPlanAge is how old a saved plan may be when applied.
const DefaultMaxPlanAge = time.Hour

// Applied is what an apply did. For a refused run it holds only where the
// refusal's receipt went.
type Applied struct {
	Result apply.Result
	// Findings are the plan's findings no applied change repaired: what
	// stays different from Git after the run.
	Findings []plan.Finding
	Receipt  string // the receipt's commit on the status branch; empty when none was written
	Branch   string // the status branch, when a receipt was written
	// Notices are the deliveries the run attempted: notices and sealed
	// passwords, what went out and what failed (a notice is tried again
	// next run; a password that went out nowhere is lost: rotate it).
	Notices []notify.Delivery
	// Refusal is the record of the guards' or --require-approved's
	// refusal, nil when the run was not refused.
	Refusal *receipt.Refusal
	// Told and Renewals are what was said on GitHub after the apply;
	// FollowUp the errors doing so (the directory work is done either way).
	Told     reply.Report
	Renewals renew.Report
	Reviews  review.Report
	FollowUp []string
}

// Undelivered counts what the run did not get across: notices and
// passwords that went out on no channel, and GitHub follow-ups that failed.
func (a *Applied) Undelivered() int {
	return notify.Failed(a.Notices) + len(a.FollowUp)
}

// ErrRefused is returned, with the guards' reasons, when a plan is refused.
var ErrRefused = errors.New("nothing was changed")

// Refusal joins the guards' reasons and ErrRefused.
func Refusal(reasons error) error { return fmt.Errorf("%w; %w", reasons, ErrRefused) }

// Apply carries out a plan the guards allow, then records a receipt on the
// status branch when the source is a revision of a Git repository. A plan
// the guards refuse writes nothing to the directory: Apply records the
// refusal's receipt instead (unless NoReceipt) and returns the refusal,
// which wraps ErrRefused.
func Apply(ctx context.Context, dir apply.Writer, pl *Planned, src Source, opts ApplyOptions) (*Applied, error) {
	if pl.Refused != nil {
		return refuse(ctx, pl, src, opts)
	}
	log := opts.logger()
	res := apply.Run(ctx, dir, pl.Plan, apply.Options{Logger: log, Retries: opts.Retries, Backoff: opts.Backoff,
		Credentials: credentials.Policies(pl.Repo)})
	applied := map[string]bool{}
	for _, c := range res.Changes {
		if c.Outcome == apply.Applied {
			applied[c.Change.ID] = true
		}
	}
	out := &Applied{Result: res, Findings: pl.Plan.Remaining(applied)}
	// A run stopped by a signal still sends and records what it did.
	sctx := ctx
	ctx = context.WithoutCancel(ctx)
	out.Notices = append(deliverPasswords(ctx, res, pl, opts), sendNotices(ctx, pl, src, opts)...)
	if sctx.Err() == nil { // a stopped run rotates nothing more
		out.Notices = append(out.Notices, rotate(ctx, dir, pl, src, res, opts)...)
	}
	out.Notices = append(out.Notices, alerts(ctx, pl, out, src, opts)...)
	if src.Rev == "" || opts.NoReceipt {
		return out, nil
	}
	// On GitHub, before the receipt: the messages it sends (reviewers
	// told) ride in the receipt's ledger.
	followUp(ctx, out, pl, src, opts)
	if pl.Plan.Empty() && len(out.Notices) == 0 {
		return out, nil // nothing to record
	}
	r := receipt.Receipt{
		Revision:  pl.Repo.Revision,
		AppliedAt: opts.Now,
		Directory: opts.DirectoryURL,
		Orphans:   []receipt.Orphan{},
		Findings:  findings(out.Findings),
		Notices:   out.Notices,
	}
	for _, c := range res.Changes {
		r.Changes = append(r.Changes, receipt.Entry{
			ID: c.Change.ID, Action: string(c.Change.Action), Account: c.Change.Account,
			DN: c.Change.DN, Result: string(c.Outcome), Error: c.Error, Reason: c.Change.Reason.Text,
		})
	}
	for _, o := range pl.Plan.Orphans {
		action := "reported"
		if o.Action == model.OrphansDisable {
			action = "disabled"
		}
		r.Orphans = append(r.Orphans, receipt.Orphan{Account: o.Name, DN: o.DN, Action: action})
	}
	r.Plan = receipt.Summarize(r.Changes)
	err := record(ctx, src, statusBranch(pl.Repo), r, opts, out)
	return out, err
}

// alerts sends the operators' alerts and recoveries due, once each (the
// ledger), from a Git revision only: a working tree records nothing.
func alerts(ctx context.Context, pl *Planned, out *Applied, src Source, opts ApplyOptions) []notify.Delivery {
	if opts.Alerts == nil || src.Rev == "" || opts.NoReceipt || len(opts.Channels) == 0 {
		return nil
	}
	return notify.Send(ctx, opts.Alerts(pl, out), opts.Channels, pl.Ledger, opts.Now, opts.logger())
}

// attachmentChannels are the channels a sealed password may go out on:
// those that carry attachments (e-mail, the outbox).
func attachmentChannels(cs []notify.Channel) []notify.Channel {
	var out []notify.Channel
	for _, c := range cs {
		if c.Name() == "email" || c.Name() == "outbox" {
			out = append(out, c)
		}
	}
	return out
}

// rotate gives the service accounts whose template's rotateEvery has
// passed a new password, sealed to the owner and delivered as a first
// password is. The last rotation of each is in the ledger (its credentials
// deliveries). Without a channel that carries attachments nothing is
// rotated: the new password would be lost.
func rotate(ctx context.Context, w apply.Writer, pl *Planned, src Source, res apply.Result, opts ApplyOptions) []notify.Delivery {
	d, ok := w.(credentials.Directory) // both connectors are
	chans := attachmentChannels(opts.Channels)
	if !ok || src.Rev == "" || opts.NoReceipt || len(chans) == 0 {
		return nil
	}
	fresh := map[string]bool{} // accounts given their first password by this run
	for _, s := range res.Sealed {
		fresh[s.AccountID] = true
	}
	var out []notify.Delivery
	for _, r := range pl.Rotations {
		if fresh[r.AccountID] {
			continue
		}
		s, err := credentials.Rotate(ctx, d, pl.Repo, r.Account, opts.Now)
		if err != nil {
			out = append(out, notify.Delivery{ID: "credentials:" + r.AccountID, Kind: notify.KindCredentials, Account: r.Account,
				Subject: "Rotation of " + r.Account, At: opts.Now.UTC(), Error: "not rotated: " + err.Error()})
			continue
		}
		m, err := credentials.Message(s)
		if err != nil {
			out = append(out, notify.Delivery{ID: "credentials:" + r.AccountID, Kind: notify.KindCredentials, Account: r.Account, At: opts.Now.UTC(), Error: err.Error()})
			continue
		}
		out = append(out, notify.Send(ctx, []notify.Message{m}, chans, notify.Ledger{}, opts.Now, opts.logger())...)
	}
	return out
}

// lastPasswords is, by account id, when the ledger last saw a password
// delivered (a first password, or a rotation).
func lastPasswords(l notify.Ledger) map[string]time.Time {
	last := map[string]time.Time{}
	for id, sent := range l {
		parts := strings.SplitN(id, ":", 3)
		if len(parts) != 3 || parts[0] != notify.KindCredentials || len(sent) == 0 {
			continue
		}
		if at, err := time.Parse(time.RFC3339, parts[2]); err == nil && at.After(last[parts[1]]) {
			last[parts[1]] = at
		}
	}
	return last
}

// deliverPasswords sends each sealed password of the run to its reader, on
// the channels that carry attachments, once; an account whose template
// names a reader without a key gets a message saying how to reset
// instead. The deliveries carry no secret: what went where, or the error.
func deliverPasswords(ctx context.Context, res apply.Result, pl *Planned, opts ApplyOptions) []notify.Delivery {
	chans := attachmentChannels(opts.Channels)
	var out []notify.Delivery
	for _, id := range slices.Sorted(maps.Keys(res.Sealed)) {
		s := res.Sealed[id]
		s.At = opts.Now.UTC() // the run's time: the ledger dates rotations by it
		var m notify.Message
		switch {
		case len(s.Armored) > 0:
			var err error
			if m, err = credentials.Message(s); err != nil {
				out = append(out, notify.Delivery{ID: "credentials:" + s.AccountID, Kind: notify.KindCredentials, Account: s.Account, At: opts.Now.UTC(), Error: err.Error()})
				continue
			}
		case s.To.Login != "":
			m = notify.Message{ID: "credentials:" + s.AccountID + ":" + s.At.UTC().Format(time.RFC3339), Kind: notify.KindCredentials,
				Subject: "No password sent for the new account " + s.Account, Account: s.Account, AccountID: s.AccountID, File: s.File,
				Text: fmt.Sprintf("alm created %s, but sent its password to no one: %s\n", s.Account, s.Why), To: []notify.Recipient{s.To}}
		default:
			continue // the template sends passwords to no one
		}
		if len(chans) == 0 {
			out = append(out, notify.Delivery{ID: m.ID, Kind: m.Kind, Account: m.Account, Subject: m.Subject, At: opts.Now.UTC(),
				Error: "no channel that carries attachments (e-mail) in alm.yaml's notify: the password is lost; set one, then alm rotate " + s.Account})
			continue
		}
		out = append(out, notify.Send(ctx, []notify.Message{m}, chans, notify.Ledger{}, opts.Now, opts.logger())...)
	}
	return out
}

// followUp answers on GitHub after an apply recorded in a receipt: the
// merged pull requests told what was done, the renewals due opened. Its
// failures are reported, never fatal: the directory work is done.
func followUp(ctx context.Context, out *Applied, pl *Planned, src Source, opts ApplyOptions) {
	log := opts.logger()
	if opts.Requesters != nil && len(out.Result.Changes) > 0 && pl.Refused == nil {
		told, err := reply.Tell(ctx, opts.Requesters, src.Path, pl.LastApplied, pl.Repo.Revision, reply.FromApply(out.Result, opts.Now), log)
		out.Told = told
		if err != nil {
			out.FollowUp = append(out.FollowUp, "telling the requesters: "+err.Error())
		}
	}
	if opts.Renewals != nil {
		r, err := renew.Open(ctx, opts.Renewals, pl.Repo, opts.Now, log)
		out.Renewals = r
		if err != nil {
			out.FollowUp = append(out.FollowUp, "renewal pull requests: "+err.Error())
		}
	}
	if opts.Reviews != nil {
		r, err := review.Open(ctx, opts.Reviews, pl.Repo, opts.Now, log)
		out.Reviews = r
		if err != nil {
			out.FollowUp = append(out.FollowUp, "access review pull requests: "+err.Error())
		}
		if len(opts.Channels) > 0 {
			out.Notices = append(out.Notices, notify.Send(ctx, r.Messages(opts.Now), opts.Channels, pl.Ledger, opts.Now, log)...)
		}
	}
}

// sendNotices delivers the plan's notices on the channels given, unless
// the source is a working tree: with no status branch to record them on,
// every run would send them again.
func sendNotices(ctx context.Context, pl *Planned, src Source, opts ApplyOptions) []notify.Delivery {
	if src.Rev == "" || opts.NoReceipt || len(opts.Channels) == 0 || len(pl.Notices) == 0 {
		return nil
	}
	return notify.Send(ctx, pl.Notices, opts.Channels, pl.Ledger, opts.Now, opts.logger())
}

// findings are a plan's findings as a receipt keeps them.
func findings(fs []plan.Finding) []receipt.Finding {
	out := []receipt.Finding{}
	for _, f := range fs {
		out = append(out, receipt.Finding{ID: f.ID, Kind: f.Kind, Account: f.Account, DN: f.DN, Group: f.Group, Text: f.Text, Fix: f.Fix})
	}
	return out
}

// record writes r on branch and pushes it, filling in out's Receipt and Branch.
func record(ctx context.Context, src Source, branch string, r receipt.Receipt, opts ApplyOptions, out *Applied) error {
	r.Lease = opts.Lease
	commit, err := receipt.Write(ctx, src.Path, branch, r, receipt.Signature{})
	if errors.Is(err, receipt.ErrRaced) {
		// Another receipt landed between the read and the write: write on
		// top of it, so what this run did (and sent) is not lost.
		commit, err = receipt.Write(ctx, src.Path, branch, r, receipt.Signature{})
	}
	if err != nil {
		return fmt.Errorf("write receipt on %s: %w", branch, err)
	}
	out.Receipt, out.Branch = commit, branch
	opts.logger().Info("receipt written", "branch", branch, "commit", commit, "refused", r.Refused != nil)
	if err := receipt.Push(ctx, src.Path, branch, opts.PushAuth); err != nil {
		return fmt.Errorf("push receipt: %w", err)
	}
	return nil
}

// refuse records the guards' refusal of a plan of a Git revision and
// returns it; the directory is not touched.
func refuse(ctx context.Context, pl *Planned, src Source, opts ApplyOptions) (*Applied, error) {
	refusal := Refusal(pl.Refused)
	if src.Rev == "" || opts.NoReceipt {
		return nil, refusal
	}
	r := receipt.Receipt{
		Revision:  pl.Repo.Revision,
		AppliedAt: opts.Now,
		Directory: opts.DirectoryURL,
		Plan:      summary(pl.Plan),
		Findings:  findings(pl.Plan.Findings),
		Refused:   guardRefusal(pl.Refused),
	}
	out := &Applied{Findings: pl.Plan.Findings, Refusal: r.Refused}
	// Notices and renewals are not directory work: a refused plan does not
	// hold them back.
	out.Notices = sendNotices(context.WithoutCancel(ctx), pl, src, opts)
	out.Notices = append(out.Notices, alerts(context.WithoutCancel(ctx), pl, out, src, opts)...)
	followUp(context.WithoutCancel(ctx), out, pl, src, opts)
	r.Notices = out.Notices
	if err := record(context.WithoutCancel(ctx), src, statusBranch(pl.Repo), r, opts, out); err != nil {
		return out, fmt.Errorf("%w (and its receipt was not recorded: %w)", refusal, err)
	}
	return out, refusal
}

// summary counts a plan's changes by action, for a refusal's receipt:
// nothing of it applied.
func summary(p *plan.Plan) receipt.Summary {
	s := receipt.Summary{Changes: len(p.Changes), Actions: map[string]int{}}
	for _, c := range p.Changes {
		s.Actions[string(c.Action)]++
	}
	return s
}

// guardRefusal is the record of every limit exceeded and every change
// refused among the guards' joined reasons.
func guardRefusal(reasons error) *receipt.Refusal {
	f := &receipt.Refusal{By: receipt.ByGuard, Message: reasons.Error()}
	walk(reasons, func(err error) {
		switch e := err.(type) {
		case *plan.LimitError:
			l := receipt.Limit{
				Kind: e.Kind, Changes: e.Changes, Accounts: e.Accounts, Managed: e.Managed,
				Limit:    receipt.Bound{Count: e.Limit.Count, Fraction: e.Limit.Fraction},
				Exceeded: "fraction", Source: e.Source, Flag: e.Flag,
			}
			if e.Managed > 0 {
				l.Fraction = float64(e.Accounts) / float64(e.Managed)
			}
			if e.ByCount {
				l.Exceeded = "count"
			}
			f.Limits = append(f.Limits, l)
		case *plan.RefusedError:
			f.Changes = append(f.Changes, receipt.RefusedChange{ID: e.Change, Why: e.Why})
		}
	})
	return f
}

// walk calls f on err and on every error it wraps, depth first.
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, f)
		}
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), f)
	}
}

// RecordRefusal records on the status branch, and pushes as applied
// receipts are pushed, the receipt of a --require-approved run that
// verification refused: the revision refused, the refusal with its advice,
// and every commit refused. It writes nothing when opts.NoReceipt, and
// returns nil then.
func RecordRefusal(ctx context.Context, src Source, rep verify.Report, opts ApplyOptions) (*Applied, error) {
	reasons := rep.Err()
	if reasons == nil {
		return nil, errors.New("record refusal: the verification refused nothing")
	}
	if opts.NoReceipt {
		return nil, nil
	}
	f := &receipt.Refusal{By: receipt.ByUnapproved, Message: reasons.Error()}
	for _, v := range rep.Refused() {
		f.Commits = append(f.Commits, receipt.RefusedCommit{
			Hash: v.Commit.Hash, Subject: v.Commit.Subject(), Author: v.Commit.Author.String(),
			Reason: v.Reason, Files: v.Unapproved, Cured: v.Cured,
		})
	}
	r := receipt.Receipt{Revision: rep.Head, AppliedAt: opts.Now, Directory: opts.DirectoryURL, Refused: f}
	branch := rep.StatusBranch
	if branch == "" {
		branch = receipt.DefaultBranch
	}
	out := &Applied{Refusal: f}
	if err := record(ctx, src, branch, r, opts, out); err != nil {
		return out, fmt.Errorf("record the refusal of %s: %w", rep.Head, err)
	}
	return out, nil
}

// ErrTampered: a saved plan says something the repository and directory do
// not: edited by hand, or made by another version of alm.
var ErrTampered = errors.New("the saved plan differs from the plan alm makes now from the same revision, directory and time")

// ApplySaved applies a plan saved by alm plan --out to the repository as it
// is now (repo, loaded from src), after checking that the plan is no older
// than opts.MaxPlanAge and that neither the repository nor the directory
// has changed since it was made. It then plans again at opts.Now - the
// clock, never the plan's own instant - and applies only if the saved
// changes are exactly those: what is written is always alm's own plan of
// now, never the file's word, so an edited plan cannot reach objects alm
// does not own, and a plan made for another time cannot write its changes.
// The guards are checked over the plan of now, so a saved plan over a
// limit is refused like any other.
func ApplySaved(ctx context.Context, dir Directory, saved *plan.Plan, repo *model.Repository, src Source, opts ApplyOptions) (*Applied, error) {
	if saved.Revision == "" {
		return nil, errors.New("the saved plan was made from a working tree: make it from a commit (alm plan --out plan.json)")
	}
	if err := fresh(saved, opts); err != nil {
		return nil, err
	}
	now, err := PlanLoaded(ctx, dir, repo, src, opts.Options)
	if err != nil {
		return nil, err
	}
	if err := apply.CheckFresh(saved, now.Repo.Revision, now.Snapshot.Digest()); err != nil {
		return nil, err
	}
	if err := samePlan(saved, now.Plan); err != nil {
		return nil, err
	}
	return Apply(ctx, dir, now, src, opts)
}

// fresh refuses a saved plan older than the maximum age, or made for a
// time that has not come.
func fresh(saved *plan.Plan, opts ApplyOptions) error {
	maxAge := opts.MaxPlanAge
	if maxAge <= 0 {
		maxAge = DefaultMaxPlanAge
	}
	age := opts.Now.Sub(saved.Now)
	switch {
	case age > maxAge:
		return fmt.Errorf("%w: it was made for %s, %s ago, and a saved plan may be at most %s old; make a new plan with alm plan --out (or allow an older one with --max-plan-age)",
			apply.ErrStale, saved.Now.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge)
	case age < -time.Minute:
		return fmt.Errorf("%w: it was made for %s, which has not come (it is %s now): a plan made with --now for a later time is never applied; make a new plan without --now",
			apply.ErrStale, saved.Now.UTC().Format(time.RFC3339), opts.Now.UTC().Format(time.RFC3339))
	}
	return nil
}

// samePlan compares what two plans would do.
func samePlan(saved, made *plan.Plan) error {
	type doing struct {
		Managed  int
		Changes  []plan.Change
		Findings []plan.Finding
		Orphans  []plan.Orphan
	}
	a, err := json.Marshal(doing{saved.Managed, saved.Changes, saved.Findings, saved.Orphans})
	if err != nil {
		return err
	}
	b, err := json.Marshal(doing{made.Managed, made.Changes, made.Findings, made.Orphans})
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%w: make a new plan with alm plan --out, review it, and apply that", ErrTampered)
	}
	return nil
}

// IsGit reports whether path is (inside) a Git repository.
func IsGit(path string) bool {
	for dir, _ := filepath.Abs(path); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return true
		}
		if _, err := os.Stat(filepath.Join(dir, "objects")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
				return true
			}
		}
		if dir == filepath.Dir(dir) {
			return false
		}
	}
}
