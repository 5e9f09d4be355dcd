// Package examples embeds the example access repositories, so alm demo runs
// from the binary alone, anywhere.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed all:acme
var files embed.FS

// Acme is examples/acme: a realistic access repository.
func Acme() fs.FS {
	sub, err := fs.Sub(files, "acme")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}
