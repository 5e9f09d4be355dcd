package receipt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// All returns every receipt on branch (DefaultBranch when empty), refusals
// included, oldest first by AppliedAt: the receipts/ folder of the branch's
// tip, which keeps one file per run. It returns none and no error when the
// branch does not exist. alm audit reads the whole record this way.
func All(ctx context.Context, repoPath, branch string) ([]Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if branch == "" {
		branch = DefaultBranch
	}
	repo, err := open(repoPath)
	if err != nil {
		return nil, err
	}
	_, c, err := tip(repo, branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s in %s: %w", branch, repoPath, err)
	}
	if c == nil {
		return nil, nil
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of branch %s in %s: %w", branch, repoPath, err)
	}
	dir, err := tree.Tree(Dir)
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s on branch %s of %s: %w", Dir, branch, repoPath, err)
	}
	var out []Receipt
	for _, e := range dir.Entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blob, err := repo.BlobObject(e.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s/%s on branch %s: %w", Dir, e.Name, branch, err)
		}
		rd, err := blob.Reader()
		if err != nil {
			return nil, fmt.Errorf("%s/%s on branch %s: %w", Dir, e.Name, branch, err)
		}
		data, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/%s on branch %s: %w", Dir, e.Name, branch, err)
		}
		var r Receipt
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s/%s on branch %s of %s: %w", Dir, e.Name, branch, repoPath, err)
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AppliedAt.Before(out[j].AppliedAt) })
	return out, nil
}
