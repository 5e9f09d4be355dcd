package reconcile_test

import (
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/model"
)

// TestMissingRightIsNamed: alm binds as the delegated account with one
// right of docs/permissions.md taken away; the apply fails that change
// alone, and its message names the right and the command that grants it.
func TestMissingRightIsNamed(t *testing.T) {
	tests := []struct {
		name string
		// deny takes a right away before the apply; it returns the change
		// expected to fail and what its message must say.
		deny func(w *world, p *model.Person) (change string, says []string)
	}{
		{
			name: "write member on the role's group",
			deny: func(w *world, p *model.Person) (string, []string) {
				group := w.role("vpn-users", nil, false)
				p.Spec.Roles = []string{"vpn-users"}
				w.env.Deny(w.t, w.groupDN[group], adtest.WriteProperty("member"))
				return "add-member", []string{
					"may not change the members of " + w.groupDN[group],
					"grant it Write member on that group (dsacls \"" + w.groupDN[group] + "\" /G \"DOMAIN\\" + adtest.DelegatedName + ":WP;member\")",
				}
			},
		},
		{
			name: "create user objects in the template's OU",
			deny: func(w *world, p *model.Person) (string, []string) {
				people := w.ouDN("People")
				w.addOU(people)
				w.env.Deny(w.t, people, adtest.CreateChild("user"))
				return "create", []string{
					"may not create user objects in " + people,
					"grant it Create/Delete user objects there (dsacls \"" + people + "\" /I:T /G \"DOMAIN\\" + adtest.DelegatedName + ":CCDC;user\")",
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if !w.env.Delegated {
				t.Skipf("alm binds as the administrator (%s=admin): no right can be missing", adtest.EnvBind)
			}
			p := employee("dn")
			change, says := tt.deny(w, p)
			w.putPerson(p)
			w.commit("a person")
			now := at("2026-01-05")
			res, err := w.apply(w.plan(now), w.options(now))
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			failed := 0
			for _, cr := range res.Result.Changes {
				if cr.Outcome != apply.Failed {
					continue
				}
				failed++
				if string(cr.Change.Action) != change {
					t.Errorf("%s failed, want only %s to: %s", cr.Change.ID, change, cr.Error)
					continue
				}
				for _, s := range says {
					if !strings.Contains(cr.Error, s) {
						t.Errorf("%s failed with %q\nwant it to say %q", cr.Change.ID, cr.Error, s)
					}
				}
			}
			if failed == 0 {
				t.Errorf("no change failed, want %s to:\n%s", change, failures(res))
			}
		})
	}
}
