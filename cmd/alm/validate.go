package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

func newValidateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the access repository's files: schema, names, references, template rules",
		Long: `validate loads the access repository (the working tree, or the commit --rev names,
without touching the working tree) and lists every problem as path:line:col: message.

Exit 0 when valid, 3 when the repository has problems, 1 when it could not be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, problems, err := loadRepository(cmd, g)
			if err != nil {
				return err
			}
			if err := writeProblems(g, repo, problems); err != nil {
				return err
			}
			if len(problems) > 0 {
				return &exitCode{code: exitInvalid}
			}
			return nil
		},
	}
}

// loadRepository reads --repo at --rev (the working tree when --rev is empty).
func loadRepository(cmd *cobra.Command, g *globals) (*model.Repository, load.Problems, error) {
	g.logger.Debug("loading access repository", "repo", g.repo, "rev", g.rev)
	if g.rev == "" {
		return load.Dir(g.repo)
	}
	return load.Revision(cmd.Context(), g.repo, g.rev)
}

func writeProblems(g *globals, repo *model.Repository, problems load.Problems) error {
	switch g.format {
	case "json":
		out := struct {
			Valid    bool          `json:"valid"`
			Revision string        `json:"revision,omitempty"`
			Problems load.Problems `json:"problems"`
		}{len(problems) == 0, repo.Revision, problems}
		if out.Problems == nil {
			out.Problems = load.Problems{}
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "markdown":
		if len(problems) == 0 {
			_, err := fmt.Fprintf(g.stdout, "**Valid**: %s\n", summary(repo))
			return err
		}
		fmt.Fprintf(g.stdout, "**%d problems**\n\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(g.stdout, "- `%s`: %s\n", p.Pos, p.Message)
		}
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(g.stdout, p)
	}
	if len(problems) > 0 {
		_, err := fmt.Fprintf(g.stdout, "\n%d problems. Fix them and run alm validate again.\n", len(problems))
		return err
	}
	_, err := fmt.Fprintf(g.stdout, "Valid: %s.\n", summary(repo))
	return err
}

func summary(repo *model.Repository) string {
	s := fmt.Sprintf("%d people, %d service accounts, %d roles, %d templates, %d policies",
		len(repo.People), len(repo.ServiceAccounts), len(repo.Roles), len(repo.Templates), len(repo.Policies))
	if repo.Revision != "" {
		s += " at " + repo.Revision[:min(12, len(repo.Revision))]
	}
	return s
}
