package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/preview"
)

func newCheckCommand(g *globals) *cobra.Command {
	var o struct {
		base, head       string
		pr               int
		repository, api  string
		comment, annotes bool
		preview, reviews bool
		cacheDir         string
	}
	var dir directoryFlags
	cmd := &cobra.Command{
		Use:   "check --base REV [--head REV] [--pr N --github OWNER/REPO] [--preview] [--directory URL]",
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
With --pr, when rules deny the change for want of approvals, the check asks
for a review (GitHub's requested reviewers) from every person who could give
one of them and has a spec.github login, as they stood at base: never the pull
request's author, and nobody already asked or who has reviewed, so a second
run asks nobody new. The output and the comment say whom it asked, and who
could approve but has no login (tell them). A failed request is a warning,
never the verdict. --request-reviews=false asks nobody.
--annotations also prints GitHub Actions annotations (::error file=...,line=...::).

With --preview or --directory, the check also shows what the merge would do to
the directory now: only what this pull request changes - the changes the head's
plan has that the base's has not, or has differently, and those it no longer
plans - never the orphans or pending work of the whole domain. Everything that
says where and how to read the directory comes from the base revision, never
from the pull request: the directory read is --directory, else the base's
spec.url, and the base DN, OUs, marker attribute, protected list, orphans and
limits are the base's alm.yaml's (the head's files are planned with them). The
directory is read once, within the base's scope. alm.yaml settings the pull
request changes are listed, and take effect only after the merge; a changed
spec.url is never contacted. Credentials come from ALM_BIND_DN and
ALM_BIND_PASSWORD or ALM_BIND_PASSWORD_FILE. The verdict never depends on the
preview: when the directory cannot be read, the output says so and the check
goes on.

The text output (the default, and what the check prints to a CI log) holds
everything. The Markdown (--format markdown, --comment) stays under GitHub's
limit of 65,536 characters: when it would not, the longest lists (violations,
files, the preview's changes and warnings) are cut with a line saying how many were left out
and where the full result is: the check's text output, and
alm plan --rev HEAD for the whole plan after the merge.

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
			if o.cacheDir != "" {
				if opts.Files, err = load.OpenCache(o.cacheDir); err != nil {
					return err
				}
			}
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
			if client != nil && o.reviews {
				// Asking is a courtesy to reviewers: the verdict never
				// depends on it, and the output says when it failed.
				if err := check.AskReviewers(ctx, client, o.pr, res); err != nil {
					g.logger.Warn("no reviews requested", "pr", o.pr, "err", err)
				}
			}
			if o.preview || dir.url != "" {
				previewMerge(ctx, g, &dir, res, now)
			}
			switch g.format {
			case "json":
				err = check.JSON(g.stdout, res)
			case "markdown":
				err = check.Markdown(g.stdout, res)
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
				if err := check.Markdown(&body, res); err != nil {
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
	f.Lookup("directory").Usage = "the directory the preview reads: an ldaps:// (or ldap:// with --starttls) URL; default the base's spec.url, never the head's"
	f.StringVar(&o.base, "base", "", "revision the change starts from (the pull request's base, e.g. origin/main)")
	f.StringVar(&o.head, "head", "", "revision to check (default --rev, else HEAD)")
	f.IntVar(&o.pr, "pr", 0, "GitHub pull request number: read its reviews for approvals")
	f.StringVar(&o.repository, "github", os.Getenv("GITHUB_REPOSITORY"), "GitHub repository OWNER/REPO")
	f.StringVar(&o.api, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (for GitHub Enterprise Server); empty: api.github.com")
	f.BoolVar(&o.comment, "comment", false, "create or update one comment on the pull request with the verdict (needs --pr)")
	f.BoolVar(&o.reviews, "request-reviews", true, "with --pr: ask the people who could lift the approval denials for a review, once (needs pull-requests: write)")
	f.BoolVar(&o.annotes, "annotations", false, "also print GitHub Actions annotations for every violation")
	f.BoolVar(&o.preview, "preview", false, "also show what the merge would do to the directory now (read at --directory, else the base's spec.url)")
	f.StringVar(&o.cacheDir, "cache-dir", "", "keep the files parsed here for the next check (only alm's user may write to it): a check against the same base then parses only what changed")
	return cmd
}

// previewMerge adds to the result what the merge would do to the directory,
// or why that cannot be shown: the preview informs reviewers, it never decides.
func previewMerge(ctx context.Context, g *globals, dir *directoryFlags, res *check.Result, now time.Time) {
	base, head, err := res.Repositories()
	if err == nil {
		dial := func(ctx context.Context, url, marker string) (preview.Directory, error) {
			return dir.dial(ctx, g, url, marker)
		}
		res.Preview, err = preview.Make(ctx, dial, base, head, preview.Options{URL: dir.url, Now: now, Logger: g.logger})
	}
	if err != nil {
		g.logger.Warn("no preview of the merge", "err", err)
		res.NoPreview = err.Error()
	}
}
