package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/receipt"
)

func newNoticesCommand(g *globals) *cobra.Command {
	var at, cacheDir string
	var workingTree bool
	var horizon time.Duration
	cmd := &cobra.Command{
		Use:   "notices [--at DATE]",
		Short: "List the end-of-life notices due, sent and coming",
		Long: `notices lists, at an instant (--at, a date or RFC 3339 time; default now), the
notices the templates ask for about the accounts of the access repository: those due
and not yet sent on every channel alm.yaml's notify configures (what the next apply or
reconcile sends), those sent (the ledger on the status branch, notices.json, with when
and on which channel), and those coming within --horizon. It never sends anything.

A notice before the end of life is due from its moment until the end; the notice at
the end for 30 days after it. Each is sent once per channel: a renewal that moves the
date schedules new ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			when, err := g.at()
			if err != nil {
				return err
			}
			if at != "" {
				if when, err = parseAt(at); err != nil {
					return &exitCode{exitInvalid, fmt.Errorf("--at %q: write a date (2027-01-30) or an RFC 3339 time", at)}
				}
			}
			src, err := source(ctx, g, cacheDir, !workingTree)
			if err != nil {
				return err
			}
			repo, err := loadSource(ctx, src)
			if err != nil {
				return err
			}
			ledger := notify.Ledger{}
			if src.Rev != "" {
				branch := repo.Directory.Spec.StatusBranch
				if ledger, err = receipt.Ledger(ctx, src.Path, branch); err != nil {
					return err
				}
			}
			l := notify.List(notify.Schedule(repo), when, ledger, notify.Configured(repo.Directory.Spec.Notify), horizon)
			if g.format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
			return writeListing(g, l)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "the instant to list at: a date (midnight UTC) or an RFC 3339 time; default the clock (or --now)")
	cmd.Flags().DurationVar(&horizon, "horizon", 30*24*time.Hour, "how far ahead to list the notices coming")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "where a remote --repo is cloned")
	cmd.Flags().BoolVar(&workingTree, "working-tree", false, "read the working tree rather than HEAD (there is no ledger then: nothing shows as sent)")
	return cmd
}

func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func writeListing(g *globals, l notify.Listing) error {
	w := g.stdout
	ch := strings.Join(l.Channels, ", ")
	if ch == "" {
		ch = "none: alm.yaml's notify configures no channel, so nothing is sent"
	}
	fmt.Fprintf(w, "Notices at %s (channels: %s)\n", l.At.UTC().Format(time.RFC3339), ch)
	section := func(title string, ss []notify.Scheduled) {
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(ss))
		for _, s := range ss {
			var to []string
			for _, r := range s.To {
				who := r.Login
				if who == "" {
					who = r.Email
				}
				to = append(to, who+" ("+r.Role+")")
			}
			fmt.Fprintf(w, "  %s  %s (%s) to %s\n      %s\n", s.DueAt.UTC().Format(time.DateOnly), s.Subject, s.Offset, strings.Join(to, ", "), s.ID)
		}
	}
	section("Due, not yet sent on every channel", l.Due)
	fmt.Fprintf(w, "\nSent (%d):\n", len(l.Sent))
	for _, e := range l.Sent {
		var on []string
		for _, c := range sortedChannels(e.Channels) {
			on = append(on, c+" "+e.Channels[c].UTC().Format(time.RFC3339))
		}
		what := e.Subject
		if what == "" {
			what = e.ID
		}
		fmt.Fprintf(w, "  %s: %s\n", what, strings.Join(on, ", "))
	}
	section("Coming", l.Upcoming)
	return nil
}

func sortedChannels(m map[string]time.Time) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
