package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
)

func newCheckCommand(g *globals) *cobra.Command {
	var o struct {
		base, head       string
		pr               int
		repository, api  string
		comment, annotes bool
	}
	var dir directoryFlags
	cmd := &cobra.Command{
		Use:   "check --base REV [--head REV] [--pr N --github OWNER/REPO]",
		Short: "Check a change (a pull request) against the schemas and the Rego policies",
		Long: `check judges the change from --base to --head of the access repository (--repo, a Git
repository): the files at head are validated, the change is classified (create, grant,
revoke, rename, other), and alm's built-in Rego rules and the repository's own
policies/*.rego (as they stand at --base) are evaluated over it and its approvals.

Approvals come from GitHub with --pr (each reviewer's latest review of the head
commit; dismissed and stale approvals do not count; logins are mapped to people by
spec.github), or, when --head is a merge commit, from its "Approved-by: Name <email>"
trailers (e-mails mapped to people by spec.email). Without either, approvals are
not judged and a warning says so.

GitHub: the token is read from GITHUB_TOKEN; --github defaults to $GITHUB_REPOSITORY
and --github-api to $GITHUB_API_URL (GitHub Enterprise Server), as Actions sets them.
--comment creates, or updates, one comment on the pull request holding the verdict;
only a comment alm's own login wrote counts as that comment (the token's user, or
github-actions[bot] in Actions; as a GitHub App elsewhere, set
ALM_GITHUB_COMMENT_AUTHOR to the app's bot login).
--annotations also prints GitHub Actions annotations (::error file=...,line=...::).

With --directory (credentials from ALM_BIND_DN and ALM_BIND_PASSWORD or
ALM_BIND_PASSWORD_FILE), the Markdown and the comment also show the plan: what
the merge would do to the directory now. The verdict never depends on it: when
the directory cannot be read, the comment says so and the check goes on.

Exit 0 when the change passes, 3 when a rule denies it, 1 when the check could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			now, err := g.at()
			if err != nil {
				return err
			}
			if o.base == "" {
				return &exitCode{exitError, errors.New("--base is required: the revision the change starts from, e.g. origin/main")}
			}
			if o.comment && o.pr == 0 {
				return &exitCode{exitError, errors.New("--comment needs --pr: the pull request to comment on")}
			}
			head := o.head
			if head == "" {
				head = g.rev
			}
			if head == "" {
				head = "HEAD"
			}
			r, err := history.Open(g.repo)
			if err != nil {
				return err
			}
			opts := check.Options{Base: o.base, Head: head, Now: now, Logger: g.logger}
			var client *github.Client
			switch {
			case o.pr != 0:
				if o.repository == "" {
					return &exitCode{exitError, errors.New("--pr needs --github OWNER/REPO (or $GITHUB_REPOSITORY)")}
				}
				if client, err = github.FromEnv(o.repository, o.api); err != nil {
					return err
				}
				opts.Approvals = check.GitHub{Client: client, Number: o.pr}
			default:
				c, err := history.Read(r, head)
				if err != nil {
					return err
				}
				if c.IsMerge() {
					opts.Approvals = check.Trailers{Repo: r, Commit: c.Hash}
				}
			}
			res, err := check.Run(ctx, r, opts)
			if err != nil {
				return err
			}
			planText := ""
			if dir.url != "" {
				planText = mergePlan(ctx, g, &dir, head, now)
			}
			switch g.format {
			case "json":
				err = check.JSON(g.stdout, res)
			case "markdown":
				err = check.Markdown(g.stdout, res, planText)
			default:
				err = check.Text(g.stdout, res)
			}
			if err != nil {
				return err
			}
			if o.annotes {
				if err := check.Annotations(g.stdout, res); err != nil {
					return err
				}
			}
			if o.comment {
				var body bytes.Buffer
				if err := check.Markdown(&body, res, planText); err != nil {
					return err
				}
				c, created, err := client.StickyComment(ctx, o.pr, check.Marker, body.String())
				if err != nil {
					return err
				}
				g.logger.Info("pull request comment", "created", created, "url", c.URL)
			}
			if res.Denied {
				return &exitCode{code: exitInvalid}
			}
			return nil
		},
	}
	dir.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "revision the change starts from (the pull request's base, e.g. origin/main)")
	f.StringVar(&o.head, "head", "", "revision to check (default --rev, else HEAD)")
	f.IntVar(&o.pr, "pr", 0, "GitHub pull request number: read its reviews for approvals")
	f.StringVar(&o.repository, "github", os.Getenv("GITHUB_REPOSITORY"), "GitHub repository OWNER/REPO")
	f.StringVar(&o.api, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (for GitHub Enterprise Server); empty: api.github.com")
	f.BoolVar(&o.comment, "comment", false, "create or update one comment on the pull request with the verdict (needs --pr)")
	f.BoolVar(&o.annotes, "annotations", false, "also print GitHub Actions annotations for every violation")
	return cmd
}

// mergePlan renders what applying head would change in the directory now,
// or says why it cannot: the plan informs reviewers, it never decides.
func mergePlan(ctx context.Context, g *globals, dir *directoryFlags, head string, now time.Time) string {
	src := reconcile.Source{Path: g.repo, Rev: head}
	repo, err := reconcile.Load(ctx, src)
	if err != nil {
		return "No plan: the repository at head does not load (see the problems above)."
	}
	d, _, err := dir.open(ctx, g, repo)
	if err != nil {
		g.logger.Warn("no plan for the comment", "err", err)
		return "No plan: the directory could not be reached: " + err.Error()
	}
	defer d.Close()
	pl, err := reconcile.PlanLoaded(ctx, d, repo, src, reconcile.Options{Now: now, Logger: g.logger})
	if err != nil {
		g.logger.Warn("no plan for the comment", "err", err)
		return "No plan: " + err.Error()
	}
	var b bytes.Buffer
	if err := render.Text(&b, pl.Plan); err != nil {
		return "No plan: " + err.Error()
	}
	if pl.Refused != nil {
		fmt.Fprintf(&b, "\nThe guards would refuse this plan: %v\n", pl.Refused)
	}
	return b.String()
}
