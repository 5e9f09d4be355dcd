package schemas

import (
	"io/fs"
	"slices"
)

// FS returns the embedded schema files (*.schema.json, common.schema.json
// included), so that alm can copy them next to an access repository for
// editors to read.
func FS() fs.FS { return files }

// Names lists the embedded schema files, sorted.
func Names() []string {
	names, _ := fs.Glob(files, "*.schema.json") // the pattern is valid: Glob cannot fail
	slices.Sort(names)
	return names
}

// FileOf names the schema file of a kind ("" for an unknown kind).
func FileOf(kind string) string { return fileOf[kind] }
