package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/schemas"
)

func newSchemaCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "List the JSON Schemas of the access repository's files, or write them to a folder",
		Long: `schema lists the JSON Schemas (draft 2020-12) built into alm, one for each kind of
file and common.schema.json that they share: the same schemas alm validate checks
the files against. With --format json it prints one document mapping each file
name to its schema.

--out DIR writes every *.schema.json into DIR, replacing the files of those names:
alm init copies them to .alm/schemas, where the first line of every YAML file
points editors at them; after upgrading alm, refresh them with
  alm schema --out .alm/schemas`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := textOrJSON(g, "schema"); err != nil {
				return err
			}
			names := schemas.Names()
			docs := make(map[string]json.RawMessage, len(names))
			for _, name := range names {
				b, err := fs.ReadFile(schemas.FS(), name)
				if err != nil {
					return fmt.Errorf("embedded schema %s: %w", name, err)
				}
				docs[name] = b
			}
			if out != "" {
				return writeSchemas(g, out, names, docs)
			}
			if g.format == "json" {
				return writeJSON(g, docs)
			}
			for _, name := range names {
				var head struct{ Title string }
				if err := json.Unmarshal(docs[name], &head); err != nil {
					return fmt.Errorf("embedded schema %s: %w", name, err)
				}
				fmt.Fprintf(g.stdout, "%-30s %s\n", name, head.Title)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write every schema into this folder (made if missing), replacing files of the same names")
	return cmd
}

func writeSchemas(g *globals, dir string, names []string, docs map[string]json.RawMessage) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	var wrote []string
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, docs[name], 0o644); err != nil {
			return fmt.Errorf("write schema: %w", err)
		}
		wrote = append(wrote, p)
	}
	if g.format == "json" {
		return writeJSON(g, struct {
			Wrote []string `json:"wrote"`
		}{wrote})
	}
	for _, p := range wrote {
		fmt.Fprintln(g.stdout, "Wrote", p)
	}
	return nil
}
