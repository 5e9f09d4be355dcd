package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alm-project/alm/schemas"
)

func TestSchema(t *testing.T) {
	names := schemas.Names()
	embedded := func(t *testing.T, name string) []byte {
		t.Helper()
		b, err := fs.ReadFile(schemas.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("list", func(t *testing.T) {
		code, out, errOut := runAlm(t, "schema")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != exitOK || len(lines) != len(names) {
			t.Fatalf("exit %d, %d lines for %d schemas\n%s%s", code, len(lines), len(names), out, errOut)
		}
		for i, name := range names {
			if !strings.HasPrefix(lines[i], name+" ") || !strings.Contains(lines[i], "alm ") {
				t.Errorf("line %q, want %s and its title", lines[i], name)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, errOut := runAlm(t, "schema", "--format", "json")
		var got map[string]any
		if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != len(names) {
			t.Fatalf("exit %d, want one document of %d schemas\n%s%s", code, len(names), out, errOut)
		}
		for _, name := range names {
			var want any
			if err := json.Unmarshal(embedded(t, name), &want); err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(got[name])
			b, _ := json.Marshal(want)
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs from the embedded schema", name)
			}
		}
	})
	t.Run("out", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "schemas")
		// A stale copy is replaced.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "person.schema.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runAlm(t, "schema", "--out", dir)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(names) {
			t.Errorf("%d files in %s, want %d", len(entries), dir, len(names))
		}
		for _, name := range names {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(got, embedded(t, name)) {
				t.Errorf("%s differs from the embedded schema (%v)", name, err)
			}
			if !strings.Contains(out, "Wrote "+filepath.Join(dir, name)+"\n") {
				t.Errorf("output does not list %s:\n%s", name, out)
			}
		}
	})
}
