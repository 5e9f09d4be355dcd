package credentials

import (
	"fmt"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// Policy is what becomes of the password alm gives one account: the
// person who may read it and the key it is sealed to, or why no one gets
// it; and whether it must be changed at first logon.
type Policy struct {
	AccountID string `json:"accountID"`
	Account   string `json:"account"` // the login
	Kind      string `json:"kind"`    // model.KindPerson or model.KindServiceAccount
	File      string `json:"file"`
	// To is who reads the password (To.Role: owner, manager or self);
	// Key is their spec.publicKey, KeyAt where it is written. Key is ""
	// when nothing is sealed, and Why says why and what to do instead.
	To    notify.Recipient `json:"to,omitzero"`
	Key   string           `json:"key,omitempty"`
	KeyAt string           `json:"keyAt,omitempty"`
	Why   string           `json:"why,omitempty"`
	// MustChange: a person whose template sends the password to their
	// manager or to themselves changes it at first logon (pwdLastSet=0).
	// A service account never does: no one logs on to change it.
	MustChange bool `json:"mustChange,omitempty"`
}

// Sealed reports whether the policy seals the password to someone.
func (p Policy) Sealed() bool { return p.Key != "" }

// Policies returns every account's policy, by metadata.id.
func Policies(repo *model.Repository) map[string]Policy {
	out := map[string]Policy{}
	for _, name := range repo.PersonNames() {
		p := repo.People[name]
		out[p.Metadata.ID] = personPolicy(repo, p)
	}
	for _, name := range repo.ServiceAccountNames() {
		sa := repo.ServiceAccounts[name]
		out[sa.Metadata.ID] = servicePolicy(repo, sa)
	}
	return out
}

func personPolicy(repo *model.Repository, p *model.Person) Policy {
	pol := Policy{AccountID: p.Metadata.ID, Account: p.Metadata.Name, Kind: model.KindPerson, File: p.Source.Path}
	t := repo.TemplateOf(p)
	if t == nil || t.Spec.Credentials == nil {
		pol.Why = noCredentials(t, p.Metadata.Name)
		return pol
	}
	switch to := t.Spec.Credentials.To; to {
	case model.ToSelf:
		pol.MustChange = true
		return withKey(pol, p, model.ToSelf)
	case "", model.ToManager:
		pol.MustChange = true
		m := repo.People[p.Spec.Manager]
		if m == nil {
			pol.Why = fmt.Sprintf("template %s sends a person's password to their manager, and %s has none in the files (spec.manager): an administrator resets the password and tells %s", t.Metadata.Name, p.Metadata.Name, p.Metadata.Name)
			return pol
		}
		return withKey(pol, m, model.ToManager)
	default:
		pol.Why = fmt.Sprintf("template %s sends the password to the %s, and a person has none: set credentials.to to manager or self; until then an administrator resets %s's password", t.Metadata.Name, to, p.Metadata.Name)
		return pol
	}
}

func servicePolicy(repo *model.Repository, sa *model.ServiceAccount) Policy {
	pol := Policy{AccountID: sa.Metadata.ID, Account: sa.Metadata.Name, Kind: model.KindServiceAccount, File: sa.Source.Path}
	t := repo.Templates[sa.Spec.Template]
	if t == nil || t.Spec.Credentials == nil {
		pol.Why = noCredentials(t, sa.Metadata.Name)
		return pol
	}
	if to := t.Spec.Credentials.To; to != "" && to != model.ToOwner {
		pol.Why = fmt.Sprintf("template %s sends the password to %s, which a service account does not have: set credentials.to to owner; until then %s's owner runs alm rotate %s once the template says owner",
			t.Metadata.Name, to, sa.Metadata.Name, sa.Metadata.Name)
		return pol
	}
	owner := repo.People[sa.Spec.Owner]
	if owner == nil {
		pol.Why = fmt.Sprintf("%s's owner %s has no file in people/: an administrator resets its password", sa.Metadata.Name, sa.Spec.Owner)
		return pol
	}
	return withKey(pol, owner, model.ToOwner)
}

// withKey seals pol to person's key, or says why it cannot.
func withKey(pol Policy, person *model.Person, role string) Policy {
	pol.To = notify.Recipient{Login: person.Metadata.Name, Name: person.DisplayName(), Email: person.Spec.Email, GitHub: person.Spec.GitHub, Role: role}
	at := person.Source.At("spec.publicKey").String()
	if person.Spec.PublicKey == "" {
		pol.Why = fmt.Sprintf("%s (%s of %s) has no spec.publicKey in %s: nothing is sent; add an age recipient or SSH public key there, then %s",
			person.Metadata.Name, role, pol.Account, person.Source.Path, reset(pol))
		return pol
	}
	if _, _, err := ParseKey(person.Spec.PublicKey); err != nil {
		pol.Why = fmt.Sprintf("%s: spec.publicKey of %s: %v: nothing is sent; fix the key, then %s", at, person.Metadata.Name, err, reset(pol))
		return pol
	}
	pol.Key, pol.KeyAt = person.Spec.PublicKey, at
	return pol
}

func noCredentials(t *model.WorkflowTemplate, account string) string {
	if t == nil {
		return fmt.Sprintf("%s has no template: no password is sent; an administrator resets it", account)
	}
	return fmt.Sprintf("template %s has no credentials: no password is sent; an administrator resets %s's password (or add credentials: {to: ...} to the template)", t.Metadata.Name, account)
}

// reset says how the account's password is reset when none was sent.
func reset(pol Policy) string {
	if pol.Kind == model.KindServiceAccount {
		return "run alm rotate " + pol.Account
	}
	return "an administrator resets " + pol.Account + "'s password"
}
