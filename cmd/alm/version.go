package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// versionString is the ldflags version, else the module's version as Go
// recorded it (go install ...@v1.2.3), else "(devel)".
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// versionTemplate makes alm --version print what alm version prints.
const versionTemplate = "alm {{.Version}}\n"

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print alm's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if g.format == "json" {
				return json.NewEncoder(g.stdout).Encode(struct {
					Version string `json:"version"`
				}{versionString()})
			}
			fmt.Fprintln(g.stdout, "alm", versionString())
			return nil
		},
	}
}
