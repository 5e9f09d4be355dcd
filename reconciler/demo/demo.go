// Package demo is alm's guided walk-through: a copy of examples/acme in a
// temporary Git repository, reconciled into a directory while time moves
// forward - a joiner starts, a service account expires, someone moves, a
// leaver is re-enabled by hand, a contractor leaves - each step showing the
// plan and what was applied. It runs the very code alm reconcile runs.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/connectors/outbox"
	"github.com/alm-project/alm/examples"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
	"github.com/alm-project/alm/reconciler/runner"
)

// Directory is what the demo needs: what alm reconciles through.
type Directory interface {
	reconcile.Directory
}

// Options are the demo's settings.
type Options struct {
	Out          io.Writer
	Logger       *slog.Logger
	DirectoryURL string // shown and recorded in receipts
	WorkDir      string // where the access repository copy goes; a temporary folder when empty
}

// session is one walk-through's state.
type session struct {
	dir  Directory
	opts Options
	path string
	repo *git.Repository
	want *desired.State // at the start, for the OUs and groups the example names
}

// step is one moment of the story.
type step struct {
	at    string
	title string
	story string
	act   func(ctx context.Context, s *session) error
	// allow is what an operator allows for one run after reading a plan the
	// guards refused (the --max-* flags).
	allow map[string]model.Limit
}

var steps = []step{
	{"2026-11-22T09:00:00Z", "First run",
		"The directory has none of acme's accounts yet. alm creates each one the files describe, in the state its dates give, and the OUs and groups they need: active people enabled with their groups, the leaver disabled in the leavers OU, the expired service account disabled.", nil, nil},
	{"2026-11-22T09:05:00Z", "The same revision again",
		"Nothing changed in Git or in the directory, so there is nothing to do.", nil, nil},
	{"2026-11-30T06:00:00Z", "A joiner's account is made ahead of the start",
		"lchen starts on 2026-12-07; the employee template provisions 7 days ahead: the account exists, disabled, with no groups.", nil, nil},
	{"2026-12-07T06:00:00Z", "The joiner's first day",
		"lchen's startDate has come: the account is enabled and joins the groups of lchen's roles. The same run deletes svc-ci-runner, which expired on 2026-11-01 and was retired 30 days later.", nil, nil},
	{"2026-12-10T06:00:00Z", "A service account expires",
		"svc-payroll-export expires today and nobody renewed it: the template's end of life disables it.", nil, nil},
	{"2026-12-11T06:00:00Z", "A mover",
		"A merged pull request moves jdoe from Engineering to Sales: the birthright groups are swapped in one run, and the manager changes.", moveJdoe, nil},
	{"2026-12-12T06:00:00Z", "Drift",
		"Someone re-enabled the leaver oobrien by hand in the directory. alm reverts it and marks the change as drift.", reenableLeaver, nil},
	{"2027-01-30T06:00:00Z", "Notices before the end of life",
		"svc-crm-sync expires on 2027-03-01: 30 days before, the service-account template tells its owner dkim and its custodian ewright, once. kwalker's contract ends tomorrow: the contractor template's notice to the manager was due on 2027-01-17, when no run happened, so this run sends it. The same run would delete two retired accounts, over alm.yaml's limit: the guards refuse the plan and nothing changes in the directory, but notices are not directory work and go out all the same. (The demo's channel is its own output; alm.yaml's notify sends them by e-mail, webhook or GitHub issue.)", nil, nil},
	{"2027-02-01T06:00:00Z", "A contractor leaves; two accounts are retired",
		"kwalker's contract ended on 2027-01-31: the account is disabled, moved to the leavers OU and, as the contractor template keeps no grace period, leaves its groups. The same run would delete the leaver oobrien (90 days of retention are over) and the expired svc-payroll-export (30 days after expiry): two deletes are over alm.yaml's limit of 10% of managed accounts, so the guards refuse the whole plan. An operator reads it and allows it for this run, as alm apply --max-delete 12% would.",
		nil, map[string]model.Limit{plan.LimitDelete: {Fraction: 0.12}}},
}

// Run walks through the story against dir.
func Run(ctx context.Context, dir Directory, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &session{dir: dir, opts: opts}
	if err := s.setUp(ctx); err != nil {
		return err
	}
	out := opts.Out
	fmt.Fprintf(out, "alm demo: examples/acme, copied to the Git repository %s,\nreconciled into %s.\n", s.path, opts.DirectoryURL)
	for i, st := range steps {
		now, _ := time.Parse(time.RFC3339, st.at)
		fmt.Fprintf(out, "\n%s\n== Step %d, %s: %s\n%s\n\n", strings.Repeat("=", 78), i+1, now.Format("2006-01-02 15:04"), st.title, wrap(st.story, 78))
		if st.act != nil {
			if err := st.act(ctx, s); err != nil {
				return fmt.Errorf("step %d (%s): %w", i+1, st.title, err)
			}
		}
		if err := s.reconcile(ctx, now, st.allow); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, st.title, err)
		}
	}
	fmt.Fprintf(out, "\n%s\nEvery apply left a receipt on the alm-status branch: git -C %s log --oneline alm-status\n", strings.Repeat("=", 78), s.path)
	return nil
}

// reconcile is one reconciler run at now, as alm reconcile makes it
// (runner.Once), with the demo's output as its one channel. A plan the
// guards refuse is shown; with allow, the operator runs again with the
// limits raised for this run, as alm apply --max-* does.
func (s *session) reconcile(ctx context.Context, now time.Time, allow map[string]model.Limit) error {
	var sent strings.Builder
	once := func(limits map[string]model.Limit, show bool) (*runner.Outcome, error) {
		return runner.Once(ctx, runner.Options{
			Repo: s.path, Rev: "HEAD", Clock: func() time.Time { return now }, Logger: s.opts.Logger,
			Open: func(context.Context, *model.Repository) (runner.Directory, string, error) {
				return keepOpen{s.dir}, s.opts.DirectoryURL, nil
			},
			Show: func(pl *reconcile.Planned) error {
				if !show {
					return nil
				}
				return render.Text(s.opts.Out, pl.Plan)
			},
			Apply: reconcile.ApplyOptions{Options: reconcile.Options{Limits: limits}, Retries: 2, Backoff: 50 * time.Millisecond,
				Channels: []notify.Channel{outbox.To(&sent)}},
		})
	}
	out, err := once(nil, true)
	if out != nil && out.Refused != nil {
		fmt.Fprintf(s.opts.Out, "\nThe guards: %v\n", out.Planned.Refused)
		s.showSent(&sent, out.Applied)
		if allow == nil {
			return nil
		}
		fmt.Fprintf(s.opts.Out, "\nThe operator checks the plan and runs it again, allowed for this run.\n")
		out, err = once(allow, false)
	}
	if err != nil {
		return err
	}
	if a := out.Applied; a != nil && len(a.Result.Changes) > 0 {
		fmt.Fprintln(s.opts.Out)
		if err := render.ResultText(s.opts.Out, &a.Result); err != nil {
			return err
		}
		if !a.Result.OK() {
			return fmt.Errorf("%d changes failed and %d were skipped", a.Result.Failed, a.Result.Skipped)
		}
	}
	s.showSent(&sent, out.Applied)
	return nil
}

// showSent prints the messages the run's channel wrote, and empties it.
func (s *session) showSent(sent *strings.Builder, a *reconcile.Applied) {
	if sent.Len() == 0 || a == nil {
		return
	}
	fmt.Fprintf(s.opts.Out, "\nSent (%d):\n", len(a.Notices))
	for _, line := range strings.Split(strings.TrimRight(sent.String(), "\n"), "\n") {
		fmt.Fprintln(s.opts.Out, strings.TrimRight("  | "+line, " "))
	}
	sent.Reset()
}

// keepOpen lends the demo's directory to a run, which closes what it
// opens: the demo's stays open for the next step.
type keepOpen struct{ Directory }

func (keepOpen) Close() error { return nil }

// setUp copies the example into a new Git repository. The directory is
// left as it is: alm makes the OUs and groups the example needs.
func (s *session) setUp(ctx context.Context) error {
	path := s.opts.WorkDir
	if path == "" {
		var err error
		if path, err = os.MkdirTemp("", "alm-demo-"); err != nil {
			return fmt.Errorf("temporary folder: %w", err)
		}
	}
	s.path = path
	if err := os.CopyFS(path, examples.Acme()); err != nil {
		return fmt.Errorf("copy examples/acme to %s: %w", path, err)
	}
	repo, err := git.PlainInit(path, false)
	if err != nil {
		return fmt.Errorf("git init %s: %w", path, err)
	}
	s.repo = repo
	if err := s.commit("Import the acme access repository", time.Date(2026, 11, 21, 17, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	repoModel, err := reconcile.Load(ctx, reconcile.Source{Path: path, Rev: "HEAD"})
	if err != nil {
		return err
	}
	want, err := desired.Compute(repoModel, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	s.want = want
	return nil
}

func (s *session) commit(msg string, when time.Time) error {
	wt, err := s.repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.AddGlob("."); err != nil {
		return fmt.Errorf("git add: %w", err)
	}
	sig := &object.Signature{Name: "Jane Doe", Email: "jane.doe@example.test", When: when}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
		return fmt.Errorf("git commit: %w", err)
	}
	return nil
}

// edit replaces text in a file of the access repository.
func (s *session) edit(file string, replacements ...string) error {
	p := filepath.Join(s.path, file)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	text := string(data)
	for i := 0; i+1 < len(replacements); i += 2 {
		if !strings.Contains(text, replacements[i]) {
			return fmt.Errorf("%s has no %q", file, replacements[i])
		}
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	return os.WriteFile(p, []byte(text), 0o644)
}

func moveJdoe(_ context.Context, s *session) error {
	err := s.edit("people/jdoe.yaml",
		"department: Engineering", "department: Sales",
		"title: Backend engineer", "title: Sales engineer",
		"manager: asmith", "manager: dkim")
	if err != nil {
		return err
	}
	fmt.Fprintln(s.opts.Out, "  people/jdoe.yaml: department Engineering -> Sales, title, manager asmith -> dkim (merged)")
	fmt.Fprintln(s.opts.Out)
	return s.commit("jdoe moves to Sales\n\nApproved-by: Anna Smith <anna.smith@example.test>", time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC))
}

func reenableLeaver(ctx context.Context, s *session) error {
	snap, err := s.dir.Read(ctx, s.want.Scope())
	if err != nil {
		return err
	}
	for _, a := range snap.Accounts {
		if strings.EqualFold(a.Name, "oobrien") {
			fmt.Fprintf(s.opts.Out, "  by hand: userAccountControl of %s set to 512 (enabled)\n\n", a.DN)
			return s.dir.SetAccountControl(ctx, directory.Ref{DN: a.DN, GUID: a.GUID, Marker: a.Marker}, directory.UACNormalAccount)
		}
	}
	return errors.New("oobrien is not in the directory")
}

// wrap folds text at width.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
