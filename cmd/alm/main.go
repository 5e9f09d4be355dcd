// Command alm manages the lifecycle of directory accounts kept as YAML in Git.
// This file is wiring only: flags to options, logging, exit codes. The work
// is done by the packages under reconciler/ and connectors/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, as DESIGN.md section 7 sets them.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // a plan has changes (with --detailed-exitcode)
	exitInvalid = 3 // invalid input, policy denied, or a guard refused
)

// exitCode lets a command choose its exit code after printing its own report.
type exitCode struct {
	code int
	err  error
}

func (e *exitCode) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCode) Unwrap() error { return e.err }

// globals are the flags every command shares and the process's streams.
type globals struct {
	repo      string
	rev       string
	format    string
	now       string
	logLevel  string
	logFormat string
	stdout    io.Writer
	stderr    io.Writer
	logger    *slog.Logger
	clockTime func() time.Time
}

// at returns --now, or the clock's time.
func (g *globals) at() (time.Time, error) {
	if g.now == "" {
		return g.clockTime().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, g.now)
	if err != nil {
		return time.Time{}, &exitCode{exitInvalid, fmt.Errorf("--now %q: use RFC 3339, e.g. 2026-11-22T09:00:00Z", g.now)}
	}
	return t.UTC(), nil
}

func main() {
	// SIGINT and SIGTERM stop a run after the change in flight (the
	// packages finish it and write its receipt); a second signal kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// clock is the time commands run at; tests set it, as --now may not be
// used where alm writes.
var clock = time.Now

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	out := &counting{w: stdout}
	g := &globals{stdout: out, stderr: stderr, clockTime: clock}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code, shown := exitError, err
	var ec *exitCode
	if errors.As(err, &ec) {
		code, shown = ec.code, ec.err
	}
	if shown == nil {
		return code
	}
	fmt.Fprintln(stderr, "alm:", shown)
	// With --format json, stdout holds one document: the error's, when the
	// command wrote none before it failed.
	if g.format == "json" && out.n == 0 {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Error    string `json:"error"`
			ExitCode int    `json:"exitCode"`
		}{shown.Error(), code})
	}
	return code
}

// counting counts what is written through it.
type counting struct {
	w io.Writer
	n int
}

func (c *counting) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "alm",
		Short: "Account lifecycle management as code for Active Directory",
		Long: `alm manages the whole life of directory accounts - service accounts and people who
join, move and leave - as YAML files in a Git repository (the access repository).
Pull requests are checked by Rego policies; a reconciler carries the merged state
into Active Directory, so Git history is the audit log.

Secrets come from the environment or files, never from flags:
  ALM_BIND_DN, ALM_BIND_PASSWORD or ALM_BIND_PASSWORD_FILE, GITHUB_TOKEN, and the
  variables alm.yaml's notify names for the SMTP password and the webhook key.

Exit codes: 0 success and nothing to do; 1 error; 2 a plan has changes or
findings (with --detailed-exitcode), or apply left findings or something it
could not tell people (a notice, a password, a pull-request answer); 3 invalid input,
policy denied, or a guard refused.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if g.logger, err = newLogger(g.stderr, g.logLevel, g.logFormat); err != nil {
				return err
			}
			switch g.format {
			case "text", "json", "markdown":
			default:
				return &exitCode{exitInvalid, fmt.Errorf("--format %q: use text, json or markdown", g.format)}
			}
			return nil
		},
	}
	root.SetVersionTemplate(versionTemplate)
	f := root.PersistentFlags()
	f.StringVar(&g.repo, "repo", ".", "access repository: a path to a working tree or Git repository, or a URL")
	f.StringVar(&g.rev, "rev", "", "Git revision to read (commit, branch or tag); empty reads the working tree")
	f.StringVar(&g.format, "format", "text", "output format: text, json or markdown")
	f.StringVar(&g.now, "now", "", "the time to evaluate lifecycles at, RFC 3339 (default: the clock); for plan, validate, check, demo, import, new and hr sync only (never for what writes to the directory): apply and reconcile refuse it")
	f.StringVar(&g.logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	f.StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text (key=value) or json (one object a line)")

	root.AddCommand(
		newValidateCommand(g),
		newCheckCommand(g),
		newPlanCommand(g),
		newApplyCommand(g),
		newReconcileCommand(g),
		newDemoCommand(g),
		newNoticesCommand(g),
		newImportCommand(g),
		newVersionCommand(g),
		newInitCommand(g), newSchemaCommand(g), newNewCommand(g),
		newRotateCommand(g),
		newReviewCommand(g),
		newAuditCommand(g),
		newHRCommand(g),
	)
	return root
}
