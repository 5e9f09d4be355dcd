package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// TestDigestIsTheWholeJSON: Digest, written element by element, is the
// hash of the snapshot's accounts, groups and OUs marshalled at once, as
// saved plans and goldens record it.
func TestDigestIsTheWholeJSON(t *testing.T) {
	whole := func(s *Snapshot) string {
		data, err := json.Marshal(struct {
			Accounts []Account
			Groups   []Group
			OUs      []string
		}{s.Accounts, s.Groups, s.OUs})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:12])
	}
	tests := []struct {
		name string
		s    Snapshot
	}{
		{"empty", Snapshot{}},
		{"empty lists", Snapshot{Accounts: []Account{}, Groups: []Group{}, OUs: []string{}}},
		{"one of each", Snapshot{
			Accounts: []Account{{DN: "CN=Doe\\, Jane,OU=People,DC=x", Name: "jdoe", UAC: 512, Attributes: map[string]string{AttrTitle: "R&D <lead>", "sn": "Dœ"}, MemberOf: []string{"CN=G,DC=x"}}},
			Groups:   []Group{{DN: "CN=G,DC=x", Members: []string{"CN=Doe\\, Jane,OU=People,DC=x"}, AdminCount: true}},
			OUs:      []string{"OU=People,DC=x"}}},
		{"several, no OUs", Snapshot{
			Accounts: []Account{{DN: "CN=a,DC=x"}, {DN: "CN=b,DC=x", NoPassword: true}, {DN: "CN=c,DC=x", SID: "S-1-5-21-1-2-3-1105"}},
			Groups:   []Group{{DN: "CN=g1,DC=x"}, {DN: "CN=g2,DC=x", Marker: "alm:group:vpn"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.s.Digest(), whole(&tt.s); got != want {
				t.Errorf("Digest %s, the whole JSON's %s", got, want)
			}
		})
	}
}
