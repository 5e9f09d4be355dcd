package load

import (
	"path"
	"sort"
	"strings"
)

// stem is a file's name without folder and extension: the object's name.
func stem(p string) string {
	return strings.TrimSuffix(strings.TrimSuffix(path.Base(p), ".yaml"), ".yml")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
