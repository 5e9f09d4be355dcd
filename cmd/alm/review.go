package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/review"
)

func newReviewCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Access reviews: open the pull requests that confirm or revoke access on a schedule",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newReviewOpenCommand(g))
	return cmd
}

func newReviewOpenCommand(g *globals) *cobra.Command {
	var repository, api, at string
	cmd := &cobra.Command{
		Use:   "open [--github OWNER/REPO] [--at DATE]",
		Short: "Open one access-review pull request per reviewer listing the accounts due",
		Long: `review open finds the accounts whose access review is due: a template's
review: {every, by, grace} asks for one every period after the account's
spec.reviewed, or, never reviewed, after a person's startDate or a service
account's created. People not yet started, leavers and retired accounts are not
reviewed. The reviewer is review.by's relation to the account: owner (a person
themselves; a service account's spec.owner), manager and owner-manager (a
person's manager; a service account owner's manager), owner-or-manager (a
person's manager, else the person; a service account's owner, else their
manager) or custodian (the first of spec.custodians); they must be active.

Without --github it lists, per reviewer, the accounts due, privileged roles
first, then by risk (AD's privileged groups, service accounts never or long
unreviewed, contractors), and writes nothing.

With --github OWNER/REPO (token from GITHUB_TOKEN) it opens one pull request per
reviewer on the branch alm/review/<reviewer>/<latest due date listed>, from the
default branch, with a commit per account moving spec.reviewed to today in
alm.yaml's time zone (the file's comments and layout kept), and asks the
reviewer's spec.github login to review. Merging confirms; removing a role line
from a file in the pull request revokes that access; closing it lets the
template's review.grace run out, after which alm disables the account (the
plan says why) until a review is merged. A branch that already has a pull
request, in any state, is left alone, so running this daily opens each once.

--at DATE (2027-03-01, the day's start in alm.yaml's time zone, or an RFC 3339
time) lists what is due then; it is refused with --github, which writes the
day it runs as the review date.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := textOrJSON(g, "review open"); err != nil {
				return err
			}
			if at != "" && repository != "" {
				return &exitCode{exitInvalid, errors.New("--at is not for --github: the pull requests date the review the day they are opened; list with --at, open without it")}
			}
			repo, problems, err := loadRepository(cmd, g)
			if err != nil {
				return err
			}
			if len(problems) > 0 {
				if err := writeProblems(g, repo, problems); err != nil {
					return err
				}
				return &exitCode{code: exitInvalid}
			}
			now, err := g.at()
			if err != nil {
				return err
			}
			if at != "" {
				if d, err := model.ParseDate(at); err == nil {
					now = d.Midnight(repo.Zone())
				} else if now, err = time.Parse(time.RFC3339, at); err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("--at %q: write a date (2027-03-01) or an RFC 3339 time", at)}
				}
			}
			if repository == "" {
				due, skipped := review.Due(repo, now)
				rep := review.Report{Opened: []review.Opened{}, Skipped: append([]review.Skipped{}, skipped...)}
				for _, r := range due {
					rep.Opened = append(rep.Opened, review.Opened{Request: r})
				}
				return writeReviews(g, rep, false)
			}
			if g.now != "" {
				return &exitCode{exitInvalid, errors.New("--now is not for review open --github: it dates the reviews today")}
			}
			client, err := github.FromEnv(repository, api)
			if err != nil {
				return &exitCode{exitInvalid, fmt.Errorf("--github %s: %w", repository, err)}
			}
			rep, openErr := review.Open(cmd.Context(), client, repo, now, g.logger)
			if err := writeReviews(g, rep, true); err != nil {
				return err
			}
			return openErr
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&repository, "github", "", "OWNER/REPO: the access repository on GitHub (token from GITHUB_TOKEN); open the pull requests there. Without it, only list what is due")
	fl.StringVar(&api, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (GitHub Enterprise Server); empty: api.github.com")
	fl.StringVar(&at, "at", "", "list what is due at this date or RFC 3339 time (not with --github)")
	return cmd
}

func writeReviews(g *globals, rep review.Report, opening bool) error {
	if g.format == "json" {
		return writeJSON(g, rep)
	}
	w := g.stdout
	if len(rep.Opened) == 0 {
		fmt.Fprintln(w, "No access review is due.")
	}
	for _, o := range rep.Opened {
		who := o.Reviewer
		if o.GitHub != "" {
			who += " (@" + o.GitHub + ")"
		}
		fmt.Fprintf(w, "%s: %d account(s) due by %s, branch %s\n", who, len(o.Accounts), o.Due, o.Branch)
		for _, a := range o.Accounts {
			line := fmt.Sprintf("  %s (%s) due %s", a.Name, a.File, a.Due)
			switch {
			case a.Disabled:
				line += ", disabled since " + a.DisableOn.String()
			case !a.DisableOn.IsZero():
				line += ", disabled on " + a.DisableOn.String() + " unless confirmed"
			}
			if len(a.Risk) > 0 {
				line += ": " + strings.Join(a.Risk, "; ")
			}
			fmt.Fprintln(w, line)
		}
		switch {
		case !opening:
		case o.Error != "":
			fmt.Fprintf(w, "  not opened: %s\n", o.Error)
		case len(o.Existing) > 0:
			fmt.Fprintf(w, "  a pull request exists already (#%d): nothing opened\n", o.Existing[0])
		default:
			fmt.Fprintf(w, "  opened #%d %s\n", o.Number, o.URL)
		}
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "%s: %s: no review: %s\n", s.File, s.Account, s.Why)
	}
	return nil
}
