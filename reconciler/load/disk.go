package load

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/alm-project/alm/reconciler/model"
)

// Parsing 100,000 files is most of a load; a process that loads a commit
// again - the next check against the same base, the next run of alm apply
// - need not. A Cache opened on a folder (OpenCache, alm's --cache-dir)
// keeps snapshots there: per Git tree, every file its load decoded, by path
// and blob id. A load reads its tree's snapshot, or failing that the newest
// one (a commit shares nearly all its files with the one before), and
// parses only the files neither holds.
//
// A snapshot is only ever read by the build of alm that wrote it (its
// folder is named by a hash of the executable), and only a file whose
// decoded form reads back from disk exactly as it was decoded is kept in
// one; the others are parsed again each time. What a snapshot holds decides
// what alm plans and how a change is judged: the folder must be writable by
// alm's user alone.

const (
	// snapshotFormat changes when an entry's encoding does.
	snapshotFormat = 2
	// keepSnapshots is how many snapshots the folder keeps, newest used
	// first: a base branch's, and the revisions of a run or two.
	keepSnapshots = 3
	// snapshotEvery: a load writes a snapshot of its tree when it parsed
	// more than this share (1/n) of its files, or when there is none.
	snapshotEvery = 16
)

type disk struct {
	dir  string // <cache dir>/files/<build>
	mu   sync.Mutex
	read map[string]bool // snapshots read into the memory cache
}

// OpenCache returns a cache that keeps what it decodes in dir (made when
// missing) across processes, as well as in memory.
func OpenCache(dir string) (*Cache, error) {
	build, err := buildID()
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	root := filepath.Join(dir, "files")
	d := filepath.Join(root, build)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// Another build's snapshots will never be read again.
	if others, err := os.ReadDir(root); err == nil {
		for _, o := range others {
			if o.Name() != build {
				os.RemoveAll(filepath.Join(root, o.Name()))
			}
		}
	}
	c := NewCache()
	c.disk = &disk{dir: d, read: map[string]bool{}}
	return c, nil
}

var (
	buildOnce sync.Once
	build     string
	buildErr  error
)

// buildID names this build of alm: decoding changes with the code.
func buildID() (string, error) {
	buildOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			buildErr = fmt.Errorf("find the executable: %w", err)
			return
		}
		f, err := os.Open(exe)
		if err != nil {
			buildErr = fmt.Errorf("read the executable: %w", err)
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			buildErr = fmt.Errorf("read the executable: %w", err)
			return
		}
		build = hex.EncodeToString(h.Sum(nil))[:16] + "-" + strconv.Itoa(snapshotFormat)
	})
	return build, buildErr
}

// entry is one decoded file as a snapshot holds it. alm.yaml is not kept
// (gob cannot write its time zone) and is parsed each time: one file.
type entry struct {
	Path           string
	Blob           plumbing.Hash
	Template       *model.WorkflowTemplate
	Person         *model.Person
	ServiceAccount *model.ServiceAccount
	Role           *model.Role
	Src            model.Source // without its Fields, which are in Fields
	Fields         []field
	Policy         bool
	Rego           string
	Problems       Problems
}

// header opens each part of a snapshot; Count says how many entries follow,
// so a cut file is not read as a whole one. Names are the field names the
// entries' positions use: written once a part, not once a file (a person
// has twenty, and reading them was a tenth of a check's garbage).
type header struct {
	Format int
	Tree   string
	Count  int
	Names  []string
}

// field is a model.FieldPosition with its name as an index into Names.
type field struct {
	Name         uint32
	Line, Column int32
}

func toEntry(path string, blob plumbing.Hash, d *decoded) (entry, bool) {
	e := entry{Path: path, Blob: blob, Src: d.src, Policy: d.policy, Rego: d.rego, Problems: d.problems}
	switch o := d.obj.(type) {
	case *model.Directory:
		return e, false
	case *model.WorkflowTemplate:
		e.Template = o
	case *model.Person:
		e.Person = o
	case *model.ServiceAccount:
		e.ServiceAccount = o
	case *model.Role:
		e.Role = o
	}
	return e, true
}

func (e *entry) decoded(names []string) (decoded, error) {
	d := decoded{src: e.Src, policy: e.Policy, rego: e.Rego, problems: e.Problems}
	switch {
	case e.Template != nil:
		d.obj = e.Template
	case e.Person != nil:
		d.obj = e.Person
	case e.ServiceAccount != nil:
		d.obj = e.ServiceAccount
	case e.Role != nil:
		d.obj = e.Role
	}
	if e.Fields != nil {
		d.src.Fields = make(model.Positions, len(e.Fields))
		for i, f := range e.Fields {
			if int(f.Name) >= len(names) {
				return decoded{}, fmt.Errorf("%s: a field name out of the table", e.Path)
			}
			d.src.Fields[i] = model.FieldPosition{Field: names[f.Name], Line: f.Line, Column: f.Column}
		}
	}
	return d, nil
}

// packFields moves each entry's field positions into Fields, their names
// into the table it returns.
func packFields(entries []entry) []string {
	index := map[string]uint32{}
	var names []string
	for i := range entries {
		e := &entries[i]
		if e.Src.Fields == nil {
			continue
		}
		e.Fields = make([]field, len(e.Src.Fields))
		for j, f := range e.Src.Fields {
			n, ok := index[f.Field]
			if !ok {
				n = uint32(len(names))
				index[f.Field] = n
				names = append(names, f.Field)
			}
			e.Fields[j] = field{Name: n, Line: f.Line, Column: f.Column}
		}
		e.Src.Fields = nil
	}
	return names
}

// fromDisk fills the memory cache from the snapshot of tree, or from the
// newest one when tree has none; each snapshot is read once a process.
func (c *Cache) fromDisk(tree plumbing.Hash) {
	name := tree.String()
	if _, err := os.Stat(filepath.Join(c.disk.dir, name)); err != nil {
		name = c.disk.newest()
	}
	c.disk.mu.Lock()
	seen := name == "" || c.disk.read[name]
	c.disk.read[name] = true
	c.disk.mu.Unlock()
	if seen {
		return
	}
	dir := filepath.Join(c.disk.dir, name)
	entries, err := readSnapshot(dir, name)
	if err != nil {
		os.RemoveAll(dir) // unreadable: it will be written again
		return
	}
	now := time.Now()
	os.Chtimes(dir, now, now) // used: kept longer
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, part := range entries {
		for _, e := range part {
			k := cacheKey{e.path, e.blob}
			if c.files[k] == nil {
				c.files[k] = &cached{decoded: e.decoded, used: c.loads}
			}
		}
	}
}

type readEntry struct {
	path string
	blob plumbing.Hash
	decoded
}

// readSnapshot reads a snapshot's parts, in parallel.
func readSnapshot(dir, tree string) ([][]readEntry, error) {
	parts, err := filepath.Glob(filepath.Join(dir, "part-*"))
	if err != nil || len(parts) == 0 {
		return nil, errors.New("no parts")
	}
	out := make([][]readEntry, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = readPart(p, tree)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func readPart(path, tree string) ([]readEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, err
	}
	if h.Format != snapshotFormat || h.Tree != tree {
		return nil, fmt.Errorf("%s: another snapshot's part", path)
	}
	out := make([]readEntry, 0, min(max(h.Count, 0), 1<<16)) // a damaged count allocates nothing much
	for range h.Count {
		var e entry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		d, err := e.decoded(h.Names)
		if err != nil {
			return nil, err
		}
		out = append(out, readEntry{path: e.Path, blob: e.Blob, decoded: d})
	}
	return out, nil
}

// newest names the snapshot used last, "" when there is none.
func (d *disk) newest() string {
	snaps := d.snapshots()
	if len(snaps) == 0 {
		return ""
	}
	return snaps[0].Name()
}

// snapshots lists the snapshots, newest used first.
func (d *disk) snapshots() []os.FileInfo {
	des, err := os.ReadDir(d.dir)
	if err != nil {
		return nil
	}
	var out []os.FileInfo
	for _, de := range des {
		if !de.IsDir() || len(de.Name()) != 40 {
			continue
		}
		if fi, err := de.Info(); err == nil {
			out = append(out, fi)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ModTime().After(out[j].ModTime()) })
	return out
}

// toDisk writes a snapshot of tree's files after a load that parsed many
// of them (or when the folder has none), then keeps the newest few. A
// cache that cannot write is a slower cache, not an error.
func (c *Cache) toDisk(tree plumbing.Hash, files []file, parsed int) {
	name := tree.String()
	final := filepath.Join(c.disk.dir, name)
	if _, err := os.Stat(final); err == nil {
		return
	}
	if parsed*snapshotEvery <= len(files) && c.disk.newest() != "" {
		return
	}
	var entries []entry
	for _, f := range files {
		if f.done != nil && !f.blob.IsZero() {
			if e, ok := toEntry(f.path, f.blob, f.done); ok {
				entries = append(entries, e)
			}
		}
	}
	tmp := filepath.Join(c.disk.dir, "tmp-"+rand.Text())
	if err := writeSnapshot(tmp, name, entries); err != nil {
		os.RemoveAll(tmp)
		return
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp) // another process wrote it first
		return
	}
	c.disk.mu.Lock()
	c.disk.read[name] = true // its files are in memory already
	c.disk.mu.Unlock()
	snaps := c.disk.snapshots()
	for _, fi := range snaps[min(len(snaps), keepSnapshots):] {
		os.RemoveAll(filepath.Join(c.disk.dir, fi.Name()))
	}
}

// writeSnapshot writes entries in as many parts as there are cores, each
// read in parallel later.
func writeSnapshot(dir, tree string, entries []entry) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	n := max(1, min(runtime.GOMAXPROCS(0), len(entries)/1024))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for p := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var part []entry
			for i := p; i < len(entries); i += n {
				part = append(part, entries[i])
			}
			errs[p] = writePart(filepath.Join(dir, "part-"+strconv.Itoa(p)), tree, part)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writePart writes one part. An entry that gob cannot write, or that does
// not read back exactly as it is (gob keeps no difference between an empty
// list and none, nor fields it cannot see), is left out: its file is parsed
// each time.
func writePart(path, tree string, entries []entry) error {
	names := packFields(entries)
	for {
		data, back, bad := encodePart(tree, names, entries)
		if bad >= 0 {
			entries = slices.Delete(slices.Clone(entries), bad, bad+1)
			continue
		}
		exact := entries[:0:0]
		for i := range entries {
			if reflect.DeepEqual(entries[i], back[i]) {
				exact = append(exact, entries[i])
			}
		}
		if len(exact) < len(entries) {
			entries = exact
			continue
		}
		return os.WriteFile(path, data, 0o600)
	}
}

// encodePart encodes a part and decodes it back; bad is the index of an
// entry gob cannot write, -1 when there is none.
func encodePart(tree string, names []string, entries []entry) (data []byte, back []entry, bad int) {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(header{Format: snapshotFormat, Tree: tree, Count: len(entries), Names: names}); err != nil {
		panic(fmt.Sprintf("load: encode a snapshot header: %v", err)) // a bug in this file
	}
	for i := range entries {
		if err := enc.Encode(&entries[i]); err != nil {
			return nil, nil, i
		}
	}
	data = buf.Bytes()
	dec := gob.NewDecoder(bytes.NewReader(data))
	var h header
	back = make([]entry, len(entries))
	err := dec.Decode(&h)
	for i := 0; err == nil && i < len(back); i++ {
		err = dec.Decode(&back[i])
	}
	if err != nil {
		panic(fmt.Sprintf("load: read back a snapshot part: %v", err)) // gob reads what it wrote
	}
	return data, back, -1
}
