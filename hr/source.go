package hr

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing/fstest"

	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// Tree loads the access repository in a working tree, and its files.
func Tree(dir string) (*model.Repository, fs.FS, load.Problems, error) {
	repo, problems, err := load.Dir(dir)
	return repo, os.DirFS(dir), problems, err
}

// Revision loads the access repository at rev of the Git repository at
// repoPath, its people's and service accounts' files, and the commit rev names: what a pull
// request is made over, whatever the working tree holds.
func Revision(ctx context.Context, repoPath, rev string) (*model.Repository, fs.FS, string, load.Problems, error) {
	r, err := load.Open(repoPath)
	if err != nil {
		return nil, nil, "", nil, err
	}
	defer load.Close(r)
	hash, err := history.Resolve(r, rev)
	if err != nil {
		return nil, nil, "", nil, err
	}
	repo, problems, err := load.Commit(ctx, r, hash)
	if err != nil {
		return nil, nil, "", nil, err
	}
	// People's files, and service accounts' (a rename updates their owners).
	people, services := model.Folders[model.KindPerson]+"/", model.Folders[model.KindServiceAccount]+"/"
	files, err := history.Files(ctx, r, hash, func(p string) bool { return strings.HasPrefix(p, people) || strings.HasPrefix(p, services) })
	if err != nil {
		return nil, nil, "", nil, err
	}
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return repo, m, hash, problems, nil
}
