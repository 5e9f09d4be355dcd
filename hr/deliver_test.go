package hr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
)

// files reads a directory's files into the map githubtest serves.
func files(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	for p, data := range snapshot(t, dir) {
		out[p] = string(data)
	}
	return out
}

// TestDeliverOnceThenUpdate: the first sync opens one pull request from
// alm/hr/sync with the changes as one commit over main; a second export
// updates that pull request (its branch moved, its description rewritten)
// rather than opening another; an export asking for nothing closes it; a
// main that moved on since the read is refused.
func TestDeliverOnceThenUpdate(t *testing.T) {
	dir := copyRepo(t)
	head := strings.Repeat("a", 40)
	srv := githubtest.New(t, head, files(t, dir))
	client, err := github.New("acme/access", github.Options{BaseURL: srv.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first := sync(t, dir, "testdata/export.csv", Options{})
	d, err := Deliver(ctx, client, first, head)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Opened || d.Number != 100 || len(srv.Pulls) != 1 {
		t.Fatalf("first delivery %+v, pulls %d", d, len(srv.Pulls))
	}
	pr := srv.Pulls[0]
	if pr.Head != Branch || pr.Base != "main" || !strings.HasPrefix(pr.Title, "HR sync 2026-11-29: 3 joiners, 1 rehire, 1 leaver, 1 rename") {
		t.Errorf("pull request %q from %s into %s", pr.Title, pr.Head, pr.Base)
	}
	for _, want := range []string{"| joiners | 3 |", "### Renames", "**kfox** -> **kwest**", "### Rows skipped", "line 17 (employee E016) column Login"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	branch := srv.Files[Branch]
	for p, data := range first.Files {
		got, ok := branch[p]
		if data == nil && ok || data != nil && got != string(data) {
			t.Errorf("%s on the branch: %q", p, got)
		}
	}
	if branch["people/egray.yaml"] != srv.Files["main"]["people/egray.yaml"] || srv.Calls["POST git/commits"] != 1 {
		t.Errorf("the branch is not main plus one commit: calls %v", srv.Calls)
	}

	// The next export: one more joiner. Same pull request, updated.
	next := filepath.Join(t.TempDir(), "next.csv")
	data, err := os.ReadFile("testdata/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, append(data, "E019;;Ana;Nova;anova@acme.test;Support;Engineer;E008;Permanent;2027-02-01;\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	second := sync(t, dir, next, Options{})
	if d, err = Deliver(ctx, client, second, head); err != nil {
		t.Fatal(err)
	}
	if !d.Updated || d.Number != 100 || len(srv.Pulls) != 1 || srv.Calls["POST pulls"] != 1 || srv.Calls["PATCH pulls"] != 1 {
		t.Fatalf("second delivery %+v, pulls %d, calls %v", d, len(srv.Pulls), srv.Calls)
	}
	if _, ok := srv.Files[Branch]["people/anova.yaml"]; !ok || !strings.Contains(pr.Title, "4 joiners") || !strings.Contains(pr.Body, "**anova**") {
		t.Errorf("the pull request was not updated: %q", pr.Title)
	}
	if srv.Calls["POST git/commits"] != 2 || srv.Files[Branch]["people/jdoe.yaml"] != string(second.Files["people/jdoe.yaml"]) {
		t.Errorf("the branch is not the second export's commit over main: calls %v", srv.Calls)
	}

	// Main moved on since the read: nothing is made over it.
	if _, err := Deliver(ctx, client, second, strings.Repeat("b", 40)); !errors.As(err, new(*ErrBaseMoved)) {
		t.Errorf("a stale read: %v", err)
	}
	if srv.Calls["POST git/commits"] != 2 {
		t.Errorf("a stale read committed: %v", srv.Calls)
	}

	// Once main holds it all, an export asks for nothing: the pull request is closed.
	if err := Write(dir, second); err != nil {
		t.Fatal(err)
	}
	none := sync(t, dir, next, Options{})
	if d, err = Deliver(ctx, client, none, head); err != nil {
		t.Fatal(err)
	}
	if !d.Closed || pr.State != "closed" || len(srv.Comments) != 1 || !strings.Contains(srv.Comments[0].Body, "asks for no change") {
		t.Errorf("third delivery %+v, state %s, comments %d", d, pr.State, len(srv.Comments))
	}
}

// TestRefusedWhole: an export that leaves out half the people HR manages
// (truncated), or changes more than limits.changes allows, is refused:
// no file in the result, Write writes nothing, Deliver makes no call.
func TestRefusedWhole(t *testing.T) {
	data, err := os.ReadFile("testdata/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The header and the first five people: the other five are cut off,
	// one of whom (rgreen) left long ago and is not missed.
	lines := strings.SplitAfter(string(data), "\n")
	truncated := filepath.Join(t.TempDir(), "truncated.csv")
	if err := os.WriteFile(truncated, []byte(strings.Join(lines[:6], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	tight := mapping(t)
	tight.Limits.Changes = Limit{Count: 3, Share: 0.2}
	tests := []struct {
		name, export string
		o            Options
		want         string
	}{
		{name: "half the people missing", export: truncated, want: "the export leaves out 4 of the 9 people HR manages"},
		{name: "half missing, --missing leave", export: truncated, o: Options{LeaveMissing: true}, want: "the export leaves out 4 of the 9"},
		{name: "more changes than the limit", export: "testdata/export.csv", o: Options{Mapping: tight}, want: "the export changes 9 people of the 9 HR manages, more than limits.changes allows (3 and 20%)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRepo(t)
			before := snapshot(t, dir)
			res := sync(t, dir, tt.export, tt.o)
			if !strings.Contains(res.Refused, tt.want) || len(res.Files) != 0 {
				t.Fatalf("refused %q, %d files; want %q", res.Refused, len(res.Files), tt.want)
			}
			if err := Write(dir, res); err == nil {
				t.Error("Write of a refused result")
			}
			after := snapshot(t, dir)
			for p, data := range before {
				if string(after[p]) != string(data) {
					t.Errorf("%s changed", p)
				}
			}
			srv := githubtest.New(t, strings.Repeat("a", 40), files(t, dir))
			client, _ := github.New("acme/access", github.Options{BaseURL: srv.URL, Token: githubtest.Token})
			if _, err := Deliver(context.Background(), client, res, strings.Repeat("a", 40)); err == nil || len(srv.Calls) != 0 {
				t.Errorf("Deliver of a refused result: %v, calls %v", err, srv.Calls)
			}
		})
	}
}

// TestMissing: within the limit, people left out are reported, and with
// LeaveMissing they leave today; a partial export misses nobody.
func TestMissing(t *testing.T) {
	data, err := os.ReadFile("testdata/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Without fblack (E010).
	out := strings.Replace(string(data), "E010;;Fay;Black;fblack@acme.test;Support;Engineer;E008;Permanent;2024-01-15;\n", "", 1)
	export := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(export, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := copyRepo(t)
	tests := []struct {
		name    string
		o       Options
		missing string
		leaver  bool
	}{
		{name: "reported", missing: "fblack E010 false"},
		{name: "made a leaver", o: Options{LeaveMissing: true}, missing: "fblack E010 true", leaver: true},
		{name: "a partial export", o: Options{Partial: true, LeaveMissing: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sync(t, dir, export, tt.o)
			var got []string
			for _, m := range res.Missing {
				got = append(got, strings.Join([]string{m.Login, m.ID, map[bool]string{true: "true", false: "false"}[m.Left]}, " "))
			}
			if strings.Join(got, ",") != tt.missing || res.Refused != "" {
				t.Errorf("missing %v (refused %q), want %q", got, res.Refused, tt.missing)
			}
			f := string(res.Files["people/fblack.yaml"])
			if tt.leaver != strings.Contains(f, "  endDate: 2026-11-29\n") {
				t.Errorf("fblack's file:\n%s", f)
			}
		})
	}
}

// TestBodyFitsGitHub: a sync of thousands of changes describes them within
// GitHub's 65,536 characters, each list cut with how many more there are.
func TestBodyFitsGitHub(t *testing.T) {
	r := &Result{File: "export.csv", Changes: []Change{}}
	for i := range 5000 {
		r.Changes = append(r.Changes, Change{Kind: Joiner, ID: fmt.Sprintf("E%05d", i), Login: fmt.Sprintf("user%05d", i),
			Path: fmt.Sprintf("people/user%05d.yaml", i), Note: "pending until 2027-01-04"})
		r.Bad = append(r.Bad, Bad{Line: i + 2, ID: fmt.Sprintf("X%05d", i), Column: "Manager", Reason: "manager M is no one in the repository or the export: fix the row in HR, or add the manager"})
	}
	body := r.Body()
	if len(body) > 65536 || !strings.Contains(body, "| joiners | 5000 |") || !strings.Contains(body, "- ... and 4800 more: see the commit") ||
		!strings.Contains(body, "- ... and 4800 more: see alm hr sync's report") {
		t.Errorf("body of %d characters:\n%s", len(body), body[:min(len(body), 2000)])
	}
}
