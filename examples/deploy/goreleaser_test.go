package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestGoreleaser(t *testing.T) {
	checkFile(t, root+"/.goreleaser.yaml", checkGoreleaser, []broken{
		{"no arm64", "goarch: [amd64, arm64]", "goarch: [amd64]", "arm64"},
		{"no windows", "goos: [linux, windows, darwin]", "goos: [linux, darwin]", "windows"},
		{"cgo", "CGO_ENABLED=0", "CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"version not set", "-X main.version={{.Version}}", "-X main.Version={{.Version}}", "main.version"},
		{"no trimpath", "- -trimpath", "- -v", "-trimpath"},
		{"no checksum", "algorithm: sha256", "algorithm: md5", "sha256"},
		{"no sbom", "sboms:", "sbom_off:", "sboms"},
		{"v1 config", "version: 2", "version: 1", "version: 2"},
	})
}

type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		IDs     []string `yaml:"ids"`
		Formats []string `yaml:"formats"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	SBOMs []struct {
		Artifacts string `yaml:"artifacts"`
	} `yaml:"sboms"`
}

// checkGoreleaser lists what a release made with data would lack: the six
// static targets, the version alm prints, archives, checksums and an SBOM.
// goreleaser check (make deploy-check) validates the rest of the schema.
func checkGoreleaser(data []byte) []string {
	var c goreleaserConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if c.Version != 2 {
		add("version: %d: want version: 2 (GoReleaser v2)", c.Version)
	}
	if len(c.Builds) != 1 {
		add("builds: want one build of ./cmd/alm, got %d", len(c.Builds))
		return problems
	}
	b := c.Builds[0]
	if b.Main != "./cmd/alm" || b.Binary != "alm" {
		add("builds[0]: main %q binary %q: want ./cmd/alm and alm", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		add("builds[0].env lacks CGO_ENABLED=0: the binaries must be static")
	}
	if !slices.Contains(b.Flags, "-trimpath") {
		add("builds[0].flags lacks -trimpath")
	}
	ld := strings.Join(b.Ldflags, " ")
	for _, want := range []string{"-s", "-w"} {
		if !slices.Contains(strings.Fields(ld), want) {
			add("builds[0].ldflags lacks %s (strip the symbol table and DWARF)", want)
		}
	}
	if !strings.Contains(ld, "-X main.version={{.Version}}") {
		add("builds[0].ldflags lacks -X main.version={{.Version}}: alm version would not print the release")
	}
	for _, os := range []string{"linux", "windows", "darwin"} {
		if !slices.Contains(b.Goos, os) {
			add("builds[0].goos lacks %s", os)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			add("builds[0].goarch lacks %s", arch)
		}
	}
	archived := false
	for _, a := range c.Archives {
		if len(a.IDs) == 0 || slices.Contains(a.IDs, b.ID) {
			archived = true
		}
	}
	if !archived {
		add("archives: none packs build %q", b.ID)
	}
	if c.Checksum.Algorithm != "sha256" {
		add("checksum.algorithm %q: want sha256", c.Checksum.Algorithm)
	}
	if len(c.SBOMs) == 0 {
		add("sboms: none: each release needs an SBOM")
	}
	return problems
}
