package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/policy"
)

// Marker finds alm's sticky pull-request comment again.
const Marker = "<!-- alm-check -->"

// Verdict is the one word the check ends on.
func (r *Result) Verdict() string {
	if r.Denied {
		return "denied"
	}
	return "passed"
}

// Text writes the result for a terminal, or a CI log: everything, the
// whole preview of the merge included, however long.
func Text(w io.Writer, r *Result) error {
	var b strings.Builder
	denied, warned := r.Counts()
	fmt.Fprintf(&b, "alm check %s..%s: %s (%s, %s)\n", short(r.Base), short(r.Head), r.Verdict(), count(denied, "denial"), count(warned, "warning"))
	b.WriteString("\n")
	if r.Change.Empty() {
		b.WriteString("Change: no files changed\n")
	} else {
		fmt.Fprintf(&b, "Change (%s):\n", count(len(r.Change.Files), "file"))
		width := 0
		for _, f := range r.Change.Files {
			width = max(width, len(f.Path))
		}
		for _, f := range r.Change.Files {
			fmt.Fprintf(&b, "  %-7s %-*s  %s\n", f.Class, width, f.Path, why(f))
		}
	}
	b.WriteString("\n")
	b.WriteString(approvalLine(r) + "\n")
	if l := reviewersLine(r); l != "" {
		b.WriteString(l + "\n")
	}
	for _, sev := range []policy.Severity{policy.Deny, policy.Warn} {
		var lines []string
		for _, v := range r.Violations {
			if v.Severity == sev {
				lines = append(lines, "  "+where(v)+": "+v.Message+" ["+v.Rule+"]")
			}
		}
		if len(lines) == 0 {
			continue
		}
		title := "Denied"
		if sev == policy.Warn {
			title = "Warnings"
		}
		fmt.Fprintf(&b, "\n%s:\n%s\n", title, strings.Join(lines, "\n"))
	}
	switch {
	case r.Preview != nil:
		previewText(&b, r.Preview)
	case r.NoPreview != "":
		b.WriteString("\nWhat the merge would do to the directory: no preview: " + r.NoPreview + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the result as one JSON document.
func JSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// CommentLimit is the most characters GitHub keeps in one comment.
const CommentLimit = 65536

// Markdown writes the result as a pull-request comment, headed by Marker,
// with the preview of the merge when there is one. The comment stays below
// CommentLimit whatever it holds (counted in bytes, never fewer than
// characters): when it would not, the longest lists - violations, changed
// files, the preview's changes and warnings - are cut, each in proportion,
// denials kept before warnings, and a line says what was left out and
// where the full result is.
func Markdown(w io.Writer, r *Result) error {
	_, err := io.WriteString(w, fit(markdownParts(r), CommentLimit))
	return err
}

func markdownParts(r *Result) []part {
	denied, warned := r.Counts()
	icon := "✅"
	if r.Denied {
		icon = "❌"
	}
	ps := []part{whole(fmt.Sprintf("%s\n## %s alm check: %s\n\n`%s`..`%s` · %s · %s\n\n%s\n", Marker, icon, r.Verdict(),
		short(r.Base), short(r.Head), count(denied, "denial"), count(warned, "warning"), clip(mdText(approvalLine(r)), 4000)))}
	if l := reviewersLine(r); l != "" {
		ps = append(ps, whole("\n"+clip(mdText(l), 4000)+"\n"))
	}
	if len(r.Violations) > 0 {
		rows := part{first: make([]bool, len(r.Violations)), cut: func(left, total int) string {
			return fmt.Sprintf("\n*%d of %s not shown here: %s. The check's log has them all (`alm check` prints its whole result as text).*\n",
				left, count(total, "violation"), limitWhy)
		}}
		for i, v := range r.Violations {
			mark := "❌"
			if v.Severity == policy.Warn {
				mark = "⚠️"
			}
			rows.first[i] = v.Severity == policy.Deny
			rows.rows = append(rows.rows, fmt.Sprintf("| %s | `%s` | `%s` | %s |\n", mark, cell(clip(where(v), 500)), cell(clip(v.Rule, 200)), cell(clip(v.Message, 2000))))
		}
		ps = append(ps, whole("\n| | Where | Rule | Message |\n| --- | --- | --- | --- |\n"), rows)
	}
	ps = append(ps, whole("\n### What the merge changes\n\n"))
	if r.Change.Empty() {
		ps = append(ps, whole("No files change.\n"))
	} else {
		rows := part{cut: func(left, total int) string {
			return fmt.Sprintf("\n*%d of %s not shown here: %s. The check's log lists them all (`alm check` prints its whole result as text).*\n",
				left, count(total, "file"), limitWhy)
		}}
		for _, f := range r.Change.Files {
			rows.rows = append(rows.rows, fmt.Sprintf("| %s | `%s` | %s |\n", f.Class, cell(clip(f.Path, 500)), cell(clip(why(f), 2000))))
		}
		ps = append(ps, whole("| Class | File | Why |\n| --- | --- | --- |\n"), rows)
	}
	switch {
	case r.Preview != nil:
		ps = append(ps, previewParts(r.Preview)...)
	case r.NoPreview != "":
		ps = append(ps, whole("\n### What the merge would do to the directory\n\nNo preview: "+clip(mdText(r.NoPreview), 2000)+"\n"))
	}
	return ps
}

// Annotations writes one GitHub Actions workflow command per violation
// (::error file=...,line=...::message), so they show on the pull request's files.
func Annotations(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, v := range r.Violations {
		cmd := "error"
		if v.Severity == policy.Warn {
			cmd = "warning"
		}
		var props []string
		if v.File != "" {
			props = append(props, "file="+escapeProperty(v.File))
			if v.Line > 0 {
				props = append(props, "line="+strconv.Itoa(v.Line))
			}
		}
		props = append(props, "title="+escapeProperty("alm "+v.Rule))
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(v.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// approvalLine says where approvals came from and who gave them.
func approvalLine(r *Result) string {
	pr := r.PullRequest
	if pr == nil {
		return "Approvals: not checked (no pull request, and the head is not a merge commit)"
	}
	from := "merge commit trailers"
	if pr.Number != 0 {
		from = "pull request #" + strconv.Itoa(pr.Number)
	}
	s := fmt.Sprintf("Approvals (%s): requested by %s; approved by %s", from, orNobody(strings.Join(pr.Authors, ", ")), orNobody(strings.Join(pr.Approvers, ", ")))
	if len(pr.UnknownApprovers) > 0 {
		s += "; not people of this repository: " + strings.Join(pr.UnknownApprovers, ", ")
	}
	return s
}

// why says in a few words what a file's change does.
func why(f change.File) string {
	var parts []string
	for _, r := range f.Reasons {
		if r.Text != "" && !strings.HasPrefix(r.Text, "role ") {
			parts = append(parts, r.Text)
		}
	}
	if len(f.Granted) > 0 {
		parts = append(parts, "grants "+strings.Join(f.Granted, ", "))
	}
	if len(f.Revoked) > 0 {
		parts = append(parts, "revokes "+strings.Join(f.Revoked, ", "))
	}
	if f.OldPath != "" {
		parts = append(parts, "was "+f.OldPath)
	}
	return strings.Join(parts, "; ")
}

func where(v policy.Violation) string {
	s := v.File
	if s == "" {
		return "pull request"
	}
	if v.Line > 0 {
		s += ":" + strconv.Itoa(v.Line)
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}

// mdText keeps text from starting Markdown structure by accident.
func mdText(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// escapeData and escapeProperty follow GitHub's workflow command encoding.
func escapeData(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}

func escapeProperty(s string) string {
	s = escapeData(s)
	s = strings.ReplaceAll(s, ":", "%3A")
	return strings.ReplaceAll(s, ",", "%2C")
}
