package credentials

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// ErrRefused is the class of Rotate's refusals: nothing was written.
var ErrRefused = errors.New("rotation refused")

// Directory is what Rotate needs of a directory: connectors/ad and
// connectors/memory implement it.
type Directory interface {
	Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error)
	SetPassword(ctx context.Context, target directory.Ref, seal directory.Seal) error
}

// Rotate gives the service account name a new random password, sealed to
// its owner's public key as a first password is, and returns it sealed
// for delivery (Message, Deliver). It refuses, writing nothing, a name
// that is not a service account alm manages (a person changes their own
// password), an account on the protected list or built into the domain,
// one the directory does not hold with alm's marker, and an owner without
// a usable public key.
func Rotate(ctx context.Context, d Directory, repo *model.Repository, name string, now time.Time) (Sealed, error) {
	sa, pol, state, err := check(repo, name, now)
	if err != nil {
		return Sealed{}, err
	}
	snap, err := d.Read(ctx, state.Scope())
	if err != nil {
		return Sealed{}, fmt.Errorf("read the directory: %w", err)
	}
	marker := directory.Marker(sa.Metadata.ID)
	var live *directory.Account
	for i, a := range snap.Accounts {
		if strings.EqualFold(a.Marker, marker) {
			if live != nil {
				return Sealed{}, fmt.Errorf("%w: two accounts carry %s's marker %s (%s, %s): run alm plan and resolve the finding", ErrRefused, name, marker, live.DN, a.DN)
			}
			live = &snap.Accounts[i]
		}
	}
	switch {
	case live == nil:
		return Sealed{}, fmt.Errorf("%w: the directory holds no account with %s's marker %s in the managed OUs: apply the files first (alm apply)", ErrRefused, name, marker)
	case live.Builtin() != "":
		return Sealed{}, fmt.Errorf("%w: %s (%s) is %s: alm never touches it", ErrRefused, name, live.DN, live.Builtin())
	case state.IsProtected(live.Name, live.DN):
		return Sealed{}, fmt.Errorf("%w: %s (%s) is on alm.yaml's protected list: alm never touches it", ErrRefused, live.Name, live.DN)
	}
	sealer, err := NewSealer(pol.Key)
	if err != nil {
		return Sealed{}, fmt.Errorf("%w: %s: %v", ErrRefused, pol.KeyAt, err)
	}
	if err := d.SetPassword(ctx, directory.Ref{DN: live.DN, GUID: live.GUID, Marker: live.Marker}, sealer.Seal); err != nil {
		return Sealed{}, err
	}
	return Sealed{Policy: pol, Rotated: true, At: now.UTC(), Armored: sealer.Armored()}, nil
}

// Check refuses, as Rotate does, a rotation the files alone rule out: a
// name that is not a service account alm manages, a protected one, an
// owner without a usable key. It returns to whom the password would be
// sealed. Run it before dialling the directory or asking for a go-ahead.
func Check(repo *model.Repository, name string, now time.Time) (Policy, error) {
	_, pol, _, err := check(repo, name, now)
	return pol, err
}

func check(repo *model.Repository, name string, now time.Time) (*model.ServiceAccount, Policy, *desired.State, error) {
	sa := repo.ServiceAccounts[name]
	if sa == nil {
		for _, p := range repo.People {
			if strings.EqualFold(p.Metadata.Name, name) {
				return nil, Policy{}, nil, fmt.Errorf("%w: %s is a person (%s): people change their own password; an administrator resets a forgotten one", ErrRefused, name, p.Source.Path)
			}
		}
		return nil, Policy{}, nil, fmt.Errorf("%w: %s is not an account alm manages: no file in %s/ names it", ErrRefused, name, model.Folders[model.KindServiceAccount])
	}
	state, err := desired.Compute(repo, now)
	if err != nil {
		return nil, Policy{}, nil, err
	}
	want := state.Account(sa.Metadata.ID)
	if want == nil {
		return nil, Policy{}, nil, fmt.Errorf("%w: %s: no desired state for %s: run alm validate", ErrRefused, sa.Source.Path, name)
	}
	if want.Protected {
		return nil, Policy{}, nil, fmt.Errorf("%w: %s is on alm.yaml's protected list: alm never touches it", ErrRefused, name)
	}
	pol := servicePolicy(repo, sa)
	if !pol.Sealed() {
		return nil, Policy{}, nil, fmt.Errorf("%w: %s: %s", ErrRefused, sa.Source.Path, pol.Why)
	}
	return sa, pol, state, nil
}

// Rotation is a service account whose template asks for its password to
// be rotated every so often.
type Rotation struct {
	AccountID string        `json:"accountID"`
	Account   string        `json:"account"`
	File      string        `json:"file"`
	Every     time.Duration `json:"every"`
	// Last is the last rotation, or the day the account was requested
	// (spec.created) when it was never rotated; zero when neither is known.
	Last  time.Time `json:"last,omitzero"`
	DueAt time.Time `json:"dueAt"`
}

// Due lists, sorted by account, the service accounts whose template's
// credentials.rotateEvery has passed since lastRotated (by metadata.id),
// or since spec.created when the account was never rotated; one with
// neither is due at once. Only accounts the lifecycle keeps enabled at
// now are listed: a disabled or expired account's password waits.
func Due(repo *model.Repository, now time.Time, lastRotated map[string]time.Time) []Rotation {
	var out []Rotation
	zone := repo.Zone()
	for _, name := range repo.ServiceAccountNames() {
		sa := repo.ServiceAccounts[name]
		t := repo.Templates[sa.Spec.Template]
		if t == nil || t.Spec.Credentials == nil || t.Spec.Credentials.RotateEvery.IsZero() {
			continue
		}
		if st := lifecycle.ServiceAccount(sa, t, zone, now); !st.Enabled {
			continue
		}
		r := Rotation{AccountID: sa.Metadata.ID, Account: name, File: sa.Source.Path, Every: t.Spec.Credentials.RotateEvery.Std()}
		switch last, ok := lastRotated[sa.Metadata.ID]; {
		case ok:
			r.Last = last
		case !sa.Spec.Created.IsZero():
			r.Last = sa.Spec.Created.Midnight(zone)
		}
		r.DueAt = now
		if !r.Last.IsZero() {
			r.DueAt = r.Last.Add(r.Every)
		}
		if !now.Before(r.DueAt) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}
