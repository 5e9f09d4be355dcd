// Package load reads an access repository, from a working tree or from any
// commit, into one model.Repository, and finds every problem with it: YAML
// syntax, schema violations, misplaced files, duplicates and references that
// do not resolve. It collects all problems, each at path:line:col, rather
// than stopping at the first.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unique"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/schemas"
)

// file is one file of the access repository, as bytes.
type file struct {
	path string
	data []byte
	// blob is the file's Git blob id when read from a commit through a
	// Cache; done is what the cache held for it (data is then unread).
	blob plumbing.Hash
	done *decoded
}

// wanted reports whether a repository path is one the loader reads.
func wanted(p string) bool {
	if p == model.DirectoryFile {
		return true
	}
	dir, name := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "policies" {
		return strings.HasSuffix(name, ".rego")
	}
	for _, folder := range model.Folders {
		if dir == folder {
			return isYAML(name)
		}
	}
	return false
}

// Reads reports whether the loader reads a repository path: alm.yaml, the
// YAML files of the kinds' folders and policies/*.rego. Nothing else in a
// repository can change what alm plans or how a change is judged.
func Reads(p string) bool { return wanted(p) }

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// Dir loads the working tree at dir.
func Dir(dir string) (*model.Repository, Problems, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("access repository %s: %w", dir, err)
	}
	return FS(os.DirFS(dir), "")
}

// FS loads the access repository held by fsys; revision is recorded as given.
func FS(fsys fs.FS, revision string) (*model.Repository, Problems, error) {
	var files []file
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.Count(p, "/") >= 1 {
				return fs.SkipDir // the kinds' folders are one level deep
			}
			return nil
		}
		if !wanted(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, file{path: p, data: data})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read access repository: %w", err)
	}
	repo, problems := parse(files)
	repo.Revision = revision
	return repo, problems, nil
}

// Revision loads the access repository as it was at rev (a commit, branch or
// tag) in the Git repository at repoPath, without touching its working tree.
func Revision(ctx context.Context, repoPath, rev string) (*model.Repository, Problems, error) {
	r, err := Open(repoPath)
	if err != nil {
		return nil, nil, err
	}
	defer Close(r)
	return Commit(ctx, r, rev)
}

// Open opens the Git repository at (or above) path. Descriptors are kept open:
// reading many blobs is three times faster so (shared/notes/dependencies.md).
func Open(repoPath string) (*git.Repository, error) {
	root, err := findGitRoot(repoPath)
	if err != nil {
		return nil, err
	}
	dot, worktree := osfs.New(root), billy.Filesystem(nil) // a bare repository
	if fi, err := os.Stat(path.Join(root, ".git")); err == nil && fi.IsDir() {
		dot, worktree = osfs.New(path.Join(root, ".git")), osfs.New(root)
	}
	st := filesystem.NewStorageWithOptions(dot, cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	r, err := git.Open(st, worktree)
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", root, err)
	}
	return r, nil
}

// Close releases the file descriptors an opened repository keeps.
func Close(r *git.Repository) {
	if c, ok := r.Storer.(io.Closer); ok {
		c.Close()
	}
}

func findGitRoot(p string) (string, error) {
	for dir := p; ; dir = path.Dir(dir) {
		if _, err := os.Stat(path.Join(dir, ".git")); err == nil {
			return dir, nil
		}
		if _, err := os.Stat(path.Join(dir, "HEAD")); err == nil { // a bare repository
			if _, err := os.Stat(path.Join(dir, "objects")); err == nil {
				return dir, nil
			}
		}
		if dir == "/" || dir == "." {
			return "", fmt.Errorf("%s is not inside a Git repository: use --rev only with a Git repository", p)
		}
	}
}

// Commit loads the access repository at rev in an open Git repository.
func Commit(ctx context.Context, r *git.Repository, rev string) (*model.Repository, Problems, error) {
	return commit(ctx, r, rev, nil)
}

// Cache holds files decoded from commits by path and Git blob id, so that
// a file two revisions share is read and parsed once: check's base and
// head, a plan's revision and the one applied last, audit's revisions.
// Each repository loaded through it gets its own copy of every object.
// A file no load has used for keepLoads loads is dropped, so a cache kept
// by a long-running reconciler holds about one revision's files.
type Cache struct {
	mu    sync.Mutex
	files map[cacheKey]*cached
	loads int   // how many loads it has served
	disk  *disk // nil: memory only (disk.go)
	// parsed counts the files parsed rather than found cached.
	parsed int
}

type cached struct {
	decoded
	used int // the load that used it last
}

// keepLoads is how many loads a file stays cached without being used: a
// run loads the head, perhaps the revision applied last, and the loop
// the head again before the run.
const keepLoads = 4

type cacheKey struct {
	path string
	blob plumbing.Hash
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{files: map[cacheKey]*cached{}} }

// Parsed is how many files the cache's loads have parsed, rather than found
// in memory or on disk.
func (c *Cache) Parsed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parsed
}

// Len is how many files the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.files)
}

// Revision is Revision through the cache.
func (c *Cache) Revision(ctx context.Context, repoPath, rev string) (*model.Repository, Problems, error) {
	r, err := Open(repoPath)
	if err != nil {
		return nil, nil, err
	}
	defer Close(r)
	return c.Commit(ctx, r, rev)
}

// Commit loads the access repository at rev, parsing only the files the
// cache does not hold.
func (c *Cache) Commit(ctx context.Context, r *git.Repository, rev string) (*model.Repository, Problems, error) {
	return commit(ctx, r, rev, c)
}

func commit(ctx context.Context, r *git.Repository, rev string, cache *Cache) (*model.Repository, Problems, error) {
	hash, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, nil, fmt.Errorf("revision %q: %w", rev, err)
	}
	commit, err := r.CommitObject(*hash)
	if err != nil {
		return nil, nil, fmt.Errorf("commit %s: %w", hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("tree of %s: %w", hash, err)
	}
	if cache != nil && cache.disk != nil {
		cache.fromDisk(tree.Hash)
	}
	// The walk reads tree entries only: a blob the cache holds is never
	// read from the object store.
	var files []file
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tree of %s: %w", hash, err)
		}
		if entry.Mode == filemode.Dir || entry.Mode == filemode.Submodule || !wanted(name) {
			continue
		}
		if cache != nil {
			cache.mu.Lock()
			e := cache.files[cacheKey{name, entry.Hash}]
			if e != nil {
				e.used = cache.loads + 1
			}
			cache.mu.Unlock()
			if e != nil {
				files = append(files, file{path: name, blob: entry.Hash, done: &e.decoded})
				continue
			}
		}
		data, err := readBlob(r, entry.Hash)
		if err != nil {
			return nil, nil, fmt.Errorf("%s at %s: %w", name, hash, err)
		}
		files = append(files, file{path: name, data: data, blob: entry.Hash})
	}
	parsed := 0
	for _, f := range files {
		if f.done == nil {
			parsed++
		}
	}
	repo, problems := parseCached(files, cache)
	repo.Revision = hash.String()
	if cache != nil && cache.disk != nil {
		cache.toDisk(tree.Hash, files, parsed)
	}
	return repo, problems, nil
}

func readBlob(r *git.Repository, h plumbing.Hash) ([]byte, error) {
	blob, err := r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

var (
	compiled     *schemas.Set
	compileErr   error
	compileOnce  sync.Once
	yamlLineText = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

func schemaSet() (*schemas.Set, error) {
	compileOnce.Do(func() { compiled, compileErr = schemas.Compile() })
	return compiled, compileErr
}

// parse turns the files into a repository and its problems. Files are
// decoded and checked against their schema in parallel, each on its own;
// then, in path order, they are filed in the repository (names must be
// unique within a kind) and checked together.
func parse(files []file) (*model.Repository, Problems) { return parseCached(files, nil) }

func parseCached(files []file, cache *Cache) (*model.Repository, Problems) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	repo := model.NewRepository()
	c := &collector{}
	set, err := schemaSet()
	if err != nil {
		// The schemas are embedded: failing to compile them is a bug in this build.
		c.at(model.Position{Path: "schemas"}, "", "internal: compile schemas: %v", err)
		return repo, c.problems
	}
	out := make([]decoded, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(1, len(files)/64)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(files); i = int(next.Add(1)) - 1 {
				if d := files[i].done; d != nil {
					out[i] = *d
					continue
				}
				out[i] = decodeFile(files[i], set)
			}
		}()
	}
	wg.Wait()
	fresh := make([]bool, len(files))
	for i := range files {
		if files[i].done == nil {
			fresh[i] = true
			files[i].done = &out[i] // for the snapshot on disk (toDisk)
		}
	}
	if cache != nil {
		cache.mu.Lock()
		cache.loads++
		for _, f := range fresh {
			if f {
				cache.parsed++
			}
		}
		for i, f := range files {
			if fresh[i] && !f.blob.IsZero() {
				cache.files[cacheKey{f.path, f.blob}] = &cached{decoded: out[i], used: cache.loads}
			}
		}
		for k, e := range cache.files {
			if cache.loads-e.used >= keepLoads {
				delete(cache.files, k)
			}
		}
		cache.mu.Unlock()
	}
	sawDirectory := false
	for i, f := range files {
		if f.path == model.DirectoryFile {
			sawDirectory = true
		}
		d := out[i]
		c.problems = append(c.problems, d.problems...)
		switch {
		case d.policy:
			repo.Policies = append(repo.Policies, model.PolicyFile{Path: f.path, Source: d.rego})
		case d.obj == nil:
			c.markUnreadable(kindForPath(f.path), f.path)
		default:
			store(repo, d.obj, d.src, c)
		}
	}
	if !sawDirectory {
		c.at(model.Position{Path: model.DirectoryFile}, "", "missing: every access repository has an alm.yaml of kind Directory at its top")
	}
	check(repo, c)
	c.problems.sort()
	return repo, c.problems
}

// decoded is one file read on its own: its object (nil when it could not
// be decoded), where its fields are, and its problems.
type decoded struct {
	obj      any
	src      model.Source
	policy   bool
	rego     string // a policy's source
	problems Problems
}

// decodeFile parses one YAML file, validates it against its kind's schema
// and decodes its object. It touches nothing shared: files are decoded in
// parallel.
func decodeFile(f file, set *schemas.Set) decoded {
	c := &collector{}
	if msg := tooLarge(len(f.data)); msg != "" {
		c.at(model.Position{Path: f.path, Line: 1}, "", "%s", msg)
		return decoded{problems: c.problems}
	}
	if strings.HasSuffix(f.path, ".rego") {
		return decoded{policy: true, rego: string(f.data)}
	}
	obj, src := decodeYAML(f, set, c)
	return decoded{obj: obj, src: src, problems: c.problems}
}

func decodeYAML(f file, set *schemas.Set, c *collector) (any, model.Source) {
	top := model.Position{Path: f.path, Line: 1, Column: 1}
	dec := yaml.NewDecoder(bytes.NewReader(f.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.at(top, "", "empty file: write one object (apiVersion, kind, metadata, spec) or delete the file")
			return nil, model.Source{}
		}
		c.at(syntaxPosition(f.path, err), "", "YAML syntax: %s", syntaxMessage(err))
		return nil, model.Source{}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c.at(model.Position{Path: f.path, Line: extra.Line, Column: extra.Column}, "", "more than one YAML document: keep one object per file, named after it")
	} else if !errors.Is(err, io.EOF) {
		c.at(syntaxPosition(f.path, err), "", "YAML syntax: %s", syntaxMessage(err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if b := bound(root); b != nil {
		c.at(model.Position{Path: f.path, Line: b.line, Column: b.column}, "", "%s", b.msg)
		return nil, model.Source{}
	}
	if root.Kind != yaml.MappingNode {
		c.at(model.Position{Path: f.path, Line: root.Line, Column: root.Column}, "", "not a mapping: a file holds one object with apiVersion, kind, metadata and spec")
		return nil, model.Source{}
	}
	src := model.Source{Path: f.path, Line: root.Line, Column: root.Column}
	if !f.blob.IsZero() {
		src.Blob = f.blob.String()
	}
	positions(root, "", &src.Fields)
	slices.SortFunc(src.Fields, func(a, b model.FieldPosition) int { return strings.Compare(a.Field, b.Field) })

	kind := scalarField(root, "kind")
	wantKind := kindForPath(f.path)
	switch {
	case kind == "":
		c.field(src, "kind", "missing: this file in %s must say kind: %s", folderOf(f.path), wantKind)
		return nil, src
	case kind != wantKind:
		c.field(src, "kind", "%s does not belong in %s: this folder holds kind %s (move the file or fix kind)", kind, folderOf(f.path), wantKind)
		return nil, src
	}
	violations := set.Validate(kind, schemas.FromYAML(root))
	for _, v := range violations {
		fieldPath := fieldOf(v.Pointer)
		c.at(src.At(fieldPath), fieldPath, "%s", v.Message)
	}
	obj, err := decodeKind(kind, root, src)
	if err == nil || len(violations) > 0 {
		return obj, src // the schema has said what stops the file decoding
	}
	var pe *model.PositionError
	if errors.As(err, &pe) {
		pos := model.Position{Path: f.path, Line: pe.Line, Column: pe.Column}
		if field := fieldAt(src, pe.Line, pe.Column); field != "" {
			c.at(pos, field, "%s: %s", field, pe.Err)
			return nil, src
		}
		c.at(pos, "", "%s", pe.Err)
		return nil, src
	}
	c.at(top, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	return nil, src
}

// decodeKind decodes the object of a kind; nil, with the error, when it
// does not decode.
func decodeKind(kind string, n *yaml.Node, src model.Source) (any, error) {
	var obj any
	switch kind {
	case model.KindDirectory:
		obj = &model.Directory{}
	case model.KindWorkflowTemplate:
		obj = &model.WorkflowTemplate{}
	case model.KindPerson:
		obj = &model.Person{}
	case model.KindServiceAccount:
		obj = &model.ServiceAccount{}
	case model.KindRole:
		obj = &model.Role{}
	default:
		return nil, fmt.Errorf("kind %s is not one alm reads", kind)
	}
	if err := n.Decode(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// store files a decoded object in the repository; a name its kind has
// already is a problem, and the first file keeps it.
func store(repo *model.Repository, obj any, src model.Source, c *collector) {
	dup := func(name string, other model.Source) {
		c.field(src, "metadata.name", "%s is already defined in %s: names are unique within a kind", name, other.Path)
	}
	// Each repository gets its own copy: a decoded file may be shared
	// through a Cache by several.
	switch o := obj.(type) {
	case *model.Directory:
		cp := *o
		cp.Source = src
		repo.Directory = &cp
	case *model.WorkflowTemplate:
		cp := *o
		cp.Source = src
		if other, ok := repo.Templates[cp.Metadata.Name]; ok {
			dup(cp.Metadata.Name, other.Source)
			return
		}
		repo.Templates[cp.Metadata.Name] = &cp
	case *model.Person:
		cp := *o
		cp.Source = src
		if other, ok := repo.People[cp.Metadata.Name]; ok {
			dup(cp.Metadata.Name, other.Source)
			return
		}
		repo.People[cp.Metadata.Name] = &cp
	case *model.ServiceAccount:
		cp := *o
		cp.Source = src
		if other, ok := repo.ServiceAccounts[cp.Metadata.Name]; ok {
			dup(cp.Metadata.Name, other.Source)
			return
		}
		repo.ServiceAccounts[cp.Metadata.Name] = &cp
	case *model.Role:
		cp := *o
		cp.Source = src
		if other, ok := repo.Roles[cp.Metadata.Name]; ok {
			dup(cp.Metadata.Name, other.Source)
			return
		}
		repo.Roles[cp.Metadata.Name] = &cp
	}
}

func kindForPath(p string) string {
	if p == model.DirectoryFile {
		return model.KindDirectory
	}
	dir := path.Dir(p)
	for kind, folder := range model.Folders {
		if folder == dir {
			return kind
		}
	}
	return ""
}

func folderOf(p string) string {
	if d := path.Dir(p); d != "." {
		return d + "/"
	}
	return "the top folder"
}

func scalarField(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// positions records where every field stands: mapping entries at their key,
// sequence items at the item.
func positions(n *yaml.Node, prefix string, out *model.Positions) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := intern(k.Value)
			if prefix != "" {
				name = intern(prefix + "." + name)
			}
			*out = append(*out, model.FieldPosition{Field: name, Line: int32(k.Line), Column: int32(k.Column)})
			positions(v, name, out)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			name := intern(prefix + "[" + strconv.Itoa(i) + "]")
			*out = append(*out, model.FieldPosition{Field: name, Line: int32(item.Line), Column: int32(item.Column)})
			positions(item, name, out)
		}
	}
}

// intern returns the one copy of a field name: every file of a kind has
// the same names. unique's handles are weak, so names no loaded file uses
// any more are collected.
func intern(s string) string { return unique.Make(s).Value() }

// fieldAt names the field whose value stands at line:col: the nearest field
// written before it on its line (its key, or a list item itself).
func fieldAt(src model.Source, line, col int) string {
	best, bestCol := "", 0
	for _, p := range src.Fields {
		name, pl, pc := p.Field, int(p.Line), int(p.Column)
		if pl != line || pc > col {
			continue
		}
		if pc > bestCol || (pc == bestCol && (len(name) > len(best) || len(name) == len(best) && name < best)) {
			best, bestCol = name, pc
		}
	}
	return best
}

// fieldOf turns a schema instance location into a field path: spec.roles[1].
func fieldOf(pointer []string) string {
	var b strings.Builder
	for _, seg := range pointer {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// parserContextErrors are yaml.v3's parser errors that it places by the
// 0-based line of the construct they interrupt (scanner errors it corrects).
var parserContextErrors = []string{
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected node content",
	"did not find expected <document start>",
}

func syntaxPosition(p string, err error) model.Position {
	if m := yamlLineText.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		for _, msg := range parserContextErrors {
			if strings.HasPrefix(m[2], msg) {
				line++
			}
		}
		return model.Position{Path: p, Line: line}
	}
	return model.Position{Path: p, Line: 1}
}

func syntaxMessage(err error) string {
	if m := yamlLineText.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
