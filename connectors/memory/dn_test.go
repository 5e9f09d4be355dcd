package memory

import (
	"testing"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		name    string
		dn      string
		want    string // joinDN of the result
		key     string
		wantErr bool
	}{
		{name: "plain", dn: "CN=Ann,OU=People,DC=example,DC=test",
			want: "CN=Ann,OU=People,DC=example,DC=test", key: "cn=ann,ou=people,dc=example,dc=test"},
		{name: "types upper-cased, values kept", dn: "cn=Ann Lee,ou=people,dc=Example,dc=test",
			want: "CN=Ann Lee,OU=people,DC=Example,DC=test", key: "cn=ann lee,ou=people,dc=example,dc=test"},
		{name: "spaces around separators", dn: " CN = Ann , OU=People ,DC=test",
			want: "CN=Ann,OU=People,DC=test", key: "cn=ann,ou=people,dc=test"},
		{name: "escaped comma stays in the value", dn: `CN=Lee\, Ann,OU=People,DC=test`,
			want: `CN=Lee\, Ann,OU=People,DC=test`, key: `cn=lee\, ann,ou=people,dc=test`},
		{name: "escaped trailing space kept", dn: `CN=Ann\ ,DC=test`,
			want: `CN=Ann\ ,DC=test`, key: `cn=ann\ ,dc=test`},
		{name: "empty", dn: "  ", wantErr: true},
		{name: "no type", dn: "Ann,DC=test", wantErr: true},
		{name: "empty value", dn: "CN=,DC=test", wantErr: true},
		{name: "empty component", dn: "CN=Ann,,DC=test", wantErr: true},
		{name: "lone backslash", dn: `CN=Ann\`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdns, err := parseDN(tt.dn)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseDN(%q) = %v, want an error", tt.dn, rdns)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDN(%q): %v", tt.dn, err)
			}
			if got := joinDN(rdns); got != tt.want {
				t.Errorf("joinDN = %q, want %q", got, tt.want)
			}
			if got := dnKey(rdns); got != tt.key {
				t.Errorf("dnKey = %q, want %q", got, tt.key)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		key, base string
		want      bool
	}{
		{"ou=a,dc=test", "ou=a,dc=test", true},
		{"cn=x,ou=a,dc=test", "ou=a,dc=test", true},
		{"cn=x,ou=ba,dc=test", "ou=a,dc=test", false},
		{"ou=a,dc=test", "cn=x,ou=a,dc=test", false},
	}
	for _, tt := range tests {
		if got := under(tt.key, tt.base); got != tt.want {
			t.Errorf("under(%q, %q) = %v, want %v", tt.key, tt.base, got, tt.want)
		}
	}
}
