package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/adopt"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

func newImportCommand(g *globals) *cobra.Command {
	var (
		dir        directoryFlags
		ous        []string
		out        string
		dryRun     bool
		templates  []string
		personType string
		startDate  string
		owner      string
	)
	cmd := &cobra.Command{
		Use:   "import --directory URL --ou DN... [--out DIR] [--dry-run]",
		Short: "Write files for the accounts and groups a live domain already has",
		Long: `import reads the accounts below each --ou and writes one file per account into the
access repository (--repo, a working tree that holds alm.yaml and its templates;
alm init makes one), marked metadata.adopt: true: once merged, the apply that adopts
writes only alm's marker on them. Accounts that carry alm's marker already are
skipped; built-in and protected accounts are skipped and listed.

The template is the one whose spec.ou is the account's OU (--template OU=...=NAME
chooses another); its appliesTo makes the file a person or a service account. The id
is the employeeID when it fits, else derived from the objectGUID (sa-... for service
accounts). Names, mail, department, title, manager (as a login), description, owner
(the login the manager attribute names), expiry (accountExpires, at a midnight of
alm.yaml's timeZone) and the disabled state come from the directory; the cn and
displayName are written only where the template would give another value.
--template must name a template whose spec.ou is the account's OU: alm reads only
the templates' OUs.

Roles: a role of the repository whose groups an account all holds is granted; of the
groups left, a set that two or more accounts hold exactly becomes a new role, and
every other group a role of its own (privileged: true for a privileged group, which
then needs approvers). Every group below the groups OU gets a role. Birthright is
never inferred.

Run again, import never duplicates a file: it refreshes the fields the directory
holds in the file of the same id or login, keeps everything else, and rewrites a file
only when its content changes. The files are validated as alm validate does; the
report lists new and changed files, what a person must fill in (an expired account
taken as a leaver, an id that is not the employeeID, a privileged role's approvers),
and, from alm's own plan of the files, what the plan after the adopting apply would
change - nothing, when the files say what the directory holds.

Exit codes: 0 written and valid; 3 the files have problems (listed as path:line), or
invalid flags; 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			now, err := g.at()
			if err != nil {
				return err
			}
			if g.rev != "" {
				return &exitCode{exitInvalid, fmt.Errorf("--rev: import writes into a working tree; leave --rev out")}
			}
			o := adopt.Options{Repo: g.repo, Out: out, OUs: ous, PersonType: personType, Owner: owner, Now: now, DryRun: dryRun, Logger: g.logger}
			if len(ous) == 0 {
				return &exitCode{exitInvalid, fmt.Errorf("--ou: name at least one OU to read, e.g. --ou OU=Staff,DC=example,DC=test")}
			}
			switch personType {
			case model.TypeEmployee, model.TypeContractor, model.TypePartner:
			default:
				return &exitCode{exitInvalid, fmt.Errorf("--person-type %q: use employee, contractor or partner", personType)}
			}
			if startDate != "" {
				if o.StartDate, err = model.ParseDate(startDate); err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("--start-date: %w", err)}
				}
			}
			o.Templates = map[string]string{}
			for _, t := range templates {
				i := strings.LastIndexByte(t, '=')
				if i <= 0 || i == len(t)-1 {
					return &exitCode{exitInvalid, fmt.Errorf("--template %q: write OU-DN=TEMPLATE, e.g. --template 'OU=Staff,DC=example,DC=test=employee'", t)}
				}
				o.Templates[t[:i]] = t[i+1:]
			}
			repo, _, err := load.Dir(g.repo)
			if err != nil {
				return err
			}
			d, _, err := dir.open(ctx, g, repo)
			if err != nil {
				return err
			}
			defer d.Close()
			r, err := adopt.Run(ctx, d, o)
			if err != nil {
				return err
			}
			if err := writeImport(g, r); err != nil {
				return err
			}
			if len(r.Problems) > 0 {
				return &exitCode{code: exitInvalid}
			}
			return nil
		},
	}
	dir.add(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&ous, "ou", nil, "an OU to read accounts below, as a full DN (repeatable)")
	f.StringVar(&out, "out", "", "the folder to write the files into (default --repo)")
	f.BoolVar(&dryRun, "dry-run", false, "print the files that would be written (path and content) and write nothing")
	f.StringArrayVar(&templates, "template", nil, "OU-DN=NAME: the template for the accounts of that OU (repeatable)")
	f.StringVar(&personType, "person-type", model.TypeEmployee, "spec.type of the people imported: employee, contractor or partner")
	f.StringVar(&startDate, "start-date", "", "startDate of the people imported, YYYY-MM-DD (default today in alm.yaml's timeZone; a file's own is kept)")
	f.StringVar(&owner, "owner", "", "the owner (a person's login) of service accounts whose manager names no person")
	return cmd
}

func writeImport(g *globals, r *adopt.Report) error {
	if g.format == "json" {
		if r.DryRun {
			r.WithContent()
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if r.DryRun {
		if err := r.WriteFiles(g.stdout); err != nil {
			return err
		}
	}
	return r.Text(g.stdout)
}
