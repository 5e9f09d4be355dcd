package ad

import "testing"

func TestRDN(t *testing.T) {
	tests := []struct{ name, attr, value, want string }{
		{"plain", "CN", "Jane Doe", "CN=Jane Doe"},
		{"comma", "CN", "Doe, Jane", `CN=Doe\, Jane`},
		{"specials", "CN", `a+b"c<d>e;f\g`, `CN=a\+b\"c\<d\>e\;f\\g`},
		{"leading hash and space", "OU", "#1 ", `OU=\#1\ `},
		{"leading space", "CN", " x", `CN=\ x`},
		{"non-ASCII kept", "CN", "Zoë Ångström", "CN=Zoë Ångström"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RDN(tt.attr, tt.value); got != tt.want {
				t.Errorf("RDN(%q, %q) = %q, want %q", tt.attr, tt.value, got, tt.want)
			}
			_, value, _, err := splitDN(RDN(tt.attr, tt.value) + ",DC=test")
			if err != nil || value != tt.value {
				t.Errorf("splitDN(RDN(...)) value = %q, %v; want %q back", value, err, tt.value)
			}
		})
	}
}

func TestSplitDN(t *testing.T) {
	tests := []struct {
		name, dn           string
		rdn, value, parent string
		wantErr            bool
	}{
		{name: "simple", dn: "CN=Jane Doe,OU=Staff,DC=example,DC=test", rdn: "CN=Jane Doe", value: "Jane Doe", parent: "OU=Staff,DC=example,DC=test"},
		{name: "escaped comma", dn: `CN=Doe\, Jane,OU=Staff,DC=test`, rdn: `CN=Doe\, Jane`, value: "Doe, Jane", parent: "OU=Staff,DC=test"},
		{name: "hex escape", dn: `CN=Doe\2C Jane,DC=test`, rdn: `CN=Doe\2C Jane`, value: "Doe, Jane", parent: "DC=test"},
		{name: "escaped backslash before comma", dn: `CN=a\\,DC=test`, rdn: `CN=a\\`, value: `a\`, parent: "DC=test"},
		{name: "no parent", dn: "DC=test", wantErr: true},
		{name: "malformed", dn: "not a dn", wantErr: true},
		{name: "multi-valued", dn: "CN=a+UID=b,DC=test", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdn, value, parent, err := splitDN(tt.dn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if rdn != tt.rdn || value != tt.value || parent != tt.parent {
				t.Errorf("splitDN = %q, %q, %q; want %q, %q, %q", rdn, value, parent, tt.rdn, tt.value, tt.parent)
			}
		})
	}
}
