package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/outbox"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/fetch"
	"github.com/alm-project/alm/reconciler/history"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
	"github.com/alm-project/alm/reconciler/verify"
)

// applyFlags are apply's and reconcile's.
type applyFlags struct {
	dir             directoryFlags
	limits          limitFlags
	planFile        string
	yes             bool
	requireApproved bool
	approvedSince   string
	retries         int
	cacheDir        string
	noReceipt       bool
	github          string
	githubAPI       string
	outbox          string
	maxPlanAge      time.Duration
	timeout         time.Duration
}

func (f *applyFlags) add(cmd *cobra.Command, withPlan bool) {
	f.dir.add(cmd)
	f.limits.add(cmd)
	fl := cmd.Flags()
	if withPlan {
		fl.StringVar(&f.planFile, "plan", "", "apply this saved plan (alm plan --out), refused if the revision or the directory changed since, if it is older than --max-plan-age, or if a plan made now differs from it")
		fl.DurationVar(&f.maxPlanAge, "max-plan-age", reconcile.DefaultMaxPlanAge, "with --plan: the oldest saved plan that may be applied")
		fl.BoolVar(&f.yes, "yes", false, "apply without asking (required when no terminal is attached)")
	}
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "the longest one directory request may take; a connection that stalls longer is closed and dialled again")
	fl.BoolVar(&f.requireApproved, "require-approved", false, "refuse unless every file alm reads holds content approved merges that pass the policies brought in since the last applied receipt")
	fl.StringVar(&f.approvedSince, "approved-since", "", "with --require-approved: verify the commits after this revision (default: the last receipt's; needed on the first run)")
	fl.StringVar(&f.github, "github", "", "OWNER/REPO: the access repository on GitHub (token from GITHUB_TOKEN): after an apply, each merged pull request whose accounts changed is told what was done, once, and the renewal pull requests due are opened; with --require-approved, approvals are the reviews of the pull request each merge closed, not Approved-by trailers")
	fl.StringVar(&f.outbox, "outbox", "", "also write every notice and sealed password into this folder (one file per message, attachments beside it), as a channel of its own")
	fl.StringVar(&f.githubAPI, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (GitHub Enterprise Server); empty: api.github.com")
	fl.IntVar(&f.retries, "retries", 3, "retries of a change that fails with a transient error")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where to keep the mirror of a remote --repo (default: the user's cache folder)")
	fl.BoolVar(&f.noReceipt, "no-receipt", false, "do not record a receipt (nor a refusal's) on the status branch")
}

func newApplyCommand(g *globals) *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Change the directory to match the access repository",
		Long: `apply makes the plan (as alm plan does, or reads a saved one with --plan), checks the
guards over the whole plan before the first write, and carries it out in a safe
order, what takes access away first and what grants it last: removals from
privileged groups, disables, other group removals, deletes, OUs, creates
(disabled, with a random password, in one operation), password repairs,
attributes, moves and renames, group additions, enables. Each write names the
object that was read (its objectGUID); a write to an account is refused if it no
longer carries the marker it had. Each change is isolated: one failure never stops the
others. Transient errors are retried; a connection lost or stalled (--timeout)
is dialled again, and when the directory stays unreachable the run stops and
reports the rest as not attempted. SIGINT or SIGTERM stops the run after the
change in flight; what applied is reported and recorded in the receipt.

Writes happen at the clock's time: --now is refused. A saved plan (--plan) is
planned again now and applied only when that plan is the same, and when it is
no older than --max-plan-age.

In a terminal it shows the plan and asks (holding no connection while it waits),
then plans again and applies only if that plan is the same; without a terminal
it needs --yes.
After applying a revision of a Git repository it commits a receipt to the status
branch (alm.yaml statusBranch, default alm-status) and pushes it to origin when
the repository has one (with ALM_GIT_TOKEN for an HTTPS remote). A plan the
guards refuse writes nothing to the directory and commits a refusal's receipt
instead: every limit exceeded, with its count and fraction, and every change
refused. A refusal never counts as the last applied revision.

--require-approved verifies, before anything else, that every file alm reads
(alm.yaml, templates/, people/, service-accounts/, roles/, policies/) holds
content that merges passing alm check with their approvals brought in since the
last applied receipt, and then applies exactly the commit it verified. A
commit pushed straight to the branch, or a merge denied, is refused by name
until its changes are gone: the refusal, recorded in a receipt too, says what
restores each file (git checkout <commit> -- <file>, or git rm <file>), and
committing that, merged or pushed, lets the next run go on. A later merge that
edits other lines of the file, or restores an older version, does not; nor
does a merge approved on top of unapproved content. Approvals come from the
merge's Approved-by trailers, which are only as trustworthy as whoever may push
merge commits (protect the branch), or with --github from the reviews of the
pull request the merge closed. On the first run pass --approved-since REV.

Exit codes: 0 applied, and the directory matches the access repository;
1 a change failed or was not attempted, or an error; 2 everything applied but
findings remain - the directory still differs from the access repository in
ways this run could not put right (listed above); 3 invalid input (the
repository, --now, a directory URL with credentials or plain ldap:// without
--allow-plain-ldap: nothing written), a stale or edited saved plan, or
unapproved commits or a plan refused (nothing written to the directory; the
refusal is recorded on the status branch unless --no-receipt).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd.Context(), g, &f) },
	}
	f.add(cmd, true)
	return cmd
}

func newReconcileCommand(g *globals) *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Fetch, plan and apply in one unattended run (for a schedule)",
		Long: `reconcile is what a scheduler runs: it fetches --repo (a path or a Git URL; a
token for HTTPS comes from ALM_GIT_TOKEN), reads --rev (default HEAD), optionally
verifies that what it would apply was brought in by approved merges since the
last applied receipt (--require-approved), plans, checks the guards, applies
without asking, and records a receipt on the status branch; a refused run
records a refusal's receipt there instead.

Exit codes as alm apply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.yes = true
			return runApply(cmd.Context(), g, &f)
		},
	}
	f.add(cmd, false)
	return cmd
}

func runApply(ctx context.Context, g *globals, f *applyFlags) error {
	if g.now != "" {
		return &exitCode{exitInvalid, errors.New("--now is for plan, validate, check and demo: apply and reconcile write at the clock's time, and their receipts record it")}
	}
	now, err := g.at()
	if err != nil {
		return err
	}
	overrides, err := f.limits.overrides()
	if err != nil {
		return err
	}
	src, err := source(ctx, g, f.cacheDir, true)
	if err != nil {
		return err
	}
	var saved *plan.Plan
	if f.planFile != "" {
		file, err := os.Open(f.planFile)
		if err != nil {
			return fmt.Errorf("saved plan: %w", err)
		}
		saved, err = plan.Decode(file)
		file.Close()
		if err != nil {
			return &exitCode{exitInvalid, fmt.Errorf("saved plan %s: %w", f.planFile, err)}
		}
	}
	var repo *model.Repository
	if f.requireApproved {
		// Verify first, then read exactly the commit verified: a push
		// between the two must not slip through.
		if src.Rev, repo, err = requireApproved(ctx, g, src, f, now); err != nil {
			return err
		}
	}
	if repo == nil {
		if repo, err = loadSource(ctx, src); err != nil {
			return err
		}
	}
	f.dir.timeout = f.timeout
	d, url, err := f.dir.open(ctx, g, repo)
	if err != nil {
		return err
	}
	defer d.Close()
	chans, err := channels(repo.Directory.Spec.Notify, f.githubAPI)
	if err != nil {
		return &exitCode{exitInvalid, err}
	}
	if f.outbox != "" {
		chans = append(chans, outbox.New(f.outbox))
	}
	opts := reconcile.ApplyOptions{
		Channels:     chans,
		Options:      reconcile.Options{Now: now, Limits: overrides, Logger: g.logger},
		Retries:      f.retries,
		Backoff:      500 * time.Millisecond,
		DirectoryURL: url,
		NoReceipt:    f.noReceipt,
		PushAuth:     fetch.Auth(os.Getenv(fetch.TokenEnv)),
		MaxPlanAge:   f.maxPlanAge,
	}
	if f.github != "" {
		// The pull requests of the repository it reads: told what was done,
		// and the renewals due opened there.
		client, err := github.FromEnv(f.github, f.githubAPI)
		if err != nil {
			return &exitCode{exitInvalid, fmt.Errorf("--github %s: %w", f.github, err)}
		}
		opts.Requesters, opts.Renewals = client, client
	}
	var applied *reconcile.Applied
	if saved != nil {
		d.Close() // no connection idles while a person reads; the apply dials again
		if err := confirm(g, f, saved); err != nil {
			return err
		}
		opts.Now = g.clockTime().UTC() // writes happen now, not when the command started
		applied, err = reconcile.ApplySaved(ctx, d, saved, repo, src, opts)
	} else {
		pl, perr := reconcile.PlanLoaded(ctx, d, repo, src, opts.Options)
		if perr != nil {
			return perr
		}
		if err := writePlan(g, pl.Plan); err != nil {
			return err
		}
		if pl.Refused != nil {
			// Apply records the refusal and writes nothing to the directory.
			applied, err := reconcile.Apply(ctx, d, pl, src, opts)
			writeRefusal(g, applied)
			return &exitCode{exitInvalid, err}
		}
		if pl.Plan.Empty() && len(pl.Notices) == 0 {
			return findingsLeft(pl.Plan.Findings)
		}
		if !f.yes && !pl.Plan.Empty() {
			d.Close() // no connection idles while a person reads; the apply dials again
			if err := confirm(g, f, nil); err != nil {
				return err
			}
		}
		if f.yes || src.Rev == "" || pl.Plan.Empty() {
			applied, err = reconcile.Apply(ctx, d, pl, src, opts)
		} else {
			// What was confirmed is applied only if it is still what alm
			// would do now: the person may have read for a while.
			opts.Now = g.clockTime().UTC()
			applied, err = reconcile.ApplySaved(ctx, d, pl.Plan, repo, src, opts)
			if errors.Is(err, apply.ErrStale) || errors.Is(err, reconcile.ErrTampered) {
				err = fmt.Errorf("%w; the files, the directory or the time moved on while the plan was read: nothing was applied; run alm apply again", err)
			}
		}
	}
	if errors.Is(err, reconcile.ErrRefused) {
		writeRefusal(g, applied)
		return &exitCode{exitInvalid, err}
	}
	if applied != nil {
		if werr := writeResult(g, applied); werr != nil {
			return werr
		}
	}
	switch {
	case errors.Is(err, apply.ErrStale), errors.Is(err, reconcile.ErrTampered):
		return &exitCode{exitInvalid, err}
	case err != nil:
		return err
	case ctx.Err() != nil:
		return &exitCode{exitError, fmt.Errorf("stopped by a signal after the change in flight: %d applied, %d failed, %d not attempted (see above); the receipt records what applied",
			applied.Result.Applied, applied.Result.Failed, applied.Result.Skipped)}
	case !applied.Result.OK():
		return &exitCode{exitError, fmt.Errorf("%d changes failed and %d were not attempted; the rest applied (see above)", applied.Result.Failed, applied.Result.Skipped)}
	case applied.Undelivered() > 0:
		return &exitCode{exitChanges, fmt.Errorf("the directory work is done, but %d notices, passwords or pull-request answers did not go out (listed above, in the receipt; notices are sent again on the next run)", applied.Undelivered())}
	}
	return findingsLeft(applied.Findings)
}

// findingsLeft is exit 2 when the run leaves the directory different from
// the access repository in ways it could not put right.
func findingsLeft(fs []plan.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	return &exitCode{exitChanges, fmt.Errorf("the directory still differs from the access repository: %d %s remain (listed above, with what to do)", len(fs), pluralize(len(fs), "finding"))}
}

func pluralize(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func writeResult(g *globals, a *reconcile.Applied) error {
	if g.format == "json" {
		return render.ResultJSON(g.stdout, &a.Result)
	}
	fmt.Fprintln(g.stdout)
	if err := render.ResultText(g.stdout, &a.Result); err != nil {
		return err
	}
	writeFollowUp(g, a)
	if a.Receipt != "" {
		fmt.Fprintf(g.stdout, "Receipt: %s on the status branch.\n", a.Receipt[:12])
	}
	return nil
}

// writeFollowUp says what the run told people: notices and passwords sent
// (never a secret: who, on which channel), pull requests answered, renewals.
func writeFollowUp(g *globals, a *reconcile.Applied) {
	w := g.stdout
	if len(a.Notices) > 0 {
		fmt.Fprintf(w, "\nNotices: %d sent, %d failed.\n", len(a.Notices)-notify.Failed(a.Notices), notify.Failed(a.Notices))
		for _, d := range a.Notices {
			if d.Error != "" {
				fmt.Fprintf(w, "  failed %s on %s: %s\n", d.Subject, d.Channel, d.Error)
				continue
			}
			fmt.Fprintf(w, "  sent   %s on %s to %s\n", d.Subject, d.Channel, strings.Join(d.Recipients, ", "))
		}
	}
	for _, t := range a.Told.Told {
		switch {
		case t.Error != "":
			fmt.Fprintf(w, "Pull request #%d not told: %s\n", t.PullRequest, t.Error)
		case t.Posted:
			fmt.Fprintf(w, "Pull request #%d told what was done (%s).\n", t.PullRequest, strings.Join(t.Accounts, ", "))
		}
	}
	for _, o := range a.Renewals.Opened {
		switch {
		case o.Error != "":
			fmt.Fprintf(w, "Renewal of %s not opened: %s\n", o.Account, o.Error)
		case o.Number > 0:
			fmt.Fprintf(w, "Opened pull request #%d: %s of %s (%s).\n", o.Number, o.Kind, o.Account, o.URL)
		}
	}
	for _, e := range a.FollowUp {
		fmt.Fprintf(w, "Not done: %s\n", e)
	}
}

// writeRefusal says where a refusal's receipt went; with --format json,
// whose stdout is one document, the log says it instead.
func writeRefusal(g *globals, a *reconcile.Applied) {
	if a == nil || a.Receipt == "" || g.format == "json" {
		return
	}
	fmt.Fprintf(g.stdout, "\nRefused; nothing was changed. The refusal is recorded in receipt %s on the status branch %s.\n", a.Receipt[:12], a.Branch)
}

// confirm asks the person at the terminal, unless --yes.
func confirm(g *globals, f *applyFlags, saved *plan.Plan) error {
	if f.yes {
		return nil
	}
	if !interactive() {
		return &exitCode{exitInvalid, errors.New("no terminal to confirm at: pass --yes to apply without asking")}
	}
	if saved != nil {
		if err := writePlan(g, saved); err != nil {
			return err
		}
	}
	fmt.Fprint(g.stdout, "\nApply these changes to the directory? Only 'yes' is accepted: ")
	answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return &exitCode{exitOK, errors.New("apply cancelled; nothing was changed")}
	}
	return nil
}

// requireApproved refuses when any file alm reads holds, at the head,
// content no approved merge brought in since the last receipt, recording
// the refusal's receipt; otherwise it returns the verified head commit,
// with the repository at it when it was read already.
func requireApproved(ctx context.Context, g *globals, src reconcile.Source, f *applyFlags, now time.Time) (string, *model.Repository, error) {
	branch := src.Rev
	if branch == "" {
		branch = "HEAD"
	}
	// The status branch is alm.yaml's at the branch's tip; an unreadable
	// alm.yaml leaves the default, and the check of that commit refuses it.
	opts := verify.Options{Logger: g.logger}
	repo, err := reconcile.Load(ctx, reconcile.Source{Path: src.Path, Rev: branch})
	if err == nil {
		opts.StatusBranch = repo.Directory.Spec.StatusBranch
	}
	if f.github != "" {
		client, err := github.FromEnv(f.github, f.githubAPI)
		if err != nil {
			return "", nil, err
		}
		opts.Approvals = func(_ *git.Repository, c history.Commit) check.Approvals {
			return check.GitHubMerge{Client: client, Commit: c.Hash}
		}
	}
	rep, err := verify.Approved(ctx, src.Path, branch, f.approvedSince, opts)
	if err != nil {
		return "", nil, fmt.Errorf("verify approvals: %w", err)
	}
	if err := rep.Err(); err != nil {
		rec, rerr := reconcile.RecordRefusal(ctx, src, rep, reconcile.ApplyOptions{
			Options:      reconcile.Options{Now: now, Logger: g.logger},
			DirectoryURL: f.dir.url,
			NoReceipt:    f.noReceipt,
			PushAuth:     fetch.Auth(os.Getenv(fetch.TokenEnv)),
		})
		writeRefusal(g, rec)
		if rerr != nil {
			err = fmt.Errorf("%w\n(and the refusal was not recorded: %w)", err, rerr)
		}
		return "", nil, &exitCode{exitInvalid, err}
	}
	g.logger.Info("every commit approved", "since", rep.Since, "head", rep.Head, "commits", len(rep.Commits))
	if repo == nil || repo.Revision != rep.Head {
		repo = nil // moved on since, or unreadable: the caller reads the verified head
	}
	return rep.Head, repo, nil
}
