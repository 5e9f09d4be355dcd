package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
)

func newPlanCommand(g *globals) *cobra.Command {
	var (
		dir         directoryFlags
		limits      limitFlags
		out         string
		detailed    bool
		workingTree bool
		cacheDir    string
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change in the directory, and why; never writes",
		Long: `plan loads the access repository (HEAD of a Git repository unless --rev or
--working-tree say otherwise), computes the desired state of every account at --now,
reads the directory once, and shows each change with the file, field and date
that cause it. The guards (protected accounts, limits on disables, group removals
and deletes) are checked over the whole plan; a refused plan exits 3.

--out plan.json saves the plan for alm apply --plan, which refuses it if the
revision or the directory has changed since.

Whatever the plan leaves different from the access repository - a membership
no role names (reported), a name or DN held by another object, a group that does
not exist, adminCount left behind, a half-made account - is listed as a finding
with what to do; "The directory matches the access repository" is said only
when there are no changes and no findings.

Exit codes: 0 no changes (or changes, without --detailed-exitcode); 2 changes or
findings, with --detailed-exitcode; 3 invalid repository or plan refused; 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			now, err := g.at()
			if err != nil {
				return err
			}
			overrides, err := limits.overrides()
			if err != nil {
				return err
			}
			src, err := source(ctx, g, cacheDir, !workingTree)
			if err != nil {
				return err
			}
			// The directory is dialled and read while the repository loads;
			// a repository with problems still says so first.
			var read *reconcile.Reading[*ad.Directory]
			if settings, _ := reconcile.Settings(ctx, src); settings != nil {
				open := func(ctx context.Context) (*ad.Directory, error) {
					d, _, err := dir.open(ctx, g, settings)
					return d, err
				}
				read, _ = reconcile.StartRead(ctx, open, settings, now)
			}
			repo, err := loadSource(ctx, src)
			if err != nil {
				if d := read.Stop(); d != nil {
					d.Close()
				}
				return err
			}
			if read != nil && !read.For(repo) {
				if d := read.Stop(); d != nil {
					d.Close()
				}
				read = nil
			}
			opts := reconcile.Options{Now: now, Limits: overrides, Logger: g.logger}
			var d *ad.Directory
			if read != nil {
				d, err = read.Wait()
				opts.Read = read
			} else {
				d, _, err = dir.open(ctx, g, repo)
			}
			if err != nil {
				if d != nil {
					d.Close()
				}
				return err
			}
			defer d.Close()
			pl, err := reconcile.PlanLoaded(ctx, d, repo, src, opts)
			if err != nil {
				return err
			}
			if err := writePlan(g, pl.Plan); err != nil {
				return err
			}
			if out != "" {
				var buf bytes.Buffer
				if err := render.JSON(&buf, pl.Plan); err != nil {
					return err
				}
				if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
					return fmt.Errorf("save plan: %w", err)
				}
				fmt.Fprintf(g.stderr, "Plan saved to %s; apply it with: alm apply --plan %s\n", out, out)
			}
			if pl.Refused != nil {
				return &exitCode{exitInvalid, reconcile.Refusal(pl.Refused)}
			}
			if detailed && !pl.Plan.Matches() {
				return &exitCode{code: exitChanges}
			}
			return nil
		},
	}
	dir.add(cmd)
	limits.add(cmd)
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "save the plan as JSON to this file, for alm apply --plan")
	f.BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when the plan has changes or findings: the directory does not match the access repository")
	f.BoolVar(&workingTree, "working-tree", false, "plan the working tree's uncommitted files instead of HEAD")
	f.StringVar(&cacheDir, "cache-dir", "", "where to keep the mirror of a remote --repo (default: the user's cache folder); when given, also the files parsed, so the next run parses only what changed (only alm's user may write to it)")
	return cmd
}

func writePlan(g *globals, p *plan.Plan) error {
	switch g.format {
	case "json":
		return render.JSON(g.stdout, p)
	case "markdown":
		return render.Markdown(g.stdout, p)
	}
	return render.Text(g.stdout, p)
}
