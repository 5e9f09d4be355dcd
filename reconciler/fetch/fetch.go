// Package fetch brings a remote access repository to this machine: a bare
// mirror under a cache folder, cloned once and fetched on every run, so the
// loader can read any of its commits. Local paths pass through unchanged.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TokenEnv names the variable holding a token for HTTPS remotes.
const TokenEnv = "ALM_GIT_TOKEN"

// IsRemote tells a URL from a local path.
func IsRemote(src string) bool {
	if strings.HasPrefix(src, "git@") {
		return true
	}
	u, err := url.Parse(src)
	return err == nil && u.Scheme != "" && len(u.Scheme) > 1 // "C:" is a drive, not a scheme
}

// Options says where mirrors live and how to authenticate.
type Options struct {
	CacheDir string // mirrors are kept under it; default the user cache dir
	Token    string // HTTPS basic-auth token; never logged
	Logger   *slog.Logger
}

// Repository returns a local path for src: src itself when it is a path,
// else a bare mirror brought up to date with the remote.
func Repository(ctx context.Context, src string, opts Options) (string, error) {
	if !IsRemote(src) {
		return src, nil
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cache := opts.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("cache folder for %s: %w (set --cache-dir)", redact(src), err)
		}
		cache = filepath.Join(base, "alm", "repos")
	}
	sum := sha256.Sum256([]byte(src))
	dir := filepath.Join(cache, hex.EncodeToString(sum[:8]))
	auth := Auth(opts.Token)

	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		logger.Info("cloning access repository", "url", redact(src), "into", dir)
		if err := os.MkdirAll(cache, 0o700); err != nil {
			return "", fmt.Errorf("cache folder %s: %w", cache, err)
		}
		_, err = git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: src, Auth: auth, Mirror: true})
		if err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("clone %s: %w", redact(src), err)
		}
		return dir, nil
	}
	if err != nil {
		return "", fmt.Errorf("open mirror %s of %s: %w", dir, redact(src), err)
	}
	logger.Info("fetching access repository", "url", redact(src))
	err = r.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		Auth:       auth,
		Force:      true,
		Prune:      true,
		RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("fetch %s: %w", redact(src), err)
	}
	return dir, nil
}

// Auth is how to authenticate to an HTTPS remote with a token: for fetching
// here, and for pushing receipts back. Nil without a token.
func Auth(token string) transport.AuthMethod {
	if token == "" {
		return nil
	}
	return &http.BasicAuth{Username: "alm", Password: token}
}

// redact drops any credentials written into a URL, so it can be logged.
func redact(src string) string {
	u, err := url.Parse(src)
	if err != nil || u.User == nil {
		return src
	}
	u.User = nil
	return u.String()
}
