package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/mail"
	"github.com/alm-project/alm/connectors/webhook"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// channels builds the notice channels alm.yaml's notify configures, each
// with its secret from the environment variable alm.yaml names (never from
// a flag or a file in Git). A channel whose secret is missing is an error
// naming the variable: a run must not think it told people when it cannot.
//
// It returns every channel it could set up, and the errors of the others.
func channels(n *model.Notify, githubAPI string) ([]notify.Channel, error) {
	var out []notify.Channel
	var errs []error
	if n == nil {
		return out, nil
	}
	secret := func(field, env string) (string, error) {
		if env == "" {
			return "", nil
		}
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("alm.yaml %s names %s, which is not set: set it in the environment", field, env)
		}
		return v, nil
	}
	if e := n.Email; e != nil {
		pw, err := secret("spec.notify.email.passwordEnv", e.PasswordEnv)
		c, cerr := mail.New(*e, pw)
		if err = errors.Join(err, cerr); err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, c)
		}
	}
	if w := n.Webhook; w != nil {
		key, err := secret("spec.notify.webhook.secretEnv", w.SecretEnv)
		cfg := *w
		if cfg.URLEnv != "" {
			u, uerr := secret("spec.notify.webhook.urlEnv", cfg.URLEnv)
			cfg.URL, err = u, errors.Join(err, uerr)
		}
		c, cerr := webhook.New(cfg, key, &http.Client{Timeout: 30 * time.Second})
		if err = errors.Join(err, cerr); err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, c)
		}
	}
	if gh := n.GitHub; gh != nil {
		token := os.Getenv(github.TokenEnv)
		c, err := github.NewIssues(*gh, github.Options{BaseURL: githubAPI, Token: token, CommentAuthor: os.Getenv(github.CommentAuthorEnv)})
		switch {
		case token == "":
			errs = append(errs, fmt.Errorf("alm.yaml spec.notify.github: %s is not set: set it to a token that may open issues in %s", github.TokenEnv, gh.Repository))
		case err != nil:
			errs = append(errs, err)
		default:
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}
