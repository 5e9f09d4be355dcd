package main

import (
	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/demo"
	"github.com/alm-project/alm/reconciler/model"
)

func newDemoCommand(g *globals) *cobra.Command {
	var (
		dir     directoryFlags
		workDir string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Walk through a year of account lifecycle on a copy of examples/acme",
		Long: `demo copies the embedded examples/acme into a new Git repository and reconciles it
into a directory while time moves forward: the first run, a joiner provisioned
ahead and starting, a service account expiring, a mover, drift made by hand and
reverted, a contractor leaving. Each step shows the plan and what was applied,
and leaves a receipt on the alm-status branch.

Without --directory it uses an in-memory directory. With --directory it runs
against a real Active Directory (credentials from ALM_BIND_DN and
ALM_BIND_PASSWORD or ALM_BIND_PASSWORD_FILE): it creates the example's OUs and
groups under OU=ALM of the domain example.test, so point it only at a test domain,
such as the one make ad-start runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			opts := demo.Options{Out: g.stdout, Logger: g.logger, WorkDir: workDir, DirectoryURL: "an in-memory directory"}
			if dir.url == "" {
				return demo.Run(ctx, memory.New("DC=example,DC=test"), opts)
			}
			d, url, err := dir.open(ctx, g, &model.Repository{})
			if err != nil {
				return err
			}
			defer d.Close()
			opts.DirectoryURL = url
			return demo.Run(ctx, d, opts)
		},
	}
	dir.add(cmd)
	cmd.Flags().StringVar(&workDir, "work-dir", "", "an empty folder for the access repository copy (default: a new temporary folder)")
	return cmd
}
