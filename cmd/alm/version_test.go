package main

import (
	"encoding/json"
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

// TestJSONDocuments: with --format json every command prints one JSON
// document on stdout - its result, or its error.
func TestJSONDocuments(t *testing.T) {
	repo := copyExample(t)
	for _, tc := range []struct {
		name string
		args []string
		key  string // a key the document has
	}{
		{"version", []string{"version"}, "version"},
		{"validate", []string{"validate", "--repo", repo}, "valid"},
		{"an error", []string{"validate", "--repo", repo + "/nowhere"}, "error"},
		{"a flag error", []string{"plan", "--repo", repo, "--max-delete", "lots"}, "error"},
		{"notices", []string{"notices", "--repo", repo, "--working-tree", "--at", "2027-01-30"}, "due"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, _ := runAlm(t, append(tc.args, "--format", "json")...)
			dec := json.NewDecoder(strings.NewReader(out))
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if _, ok := doc[tc.key]; !ok {
				t.Errorf("no %q in %v", tc.key, doc)
			}
			if dec.More() {
				t.Errorf("more than one document:\n%s", out)
			}
		})
	}
}
