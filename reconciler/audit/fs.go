package audit

import (
	"context"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

func mapFS(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// shared reports whether a path is read for every account: alm.yaml, the
// templates and the roles decide an account's roles and groups.
func shared(p string) bool {
	return p == model.DirectoryFile || strings.HasPrefix(p, model.Folders[model.KindWorkflowTemplate]+"/") ||
		strings.HasPrefix(p, model.Folders[model.KindRole]+"/")
}

// partial loads, at a commit, only the shared files and the paths given:
// enough to say what one account asks for, without reading every account.
// Problems (a manager who is not loaded) are passed over.
func (h *History) partial(ctx context.Context, rev string, paths ...string) (*model.Repository, error) {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	files, err := history.Files(ctx, h.repo, rev, func(p string) bool { return load.Reads(p) && (shared(p) || want[p]) })
	if err != nil {
		return nil, err
	}
	repo, _, err := load.FS(mapFS(files), rev)
	return repo, err
}
