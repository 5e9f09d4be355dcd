package main

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		ldflags string // the value -X main.version sets
		want    string // "" for whatever the build info says
	}{
		{name: "build info"},
		{name: "ldflags", ldflags: "v1.2.3", want: "alm v1.2.3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := version
			version = tt.ldflags
			t.Cleanup(func() { version = before })
			code, cmd, errOut := runAlm(t, "version")
			if code != exitOK {
				t.Fatalf("version: exit %d: %s", code, errOut)
			}
			code, flag, errOut := runAlm(t, "--version")
			if code != exitOK {
				t.Fatalf("--version: exit %d: %s", code, errOut)
			}
			if cmd != flag {
				t.Errorf("version prints %q, --version %q", cmd, flag)
			}
			if tt.want != "" && cmd != tt.want {
				t.Errorf("version prints %q, want %q", cmd, tt.want)
			}
			if v, ok := strings.CutPrefix(strings.TrimSuffix(cmd, "\n"), "alm "); !ok || v == "" || strings.Contains(v, "\n") {
				t.Errorf("version prints %q, want one line alm <version>", cmd)
			}
		})
	}
}
