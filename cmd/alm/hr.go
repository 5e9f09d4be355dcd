package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/hr"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

func newHRCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hr",
		Short: "The HR feed: joiners, movers and leavers from HR's export, as a pull request",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newHRSyncCommand(g))
	return cmd
}

func newHRSyncCommand(g *globals) *cobra.Command {
	var csvFile, mappingFile, repository, api, missing string
	var write, partial bool
	cmd := &cobra.Command{
		Use:   "sync --csv FILE [--mapping FILE] [--write | --github OWNER/REPO]",
		Short: "Turn an HR export into joiners, movers, leavers, renames and rehires",
		Long: `hr sync reads an HR export (CSV: a header row, quoted fields, UTF-8 with or without a
byte-order mark, "," or ";" separated) and works out what it changes for the people whose
files say source: hr, keyed by employee id (metadata.id):

  joiners    new files people/<login>.yaml, pending until their start date
  movers     department, manager, title, type, names or e-mail changed
  leavers    an end date set (or moved)
  renames    a new login: the file renamed, the old login kept in previousNames
  rehires    an end date removed, or a start after it (an archived account is made again)
  contract   a contractor's end date moved

HR's row is authoritative for the fields the export has a column for (a blank type cell keeps
the file's); the rest of each file (roles, keys, notes, comments, layout) is kept byte for
byte. A rename also updates the files that name the old login: people's manager, service
accounts' owner and custodians. A row that cannot be carried out (no id or one alm cannot key a
file by, an unknown or skipped manager, an end before the start, an employee id on several rows
- all of them are skipped -, a login taken or not one AD takes or not matching the template's
naming, a date that does not parse, a file HR does not manage) is reported with its line and
column and skipped; the other rows go ahead. A file that is not CSV (a stray quote) is refused
whole. People HR manages whom the export leaves out, and who have not left, are reported; with
--missing leave those at work without an end date become leavers today (someone not started, or
leaving on a date already, is only reported). An export that leaves out, or changes, more people
than the mapping's limits allow is refused whole and nothing is written (--partial: the export
is of some people only, and nobody is missing from it). A first import of everyone changes
everyone: raise limits.changes for it.

The mapping (YAML, --mapping) names the columns and says how to read them:

  columns: {id: EmployeeID, login: "", givenName: FirstName, surname: LastName, email: Mail,
            department: Dept, title: JobTitle, manager: ManagerID, type: Kind,
            startDate: Hired, endDate: Left}          # "" or absent column: HR does not own it
  login: "{given:1}{surname}"   # a joiner's login when the login cell is empty: transliterated,
                                # lower-case, at most 20 characters, made unique with a number
  dateFormats: [DD.MM.YYYY, YYYY-MM-DD]
  types: {Permanent: employee, Freelance: contractor}
  separator: ";"                # default: guessed from the header
  limits: {changes: {count: 20, share: 0.25}, missing: {count: 3, share: 0.05}}

Without it, columns are named as alm's fields (id, login, givenName, ...), dates are
YYYY-MM-DD, and the limits are those above: refused when both the count and the share of the
people HR manages (who have not left) are exceeded.

Without --write or --github it prints what the export changes and writes nothing. --write
changes the working tree at --repo. --github OWNER/REPO (token from GITHUB_TOKEN) makes the
changes one commit on the branch alm/hr/sync over the default branch, which must be at the
revision read (--rev, default HEAD), and opens a pull request, or updates the one still open
from that branch; an export that asks for nothing closes it. The pull request goes through
alm check and its approvals like any other.

Exit 0 when there is nothing to change or it was delivered, 2 when there are changes and
nothing was written (a dry run) or rows were skipped, 3 when the export or mapping is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := textOrJSON(g, "hr sync"); err != nil {
				return err
			}
			if csvFile == "" {
				return &exitCode{exitInvalid, errors.New("--csv: name the HR export to read")}
			}
			if write && g.rev != "" {
				return &exitCode{exitInvalid, errors.New("--write and --rev: --write changes the working tree, so it reads the working tree; drop --rev")}
			}
			if write && repository != "" {
				return &exitCode{exitInvalid, errors.New("--write and --github: choose one (the working tree, or a pull request)")}
			}
			if missing != "report" && missing != "leave" {
				return &exitCode{exitInvalid, fmt.Errorf("--missing %q: report or leave", missing)}
			}
			m := hr.Default()
			if mappingFile != "" {
				var err error
				if m, err = hr.LoadMapping(mappingFile); err != nil {
					return &exitCode{exitInvalid, err}
				}
			}
			f, err := os.Open(csvFile)
			if err != nil {
				return &exitCode{exitInvalid, fmt.Errorf("--csv: %w", err)}
			}
			x, err := hr.Read(csvFile, f, m)
			f.Close()
			if err != nil {
				return &exitCode{exitInvalid, err}
			}
			var repo *model.Repository
			var files fs.FS
			var read string
			var problems load.Problems
			if repository != "" || g.rev != "" {
				rev := g.rev
				if rev == "" {
					rev = "HEAD"
				}
				repo, files, read, problems, err = hr.Revision(ctx, g.repo, rev)
			} else {
				repo, files, problems, err = hr.Tree(g.repo)
			}
			if err != nil {
				return err
			}
			if len(problems) > 0 {
				if err := writeProblems(g, repo, problems); err != nil {
					return err
				}
				return &exitCode{exitInvalid, errors.New("the access repository has problems (listed above): fix them before syncing HR")}
			}
			now, err := g.at()
			if err != nil {
				return err
			}
			res, err := hr.Sync(repo, files, x, hr.Options{Mapping: m, Now: now, LeaveMissing: missing == "leave", Partial: partial})
			if err != nil {
				return err
			}
			var delivered *hr.Delivered
			switch {
			case res.Refused != "":
			case write:
				if err := hr.Write(g.repo, res); err != nil {
					return err
				}
			case repository != "":
				client, err := github.FromEnv(repository, api)
				if err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("--github %s: %w", repository, err)}
				}
				d, err := hr.Deliver(ctx, client, res, read)
				if err != nil {
					return err
				}
				delivered = &d
			}
			if err := writeHR(g, res, delivered, write); err != nil {
				return err
			}
			switch {
			case res.Refused != "":
				return &exitCode{code: exitInvalid}
			case len(res.Bad) > 0, len(res.Files) > 0 && !write && delivered == nil:
				return &exitCode{code: exitChanges}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&csvFile, "csv", "", "the HR export (CSV)")
	fl.StringVar(&mappingFile, "mapping", "", "the mapping (YAML): columns, login rule, date formats, types, limits")
	fl.BoolVar(&write, "write", false, "change the working tree at --repo")
	fl.StringVar(&repository, "github", "", "OWNER/REPO: make the changes a pull request there (token from GITHUB_TOKEN)")
	fl.StringVar(&api, "github-api", os.Getenv("GITHUB_API_URL"), "GitHub API URL (GitHub Enterprise Server); empty: api.github.com")
	fl.StringVar(&missing, "missing", "report", "people HR manages whom the export leaves out: report, or leave (they become leavers today)")
	fl.BoolVar(&partial, "partial", false, "the export is of some people only: nobody is missing from it")
	return cmd
}

func writeHR(g *globals, res *hr.Result, d *hr.Delivered, wrote bool) error {
	if g.format == "json" {
		paths := []string{}
		for p := range res.Files {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		return writeJSON(g, struct {
			*hr.Result
			Written     bool          `json:"written"`
			Files       []string      `json:"files"`
			PullRequest *hr.Delivered `json:"pullRequest,omitempty"`
		}{res, wrote && res.Refused == "", paths, d})
	}
	if err := res.Text(g.stdout); err != nil {
		return err
	}
	switch {
	case res.Refused != "":
	case d != nil && d.Opened:
		fmt.Fprintf(g.stdout, "Opened pull request #%d from %s: %s\n", d.Number, hr.Branch, d.URL)
	case d != nil && d.Updated:
		fmt.Fprintf(g.stdout, "Updated pull request #%d: %s now at %s.\n", d.Number, hr.Branch, d.Commit)
	case d != nil && d.Closed:
		fmt.Fprintf(g.stdout, "Closed pull request #%d: the export asks for no change.\n", d.Number)
	case wrote:
		fmt.Fprintf(g.stdout, "Wrote %d files in %s.\n", len(res.Files), g.repo)
	case len(res.Files) > 0:
		fmt.Fprintln(g.stdout, "Nothing written: say --write, or --github OWNER/REPO for a pull request.")
	}
	return nil
}
