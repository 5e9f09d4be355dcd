package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/scaffold"
)

// terminal reports whether a person is at stdin to answer init's
// questions; tests replace it.
var terminal = interactive

func newInitCommand(g *globals) *cobra.Command {
	var (
		o     scaffold.Options
		force bool
	)
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a new access repository: alm.yaml, templates, folders, the pull-request workflow and the schemas",
		Long: `init writes a minimal access repository into DIR (default "."):

  alm.yaml                         the directory: --domain, --base-dn, the OUs below --ou,
                                   the marker attribute, orphans reported, limits, --time-zone, --url
  templates/employee.yaml          the rules for people of type employee
  templates/service-account.yaml   the rules for service accounts: lifetime, approvals,
                                   notices, end of life
  people/, service-accounts/, roles/   empty but for a README each, so Git keeps them
  README.md                        the layout and the workflow: pull request, alm check,
                                   merge, alm reconcile
  .github/workflows/alm.yaml       runs alm check on every pull request
  .alm/schemas/*.json              the JSON Schemas, which the first line of every YAML
                                   file points editors at

Every field is commented with why. The values are checked with alm validate's
loader before anything is written: one that makes a file invalid is refused
naming its flag. Then the files are written and loaded back from DIR as alm
validate loads them; a problem then is reported and exits 1.

init refuses to overwrite any file it would write (naming it) unless --force;
other files in DIR are left alone. When --domain or --base-dn is missing,
init asks for it if a person is at the terminal, and refuses otherwise.

Exit codes: 0 written and valid; 3 a flag is missing or invalid, or a file
exists; 1 the files could not be written, or do not validate once written.`,
		Example: `  alm init access --domain example.test --base-dn DC=example,DC=test
  alm init . --domain corp.example.com --base-dn DC=corp,DC=example,DC=com --ou OU=Identity \
      --time-zone Europe/Berlin --url ldaps://dc1.corp.example.com:636`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := textOrJSON(g, "init"); err != nil {
				return err
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if err := ask(g, &o); err != nil {
				return err
			}
			o.Version = versionString()
			g.logger.Debug("init", "dir", dir, "domain", o.Domain, "baseDN", o.BaseDN, "ou", o.OU)
			files, err := scaffold.Init(dir, o, force)
			if err != nil {
				return scaffoldError(err)
			}
			paths := make([]string, len(files))
			for i, f := range files {
				paths[i] = f.Path
			}
			if g.format == "json" {
				return writeJSON(g, struct {
					Directory string   `json:"directory"`
					Wrote     []string `json:"wrote"`
					Valid     bool     `json:"valid"`
				}{dir, paths, true})
			}
			fmt.Fprintf(g.stdout, "Wrote a new access repository in %s:\n", dir)
			for _, p := range paths {
				fmt.Fprintln(g.stdout, "  "+p)
			}
			fmt.Fprintf(g.stdout, "alm validate finds no problem in it. Next: add people (alm new person) and service accounts\n"+
				"(alm new service-account), commit, and see what the first run would do with\nalm plan --repo %s --directory ldaps://...\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Domain, "domain", "", "the domain's DNS name, e.g. example.test (asked when a terminal is attached)")
	f.StringVar(&o.BaseDN, "base-dn", "", "the domain's DN, e.g. DC=example,DC=test (asked when a terminal is attached)")
	f.StringVar(&o.OU, "ou", scaffold.DefaultOU, "alm's root OU, relative to --base-dn: the OUs of people, service accounts, groups, leavers and retired accounts go below it")
	f.StringVar(&o.TimeZone, "time-zone", "UTC", "the IANA time zone every date in the files means midnight in, e.g. Europe/Berlin")
	f.StringVar(&o.URL, "url", "", "the domain controller, ldaps://host:636 (optional; plan and apply take --directory)")
	f.BoolVar(&force, "force", false, "overwrite the files init writes when they exist")
	return cmd
}

// ask fills in --domain and --base-dn from the person at the terminal, or
// refuses naming the first flag missing when there is nobody to ask.
func ask(g *globals, o *scaffold.Options) error {
	if o.Domain != "" && o.BaseDN != "" {
		return nil
	}
	if !terminal() {
		missing := "--domain"
		if o.Domain != "" {
			missing = "--base-dn"
		}
		return &exitCode{exitInvalid, fmt.Errorf("%s is required (no terminal to ask at): e.g. alm init --domain example.test --base-dn DC=example,DC=test", missing)}
	}
	in := bufio.NewReader(os.Stdin)
	var err error
	if o.Domain == "" {
		if o.Domain, err = prompt(g, in, "Domain (DNS name, e.g. example.test): ", ""); err != nil {
			return err
		}
	}
	if o.BaseDN == "" {
		if o.BaseDN, err = prompt(g, in, fmt.Sprintf("Base DN [%s]: ", baseDNOf(o.Domain)), baseDNOf(o.Domain)); err != nil {
			return err
		}
	}
	return nil
}

// prompt asks on stderr, so that stdout stays the command's output.
func prompt(g *globals, in *bufio.Reader, question, fallback string) (string, error) {
	fmt.Fprint(g.stderr, question)
	answer, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	answer = strings.TrimSpace(answer)
	if answer == "" {
		answer = fallback
	}
	return answer, nil
}

// baseDNOf is the DN of a DNS domain: example.test is DC=example,DC=test.
func baseDNOf(domain string) string {
	if domain == "" {
		return ""
	}
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		labels[i] = "DC=" + l
	}
	return strings.Join(labels, ",")
}

// scaffoldError exits 3 on what the input caused, 1 otherwise.
func scaffoldError(err error) error {
	var ie *scaffold.InvalidError
	if errors.As(err, &ie) {
		return &exitCode{exitInvalid, err}
	}
	return err
}

// textOrJSON refuses --format markdown for commands whose output is a
// list of files, not a report to paste.
func textOrJSON(g *globals, command string) error {
	if g.format == "markdown" {
		return &exitCode{exitInvalid, fmt.Errorf("--format markdown: %s prints text or json", command)}
	}
	return nil
}

// writeJSON prints v as the one JSON document of a command's output.
func writeJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
