package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

type rotateFlags struct {
	dir      directoryFlags
	yes      bool
	out      string
	cacheDir string
}

func newRotateCommand(g *globals) *cobra.Command {
	var f rotateFlags
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Give a service account a new random password, sealed to its owner",
		Long: `rotate gives the service account NAME a new random password and delivers it to the
account's owner only, encrypted with age to the public key in the owner's file
(spec.publicKey: an age recipient or an SSH key). The password is never shown,
logged or written anywhere in clear; alm cannot decrypt it.

It is sent by e-mail (alm.yaml's spec.notify.email) to the owner, as the attachment
NAME.password.age; --out DIR writes the same encrypted file into DIR as well (or
instead, without an e-mail channel) for the owner; the owner reads it with "age -d -i key.txt NAME.password.age" (or
"-i ~/.ssh/id_ed25519" for an SSH key).

Refused (exit 3, nothing written): a name no file in service-accounts/ gives (a
person changes their own password), an account on alm.yaml's protected list or
built into the domain, one the directory does not hold with alm's marker, an
owner without a usable spec.publicKey, or no channel (neither spec.notify.email nor --out). When the password was set but
went out on no channel, the encrypted file is printed on stdout (stderr with
--format json) to forward to the owner (exit 1). --now is refused: rotate writes at the clock's time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if g.now != "" {
				return &exitCode{exitInvalid, errors.New("--now is not for rotate: it sets a password now")}
			}
			src, err := source(ctx, g, f.cacheDir, false)
			if err != nil {
				return err
			}
			repo, err := loadSource(ctx, src)
			if err != nil {
				return err
			}
			// The password goes only where an attachment can: alm.yaml's
			// e-mail channel, and --out.
			var to []notify.Channel
			if n := repo.Directory.Spec.Notify; n != nil && n.Email != nil {
				if to, err = channels(&model.Notify{Email: n.Email}, ""); err != nil {
					return &exitCode{exitInvalid, err}
				}
			}
			if f.out != "" {
				to = append(to, dirChannel{dir: f.out})
			}
			if len(to) == 0 {
				return &exitCode{exitInvalid, errors.New("no channel to deliver the password on: configure spec.notify.email in alm.yaml, or pass --out DIR")}
			}
			now := g.clockTime().UTC()
			pol, err := credentials.Check(repo, name, now)
			if err != nil {
				return refused(err)
			}
			if !f.yes {
				if !interactive() {
					return &exitCode{exitInvalid, errors.New("no terminal to confirm at: pass --yes to rotate without asking")}
				}
				fmt.Fprintf(g.stdout, "Give %s a new password, sealed to %s (%s)? The old one stops working. Only 'yes' is accepted: ", name, pol.To.Login, pol.KeyAt)
				answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if strings.TrimSpace(answer) != "yes" {
					return &exitCode{exitOK, errors.New("rotate cancelled; nothing was changed")}
				}
			}
			d, _, err := f.dir.open(ctx, g, repo)
			if err != nil {
				return err
			}
			defer d.Close()
			sealed, err := credentials.Rotate(ctx, d, repo, name, g.clockTime().UTC())
			if err != nil {
				return refused(err)
			}
			g.logger.Info("rotated", "account", name, "to", sealed.To.Login)
			return deliverRotation(ctx, g, sealed, to)
		},
	}
	f.dir.add(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&f.dir.timeout, "timeout", 30*time.Second, "the longest one directory request may take")
	fl.BoolVar(&f.yes, "yes", false, "rotate without asking (required when no terminal is attached)")
	fl.StringVar(&f.out, "out", "", "write the encrypted password, NAME.password.age, into this folder for the owner")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where to keep the mirror of a remote --repo (default: the user's cache folder); when given, also the files parsed, so the next run parses only what changed (only alm's user may write to it)")
	return cmd
}

func refused(err error) error {
	if errors.Is(err, credentials.ErrRefused) {
		return &exitCode{exitInvalid, err}
	}
	return err
}

// rotateReport is rotate's JSON document: never the password, nor its
// ciphertext.
type rotateReport struct {
	Account   string    `json:"account"`
	AccountID string    `json:"accountID"`
	RotatedAt time.Time `json:"rotatedAt"`
	To        string    `json:"to"`
	Key       string    `json:"key"` // where the public key is written
	SentOn    []string  `json:"sentOn"`
	Errors    []string  `json:"errors,omitempty"`
}

// deliverRotation sends the sealed password and reports; when it went out
// on no channel, the ciphertext is printed for the operator to forward:
// without it the new password would be lost.
func deliverRotation(ctx context.Context, g *globals, s credentials.Sealed, channels []notify.Channel) error {
	m, err := credentials.Message(s)
	if err != nil {
		return err
	}
	sent, derr := credentials.Deliver(ctx, m, channels)
	rep := rotateReport{Account: s.Account, AccountID: s.AccountID, RotatedAt: s.At, To: s.To.Login, Key: s.KeyAt, SentOn: append([]string{}, sent...)}
	if derr != nil {
		g.logger.Warn("delivery failed", "account", s.Account, "error", derr)
		rep.Errors = strings.Split(derr.Error(), "\n")
	}
	if g.format == "json" {
		e := json.NewEncoder(g.stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(g.stdout, "Rotated the password of %s at %s, sealed to %s (%s).\n", s.Account, s.At.Format(time.RFC3339), s.To.Login, s.KeyAt)
		if len(sent) > 0 {
			fmt.Fprintf(g.stdout, "Sent on: %s.\n", strings.Join(sent, ", "))
		}
	}
	if len(sent) == 0 {
		// stdout holds one JSON document with --format json: the file goes
		// to stderr then, never lost.
		w := g.stdout
		if g.format == "json" {
			w = g.stderr
		}
		fmt.Fprintf(w, "The new password went out on no channel. Forward this file, %s, to %s: only their key opens it.\n%s",
			credentials.FileName(s.Account), s.To.Login, s.Armored)
		return &exitCode{exitError, fmt.Errorf("the new password of %s went out on no channel: %w", s.Account, derr)}
	}
	if derr != nil {
		return &exitCode{exitError, derr}
	}
	return nil
}

// dirChannel is --out: it writes each attachment into a folder, readable
// by its owner only.
type dirChannel struct{ dir string }

func (c dirChannel) Name() string { return "file" }

func (c dirChannel) Send(_ context.Context, m notify.Message) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	for _, a := range m.Attachments {
		path := filepath.Join(c.dir, filepath.Base(a.Name))
		if err := os.WriteFile(path, a.Content, 0o600); err != nil {
			return err
		}
	}
	return nil
}
