package directorytest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/directorytest"
	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/directory"
)

const base = "DC=example,DC=test"

// mutantEnv names the mutant TestMutant runs the suite against.
const mutantEnv = "ALM_DIRECTORYTEST_MUTANT"

// mutant is a directory that gets one thing wrong.
type mutant struct {
	*memory.Directory
	bug string
}

func (m *mutant) Move(ctx context.Context, ref directory.Ref, newDN string) error {
	dn := ref.DN
	if m.bug != "move copies" {
		return m.Directory.Move(ctx, ref, newDN)
	}
	// Copy and delete: a new GUID and lost memberships.
	parent := dn[strings.Index(dn, ",")+1:]
	s, err := m.Read(ctx, directory.Scope{OUs: []string{parent}})
	if err != nil {
		return err
	}
	for _, a := range s.Accounts {
		if directory.SameDN(a.DN, dn) {
			if err := m.Directory.Delete(ctx, ref); err != nil {
				return err
			}
			return m.Create(ctx, directory.NewAccount{DN: newDN, Name: a.Name, Marker: a.Marker, UAC: a.UAC, Attributes: a.Attributes})
		}
	}
	return m.Directory.Move(ctx, ref, newDN)
}

func (m *mutant) Modify(ctx context.Context, ref directory.Ref, attrs map[string]string) error {
	if m.bug == "writes ignore the marker" {
		ref.Marker = m.markerOf(ctx, ref)
	}
	return m.Directory.Modify(ctx, ref, attrs)
}

// markerOf is the marker ref's object has now, found by GUID or DN.
func (m *mutant) markerOf(ctx context.Context, ref directory.Ref) string {
	s, _ := m.Directory.Read(ctx, directory.Scope{OUs: []string{base}})
	for _, a := range s.Accounts {
		if a.GUID == ref.GUID || directory.SameDN(a.DN, ref.DN) {
			return a.Marker
		}
	}
	return ref.Marker
}

func (m *mutant) Create(ctx context.Context, a directory.NewAccount) error {
	if m.bug == "create leaves no password" {
		return m.Directory.AddUserWithoutPassword(a)
	}
	return m.Directory.Create(ctx, a)
}

func (m *mutant) AddMember(ctx context.Context, g, member directory.Ref) error {
	err := m.Directory.AddMember(ctx, g, member)
	if m.bug == "duplicate member accepted" && errors.Is(err, directory.ErrExists) {
		return nil
	}
	return err
}

func (m *mutant) RemoveMember(ctx context.Context, g, member directory.Ref) error {
	err := m.Directory.RemoveMember(ctx, g, member)
	if m.bug == "plain errors" && err != nil {
		return fmt.Errorf("%v", err)
	}
	return err
}

func (m *mutant) Read(ctx context.Context, sc directory.Scope) (*directory.Snapshot, error) {
	s, err := m.Directory.Read(ctx, sc)
	if err == nil && m.bug == "constant state" {
		s.State = "1"
	}
	if err == nil && m.bug == "no default expiry" {
		for i := range s.Accounts {
			delete(s.Accounts[i].Attributes, directory.AttrAccountExpires)
		}
	}
	if err == nil && m.bug == "privileged groups only below the group base" {
		kept := s.Groups[:0]
		for _, g := range s.Groups {
			if strings.HasSuffix(strings.ToLower(g.DN), ","+strings.ToLower(sc.GroupBase)) {
				kept = append(kept, g)
			}
		}
		s.Groups = kept
	}
	return s, err
}

func (m *mutant) Delete(ctx context.Context, ref directory.Ref) error {
	if m.bug == "delete keeps membership" {
		return nil
	}
	return m.Directory.Delete(ctx, ref)
}

func newMutant(bug string) func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
	return func(t *testing.T) (directorytest.Dir, directorytest.Fixture) {
		d := memory.New(base)
		ou := "OU=Suite," + base
		if err := d.AddOU(ou); err != nil {
			t.Fatal(err)
		}
		return &mutant{Directory: d, bug: bug}, directorytest.MemoryFixture(d, ou)
	}
}

// TestMutant runs the suite against the mutant mutantEnv names; it is run
// by TestSuiteCatchesBugs in a child process, which expects it to fail.
func TestMutant(t *testing.T) {
	bug := os.Getenv(mutantEnv)
	if bug == "" {
		t.Skip("run by TestSuiteCatchesBugs")
	}
	directorytest.Run(t, newMutant(bug))
}

func TestSuiteCatchesBugs(t *testing.T) {
	tests := []struct {
		bug       string
		caughtBy  string // a case that must fail
		mustCatch bool
	}{
		{"none", "", false},
		{"move copies", "move_and_rename", true},
		{"duplicate member accepted", "members", true},
		{"plain errors", "members", true},
		{"constant state", "state_changes", true},
		{"no default expiry", "create_and_read", true},
		{"delete keeps membership", "delete", true},
		{"writes ignore the marker", "a_re-owned_object_is_not_touched", true},
		{"create leaves no password", "half-made_account", true},
		{"privileged groups only below the group base", "privileged_groups", true},
	}
	for _, tt := range tests {
		t.Run(tt.bug, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutant$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+tt.bug)
			out, err := cmd.CombinedOutput()
			if !tt.mustCatch {
				if err != nil {
					t.Fatalf("the suite fails a correct directory:\n%s", out)
				}
				if !strings.Contains(string(out), "--- PASS: TestMutant/create_and_read") {
					t.Fatalf("the suite did not run:\n%s", out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the suite passed a directory whose bug is %q:\n%s", tt.bug, out)
			}
			if want := "--- FAIL: TestMutant/" + tt.caughtBy; !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
}
