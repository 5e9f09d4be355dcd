package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// indexVersion changes when Index's form does, so an old cache is rebuilt.
const indexVersion = 1

// Index is the history of one branch as audit reads it, built once from the
// first-parent diffs (no checkout of any revision) and cached by its head.
type Index struct {
	Version int    `json:"version"`
	Branch  string `json:"branch"`
	Head    string `json:"head"`
	// Commits is the branch's first-parent history, oldest first: each
	// is how a change arrived (a merge, or a commit pushed straight).
	Commits []history.Commit `json:"commits"`
	// Paths holds, per file alm reads, the commits that changed its
	// content, oldest first.
	Paths map[string][]PathChange `json:"paths"`
	// IDs holds, per account's metadata.id, the paths it lived at, in the
	// order it arrived at them (a rename adds one).
	IDs map[string][]string `json:"ids"`
	// Names holds, per login an account had, the metadata.ids that had it.
	Names map[string][]string `json:"names"`

	at map[string]int // commit hash -> position in Commits
}

// PathChange is one commit's change to a file: blob hashes ("" where the
// file was absent) and, for an account's file, its metadata.id and
// metadata.name after the change (before it, for a removal).
type PathChange struct {
	Commit int    `json:"commit"` // position in Index.Commits
	From   string `json:"from"`
	To     string `json:"to"`
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Position returns where a commit is on the branch's first-parent history.
func (x *Index) Position(hash string) (int, bool) {
	i, ok := x.at[hash]
	return i, ok
}

func (x *Index) reindex() {
	x.at = make(map[string]int, len(x.Commits))
	for i, c := range x.Commits {
		x.at[c.Hash] = i
	}
}

// isAccountFile reports whether a path holds a person or a service account.
func isAccountFile(p string) bool {
	return strings.HasPrefix(p, model.Folders[model.KindPerson]+"/") || strings.HasPrefix(p, model.Folders[model.KindServiceAccount]+"/")
}

// buildIndex indexes head's first-parent history, extending prev when its
// head is on that history (only the new commits are read).
func buildIndex(ctx context.Context, r *git.Repository, branch, head string, prev *Index) (*Index, error) {
	x := &Index{Version: indexVersion, Branch: branch, Head: head, Paths: map[string][]PathChange{}, IDs: map[string][]string{}, Names: map[string][]string{}}
	since := ""
	if prev != nil && prev.Version == indexVersion && prev.Head != "" {
		x.Commits, x.Paths, x.IDs, x.Names, since = prev.Commits, prev.Paths, prev.IDs, prev.Names, prev.Head
	}
	commits, err := history.FirstParents(ctx, r, head, since)
	if errors.Is(err, history.ErrNotOnBranch) && since != "" {
		return buildIndex(ctx, r, branch, head, nil) // history rewritten: start again
	}
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", branch, err)
	}
	for _, c := range commits {
		parent := ""
		if len(c.Parents) > 0 {
			parent = c.Parents[0]
		}
		changes, err := history.Changed(ctx, r, parent, c.Hash, load.Reads)
		if err != nil {
			return nil, fmt.Errorf("files changed by %s: %w", c.Short(), err)
		}
		i := len(x.Commits)
		x.Commits = append(x.Commits, c)
		for _, ch := range changes {
			pc := PathChange{Commit: i, From: ch.From, To: ch.To}
			if isAccountFile(ch.Path) {
				blob := ch.To
				if blob == "" {
					blob = ch.From
				}
				if pc.ID, pc.Name, err = identify(r, blob); err != nil {
					return nil, fmt.Errorf("%s at %s: %w", ch.Path, c.Short(), err)
				}
				x.note(ch.Path, pc.ID, pc.Name)
			}
			x.Paths[ch.Path] = append(x.Paths[ch.Path], pc)
		}
	}
	x.reindex()
	return x, nil
}

func (x *Index) note(path, id, name string) {
	if id == "" {
		return
	}
	if !contains(x.IDs[id], path) {
		x.IDs[id] = append(x.IDs[id], path)
	}
	if name != "" && !contains(x.Names[name], id) {
		x.Names[name] = append(x.Names[name], id)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// identify reads an account file's metadata.id and metadata.name; a file
// that does not parse has neither (load reports it where it matters).
func identify(r *git.Repository, blob string) (id, name string, err error) {
	data, err := history.Blob(r, blob)
	if err != nil {
		return "", "", err
	}
	var f struct {
		Metadata struct {
			Name string `yaml:"name"`
			ID   string `yaml:"id"`
		} `yaml:"metadata"`
	}
	if yaml.Unmarshal(data, &f) != nil {
		return "", "", nil
	}
	return f.Metadata.ID, f.Metadata.Name, nil
}

// cacheFile is where the index of a repository is kept between runs.
func cacheFile(dir string) string { return filepath.Join(dir, "audit-index.json") }

// defaultCacheDir is the repository's .git/alm-cache (alm-cache in a bare
// repository), or "" when neither can be found.
func defaultCacheDir(repoPath string) string {
	if fi, err := os.Stat(filepath.Join(repoPath, ".git")); err == nil && fi.IsDir() {
		return filepath.Join(repoPath, ".git", "alm-cache")
	}
	if _, err := os.Stat(filepath.Join(repoPath, "objects")); err == nil {
		return filepath.Join(repoPath, "alm-cache")
	}
	return ""
}

func readCache(dir, branch string) *Index {
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(cacheFile(dir))
	if err != nil {
		return nil
	}
	var x Index
	if json.Unmarshal(data, &x) != nil || x.Branch != branch || x.Version != indexVersion {
		return nil
	}
	return &x
}

func writeCache(dir string, x *Index) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	data, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("encode the index: %w", err)
	}
	// Written aside and renamed: a reader never sees half an index.
	tmp, err := os.CreateTemp(dir, "audit-index-*.tmp")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cache %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), cacheFile(dir)); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}
