package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/reconciler/fetch"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// directoryFlags say how to reach the directory. Credentials never come
// from flags: ALM_BIND_DN and ALM_BIND_PASSWORD or ALM_BIND_PASSWORD_FILE.
type directoryFlags struct {
	url        string
	caFile     string
	serverName string
	startTLS   bool
	allowPlain bool
	timeout    time.Duration // per request; the connector's default when zero
}

func (f *directoryFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "directory", "", "the directory: an ldaps:// (or ldap:// with --starttls) URL; default alm.yaml's spec.url")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM file of the CA that signed the directory's certificate (default: the system's)")
	fl.StringVar(&f.serverName, "tls-server-name", "", "the name to verify in the directory's certificate, when the URL's host is not in it")
	fl.BoolVar(&f.startTLS, "starttls", false, "upgrade an ldap:// connection with StartTLS")
	fl.BoolVar(&f.allowPlain, "allow-plain-ldap", false, "allow ldap:// without TLS (never in production: the bind password crosses the network in clear)")
}

// open dials the directory the flags or alm.yaml name.
func (f *directoryFlags) open(ctx context.Context, g *globals, repo *model.Repository) (*ad.Directory, string, error) {
	url := f.url
	if url == "" && repo.Directory != nil {
		url = repo.Directory.Spec.URL
	}
	if url == "" {
		return nil, "", &exitCode{exitInvalid, fmt.Errorf("no directory: pass --directory ldaps://... or set spec.url in %s", model.DirectoryFile)}
	}
	marker := ""
	if repo.Directory != nil {
		marker = repo.Directory.Spec.MarkerAttribute
	}
	d, err := f.dial(ctx, g, url, marker)
	if err != nil {
		return nil, "", err
	}
	return d, url, nil
}

// dial connects to url with the flags' TLS settings and the environment's
// bind account; marker is the ownership marker's attribute ("" the default).
func (f *directoryFlags) dial(ctx context.Context, g *globals, url, marker string) (*ad.Directory, error) {
	cfg, err := ad.ConfigFromEnv(url, f.caFile)
	if err != nil {
		return nil, &exitCode{exitInvalid, err}
	}
	cfg.ServerName = f.serverName
	cfg.StartTLS = f.startTLS
	cfg.AllowPlain = f.allowPlain
	cfg.MarkerAttribute = marker
	cfg.Timeout = f.timeout
	d, err := ad.Dial(ctx, cfg, g.logger)
	var refused *ad.ConfigError
	if errors.As(err, &refused) {
		// Settings that could never work, refused before anything was sent.
		return nil, &exitCode{exitInvalid, err}
	}
	return d, err
}

// limitFlags raise the guards' limits for one run.
type limitFlags struct{ disable, remove, del string }

func (f *limitFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.disable, "max-disable", "", "for this run, allow up to N disables, or N% of managed accounts (replaces alm.yaml's limits.disable)")
	fl.StringVar(&f.remove, "max-remove", "", "for this run, allow up to N group memberships removed, or N% of managed accounts losing any (replaces limits.removeFromGroup)")
	fl.StringVar(&f.del, "max-delete", "", "for this run, allow up to N (or N%) deletes (replaces limits.delete)")
}

func (f *limitFlags) overrides() (map[string]model.Limit, error) {
	out := map[string]model.Limit{}
	for kind, v := range map[string]string{plan.LimitDisable: f.disable, plan.LimitRemove: f.remove, plan.LimitDelete: f.del} {
		if v == "" {
			continue
		}
		l, err := plan.ParseLimit(v)
		if err != nil {
			return nil, &exitCode{exitInvalid, fmt.Errorf("%s %q: %w", plan.LimitFlags[kind], v, err)}
		}
		out[kind] = l
	}
	return out, nil
}

// source resolves --repo (a path or a URL, fetched into a mirror) and
// --rev. Commands that record receipts read HEAD of a Git repository when
// --rev is empty; others read the working tree.
func source(ctx context.Context, g *globals, cacheDir string, defaultHEAD bool) (reconcile.Source, error) {
	path, err := fetch.Repository(ctx, g.repo, fetch.Options{CacheDir: cacheDir, Token: os.Getenv(fetch.TokenEnv), Logger: g.logger})
	if err != nil {
		return reconcile.Source{}, err
	}
	rev := g.rev
	if rev == "" && (fetch.IsRemote(g.repo) || (defaultHEAD && reconcile.IsGit(path))) {
		rev = "HEAD"
	}
	src := reconcile.Source{Path: path, Rev: rev}
	if cacheDir != "" && rev != "" {
		// Named, the folder keeps parsed files for the next run too.
		if src.Cache, err = load.OpenCache(cacheDir); err != nil {
			return src, err
		}
	}
	return src, nil
}

// loadSource loads the repository, mapping its problems to exit code 3.
func loadSource(ctx context.Context, src reconcile.Source) (*model.Repository, error) {
	repo, err := reconcile.Load(ctx, src)
	if ie, ok := err.(*reconcile.InvalidError); ok {
		return nil, &exitCode{exitInvalid, ie}
	}
	return repo, err
}

// interactive reports whether a person is at the terminal to confirm.
func interactive() bool { return term.IsTerminal(int(os.Stdin.Fd())) }
