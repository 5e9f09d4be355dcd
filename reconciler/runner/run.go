// Package runner is one reconciler run, the whole sequence: fetch the access
// repository, verify approvals (when asked), load it, open the directory,
// plan, guard, confirm (when a person is asked), apply, record the receipt,
// send the notices and answer on GitHub. alm apply, alm reconcile and the
// reconcile loop all call Once; cmd/alm keeps only flags, wiring and exit
// codes. Loop (loop.go) repeats Once on a schedule, under a lease.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/fetch"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/reconcile"
	"github.com/alm-project/alm/reconciler/verify"
)

// Directory is an open directory: what a run reads and writes, and the
// connection to close when it is done.
type Directory interface {
	reconcile.Directory
	Close() error
}

// Options are one run's settings and the parts it runs with.
type Options struct {
	Repo     string // a path or a Git URL
	Rev      string // "" : HEAD of a Git repository, the working tree otherwise (see WorkingTree)
	CacheDir string
	GitToken string // for an HTTPS remote; never logged
	// WorkingTree reads the files as they are, uncommitted: no receipt,
	// no ledger, no notices.
	WorkingTree bool
	// Files keeps the files of the revisions loaded parsed between loads
	// (Loop sets one for its whole life); nil: each load parses all.
	Files *load.Cache

	// RequireApproved verifies, before anything else, that every file alm
	// reads holds content approved merges brought in since the last
	// applied receipt, then applies exactly the commit it verified.
	RequireApproved bool
	ApprovedSince   string
	// Approvals reads a merge's approvals (GitHub reviews); nil: its
	// Approved-by trailers.
	Approvals func(*git.Repository, history.Commit) check.Approvals

	// Open dials the directory the repository's alm.yaml (or a flag) names;
	// it returns the directory and its URL for the receipt.
	Open func(ctx context.Context, repo *model.Repository) (Directory, string, error)
	// Channels builds the notice channels alm.yaml configures; nil: none.
	Channels func(repo *model.Repository) ([]notify.Channel, error)

	// Saved is a plan saved by alm plan --out, applied only if the plan
	// made now is the same (and it is no older than Apply.MaxPlanAge).
	Saved *plan.Plan
	// Show is given the plan before anything is written (to print it).
	Show func(*reconcile.Planned) error
	// Confirm asks a person; nil applies without asking. An error cancels.
	Confirm func(*plan.Plan) error

	// Apply holds the apply's settings: limits, retries, channels,
	// GitHub follow-ups, receipts. Its Now is set by the run.
	Apply reconcile.ApplyOptions
	// Clock is the time of the run and of its writes; time.Now when nil.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Outcome is what a run did.
type Outcome struct {
	Source  reconcile.Source
	Repo    *model.Repository
	Planned *reconcile.Planned // nil when the run stopped before planning
	Applied *reconcile.Applied // nil when nothing was applied nor recorded
	// Refused is the refusal - of the guards, or of --require-approved -
	// which wraps reconcile.ErrRefused or verify's errors; nothing was
	// written to the directory.
	Refused error
	// Unapproved is --require-approved's report when it refused.
	Unapproved *verify.Report
	// Skipped: nothing to apply (an empty plan and no notice due).
	Skipped bool
	// Cancelled: the person asked said no.
	Cancelled bool
}

// ErrCancelled is returned when the person asked declines.
var ErrCancelled = errors.New("cancelled; nothing was changed")

func (o *Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock().UTC()
	}
	return time.Now().UTC()
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Source fetches the repository and says which revision a run reads.
func Source(ctx context.Context, o Options) (reconcile.Source, error) {
	path, err := fetch.Repository(ctx, o.Repo, fetch.Options{CacheDir: o.CacheDir, Token: o.GitToken, Logger: o.logger()})
	if err != nil {
		return reconcile.Source{}, err
	}
	rev := o.Rev
	if rev == "" && !o.WorkingTree && (fetch.IsRemote(o.Repo) || reconcile.IsGit(path)) {
		rev = "HEAD"
	}
	return reconcile.Source{Path: path, Rev: rev, Cache: o.Files}, nil
}

// Once is one run: fetch, verify, load, open, plan, show, guard, confirm,
// apply, receipt, notices, follow-ups. The error is what kept the run from
// finishing; a refusal is in Outcome.Refused and returned too.
func Once(ctx context.Context, o Options) (*Outcome, error) {
	log := o.logger()
	src, err := Source(ctx, o)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Source: src}
	now := o.now()
	if o.RequireApproved {
		if err := approved(ctx, o, out, now); err != nil {
			return out, err
		}
	}
	// The directory is dialled and read while the repository loads: the
	// read mostly waits on the server. Only the settings that say where to
	// read (alm.yaml, templates, roles) are needed for it; a saved plan
	// reads nothing.
	var read *reconcile.Reading[Directory]
	var readURL string
	if out.Repo == nil && o.Saved == nil {
		if settings, _ := reconcile.Settings(ctx, out.Source); settings != nil {
			open := func(ctx context.Context) (Directory, error) {
				d, url, err := o.Open(ctx, settings)
				readURL = url
				return d, err
			}
			if read, err = reconcile.StartRead(ctx, open, settings, now); err != nil {
				read = nil // the whole load says what is wrong
			}
		}
	}
	if out.Repo == nil {
		if out.Repo, err = reconcile.Load(ctx, out.Source); err != nil {
			// The repository's problems come first, and without waiting
			// on the directory.
			if d := read.Stop(); d != nil {
				d.Close()
			}
			return out, err
		}
	}
	if read != nil && !read.For(out.Repo) {
		// alm.yaml moved between the two reads: dial as it says now.
		if d := read.Stop(); d != nil {
			d.Close()
		}
		read = nil
	}
	apOpts := o.Apply
	apOpts.Now, apOpts.Logger = now, log
	var channelErr error
	if o.Channels != nil {
		cs, err := o.Channels(out.Repo)
		if err != nil {
			// A channel that cannot be set up never holds up the directory
			// work: the run goes on without it and says so.
			channelErr = fmt.Errorf("notice channels: %w", err)
			log.Error("a notice channel is not set up; the run goes on without it", "error", err)
		}
		apOpts.Channels = append(append([]notify.Channel{}, apOpts.Channels...), cs...)
	}
	defer func() {
		if channelErr != nil && out.Applied != nil {
			out.Applied.FollowUp = append(out.Applied.FollowUp, channelErr.Error())
		}
	}()
	var d Directory
	var url string
	if read != nil {
		if d, err = read.Wait(); err == nil {
			url = readURL
		} else if d != nil {
			d.Close()
		}
	} else {
		d, url, err = o.Open(ctx, out.Repo)
	}
	if err != nil {
		return out, err
	}
	defer func() { d.Close() }()
	if apOpts.DirectoryURL == "" {
		apOpts.DirectoryURL = url
	}

	if o.Saved != nil {
		d.Close() // no connection idles while a person reads; the apply dials again
		if o.Confirm != nil {
			if err := o.Confirm(o.Saved); err != nil {
				out.Cancelled = true
				return out, err
			}
		}
		apOpts.Now = o.now() // writes happen now, not when the run started
		out.Applied, err = reconcile.ApplySaved(ctx, d, o.Saved, out.Repo, out.Source, apOpts)
		return out, refusal(out, err)
	}

	planOpts := apOpts.Options
	if read != nil {
		planOpts.Read = read
	}
	pl, err := reconcile.PlanLoaded(ctx, d, out.Repo, out.Source, planOpts)
	if err != nil {
		return out, err
	}
	out.Planned = pl
	if o.Show != nil {
		if err := o.Show(pl); err != nil {
			return out, err
		}
	}
	if pl.Refused != nil {
		// Apply records the refusal (and sends the notices) and writes
		// nothing to the directory.
		out.Applied, err = reconcile.Apply(ctx, d, pl, out.Source, apOpts)
		return out, refusal(out, err)
	}
	if pl.Plan.Empty() && len(pl.Notices) == 0 && len(pl.Rotations) == 0 && apOpts.Renewals == nil {
		out.Skipped = true
		return out, nil
	}
	if o.Confirm != nil && !pl.Plan.Empty() && out.Source.Rev != "" {
		d.Close() // no connection idles while a person reads; the apply dials again
		if err := o.Confirm(pl.Plan); err != nil {
			out.Cancelled = true
			return out, err
		}
		// What was confirmed is applied only if it is still what alm would
		// do now: the person may have read for a while.
		apOpts.Now = o.now()
		out.Applied, err = reconcile.ApplySaved(ctx, d, pl.Plan, out.Repo, out.Source, apOpts)
		if errors.Is(err, apply.ErrStale) || errors.Is(err, reconcile.ErrTampered) {
			err = fmt.Errorf("%w; the files, the directory or the time moved on while the plan was read: nothing was applied; run alm apply again", err)
		}
		return out, refusal(out, err)
	}
	if o.Confirm != nil && !pl.Plan.Empty() {
		if err := o.Confirm(pl.Plan); err != nil {
			out.Cancelled = true
			return out, err
		}
	}
	out.Applied, err = reconcile.Apply(ctx, d, pl, out.Source, apOpts)
	return out, refusal(out, err)
}

// refusal notes a guards' refusal in the outcome.
func refusal(out *Outcome, err error) error {
	if errors.Is(err, reconcile.ErrRefused) {
		out.Refused = err
	}
	return err
}

// ConfigError is a setting of alm.yaml or the environment a run cannot go
// on without (a channel's secret unset): invalid input, nothing written.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// approved refuses when any file alm reads holds, at the head, content no
// approved merge brought in since the last receipt, recording the refusal's
// receipt; otherwise the run reads exactly the verified head.
func approved(ctx context.Context, o Options, out *Outcome, now time.Time) error {
	src := out.Source
	branch := src.Rev
	if branch == "" {
		branch = "HEAD"
	}
	// The status branch is alm.yaml's at the branch's tip; an unreadable
	// alm.yaml leaves the default, and the check of that commit refuses it.
	vo := verify.Options{Logger: o.logger(), Approvals: o.Approvals}
	repo, err := reconcile.Load(ctx, reconcile.Source{Path: src.Path, Rev: branch})
	if err == nil {
		vo.StatusBranch = repo.Directory.Spec.StatusBranch
	}
	rep, err := verify.Approved(ctx, src.Path, branch, o.ApprovedSince, vo)
	if err != nil {
		return fmt.Errorf("verify approvals: %w", err)
	}
	if err := rep.Err(); err != nil {
		ap := o.Apply
		ap.Now, ap.Logger = now, o.logger()
		rec, rerr := reconcile.RecordRefusal(ctx, src, rep, ap)
		out.Applied, out.Unapproved, out.Refused = rec, &rep, err
		if rerr != nil {
			err = fmt.Errorf("%w\n(and the refusal was not recorded: %w)", err, rerr)
		}
		return err
	}
	o.logger().Info("every commit approved", "since", rep.Since, "head", rep.Head, "commits", len(rep.Commits))
	out.Source.Rev = rep.Head
	if repo != nil && repo.Revision == rep.Head {
		out.Repo = repo // read already; else moved on since: Once reads the verified head
	}
	return nil
}
