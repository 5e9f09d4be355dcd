// Package lease keeps two reconcilers from applying to one directory at
// once: a lease with an owner and an expiry, held on an object in the
// directory and changed only by compare-and-swap, renewed while a run
// lasts, and taken over by another only after it expires. A holder killed
// without releasing it blocks others for at most the lease's duration.
package lease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/directory"
)

// Store holds the lease's one value. Swap replaces old with new only when
// the value is still old ("" : no lease yet), else fails with ErrLost.
type Store interface {
	Load(ctx context.Context) (string, error)
	Swap(ctx context.Context, old, new string) error
}

// ErrLost is a compare-and-swap that found another value: someone else
// took or changed the lease meanwhile.
var ErrLost = errors.New("the lease changed meanwhile")

// HeldError says who holds the lease, and until when.
type HeldError struct{ Lease Lease }

func (e *HeldError) Error() string {
	return fmt.Sprintf("the lease is held by %s (since %s) until %s", e.Lease.Owner,
		e.Lease.Since.UTC().Format(time.RFC3339), e.Lease.Expires.UTC().Format(time.RFC3339))
}

// Lease is who holds it, since when, and until when.
type Lease struct {
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

const prefix = "alm:lease "

// String is the lease as the store keeps it.
func (l Lease) String() string {
	return fmt.Sprintf("%sowner=%s since=%s expires=%s", prefix, l.Owner,
		l.Since.UTC().Format(time.RFC3339Nano), l.Expires.UTC().Format(time.RFC3339Nano))
}

// Parse reads a stored lease; false for a value that is not one.
func Parse(v string) (Lease, bool) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return Lease{}, false
	}
	var l Lease
	for _, f := range strings.Fields(rest) {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "owner":
			l.Owner = val
		case "since":
			l.Since, _ = time.Parse(time.RFC3339Nano, val)
		case "expires":
			l.Expires, _ = time.Parse(time.RFC3339Nano, val)
		}
	}
	return l, l.Owner != "" && !l.Expires.IsZero()
}

// Held reports whether the lease holds at now.
func (l Lease) Held(now time.Time) bool { return now.Before(l.Expires) }

// Acquire takes the lease for owner for ttl: when no one holds it, it has
// expired, or owner holds it already (then it is renewed, keeping Since).
// It fails with *HeldError when another holds it, and with ErrLost when
// another took it between the read and the swap.
func Acquire(ctx context.Context, s Store, owner string, ttl time.Duration, now time.Time) (Lease, error) {
	old, err := s.Load(ctx)
	if err != nil {
		return Lease{}, fmt.Errorf("read the lease: %w", err)
	}
	next := Lease{Owner: owner, Since: now, Expires: now.Add(ttl)}
	if cur, ok := Parse(old); ok {
		switch {
		case cur.Owner == owner && cur.Held(now):
			next.Since = cur.Since
		case cur.Held(now):
			return cur, &HeldError{Lease: cur}
		}
	} else if old != "" {
		return Lease{}, fmt.Errorf("the lease object holds %q, not a lease: remove it, or name another with --lease-name", old)
	}
	if err := s.Swap(ctx, old, next.String()); err != nil {
		return Lease{}, fmt.Errorf("take the lease: %w", err)
	}
	return next, nil
}

// Renew extends a lease held, failing with ErrLost when it is no longer
// the value stored (it expired and another took it).
func Renew(ctx context.Context, s Store, l Lease, ttl time.Duration, now time.Time) (Lease, error) {
	next := l
	next.Expires = now.Add(ttl)
	if err := s.Swap(ctx, l.String(), next.String()); err != nil {
		return l, fmt.Errorf("renew the lease: %w", err)
	}
	return next, nil
}

// Release ends a lease held now, so another may take it at once.
func Release(ctx context.Context, s Store, l Lease, now time.Time) error {
	done := l
	done.Expires = now
	if err := s.Swap(ctx, l.String(), done.String()); err != nil {
		return fmt.Errorf("release the lease: %w", err)
	}
	return nil
}

// Holder is a directory that keeps a lease on an object: connectors/ad and
// connectors/memory. SwapLease fails with directory.ErrChanged or
// directory.ErrExists when the value is not old.
type Holder interface {
	LoadLease(ctx context.Context, dn string) (string, error)
	SwapLease(ctx context.Context, dn, old, new string) error
}

// On is the Store of the lease object at dn in d.
func On(d Holder, dn string) Store { return store{d, dn} }

type store struct {
	d  Holder
	dn string
}

func (s store) Load(ctx context.Context) (string, error) { return s.d.LoadLease(ctx, s.dn) }

func (s store) Swap(ctx context.Context, old, new string) error {
	err := s.d.SwapLease(ctx, s.dn, old, new)
	if errors.Is(err, directory.ErrChanged) || errors.Is(err, directory.ErrExists) {
		return fmt.Errorf("%w (%s)", ErrLost, s.dn)
	}
	return err
}
