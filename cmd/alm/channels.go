package main

import (
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
func channels(n *model.Notify, githubAPI string) ([]notify.Channel, error) {
	var out []notify.Channel
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
		if err != nil {
			return nil, err
		}
		c, err := mail.New(*e, pw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if w := n.Webhook; w != nil {
		key, err := secret("spec.notify.webhook.secretEnv", w.SecretEnv)
		if err != nil {
			return nil, err
		}
		c, err := webhook.New(*w, key, &http.Client{Timeout: 30 * time.Second})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if gh := n.GitHub; gh != nil {
		token := os.Getenv(github.TokenEnv)
		if token == "" {
			return nil, fmt.Errorf("alm.yaml spec.notify.github: %s is not set: set it to a token that may open issues in %s", github.TokenEnv, gh.Repository)
		}
		c, err := github.NewIssues(*gh, github.Options{BaseURL: githubAPI, Token: token, CommentAuthor: os.Getenv(github.CommentAuthorEnv)})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
