package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

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
	lo.Observe = func(c runner.Cycle) {
		if c.Outcome != nil && g.format == "json" {
			_ = writeDocument(g, c.Outcome)
		}
	}
	g.logger.Info("reconcile loop", "interval", lf.interval, "lease", lo.Lease != nil)
	return runner.Loop(ctx, o, lo)
}
