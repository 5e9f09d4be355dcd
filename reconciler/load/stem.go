package load

import (
	"path"
	"strings"
)

// stem is a file's name without folder and extension: the object's name.
func stem(p string) string {
	return strings.TrimSuffix(strings.TrimSuffix(path.Base(p), ".yaml"), ".yml")
}
