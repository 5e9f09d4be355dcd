package main

import (
	"crypto/rand"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/scaffold"
)

func newNewCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Write the file of a new account into the working tree: new service-account, new person",
		Long: `new writes the file of a new account into the working tree at --repo, checked
as alm validate checks it: the repository must be valid before, and with the file
in place. When it is not, the file is removed again and the problems are listed.
Commit the file on a branch and open a pull request: alm check judges it there.

Exit codes: 0 written; 3 a flag is missing or invalid, the file exists, or the
repository does not validate; 1 the repository could not be read or written.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newServiceAccountCommand(g), newPersonCommand(g))
	return cmd
}

func newServiceAccountCommand(g *globals) *cobra.Command {
	var (
		r       scaffold.ServiceAccountRequest
		expires string
	)
	cmd := &cobra.Command{
		Use:   "service-account NAME --owner LOGIN --description TEXT",
		Short: "Write service-accounts/NAME.yaml: a fresh id, created today, expiring at the template's default lifetime",
		Long: `service-account writes service-accounts/NAME.yaml in the working tree at --repo.

The account gets a fresh id (sa- and 10 random lower-case letters and digits),
created is today (in alm.yaml's timeZone; --now sets the day), and expires is
created plus the template's lifetime.default, or --expires when it is within the
template's lifetime.max. NAME must match the template's naming pattern, and the
owner and custodians must be people of the repository (people/LOGIN.yaml).
--template defaults to the repository's only template for service accounts.`,
		Example: `  alm new service-account svc-backup --owner jdoe --description "Nightly backup of the file servers" \
      --custodian tnguyen --role backup-operators --expires 2027-03-31`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Name = args[0]
			var err error
			if r.Expires, err = dateFlag("--expires", expires); err != nil {
				return err
			}
			return writeAccount(g, func(repo *model.Repository, today model.Date) (scaffold.Account, error) {
				return scaffold.ServiceAccount(repo, r, today, rand.Reader)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Owner, "owner", "", "the login of the person who answers for the account (people/LOGIN.yaml)")
	f.StringVar(&r.Description, "description", "", "what the account does, in a sentence (the AD description)")
	f.StringVar(&r.Template, "template", "", "the template for service accounts (default: the only one)")
	f.StringVar(&expires, "expires", "", "the day the account expires, YYYY-MM-DD: its end of life begins then; within the template's lifetime.max (default: created plus lifetime.default)")
	f.StringArrayVar(&r.Custodians, "custodian", nil, "a person who stands in for the owner (repeat for more)")
	f.StringArrayVar(&r.Roles, "role", nil, "a role the account holds, a file in roles/ (repeat for more)")
	return cmd
}

func newPersonCommand(g *globals) *cobra.Command {
	var (
		r          scaffold.PersonRequest
		start, end string
	)
	cmd := &cobra.Command{
		Use:   "person LOGIN --id HR-NUMBER --given NAME --surname NAME",
		Short: "Write people/LOGIN.yaml: a person, starting today unless --start says otherwise",
		Long: `person writes people/LOGIN.yaml in the working tree at --repo. --id is the HR
employee number: it never changes and marks the account as alm's. LOGIN must match
the naming pattern of the template for --type (default employee); the manager
must be a person of the repository. The file says source: manual.`,
		Example: `  alm new person jdoe --id 004217 --given Jane --surname Doe --email jane.doe@example.test \
      --manager asmith --department Engineering --start 2026-01-05`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Login = args[0]
			var err error
			if r.Start, err = dateFlag("--start", start); err != nil {
				return err
			}
			if r.End, err = dateFlag("--end", end); err != nil {
				return err
			}
			return writeAccount(g, func(repo *model.Repository, today model.Date) (scaffold.Account, error) {
				return scaffold.Person(repo, r, today)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.ID, "id", "", "the HR employee number (required), e.g. 004217")
	f.StringVar(&r.Given, "given", "", "the first name (required)")
	f.StringVar(&r.Surname, "surname", "", "the last name (required)")
	f.StringVar(&r.Email, "email", "", "the work e-mail address")
	f.StringVar(&r.Manager, "manager", "", "the manager's login (people/LOGIN.yaml)")
	f.StringVar(&r.Type, "type", "employee", "employee, contractor (needs --end) or partner")
	f.StringVar(&r.Department, "department", "", "the department; roles with a birthright on it follow")
	f.StringVar(&r.Title, "title", "", "the job title")
	f.StringVar(&start, "start", "", "the first working day, YYYY-MM-DD (default: today)")
	f.StringVar(&end, "end", "", "the first day without access, YYYY-MM-DD")
	f.StringArrayVar(&r.Roles, "role", nil, "a role requested for the person, a file in roles/ (repeat for more)")
	return cmd
}

// writeAccount loads the working tree, builds the account's file for
// today, writes it and keeps it only if the repository validates with it.
func writeAccount(g *globals, build func(*model.Repository, model.Date) (scaffold.Account, error)) error {
	if err := textOrJSON(g, "new"); err != nil {
		return err
	}
	if g.rev != "" {
		return &exitCode{exitInvalid, fmt.Errorf("--rev %s: new writes into the working tree; leave --rev out", g.rev)}
	}
	now, err := g.at()
	if err != nil {
		return err
	}
	repo, err := scaffold.Load(g.repo)
	if err != nil {
		return scaffoldError(err)
	}
	a, err := build(repo, scaffold.Today(now, repo.Zone()))
	if err != nil {
		return scaffoldError(err)
	}
	problems, err := scaffold.Add(g.repo, a)
	if err != nil {
		return scaffoldError(err)
	}
	if len(problems) > 0 {
		if err := writeRejected(g, a, problems); err != nil {
			return err
		}
		return &exitCode{exitInvalid, fmt.Errorf("%s is not written: the repository does not validate with it (%d %s listed above); change the flags and run alm new again", a.Path, len(problems), pluralize(len(problems), "problem"))}
	}
	g.logger.Info("wrote account file", "file", a.Path, "id", a.ID)
	if g.format == "json" {
		return writeJSON(g, accountJSON{Written: true, File: a.Path, Kind: a.Kind, Name: a.Name, ID: a.ID,
			Created: a.Created.String(), Expires: a.Expires.String(), Start: a.Start.String(), End: a.End.String()})
	}
	fmt.Fprintf(g.stdout, "Wrote %s (id %s", a.Path, a.ID)
	if a.Kind == model.KindServiceAccount {
		fmt.Fprintf(g.stdout, ", created %s, expires %s", a.Created, a.Expires)
	} else {
		fmt.Fprintf(g.stdout, ", starts %s", a.Start)
	}
	fmt.Fprintln(g.stdout, "); alm validate finds no problem.\nCommit it on a branch and open a pull request: alm check judges it and its approvals.")
	return nil
}

type accountJSON struct {
	Written  bool          `json:"written"`
	File     string        `json:"file"`
	Kind     string        `json:"kind"`
	Name     string        `json:"name"`
	ID       string        `json:"id"`
	Created  string        `json:"created,omitempty"`
	Expires  string        `json:"expires,omitempty"`
	Start    string        `json:"startDate,omitempty"`
	End      string        `json:"endDate,omitempty"`
	Problems load.Problems `json:"problems,omitempty"`
}

// writeRejected lists the problems that made alm new take its file back.
func writeRejected(g *globals, a scaffold.Account, problems load.Problems) error {
	if g.format == "json" {
		return writeJSON(g, accountJSON{File: a.Path, Kind: a.Kind, Name: a.Name, ID: a.ID, Problems: problems})
	}
	for _, p := range problems {
		fmt.Fprintln(g.stdout, p)
	}
	return nil
}

func dateFlag(flag, v string) (model.Date, error) {
	if v == "" {
		return model.Date{}, nil
	}
	d, err := model.ParseDate(v)
	if err != nil {
		return model.Date{}, &exitCode{exitInvalid, fmt.Errorf("%s %q: write a day as YYYY-MM-DD, e.g. 2027-03-31", flag, v)}
	}
	return d, nil
}
