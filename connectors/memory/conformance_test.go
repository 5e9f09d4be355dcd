package memory_test

import (
	"testing"

	"github.com/alm-project/alm/connectors/directorytest"
	"github.com/alm-project/alm/connectors/memory"
)

const base = "DC=example,DC=test"

func TestConformance(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		d := memory.New(base)
		ou := "OU=Conformance," + base
		if err := d.AddOU(ou); err != nil {
			t.Fatal(err)
		}
		return d, directorytest.MemoryFixture(d, ou)
	})
}
