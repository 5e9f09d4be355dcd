package memory_test

import (
	"context"
	"testing"

	"github.com/alm-project/alm/connectors/directorytest"
	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/directory"
)

const base = "DC=example,DC=test"

func TestConformance(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		d := memory.New(base)
		ou := "OU=Conformance," + base
		if err := d.AddOU(ou); err != nil {
			t.Fatal(err)
		}
		return d, directorytest.Fixture{
			BaseDN:          d.BaseDN(),
			OU:              ou,
			MarkerAttribute: d.MarkerAttribute(),
			CreateGroup:     func(_ context.Context, dn, name string) error { return d.AddGroup(dn, name) },
			AddWithoutPassword: func(_ context.Context, dn, name, marker string) error {
				return d.AddUserWithoutPassword(directory.NewAccount{DN: dn, Name: name, Marker: marker,
					UAC: directory.UACNormalAccount | directory.UACAccountDisable})
			},
			SetAdminCount: func(_ context.Context, dn string) error { return d.SetAdminCount(dn, true) },
		}
	})
}
