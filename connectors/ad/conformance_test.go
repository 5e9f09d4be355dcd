package ad_test

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/connectors/directorytest"
)

// TestConformance runs the suite the in-memory directory also passes, so the
// fake used by unit tests and the demo behaves as real Active Directory does.
func TestConformance(t *testing.T) {
	env := adtest.New(t)
	directorytest.Run(t, func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		c := env.Conn(t)
		return dial(t, env), directorytest.Fixture{
			BaseDN:          env.BaseDN,
			OU:              env.OU(t),
			MarkerAttribute: ad.DefaultMarkerAttribute,
			CreateGroup: func(_ context.Context, dn, name string) error {
				r := ldap.NewAddRequest(dn, nil)
				r.Attribute("objectClass", []string{"top", "group"})
				r.Attribute("sAMAccountName", []string{name})
				return c.Add(r)
			},
		}
	})
}
