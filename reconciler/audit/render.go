package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Formats the Write functions take.
const (
	FormatText = "text"
	FormatJSON = "json"
	FormatCSV  = "csv"
)

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeCSV(w io.Writer, header []string, rows [][]string) error {
	c := csv.NewWriter(w)
	if err := c.Write(header); err != nil {
		return err
	}
	if err := c.WriteAll(rows); err != nil {
		return err
	}
	return c.Error()
}

func badFormat(format string) error {
	return fmt.Errorf("format %q: use text, json or csv", format)
}

// WriteTimeline renders a timeline: text (a line an event), one JSON
// document, or CSV (a row an event).
func WriteTimeline(w io.Writer, t Timeline, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, t)
	case FormatCSV:
		var rows [][]string
		for _, e := range t.Events {
			rows = append(rows, []string{stamp(e.At), e.Kind, e.Account, e.Text, e.Commit, prNum(e.PullRequest), strings.Join(e.By, "; "), e.Result, e.Detail})
		}
		return writeCSV(w, []string{"at", "kind", "account", "text", "commit", "pullRequest", "by", "result", "detail"}, rows)
	case FormatText:
		fmt.Fprintf(w, "Account %s (%s, id %s): logins %s; files %s\n", last(t.Names), t.Kind, t.ID, strings.Join(t.Names, ", "), strings.Join(t.Paths, ", "))
		for _, e := range t.Events {
			line := fmt.Sprintf("  %s  %-9s %s", stamp(e.At), e.Kind, e.Text)
			if e.Commit != "" {
				line += "  [" + short(e.Commit) + "]"
			}
			if e.Detail != "" && e.Kind != Applied {
				line += "\n      " + e.Detail
			}
			fmt.Fprintln(w, line)
		}
		return nil
	}
	return badFormat(format)
}

// WriteAccess renders access at an instant: text, JSON, or CSV (a row per
// account and group; an account with no group has one row with none).
func WriteAccess(w io.Writer, a Access, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, a)
	case FormatCSV:
		var rows [][]string
		for _, h := range a.Accounts {
			groups := h.Groups
			if len(groups) == 0 {
				groups = []string{""}
			}
			for _, g := range groups {
				rows = append(rows, []string{stamp(a.At), h.Account, h.ID, h.Kind, h.State, strconv.FormatBool(h.Enabled), g,
					strconv.FormatBool(g != "" && contains(h.Privileged, g)), a.Revision, stamp(a.AppliedAt)})
			}
		}
		return writeCSV(w, []string{"at", "account", "id", "kind", "state", "enabled", "group", "privileged", "revision", "appliedAt"}, rows)
	case FormatText:
		if a.Revision == "" {
			fmt.Fprintf(w, "Access at %s: no run had applied anything yet, so alm had provisioned nothing.\n", stamp(a.At))
			return nil
		}
		fmt.Fprintf(w, "Access at %s: revision %s, applied %s; %d accounts\n", stamp(a.At), short(a.Revision), stamp(a.AppliedAt), len(a.Accounts))
		for _, h := range a.Accounts {
			on := "enabled"
			if !h.Enabled {
				on = "disabled"
			}
			fmt.Fprintf(w, "  %-20s %-8s %-9s %s\n", h.Account, on, h.State, orDash(strings.Join(h.Groups, ", ")))
		}
		return nil
	}
	return badFormat(format)
}

// WriteDiff renders what was granted and removed: text, JSON, or CSV (a
// row a grant or removal).
func WriteDiff(w io.Writer, d Diff, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, d)
	case FormatCSV:
		var rows [][]string
		for _, g := range d.Grants {
			rows = append(rows, []string{g.Account, g.ID, g.Group, g.Change, stamp(g.AppliedAt), g.Revision, g.Commit, prNum(g.PullRequest),
				g.Requester, strings.Join(g.Approvers, "; "), g.Source, g.Reason})
		}
		return writeCSV(w, []string{"account", "id", "group", "change", "appliedAt", "revision", "commit", "pullRequest", "requester", "approvers", "source", "reason"}, rows)
	case FormatText:
		fmt.Fprintf(w, "Access granted and removed from %s (revision %s) to %s (revision %s): %d\n",
			stamp(d.From), orDash(short(d.FromRevision)), stamp(d.To), orDash(short(d.ToRevision)), len(d.Grants))
		for _, g := range d.Grants {
			what := "the account"
			if g.Group != "" {
				what = g.Group
			}
			fmt.Fprintf(w, "  %-8s %s: %s", g.Change, g.Account, what)
			if !g.AppliedAt.IsZero() {
				fmt.Fprintf(w, ", applied %s", stamp(g.AppliedAt))
			} else {
				fmt.Fprint(w, ", not applied by a run in the period")
			}
			fmt.Fprintln(w)
			switch {
			case g.Commit == "":
				fmt.Fprintf(w, "           no commit in the period asked for it: %s\n", orDash(g.Reason))
			case g.Source == "":
				fmt.Fprintf(w, "           commit %s pushed straight by %s, approved by nobody\n", short(g.Commit), g.Requester)
			default:
				pr := ""
				if g.PullRequest != 0 {
					pr = fmt.Sprintf(" (#%d)", g.PullRequest)
				}
				fmt.Fprintf(w, "           commit %s%s requested by %s, approved by %s (%s)\n", short(g.Commit), pr, g.Requester, orNobody(g.Approvers), g.Source)
			}
		}
		return nil
	}
	return badFormat(format)
}

// WriteExceptions renders the exception report: text, JSON, or CSV (a row
// an exception).
func WriteExceptions(w io.Writer, x Exceptions, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, x)
	case FormatCSV:
		var rows [][]string
		for _, e := range x.Items {
			rows = append(rows, []string{stamp(e.At), e.Kind, e.Commit, e.Author, e.Subject, e.Account, strconv.FormatBool(e.Cured), e.Text})
		}
		return writeCSV(w, []string{"at", "kind", "commit", "author", "subject", "account", "cured", "text"}, rows)
	case FormatText:
		fmt.Fprintf(w, "Exceptions on %s after %s, to %s: %d\n", x.Branch, orDash(short(x.Since)), short(x.Head), len(x.Items))
		for _, e := range x.Items {
			switch e.Kind {
			case Unapproved:
				cured := ""
				if e.Cured {
					cured = " (since reverted)"
				}
				fmt.Fprintf(w, "  %s  unapproved  %s %q by %s%s: %s\n", stamp(e.At), short(e.Commit), e.Subject, e.Author, cured, e.Text)
			default:
				fmt.Fprintf(w, "  %s  %-11s %s\n", stamp(e.At), e.Kind, e.Text)
			}
		}
		return nil
	}
	return badFormat(format)
}

func prNum(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func last(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[len(xs)-1]
}
