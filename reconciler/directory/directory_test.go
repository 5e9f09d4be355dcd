package directory

import "testing"

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
