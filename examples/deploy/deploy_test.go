// Package deploy holds the checks of the deployment examples beside it, the
// Dockerfile and .goreleaser.yaml: each is parsed, linted or verified by the
// tool that reads it in production where that tool runs here, and asserted
// for what running alm unattended needs (non-root, no secret inline, static).
package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository's root, seen from this package's directory.
const root = "../.."

// secretName matches variable and argument names that carry a secret, so
// none of them is given a literal value in a checked file.
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|private_?key|api_?key)`)

// secretValueAllowed says whether a secret-looking variable's value is a
// reference rather than the secret: a *_FILE path, or a CI expression.
func secretValueAllowed(name, value string) bool {
	if strings.HasSuffix(strings.ToUpper(name), "_FILE") {
		return strings.HasPrefix(value, "/") || strings.HasPrefix(value, "%d/")
	}
	v := strings.TrimSpace(value)
	return v == "" || (strings.HasPrefix(v, "${{") && strings.HasSuffix(v, "}}"))
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// broken is a copy of a checked file with one edit, and the problem the
// check must report for it: proof that the check can fail.
type broken struct {
	name, old, new, want string
}

// checkFile runs check on the file as committed (no problems allowed) and on
// each broken copy (the wanted problem required).
func checkFile(t *testing.T, path string, check func([]byte) []string, cases []broken) {
	t.Helper()
	data := read(t, path)
	t.Run("as committed", func(t *testing.T) {
		for _, p := range check(data) {
			t.Errorf("%s: %s", path, p)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(data), c.old) {
				t.Fatalf("%s no longer holds %q: update this case", path, c.old)
			}
			got := check([]byte(strings.Replace(string(data), c.old, c.new, 1)))
			for _, p := range got {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Errorf("%s with %q for %q: want a problem containing %q, got %q", path, c.new, c.old, c.want, got)
		})
	}
}
