package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/reconciler/alert"
	"github.com/alm-project/alm/reconciler/metrics"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/reconcile"
	"github.com/alm-project/alm/reconciler/runner"
)

// loopFlags make alm reconcile a service.
type loopFlags struct {
	interval, jitter, runTimeout time.Duration
	leaseName, leaseOwner        string
	leaseDuration                time.Duration
	noLease                      bool
	listen                       string
	healthAfter                  time.Duration
}

func (f *loopFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.DurationVar(&f.interval, "interval", 0, "run as a service: a run this often, until SIGTERM (0: one run and exit)")
	fl.DurationVar(&f.jitter, "jitter", 0, "with --interval: wait up to this much more between runs, at random")
	fl.DurationVar(&f.runTimeout, "run-timeout", 30*time.Minute, "with --interval: the longest one run may take (the change in flight finishes)")
	fl.StringVar(&f.leaseName, "lease-name", "alm-lease", "with --interval: the lease object's cn, in alm.yaml's groups OU (the base DN without one)")
	fl.DurationVar(&f.leaseDuration, "lease-duration", 2*time.Minute, "with --interval: how long the lease holds without renewal; another reconciler takes it over only after that")
	fl.StringVar(&f.leaseOwner, "lease-owner", "", "with --interval: who holds the lease, as receipts name it (default host name and process id)")
	fl.BoolVar(&f.noLease, "no-lease", false, "with --interval: run without a lease (only when one reconciler alone may ever run)")
	fl.StringVar(&f.listen, "listen", "", "with --interval: serve /healthz and /metrics on this address, e.g. :9090")
	fl.DurationVar(&f.healthAfter, "health-after", time.Hour, "with --listen: /healthz fails when the last successful run is older than this")
}

// runLoop runs alm reconcile as a service.
func runLoop(ctx context.Context, g *globals, f *applyFlags, lf *loopFlags) error {
	if g.now != "" {
		return &exitCode{exitInvalid, fmt.Errorf("--now is for plan, validate, check and demo: reconcile writes at the clock's time")}
	}
	o, err := runOptions(g, f)
	if err != nil {
		return err
	}
	if o.Saved != nil {
		return &exitCode{exitInvalid, fmt.Errorf("--plan with --interval: a saved plan is applied once; run alm apply --plan")}
	}
	lo := runner.LoopOptions{Interval: lf.interval, Jitter: lf.jitter, Timeout: lf.runTimeout}
	if !lf.noLease {
		owner := lf.leaseOwner
		if owner == "" {
			host, _ := os.Hostname()
			owner = fmt.Sprintf("%s/%d", host, os.Getpid())
		}
		lo.Lease = &runner.LeaseOptions{Name: lf.leaseName, Owner: owner, TTL: lf.leaseDuration}
	}
	m := metrics.New()
	started := g.clockTime()
	var held runner.Cycle // the last cycle's lease facts, for the lease alert
	o.Apply.Alerts = func(pl *reconcile.Planned, a *reconcile.Applied) []notify.Message {
		f := alert.Facts{Alerts: pl.Repo.Directory.Spec.Alerts, LastSuccess: m.LastSuccess(), Started: started,
			Run: &alert.Run{At: g.clockTime(), Refused: a.Refusal, Failed: a.Result.Failed, Errors: failures(a)}}
		if held.Lease != nil {
			f.LeaseHolder, f.LeaseSince = held.Lease.Owner, held.Lease.Since
		}
		return alert.Evaluate(f, pl.Ledger, g.clockTime())
	}
	// A run that stops before it applies (Git or the directory down)
	// writes no receipt: its alerts (no success for too long) go out here,
	// remembered by this process, with what the last repository read says.
	var last *runner.Outcome
	mem := notify.Ledger{}
	lo.Observe = func(c runner.Cycle) {
		held = c
		m.Observe(observed(c))
		if c.Outcome != nil && c.Outcome.Repo != nil {
			last = c.Outcome
		}
		if c.Err != nil && last != nil {
			stopped(ctx, g, f, last, c, m.LastSuccess(), started, mem)
		}
		if c.Lease != nil {
			m.SetLease(c.Skipped == "", c.Lease.Owner)
		}
		if c.Outcome != nil && g.format == "json" {
			_ = writeDocument(g, c.Outcome)
		}
	}
	if lf.listen != "" {
		srv := &http.Server{Addr: lf.listen, Handler: m.Handler(lf.healthAfter), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.logger.Error("health and metrics server stopped", "listen", lf.listen, "error", err)
			}
		}()
		defer srv.Close()
	}
	g.logger.Info("reconcile loop", "interval", lf.interval, "lease", lo.Lease != nil, "listen", lf.listen)
	return runner.Loop(ctx, o, lo)
}

// stopped sends the alerts of a run that stopped before it applied.
func stopped(ctx context.Context, g *globals, f *applyFlags, last *runner.Outcome, c runner.Cycle, lastSuccess, started time.Time, mem notify.Ledger) {
	spec := last.Repo.Directory.Spec
	if spec.Alerts == nil {
		return
	}
	ledger, err := receipt.Ledger(ctx, last.Source.Path, spec.StatusBranch)
	if err != nil {
		ledger = notify.Ledger{}
	}
	for id, chans := range mem {
		for ch, at := range chans {
			if ledger[id] == nil {
				ledger[id] = map[string]time.Time{}
			}
			ledger[id][ch] = at
		}
	}
	chans, _ := channels(spec.Notify, f.githubAPI)
	now := g.clockTime()
	fs := alert.Facts{Alerts: spec.Alerts, LastSuccess: lastSuccess, Started: started,
		Run: &alert.Run{At: now, Error: c.Err.Error()}}
	mem.Record(notify.Send(ctx, alert.Evaluate(fs, ledger, now), chans, ledger, now, g.logger))
}

// observed is a cycle as the metrics count it.
func observed(c runner.Cycle) metrics.Run {
	r := metrics.Run{Start: c.Start, Duration: c.Duration, Outcome: metrics.Succeeded}
	out := c.Outcome
	switch {
	case c.Skipped != "":
		r.Outcome = metrics.Unchanged
		return r
	case out != nil && out.Refused != nil:
		r.Outcome = metrics.Refused
		if out.Applied != nil {
			r.Refused = metrics.Refusals(out.Applied.Refusal)
		}
	case c.Err != nil:
		r.Outcome = metrics.Failed
	}
	if out == nil {
		return r
	}
	if out.Planned != nil {
		p := out.Planned.Plan
		r.Planned, r.Findings, r.Orphans, r.Drift = true, len(p.Findings), len(p.Orphans), p.Summary().Drift
	}
	if a := out.Applied; a != nil {
		r.Applied, r.Failed = metrics.Changes(a.Result)
		r.NoticesFailed = notify.Failed(a.Notices)
		r.NoticesSent = len(a.Notices) - r.NoticesFailed
		if a.Result.Failed > 0 && r.Outcome == metrics.Succeeded {
			r.Outcome = metrics.Failed
		}
	}
	return r
}

// failures are a run's failed changes, "change: error", for an alert.
func failures(a *reconcile.Applied) []string {
	var out []string
	for _, c := range a.Result.Changes {
		if c.Error != "" && c.Outcome == "failed" {
			out = append(out, c.Change.ID+": "+c.Error)
		}
	}
	return out
}
