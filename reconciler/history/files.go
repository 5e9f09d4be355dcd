package history

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Blob returns the content of a blob by its hash, as FileChange gives it.
func Blob(r *git.Repository, hash string) ([]byte, error) {
	b, err := r.BlobObject(plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return data, nil
}

// Files returns the content of the files of a commit that keep accepts,
// by path, without reading the others: a few files of a large revision.
func Files(ctx context.Context, r *git.Repository, rev string, keep func(path string) bool) (map[string][]byte, error) {
	c, err := commitObject(r, rev)
	if err != nil {
		return nil, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
	}
	out := map[string][]byte{}
	// The walker reads trees only; blobs are read for the files kept.
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
		}
		if !e.Mode.IsFile() || !keep(name) {
			continue
		}
		data, err := Blob(r, e.Hash.String())
		if err != nil {
			return nil, fmt.Errorf("%s at %s: %w", name, c.Hash, err)
		}
		out[name] = data
	}
}
