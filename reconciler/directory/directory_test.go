package directory

import (
	"strings"
	"testing"
)

func TestDigest(t *testing.T) {
	snapshot := func() *Snapshot {
		return &Snapshot{
			BaseDN:   "DC=example,DC=test",
			State:    "100",
			Accounts: []Account{{DN: "CN=jdoe,OU=People,DC=example,DC=test", Name: "jdoe", Marker: "alm:1", UAC: 512, Attributes: map[string]string{AttrTitle: "Engineer"}}},
			Groups:   []Group{{DN: "CN=VPN,OU=Groups,DC=example,DC=test", Name: "VPN", Members: []string{"CN=jdoe,OU=People,DC=example,DC=test"}}},
			OUs:      []string{"OU=People,DC=example,DC=test"},
		}
	}
	base := snapshot().Digest()
	tests := []struct {
		name    string
		edit    func(s *Snapshot)
		changes bool
	}{
		{"a write elsewhere in the domain", func(s *Snapshot) { s.State = "250" }, false},
		{"an attribute edited", func(s *Snapshot) { s.Accounts[0].Attributes[AttrTitle] = "CTO" }, true},
		{"re-enabled", func(s *Snapshot) { s.Accounts[0].UAC = 514 }, true},
		{"a member removed", func(s *Snapshot) { s.Groups[0].Members = nil }, true},
		{"an OU created", func(s *Snapshot) { s.OUs = append(s.OUs, "OU=Leavers,DC=example,DC=test") }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := snapshot()
			tc.edit(s)
			if got := s.Digest() != base; got != tc.changes {
				t.Errorf("digest changed: %v, want %v", got, tc.changes)
			}
		})
	}
}

// TestSnapshotSort: accounts and groups by DN ignoring case, their lists
// of DNs sorted, OUs once each.
func TestSnapshotSort(t *testing.T) {
	s := Snapshot{
		Accounts: []Account{{DN: "CN=b,DC=x", MemberOf: []string{"z", "a"}}, {DN: "cn=A,DC=x"}, {DN: "CN=c,DC=x"}},
		Groups:   []Group{{DN: "CN=G2,DC=x", Members: []string{"m2", "m1"}}, {DN: "cn=g1,DC=x"}},
		OUs:      []string{"OU=B,DC=x", "ou=a,DC=x", "OU=A,DC=X"},
	}
	s.Sort()
	var dns []string
	for _, a := range s.Accounts {
		dns = append(dns, a.DN)
	}
	for _, g := range s.Groups {
		dns = append(dns, g.DN)
	}
	if got, want := strings.Join(dns, " "), "cn=A,DC=x CN=b,DC=x CN=c,DC=x cn=g1,DC=x CN=G2,DC=x"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	if got := strings.Join(s.Accounts[1].MemberOf, ","); got != "a,z" {
		t.Errorf("memberOf %q", got)
	}
	if got := strings.Join(s.Groups[1].Members, ","); got != "m1,m2" {
		t.Errorf("members %q", got)
	}
	if len(s.OUs) != 2 {
		t.Errorf("OUs %q: want each once", s.OUs)
	}
}
