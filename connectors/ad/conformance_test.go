package ad_test

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/connectors/directorytest"
	"github.com/alm-project/alm/reconciler/directory"
)

// TestConformance runs the suite the in-memory directory also passes, so the
// fake used by unit tests and the demo behaves as real Active Directory does.
// Groups are made with the connector's own CreateGroup, which it tests too.
func TestConformance(t *testing.T) {
	env := adtest.New(t)
	// The suite nests a group in Domain Admins through the connector
	// itself, which the delegated account may not do (docs/permissions.md):
	// here the connector binds as the administrator, since what is tested
	// is how it reads and writes, not which rights it holds.
	admin := *env
	admin.BindDN, admin.Password = env.AdminDN, env.AdminPassword
	directorytest.Run(t, func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		d := dial(t, &admin)
		return d, directorytest.Fixture{
			BaseDN:          env.BaseDN,
			OU:              env.OU(t),
			MarkerAttribute: ad.DefaultMarkerAttribute,
			CreateGroup: func(ctx context.Context, dn, name string) error {
				return d.CreateGroup(ctx, directory.NewGroup{DN: dn, Name: name})
			},
			AddWithoutPassword: func(ctx context.Context, dn, name, marker string) error {
				req := ldap.NewAddRequest(dn, nil)
				req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
				req.Attribute("sAMAccountName", []string{name})
				req.Attribute("userAccountControl", []string{"514"})
				req.Attribute(ad.DefaultMarkerAttribute, []string{marker})
				return env.Conn(t).Add(req)
			},
			SetAdminCount: func(ctx context.Context, dn string) error {
				req := ldap.NewModifyRequest(dn, nil)
				req.Replace("adminCount", []string{"1"})
				return env.Conn(t).Modify(req)
			},
		}
	})
}
