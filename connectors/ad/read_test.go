package ad

import (
	"reflect"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestGUID(t *testing.T) {
	// objectGUID bytes as AD sends them for {01020304-0506-0708-090a-0b0c0d0e0f10}
	raw := []byte{0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
	if got, want := guid(raw), "01020304-0506-0708-090a-0b0c0d0e0f10"; got != want {
		t.Errorf("guid = %q, want %q", got, want)
	}
	if got := guid([]byte{1, 2, 3}); got != "" {
		t.Errorf("guid(3 bytes) = %q, want empty", got)
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		name, in string
		attr     string
		lo, hi   int
		ok       bool
	}{
		{"plain", "member", "member", -1, -1, true},
		{"window", "member;range=0-1499", "member", 0, 1499, true},
		{"last window", "member;range=1500-*", "member", 1500, -1, true},
		{"upper case", "Member;Range=3-4", "Member", 3, 4, true},
		{"other option", "userCertificate;binary", "userCertificate", -1, -1, true},
		{"garbage", "member;range=x-1", "", 0, 0, false},
		{"backwards", "member;range=5-1", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attr, lo, hi, ok := parseRange(tt.in)
			if attr != tt.attr || lo != tt.lo || hi != tt.hi || ok != tt.ok {
				t.Errorf("parseRange(%q) = %q, %d, %d, %v; want %q, %d, %d, %v", tt.in, attr, lo, hi, ok, tt.attr, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string][]string
		vals  []string
		next  int
	}{
		{"all at once", map[string][]string{"member": {"a", "b"}}, []string{"a", "b"}, -1},
		{"first window", map[string][]string{"member;range=0-1": {"a", "b"}}, []string{"a", "b"}, 2},
		{"last window", map[string][]string{"member;range=0-*": {"a"}}, []string{"a"}, -1},
		{"absent", map[string][]string{"cn": {"g"}}, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, next := values(ldap.NewEntry("CN=g", tt.attrs), "member")
			if !reflect.DeepEqual(vals, tt.vals) || next != tt.next {
				t.Errorf("values = %v, %d; want %v, %d", vals, next, tt.vals, tt.next)
			}
		})
	}
}
