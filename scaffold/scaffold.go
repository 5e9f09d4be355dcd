// Package scaffold writes the files of a new access repository (alm init)
// and new account files (alm new). Building the files is pure: Repository,
// ServiceAccount and Person return File values; Write and Add put them on
// disk and check the result with the same loader alm validate uses.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/schemas"
)

// SchemaDir is where init copies the JSON Schemas, relative to the repository.
const SchemaDir = ".alm/schemas"

// File is one file to write: a slash-separated path relative to the
// repository, and its content.
type File struct {
	Path string
	Data []byte
}

// InvalidError is a refusal caused by the input (a flag, an existing file, a
// repository that does not validate): nothing the user asked for was left
// half done. The command line exits 3 on it.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

func invalid(format string, args ...any) error {
	return &InvalidError{fmt.Errorf(format, args...)}
}

//go:embed all:skeleton
var skeleton embed.FS

// Options are what alm init asks for.
type Options struct {
	Domain   string // DNS name, e.g. example.test
	BaseDN   string // the domain's DN, e.g. DC=example,DC=test
	OU       string // alm's root OU relative to BaseDN; default OU=ALM
	TimeZone string // IANA name; default UTC
	URL      string // ldaps:// URL of a domain controller; optional
	Version  string // alm's version, pinned in the workflow when it is a release
}

// DefaultOU is the root OU alm's OUs go below unless --ou says otherwise.
const DefaultOU = "OU=ALM"

// flagOf names the flag that sets each field of alm.yaml or a template, so
// that a problem with a value is reported as a problem with the flag.
var flagOf = map[string]string{
	"spec.domain":    "--domain",
	"spec.baseDN":    "--base-dn",
	"spec.timeZone":  "--time-zone",
	"spec.url":       "--url",
	"spec.groupsOU":  "--ou",
	"spec.leaversOU": "--ou",
	"spec.retiredOU": "--ou",
	"spec.ou":        "--ou",
	"metadata.name":  "--domain", // alm.yaml's name is the domain's first label
}

// Repository returns the files of a new access repository: alm.yaml, one
// template per kind of account, the folders (kept by a README each), a
// README, the pull-request workflow and a copy of the schemas. The files are
// loaded in memory with alm validate's loader first: a value that makes
// them invalid is refused naming its flag, before anything is written.
func Repository(o Options) ([]File, error) {
	if o.OU == "" {
		o.OU = DefaultOU
	}
	if o.TimeZone == "" {
		o.TimeZone = model.UTC
	}
	for _, f := range []struct{ flag, v string }{{"--domain", o.Domain}, {"--base-dn", o.BaseDN}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, invalid("%s is required: the domain's DNS name and DN, e.g. --domain example.test --base-dn DC=example,DC=test", f.flag)
		}
	}
	if strings.ContainsAny(o.Domain+o.BaseDN+o.OU+o.TimeZone+o.URL, "\n\r") {
		return nil, invalid("a flag holds a line break: give each value on one line")
	}
	if directory.Under(o.OU, o.BaseDN) {
		return nil, invalid("--ou %q ends with --base-dn: write it relative to the base DN, e.g. %s", o.OU, directory.Relative(o.OU, o.BaseDN))
	}
	data := map[string]any{
		"Name":     strings.ToLower(strings.SplitN(o.Domain, ".", 2)[0]),
		"Domain":   o.Domain,
		"BaseDN":   o.BaseDN,
		"TimeZone": o.TimeZone,
		"URL":      o.URL,
		"Version":  pinned(o.Version),
	}
	funcs := template.FuncMap{
		"yaml": scalar,
		"ou":   func(rdn string) string { return rdn + "," + o.OU },
	}
	var files []File
	err := fs.WalkDir(skeleton, "skeleton", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		text, err := fs.ReadFile(skeleton, p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Delims("{%", "%}").Funcs(funcs).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return fmt.Errorf("skeleton %s: %w", p, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("skeleton %s: %w", p, err)
		}
		rel := strings.TrimPrefix(p, "skeleton/")
		out := b.Bytes()
		if kind := kindOf(rel); kind != "" {
			out = append([]byte(SchemaComment(rel, kind)+"\n"), align(out)...)
		}
		files = append(files, File{Path: rel, Data: out})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range schemas.Names() {
		b, err := fs.ReadFile(schemas.FS(), name)
		if err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", name, err)
		}
		files = append(files, File{Path: path.Join(SchemaDir, name), Data: b})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	if problems, err := check(files); err != nil {
		return nil, err
	} else if len(problems) > 0 {
		return nil, &InvalidError{flagProblems(problems)}
	}
	return files, nil
}

// pinned is the alm version the workflow installs: this one when it is a
// release, else the latest.
func pinned(v string) string {
	if strings.HasPrefix(v, "v") && !strings.Contains(v, "+") {
		return v
	}
	return "latest"
}

// check loads files in memory as alm validate loads a working tree.
func check(files []File) (load.Problems, error) {
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	_, problems, err := load.FS(fsys, "")
	return problems, err
}

// flagProblems words the problems of generated files as problems of the
// flags that set the values, once a flag: --ou sets five fields.
func flagProblems(problems load.Problems) error {
	var lines []string
	said := map[string]bool{}
	// alm.yaml's name comes from --domain: say so only when the domain
	// itself is not what is wrong.
	problems = slices.Clone(problems)
	slices.SortStableFunc(problems, func(a, b load.Problem) int {
		return compareBool(a.Field == "metadata.name", b.Field == "metadata.name")
	})
	for _, p := range problems {
		flag, ok := flagOf[p.Field]
		switch {
		case !ok:
			// A field no flag sets: the skeleton itself is wrong.
			lines = append(lines, p.String()+" (a bug in alm init: please report it)")
		case !said[flag]:
			said[flag] = true
			lines = append(lines, flag+": "+p.Message)
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// scalar writes s as a YAML scalar, quoted only where YAML needs it.
func scalar(s string) (string, error) {
	b, err := yaml.Marshal(s)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// SchemaComment is the modeline that points yaml-language-server at the
// schema of kind, for a file at rel (slash-separated) in the repository.
func SchemaComment(rel, kind string) string {
	up := strings.Repeat("../", strings.Count(rel, "/"))
	return "# yaml-language-server: $schema=" + up + SchemaDir + "/" + schemas.FileOf(kind)
}

// kindOf is the kind of the file at rel, "" for files no schema covers.
func kindOf(rel string) string {
	if rel == model.DirectoryFile {
		return model.KindDirectory
	}
	dir, name := path.Split(rel)
	if !strings.HasSuffix(name, ".yaml") {
		return ""
	}
	for kind, folder := range model.Folders {
		if dir == folder+"/" {
			return kind
		}
	}
	return ""
}

// align lines up the comments that follow values ("value   # why") in a
// column, as hand-written files do, so that they read as a second column.
func align(data []byte) []byte {
	const sep, widest = "   # ", 40
	lines := strings.Split(string(data), "\n")
	col := 0
	for _, l := range lines {
		if code, _, ok := strings.Cut(l, sep); ok && len(code) < widest {
			col = max(col, len(code))
		}
	}
	for i, l := range lines {
		if code, comment, ok := strings.Cut(l, sep); ok {
			lines[i] = code + strings.Repeat(" ", max(1, col+1-len(code))) + "# " + comment
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// Write writes files below dir, making folders as needed. Unless force, it
// refuses, before writing anything, when any of the files exists, naming it.
func Write(dir string, files []File, force bool) error {
	if !force {
		var exist []string
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if _, err := os.Lstat(p); err == nil {
				exist = append(exist, p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("look for %s: %w", p, err)
			}
		}
		switch len(exist) {
		case 0:
		case 1:
			return invalid("%s exists already: init writes a new repository; pass --force to overwrite the files it writes", exist[0])
		default:
			return invalid("%d files init writes exist already: %s; init writes a new repository; pass --force to overwrite them", len(exist), strings.Join(exist, ", "))
		}
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("make folder for %s: %w", f.Path, err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}

// Init writes a new access repository into dir and loads it back as alm
// validate does. The files were checked in memory already; a repository
// that does not validate from disk is a bug (or, with force, a problem of
// files that were there before), reported with every problem.
func Init(dir string, o Options, force bool) ([]File, error) {
	files, err := Repository(o)
	if err != nil {
		return nil, err
	}
	if err := Write(dir, files, force); err != nil {
		return nil, err
	}
	return files, verify(dir)
}

// verify loads the working tree at dir as alm validate does.
func verify(dir string) error {
	_, problems, err := load.Dir(dir)
	if err != nil {
		return fmt.Errorf("load %s after init: %w", dir, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("alm validate finds %d problems in %s after init wrote it (files that were there before may cause them; in the files init wrote they are a bug in alm, please report it):\n%w", len(problems), dir, problems)
	}
	return nil
}
