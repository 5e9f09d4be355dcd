package reconcile

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// settingsFile reports whether a path decides what a plan reads of the
// directory: alm.yaml (base DN, OUs), the templates (their OUs) and the
// roles (their groups) - never a person or service account.
func settingsFile(p string) bool {
	return p == model.DirectoryFile || strings.HasPrefix(p, model.Folders[model.KindWorkflowTemplate]+"/") ||
		strings.HasPrefix(p, model.Folders[model.KindRole]+"/")
}

// Settings loads only the files that say where and what to read in the
// directory: what a run needs to dial the directory and start reading it
// while the rest of the repository loads. nil when they have problems (the
// whole load will say which).
func Settings(ctx context.Context, src Source) (*model.Repository, error) {
	files := map[string][]byte{}
	if src.Rev == "" {
		err := fs.WalkDir(os.DirFS(src.Path), ".", func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && p != "." && strings.HasPrefix(d.Name(), "."):
				return fs.SkipDir
			case d.IsDir() || !settingsFile(p) || !load.Reads(p):
				return nil
			}
			data, err := os.ReadFile(src.Path + "/" + p)
			files[p] = data
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read access repository: %w", err)
		}
	} else {
		r, err := load.Open(src.Path)
		if err != nil {
			return nil, err
		}
		defer load.Close(r)
		if files, err = history.Files(ctx, r, src.Rev, func(p string) bool { return settingsFile(p) && load.Reads(p) }); err != nil {
			return nil, err
		}
	}
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	repo, problems, err := load.FS(m, src.Rev)
	if err != nil || repo.Directory == nil || len(problems) > 0 {
		return nil, err // the whole load says what is wrong
	}
	return repo, nil
}

// Reading is a directory dialled and read in the background, while the
// repository loads: the read mostly waits on the server.
type Reading[D Reader] struct {
	scope     directory.Scope
	directory model.DirectorySpec // alm.yaml's, as the dial read it
	cancel    context.CancelFunc
	done      chan struct{}
	dir       D
	snap      *directory.Snapshot
	err       error
}

// StartRead dials the directory with open and reads it within the scope
// settings (Settings' repository) give at now. Wait for it, or Stop it.
func StartRead[D Reader](ctx context.Context, open func(context.Context) (D, error), settings *model.Repository, now time.Time) (*Reading[D], error) {
	want, err := desired.Compute(settings, now)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Reading[D]{scope: want.Scope(), directory: settings.Directory.Spec, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		d, err := open(ctx)
		if err != nil {
			r.err = err // r.dir stays the zero value: nothing to close
			return
		}
		r.dir = d
		r.snap, r.err = r.dir.Read(ctx, r.scope)
		if r.err != nil {
			r.err = fmt.Errorf("read directory: %w", r.err)
		}
	}()
	return r, nil
}

// For reports whether the read was dialled as repo's alm.yaml says: the
// same directory settings (a commit that moved the url in between, or a
// working tree edited, makes the caller dial again).
func (r *Reading[D]) For(repo *model.Repository) bool {
	return r != nil && repo.Directory != nil && reflect.DeepEqual(r.directory, repo.Directory.Spec)
}

// Wait returns the directory dialled (the zero value when the dial
// failed; else the caller closes it) and the error that stopped the dial
// or the read.
func (r *Reading[D]) Wait() (D, error) {
	<-r.done
	return r.dir, r.err
}

// Stop cancels the dial and the read and waits for them: the repository
// turned out not to need them. It returns the directory when it was
// dialled, for the caller to close (the zero value otherwise).
func (r *Reading[D]) Stop() D {
	var zero D
	if r == nil {
		return zero
	}
	r.cancel()
	<-r.done
	return r.dir
}

// snapshot is what was read, when it was read within scope.
func (r *Reading[D]) snapshot(scope directory.Scope) *directory.Snapshot {
	if r == nil {
		return nil
	}
	<-r.done
	if r.err != nil || !reflect.DeepEqual(r.scope, scope) {
		return nil
	}
	return r.snap
}

// Prefetched is a snapshot read ahead, and the scope it was read within.
type Prefetched interface {
	snapshot(scope directory.Scope) *directory.Snapshot
}
