package adtest

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{
			name: "plain",
			in:   "AD_BASE_DN='DC=example,DC=test'\nAD_PID='42'\n",
			want: map[string]string{"AD_BASE_DN": "DC=example,DC=test", "AD_PID": "42"},
		},
		{
			name: "quote inside a value",
			in:   `AD_BIND_PASSWORD='it'\''s'`,
			want: map[string]string{"AD_BIND_PASSWORD": "it's"},
		},
		{
			name: "blank lines and comments",
			in:   "# written by start.sh\n\nAD_DOMAIN='example.test'\n",
			want: map[string]string{"AD_DOMAIN": "example.test"},
		},
		{name: "unquoted", in: "AD_PID=42", wantErr: true},
		{name: "no equals sign", in: "AD_PID", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse("ad.env", bufio.NewScanner(strings.NewReader(tt.in)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadNamesMissingKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ad.env")
	if err := os.WriteFile(path, []byte("AD_LDAPS_URL='ldaps://127.0.0.1:636'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "AD_") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load = %v, want an error naming the file and the missing key", err)
	}
}

func TestName(t *testing.T) {
	valid := regexp.MustCompile(`^t-[a-z0-9-]+-[0-9a-f]{8}$`)
	tests := []struct{ name, test string }{
		{"simple", "TestCreate"},
		{"subtest", "TestRead/user with, comma"},
		{"long", strings.Repeat("TestVeryLongName", 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := name(tt.test)
			if !valid.MatchString(got) || len(got) > 64 {
				t.Errorf("name(%q) = %q: want t-<lower-case name>-<8 hex>, at most 64 characters", tt.test, got)
			}
			if got == name(tt.test) {
				t.Errorf("name(%q) twice gave %q both times: want a random suffix", tt.test, got)
			}
		})
	}
}
