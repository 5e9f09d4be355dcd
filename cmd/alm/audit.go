package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/report"
)

// auditFlags are the flags every audit subcommand shares.
type auditFlags struct {
	cacheDir   string
	github     string
	githubAPI  string
	statusBase string
}

func newAuditCommand(g *globals) *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the history out for an auditor: timelines, access at a date, changes, exceptions",
		Long: `audit reads the access repository's Git history and the receipts on its status branch:
an account's whole timeline, who held which account and groups at an instant, what was
granted and removed between two, and every exception (commits that did not arrive by an
approved merge, receipts of revisions not on the branch, drift the runs put back).

It audits --rev (default HEAD) of --repo, a path or a URL (cloned into --cache-dir). An
index of the branch's first-parent changes is built once and kept, by head commit, in
--cache-dir or the repository's .git/alm-cache; a later run only reads the new commits.
Approvals are the merges' Approved-by trailers; with --github OWNER/REPO (token from
GITHUB_TOKEN) a merge GitHub knows as a pull request's merge commit is read from that
pull request's reviews, and the others from their trailers.

--format text, json (one document) or csv (a row per event, account-group or exception).`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if g.logger, err = newLogger(g.stderr, g.logLevel, g.logFormat); err != nil {
				return err
			}
			switch g.format {
			case audit.FormatText, audit.FormatJSON, audit.FormatCSV:
				return nil
			}
			return &exitCode{exitInvalid, fmt.Errorf("--format %q: use text, json or csv", g.format)}
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.cacheDir, "cache-dir", "", "where the index is kept (default the repository's .git/alm-cache), and a remote --repo cloned")
	pf.StringVar(&f.github, "github", "", "OWNER/REPO: read merges' approvals from their pull requests' reviews (token from GITHUB_TOKEN)")
	pf.StringVar(&f.githubAPI, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (GitHub Enterprise Server); empty: api.github.com")
	pf.StringVar(&f.statusBase, "status-branch", "", "the branch holding the receipts (default alm.yaml's statusBranch, else alm-status)")
	cmd.AddCommand(newAuditAccountCommand(g, f), newAuditAccessCommand(g, f), newAuditVerifyCommand(g, f), newAuditReportCommand(g, f))
	return cmd
}

func openAudit(cmd *cobra.Command, g *globals, f *auditFlags) (*audit.History, error) {
	ctx := cmd.Context()
	src, err := source(ctx, g, f.cacheDir, true)
	if err != nil {
		return nil, err
	}
	if src.Rev == "" {
		return nil, &exitCode{exitInvalid, fmt.Errorf("--repo %s is not a Git repository: audit reads history", g.repo)}
	}
	o := audit.Options{Branch: src.Rev, StatusBranch: f.statusBase, CacheDir: f.cacheDir, Logger: g.logger}
	if f.github != "" {
		c, err := github.FromEnv(f.github, f.githubAPI)
		if err != nil {
			return nil, &exitCode{exitInvalid, fmt.Errorf("--github %s: %w", f.github, err)}
		}
		o.GitHub = c
	}
	return audit.Open(ctx, src.Path, o)
}

func newAuditAccountCommand(g *globals, f *auditFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "account [NAME]",
		Short: "An account's whole timeline, oldest first, across renames",
		Long: `account prints the timeline of one account, named by any login it had (or --id, its
metadata.id): each change to its file with the commit that brought it - requested (by
whom, which pull request), approved (by whom) or pushed straight to the branch - the
change in words, then what the runs did (applied, failed or skipped, per change), drift
found and reverted, notices sent, and renames, disabling, retirement and removal.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (id != "") {
				return &exitCode{exitInvalid, errors.New("name the account: a login it had, or --id ID (not both)")}
			}
			h, err := openAudit(cmd, g, f)
			if err != nil {
				return err
			}
			defer h.Close()
			if id == "" {
				if id, err = h.Resolve(args[0]); err != nil {
					return &exitCode{exitInvalid, err}
				}
			}
			t, err := h.Account(cmd.Context(), id)
			if errors.Is(err, audit.ErrNoAccount) {
				return &exitCode{exitInvalid, err}
			}
			if err != nil {
				return err
			}
			return audit.WriteTimeline(g.stdout, t, g.format)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the account's metadata.id, rather than a login")
	return cmd
}

func newAuditAccessCommand(g *globals, f *auditFlags) *cobra.Command {
	var at, group string
	var diff bool
	cmd := &cobra.Command{
		Use:   "access (--at DATE | --diff FROM TO) [--group NAME]",
		Short: "Who held which account and groups at an instant, or what was granted and removed between two",
		Long: `access --at DATE lists who held which account and which groups at that instant: the
revision the last run that applied at or before it had applied (what was in force, not
only merged), and that revision's desired state at DATE. Before the first run, nobody.

access --diff FROM TO lists the access granted and removed between the two instants -
group memberships, and accounts able to log on (group empty) - each with when a run
applied it, the commit that asked for it, its requester and approvers.

A DATE is a date (midnight UTC) or an RFC 3339 time. --group narrows to one group.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if diff == (at != "") {
				return &exitCode{exitInvalid, errors.New("say --at DATE, or --diff FROM TO")}
			}
			if diff && len(args) != 2 || !diff && len(args) != 0 {
				return &exitCode{exitInvalid, fmt.Errorf("--diff takes two dates, FROM and TO; --at takes none besides its own (got %d)", len(args))}
			}
			dates := args
			if !diff {
				dates = []string{at}
			}
			var ts []time.Time
			for _, d := range dates {
				t, err := parseAt(d)
				if err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("date %q: write a date (2026-06-30) or an RFC 3339 time", d)}
				}
				ts = append(ts, t)
			}
			h, err := openAudit(cmd, g, f)
			if err != nil {
				return err
			}
			defer h.Close()
			if !diff {
				a, err := h.At(ctx, ts[0], group)
				if err != nil {
					return err
				}
				return audit.WriteAccess(g.stdout, a, g.format)
			}
			if ts[1].Before(ts[0]) {
				return &exitCode{exitInvalid, fmt.Errorf("--diff %s %s: TO is before FROM: swap them", args[0], args[1])}
			}
			d, err := h.Diff(ctx, ts[0], ts[1], group)
			if err != nil {
				return err
			}
			return audit.WriteDiff(g.stdout, d, g.format)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "the instant: a date (midnight UTC) or an RFC 3339 time")
	cmd.Flags().BoolVar(&diff, "diff", false, "list what was granted and removed between the two dates given as arguments")
	cmd.Flags().StringVar(&group, "group", "", "only this group (as the roles name it)")
	return cmd
}

func newAuditVerifyCommand(g *globals, f *auditFlags) *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Every exception in the history: unapproved commits, receipts off the branch, drift",
		Long: `verify walks the branch's first-parent history after --since (default its first commit,
the starting point) and reports, as an exception report: every commit that did not arrive
by an approved merge - judged as --require-approved judges it, a commit reverted since
included and marked so - every receipt whose revision is not on the branch, and every
change a run applied to put back drift (the directory changed outside alm).

Exit 0 when there is none, 2 when there are exceptions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := openAudit(cmd, g, f)
			if err != nil {
				return err
			}
			defer h.Close()
			x, err := h.Verify(cmd.Context(), since)
			if err != nil {
				return err
			}
			if err := audit.WriteExceptions(g.stdout, x, g.format); err != nil {
				return err
			}
			if len(x.Items) > 0 {
				return &exitCode{code: exitChanges}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "start after this revision (default the branch's first commit)")
	return cmd
}

func newAuditReportCommand(g *globals, f *auditFlags) *cobra.Command {
	var from, to, out string
	cmd := &cobra.Command{
		Use:   "report --from DATE --to DATE --out report.html",
		Short: "The period for an auditor, as one self-contained HTML file",
		Long: `report writes, for the period from --from to --to, one HTML file that needs nothing at
view time (no script, no fetch): the access granted and removed with requester, approvers
and commit; the exceptions of alm audit verify (changes no approved merge brought, receipts
of revisions not on the branch, drift); the access reviews confirmed in the period (with
who approved them) and those overdue at its end; and a chart of accounts and privileged memberships over the period. Exceptions are
those that happened in the period, judged over the whole history. With --format json it
prints the period's data as one JSON document besides writing the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if out == "" {
				return &exitCode{exitInvalid, errors.New("--out: name the HTML file to write, e.g. --out report.html")}
			}
			var ts []time.Time
			for _, d := range []struct{ flag, v string }{{"--from", from}, {"--to", to}} {
				t, err := parseAt(d.v)
				if err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("%s %q: write a date (2026-06-30) or an RFC 3339 time", d.flag, d.v)}
				}
				ts = append(ts, t)
			}
			if ts[1].Before(ts[0]) {
				return &exitCode{exitInvalid, fmt.Errorf("--from %s --to %s: the end is before the start: swap them", from, to)}
			}
			h, err := openAudit(cmd, g, f)
			if err != nil {
				return err
			}
			defer h.Close()
			p, err := h.Report(ctx, ts[0], ts[1], 12)
			if err != nil {
				return err
			}
			d := report.FromPeriod(p, h.Zone(), g.repo, g.clockTime())
			// Rendered whole before the file is touched: a failure leaves
			// the previous report as it was.
			var buf bytes.Buffer
			if err := report.Render(&buf, d); err != nil {
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if g.format == "json" {
				return writeJSON(g, struct {
					Out    string       `json:"out"`
					Period audit.Period `json:"period"`
				}{out, p})
			}
			fmt.Fprintf(g.stdout, "Wrote %s: %d granted, %d removed, %d exceptions, %d %s done, %d overdue.\n", out, len(d.Grants), len(d.Removals), len(d.Exceptions),
				len(p.Reviewed), pluralize(len(p.Reviewed), "review"), len(p.Overdue))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the period's start: a date or an RFC 3339 time")
	cmd.Flags().StringVar(&to, "to", "", "the period's end")
	cmd.Flags().StringVar(&out, "out", "", "the HTML file to write")
	return cmd
}
