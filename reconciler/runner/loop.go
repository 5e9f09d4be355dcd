package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/lease"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// LoopOptions make Once a service: a run every Interval (plus up to
// Jitter), each bounded by Timeout, under a lease when Lease is set.
type LoopOptions struct {
	Interval time.Duration
	Jitter   time.Duration
	Timeout  time.Duration // 0: no bound but the context's
	Lease    *LeaseOptions
	// Observe is told of every cycle: what the run did (nil when it was
	// skipped, or did not start), its error, and how long it took.
	Observe func(Cycle)
}

// LeaseOptions: the lease object is CN=<Name> in alm.yaml's groups OU (the
// base DN when it sets none), held by Owner for TTL and renewed every TTL/3
// while a run lasts.
type LeaseOptions struct {
	Name  string
	Owner string
	TTL   time.Duration
}

// Cycle is one turn of the loop.
type Cycle struct {
	Start    time.Time
	Duration time.Duration
	Outcome  *Outcome // nil when the run was skipped or did not start
	Err      error
	// Skipped says why no run happened: the head and the clock-driven
	// dates had not moved since the last success, or another holds the
	// lease.
	Skipped string
	Lease   *lease.Lease // the lease held for the run, or the other holder's
}

// Loop runs Once every interval until ctx is done. A cycle whose head
// revision and clock-driven dates (a start, an end, an expiry, a grace or
// a notice instant) have not moved since the last successful run skips the
// plan. A stop (ctx cancelled) lets the run in flight finish its change in
// flight and write its receipt; Loop then returns nil.
func Loop(ctx context.Context, o Options, lo LoopOptions) error {
	log := o.logger()
	var lastHead string
	var next time.Time // the earliest clock-driven instant after the last success
	if o.Files == nil {
		// Each cycle loads the head, and a run loads it again: the files
		// that did not change are parsed once for the loop's whole life.
		o.Files = load.NewCache()
	}
	for {
		c := Cycle{Start: o.now()}
		func() {
			rctx := ctx
			if lo.Timeout > 0 {
				var cancel context.CancelFunc
				rctx, cancel = context.WithTimeout(ctx, lo.Timeout)
				defer cancel()
			}
			src, err := Source(rctx, o)
			if err != nil {
				c.Err = err
				return
			}
			repo, err := reconcile.Load(rctx, src)
			if err != nil {
				c.Err = err
				return
			}
			if lastHead != "" && repo.Revision == lastHead && (next.IsZero() || c.Start.Before(next)) {
				c.Skipped = "nothing moved: the head is " + short(lastHead) + " still, and no date falls before " + orNever(next)
				return
			}
			ro := o
			ro.Repo, ro.Rev = src.Path, repo.Revision // exactly the commit looked at
			if lo.Lease != nil {
				l, release, err := hold(rctx, o, repo, *lo.Lease)
				var held *lease.HeldError
				switch {
				case errors.As(err, &held):
					c.Skipped, c.Lease = held.Error(), &held.Lease
					return
				case err != nil:
					c.Err = err
					return
				}
				c.Lease = &l
				ro.Apply.Lease = l.Owner
				defer release()
			}
			c.Outcome, c.Err = Once(rctx, ro)
			if c.Err == nil && c.Outcome != nil && c.Outcome.Refused == nil {
				lastHead, next = repo.Revision, nextInstant(repo, o.now())
			}
		}()
		c.Duration = o.now().Sub(c.Start)
		switch {
		case c.Err != nil:
			log.Error("run failed", "error", c.Err, "took", c.Duration)
		case c.Skipped != "":
			log.Info("run skipped", "why", c.Skipped)
		default:
			log.Info("run done", "took", c.Duration)
		}
		if lo.Observe != nil {
			lo.Observe(c)
		}
		wait := lo.Interval
		if lo.Jitter > 0 {
			wait += rand.N(lo.Jitter)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// hold takes the lease on its own connection and renews it until the
// returned release is called, which gives it up.
func hold(ctx context.Context, o Options, repo *model.Repository, lo LeaseOptions) (lease.Lease, func(), error) {
	log := o.logger()
	d, _, err := o.Open(ctx, repo)
	if err != nil {
		return lease.Lease{}, nil, err
	}
	h, ok := d.(lease.Holder)
	if !ok {
		d.Close()
		return lease.Lease{}, nil, fmt.Errorf("this directory cannot hold a lease")
	}
	st := lease.On(h, LeaseDN(repo, lo.Name))
	l, err := lease.Acquire(ctx, st, lo.Owner, lo.TTL, o.now())
	if err != nil {
		d.Close()
		return l, nil, err
	}
	log.Info("lease taken", "owner", l.Owner, "since", l.Since, "expires", l.Expires)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(lo.TTL / 3):
			}
			next, err := lease.Renew(context.WithoutCancel(ctx), st, l, lo.TTL, o.now())
			if err != nil {
				log.Error("lease not renewed: another may take it when it expires", "error", err, "expires", l.Expires)
				continue
			}
			l = next
		}
	}()
	return l, func() {
		close(stop)
		<-done
		if err := lease.Release(context.WithoutCancel(ctx), st, l, o.now()); err != nil {
			log.Warn("lease not released: it expires by itself", "error", err, "expires", l.Expires)
		}
		d.Close()
	}, nil
}

// LeaseDN is where the lease object lives: in the groups OU alm manages,
// or at the base DN.
func LeaseDN(repo *model.Repository, name string) string {
	spec := repo.Directory.Spec
	base := directory.Clean(spec.BaseDN)
	if spec.GroupsOU != "" {
		base = directory.Join(spec.GroupsOU, base)
	}
	return "CN=" + directory.EscapeValue(name) + "," + base
}

// nextInstant is the earliest instant after now at which the files' dates
// change anything: an account's lifecycle, or a notice falling due.
func nextInstant(repo *model.Repository, now time.Time) time.Time {
	var best time.Time
	consider := func(t time.Time) {
		if t.After(now) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if d, err := desired.Compute(repo, now); err == nil {
		for _, a := range d.Accounts {
			consider(a.State.Next)
		}
	}
	for _, s := range notify.Schedule(repo) {
		consider(s.DueAt)
	}
	return best
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "(none scheduled)"
	}
	return t.UTC().Format(time.RFC3339)
}
