package ad_test

import (
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/connectors/directorytest"
)

// TestConformance runs the suite the in-memory directory also passes, so the
// fake used by unit tests and the demo behaves as real Active Directory does.
// Groups are made with the connector's own CreateGroup, which it tests too.
func TestConformance(t *testing.T) {
	env := adtest.New(t)
	directorytest.Run(t, func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		d := dial(t, env)
		return d, directorytest.Fixture{
			BaseDN:          env.BaseDN,
			OU:              env.OU(t),
			MarkerAttribute: ad.DefaultMarkerAttribute,
			CreateGroup:     d.CreateGroup,
		}
	})
}
