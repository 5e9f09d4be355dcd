package directory

import "testing"

func TestSameDN(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"case", "OU=Staff,DC=example,DC=test", "ou=staff,dc=Example,dc=TEST", true},
		{"escaping", `CN=Doe\, Jane,DC=test`, `CN=Doe\2C Jane,DC=test`, true},
		{"spaces after commas", "OU=Staff, DC=test", "OU=Staff,DC=test", true},
		{"another value", "OU=Staff,DC=test", "OU=Staff2,DC=test", false},
		{"a parent", "OU=Staff,DC=test", "DC=test", false},
		{"not DNs", "not a DN", "NOT A DN", true},
		{"not a DN and a DN", "not a DN", "OU=x,DC=test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameDN(tt.a, tt.b); got != tt.want {
				t.Errorf("SameDN(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		name     string
		dn, base string
		want     bool
	}{
		{"itself", "OU=Groups,DC=example,DC=test", "OU=Groups,DC=example,DC=test", true},
		{"a child", "CN=VPN,OU=Groups,DC=example,DC=test", "ou=groups,dc=example,dc=test", true},
		{"deeper", "CN=x,OU=a,OU=Groups,DC=example,DC=test", "OU=Groups,DC=example,DC=test", true},
		{"escaped differently", `CN=x,OU=R\2CD,DC=test`, `OU=R\,D,DC=test`, true},
		{"a sibling with a longer name", "CN=x,OU=MyGroups,DC=example,DC=test", "OU=Groups,DC=example,DC=test", false},
		{"the parent", "DC=example,DC=test", "OU=Groups,DC=example,DC=test", false},
		{"no base", "CN=x,DC=test", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Under(tt.dn, tt.base); got != tt.want {
				t.Errorf("Under(%q, %q) = %v, want %v", tt.dn, tt.base, got, tt.want)
			}
		})
	}
}

func TestRelativeAndFirstValue(t *testing.T) {
	for _, tc := range []struct {
		dn, base, relative, first string
	}{
		{"CN=Doe\\, Jane,OU=People,OU=ALM,DC=example,DC=test", "DC=example,DC=test", "CN=Doe\\, Jane,OU=People,OU=ALM", "Doe, Jane"},
		{"OU=People,OU=ALM,dc=Example,dc=Test", "DC=example,DC=test", "OU=People,OU=ALM", "People"},
		{"OU=People,DC=other", "DC=example,DC=test", "OU=People,DC=other", "People"},
		{"DC=example,DC=test", "DC=example,DC=test", "DC=example,DC=test", "example"},
		{"not a DN", "DC=example,DC=test", "not a DN", ""},
	} {
		if got := Relative(tc.dn, tc.base); got != tc.relative {
			t.Errorf("Relative(%q, %q) = %q, want %q", tc.dn, tc.base, got, tc.relative)
		}
		if got := FirstValue(tc.dn); got != tc.first {
			t.Errorf("FirstValue(%q) = %q, want %q", tc.dn, got, tc.first)
		}
	}
}
