package ad

import (
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := password()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != passwordLength {
			t.Fatalf("len = %d, want %d", len(pw), passwordLength)
		}
		for _, class := range passwordClasses {
			if !strings.ContainsAny(pw, class) {
				t.Fatalf("password lacks a character from %q", class)
			}
		}
		if strings.ContainsAny(pw, `"\`) {
			t.Fatal("password contains a quote or backslash")
		}
		if seen[pw] {
			t.Fatal("the same password twice")
		}
		seen[pw] = true
	}
}

func TestUnicodePwd(t *testing.T) {
	got := unicodePwd("Aé1")
	want := "\"\x00A\x00\xe9\x001\x00\"\x00"
	if got != want {
		t.Errorf("unicodePwd = %q, want %q", got, want)
	}
}
