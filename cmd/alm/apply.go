package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	"github.com/alm-project/alm/reconciler/load"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
	"github.com/alm-project/alm/reconciler/renew"
	"github.com/alm-project/alm/reconciler/reply"
	"github.com/alm-project/alm/reconciler/runner"
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
	fl.StringVar(&f.github, "github", "", "OWNER/REPO: the access repository on GitHub (token from GITHUB_TOKEN): after an apply, each merged pull request whose accounts changed is told what was done, once, and the renewal and access-review pull requests due are opened (reviewers told on the notice channels); with --require-approved, approvals are the reviews of the pull request each merge closed, not Approved-by trailers")
	fl.StringVar(&f.outbox, "outbox", "", "also write every notice and sealed password into this folder (one file per message, attachments beside it), as a channel of its own")
	fl.StringVar(&f.githubAPI, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (GitHub Enterprise Server); empty: api.github.com")
	fl.IntVar(&f.retries, "retries", 3, "retries of a change that fails with a transient error")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where to keep the mirror of a remote --repo (default: the user's cache folder); when given, also the files parsed, so the next run parses only what changed (only alm's user may write to it)")
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

After the directory work, on a revision of a Git repository, it tells people,
on the channels alm.yaml's notify configures (and --outbox): the end-of-life
notices due, each once (a refused plan does not hold them back); a new
account's password, sealed to its reader's key, on e-mail or --outbox only; and
it rotates the service accounts whose template's rotateEvery has passed. With
--github it tells each merged pull request whose accounts changed what was
done, once, and opens the renewal pull requests due. None of these holds up the
directory work; what did not go out is in the output, the receipt and exit 2.

Exit codes: 0 applied, and the directory matches the access repository;
1 a change failed or was not attempted, or an error; 2 everything applied but
findings remain - the directory still differs from the access repository in
ways this run could not put right (listed above) - or a notice, password or
pull-request answer did not go out; 3 invalid input (the
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
	var lf loopFlags
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Fetch, plan and apply in one unattended run (for a schedule)",
		Long: `reconcile is what a scheduler runs: it fetches --repo (a path or a Git URL; a
token for HTTPS comes from ALM_GIT_TOKEN), reads --rev (default HEAD), optionally
verifies that what it would apply was brought in by approved merges since the
last applied receipt (--require-approved), plans, checks the guards, applies
without asking, and records a receipt on the status branch; a refused run
records a refusal's receipt there instead.

With --interval it runs as a service until SIGTERM or SIGINT, which let the
change in flight finish and its receipt be written: every interval (plus up
to --jitter) it fetches, and plans only when the head or a clock-driven date
(a start, an end, an expiry, a grace, a notice) has moved since the last
success; each run is bounded by --run-timeout. Under a lease (--lease-duration,
default 2m; the object CN=<--lease-name> in the groups OU) two reconcilers
never apply at once: the holder renews it while it runs, another takes it
only after it expires, and each receipt says who held it. --listen serves
/healthz and Prometheus /metrics.

Exit codes as alm apply (a single run); with --interval, 0 when stopped by a
signal, 1 on an error that keeps it from running at all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.yes = true
			if lf.interval == 0 {
				return runApply(cmd.Context(), g, &f)
			}
			return runLoop(cmd.Context(), g, &f, &lf)
		},
	}
	f.add(cmd, false)
	lf.add(cmd)
	return cmd
}

func runApply(ctx context.Context, g *globals, f *applyFlags) error {
	if g.now != "" {
		return &exitCode{exitInvalid, errors.New("--now is for plan, validate, check and demo: apply and reconcile write at the clock's time, and their receipts record it")}
	}
	o, err := runOptions(g, f)
	if err != nil {
		return err
	}
	out, err := runner.Once(ctx, o)
	return applyExit(ctx, g, out, err)
}

// runOptions turns apply's and reconcile's flags into a run's options.
func runOptions(g *globals, f *applyFlags) (runner.Options, error) {
	overrides, err := f.limits.overrides()
	if err != nil {
		return runner.Options{}, err
	}
	o := runner.Options{
		Repo: g.repo, Rev: g.rev, CacheDir: f.cacheDir, GitToken: os.Getenv(fetch.TokenEnv),
		RequireApproved: f.requireApproved, ApprovedSince: f.approvedSince,
		Clock: g.clockTime, Logger: g.logger,
		Apply: reconcile.ApplyOptions{
			Options:    reconcile.Options{Limits: overrides},
			Retries:    f.retries,
			Backoff:    500 * time.Millisecond,
			NoReceipt:  f.noReceipt,
			PushAuth:   fetch.Auth(os.Getenv(fetch.TokenEnv)),
			MaxPlanAge: f.maxPlanAge,
		},
	}
	if f.cacheDir != "" {
		// Named, the folder keeps parsed files for the next run too.
		if o.Files, err = load.OpenCache(f.cacheDir); err != nil {
			return o, err
		}
	}
	if f.planFile != "" {
		file, err := os.Open(f.planFile)
		if err != nil {
			return o, fmt.Errorf("saved plan: %w", err)
		}
		o.Saved, err = plan.Decode(file)
		file.Close()
		if err != nil {
			return o, &exitCode{exitInvalid, fmt.Errorf("saved plan %s: %w", f.planFile, err)}
		}
	}
	f.dir.timeout = f.timeout
	o.Open = func(ctx context.Context, repo *model.Repository) (runner.Directory, string, error) {
		return f.dir.open(ctx, g, repo)
	}
	o.Channels = func(repo *model.Repository) ([]notify.Channel, error) {
		cs, err := channels(repo.Directory.Spec.Notify, f.githubAPI)
		if err == nil && f.outbox != "" {
			cs = append(cs, outbox.New(f.outbox))
		}
		return cs, err
	}
	if f.github != "" {
		// The access repository on GitHub: its merged pull requests are
		// told what was done, its renewals opened, and with
		// --require-approved its reviews are the approvals.
		client, err := github.FromEnv(f.github, f.githubAPI)
		if err != nil {
			return o, &exitCode{exitInvalid, fmt.Errorf("--github %s: %w", f.github, err)}
		}
		o.Apply.Requesters, o.Apply.Renewals, o.Apply.Reviews = client, client, client
		o.Approvals = func(_ *git.Repository, c history.Commit) check.Approvals {
			return check.GitHubMerge{Client: client, Commit: c.Hash}
		}
	}
	o.Show = func(pl *reconcile.Planned) error {
		if g.format == "json" {
			return nil // one document, at the end
		}
		return writePlan(g, pl.Plan)
	}
	if !f.yes {
		o.Confirm = func(p *plan.Plan) error { return confirm(g, f, p, o.Saved != nil) }
	}
	return o, nil
}

// applyExit prints what a run did and turns it into apply's exit code.
func applyExit(ctx context.Context, g *globals, out *runner.Outcome, err error) error {
	var ce *runner.ConfigError
	switch {
	case errors.Is(err, runner.ErrCancelled):
		return &exitCode{exitOK, errors.New("apply cancelled; nothing was changed")}
	case out != nil && out.Cancelled:
		return err // no one to ask (no terminal)
	case errors.As(err, &ce):
		return &exitCode{exitInvalid, err}
	case out != nil && out.Unapproved != nil:
		writeDocument(g, out)
		writeRefusal(g, out.Applied)
		return &exitCode{exitInvalid, err}
	case out != nil && out.Refused != nil:
		writeDocument(g, out)
		writeRefusal(g, out.Applied)
		return &exitCode{exitInvalid, err}
	case errors.Is(err, apply.ErrStale), errors.Is(err, reconcile.ErrTampered):
		return &exitCode{exitInvalid, err}
	}
	var ie *reconcile.InvalidError
	if errors.As(err, &ie) {
		return &exitCode{exitInvalid, ie}
	}
	if out != nil && (out.Applied != nil || out.Planned != nil) {
		if werr := writeDocument(g, out); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	a := out.Applied
	switch {
	case a == nil && out.Planned != nil:
		return findingsLeft(out.Planned.Plan.Findings)
	case a == nil:
		return nil
	case ctx.Err() != nil:
		return &exitCode{exitError, fmt.Errorf("stopped by a signal after the change in flight: %d applied, %d failed, %d not attempted (see above); the receipt records what applied",
			a.Result.Applied, a.Result.Failed, a.Result.Skipped)}
	case !a.Result.OK():
		return &exitCode{exitError, fmt.Errorf("%d changes failed and %d were not attempted; the rest applied (see above)", a.Result.Failed, a.Result.Skipped)}
	case a.Undelivered() > 0:
		return &exitCode{exitChanges, fmt.Errorf("the directory work is done, but %d notices, passwords or pull-request answers did not go out (listed above, in the receipt; notices are sent again on the next run)", a.Undelivered())}
	}
	return findingsLeft(a.Findings)
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

// runDocument is apply's and reconcile's one JSON document: the plan,
// what applied, the receipt, the notices and the follow-ups.
type runDocument struct {
	Revision string            `json:"revision"`
	Plan     *plan.Plan        `json:"plan"`
	Result   *apply.Result     `json:"result"`
	Receipt  string            `json:"receipt,omitempty"`
	Branch   string            `json:"statusBranch,omitempty"`
	Notices  []notify.Delivery `json:"notices"`
	Told     *reply.Report     `json:"told,omitempty"`
	Renewals *renew.Report     `json:"renewals,omitempty"`
	FollowUp []string          `json:"followUp,omitempty"`
	Findings []plan.Finding    `json:"findings"` // what stays different after the run
	Refused  string            `json:"refused,omitempty"`
	Skipped  bool              `json:"skipped,omitempty"` // nothing to do
}

// writeDocument writes what a run did: in text, the result (the plan was
// shown before); in JSON, the one document.
func writeDocument(g *globals, out *runner.Outcome) error {
	if g.format != "json" {
		if out.Applied == nil || out.Refused != nil {
			return nil
		}
		return writeResult(g, out.Applied)
	}
	doc := runDocument{Notices: []notify.Delivery{}, Findings: []plan.Finding{}, Skipped: out.Skipped}
	if out.Repo != nil {
		doc.Revision = out.Repo.Revision
	}
	if out.Planned != nil {
		doc.Plan, doc.Findings = out.Planned.Plan, out.Planned.Plan.Findings
	}
	if out.Refused != nil {
		doc.Refused = out.Refused.Error()
	}
	if a := out.Applied; a != nil {
		if len(a.Result.Changes) > 0 || a.Result.Revision != "" {
			doc.Result = &a.Result
		}
		doc.Receipt, doc.Branch, doc.FollowUp = a.Receipt, a.Branch, a.FollowUp
		if a.Notices != nil {
			doc.Notices = a.Notices
		}
		if a.Findings != nil {
			doc.Findings = a.Findings
		}
		if len(a.Told.Told) > 0 {
			doc.Told = &a.Told
		}
		if len(a.Renewals.Opened) > 0 || len(a.Renewals.Skipped) > 0 {
			doc.Renewals = &a.Renewals
		}
	}
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeResult(g *globals, a *reconcile.Applied) error {
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

// confirm asks the person at the terminal; a saved plan is shown first.
func confirm(g *globals, f *applyFlags, p *plan.Plan, saved bool) error {
	if f.yes {
		return nil
	}
	if !interactive() {
		return &exitCode{exitInvalid, errors.New("no terminal to confirm at: pass --yes to apply without asking")}
	}
	if saved {
		if err := writePlan(g, p); err != nil {
			return err
		}
	}
	fmt.Fprint(g.stdout, "\nApply these changes to the directory? Only 'yes' is accepted: ")
	answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return runner.ErrCancelled
	}
	return nil
}
