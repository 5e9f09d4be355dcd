package history_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

var (
	jane = historytest.Person{Name: "Jane Doe", Email: "jane.doe@example.com"}
	kim  = historytest.Person{Name: "Kim Fox", Email: "kim.fox@example.com"}
	bot  = historytest.Person{Name: "Host", Email: "noreply@example.com"}
)

func TestTrailers(t *testing.T) {
	tests := []struct {
		name    string
		message string
		want    []history.Trailer
	}{
		{"subject only", "Approved-by: A <a@x>\n", nil},
		{"trailer block", "Merge svc-web\n\nAdds it.\n\nApproved-by: Sam Sec <sam@example.com>\nApproved-by: Alex <alex@example.com>\n",
			[]history.Trailer{{"Approved-by", "Sam Sec <sam@example.com>"}, {"Approved-by", "Alex <alex@example.com>"}}},
		{"continuation line", "S\n\nNote: one\n  two\n", []history.Trailer{{"Note", "one two"}}},
		{"prose last paragraph", "S\n\nApproved-by: A <a@x>\n\nThanks to everyone.\n", nil},
		{"mixed paragraph is prose", "S\n\nApproved-by: A <a@x>\nand some words\n", nil},
		{"crlf", "S\r\n\r\nAlm-Applied-Revision: abc\r\n", []history.Trailer{{"Alm-Applied-Revision", "abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := history.Trailers(tt.message); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := history.TrailerValues("S\n\napproved-BY: x\nOther: y\n", "Approved-by"); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("TrailerValues: %v", got)
	}
}

// repo: root → (branch feature: f1, f2) merged as m1 → direct push d1.
func repo(t *testing.T) (*historytest.Repo, map[string]string) {
	r := historytest.New(t)
	h := map[string]string{}
	r.Write("alm.yaml", "a\n")
	h["root"] = r.Commit("Start", jane)
	r.Branch("feature")
	r.Write("people/a.yaml", "a\n")
	h["f1"] = r.Commit("Add a", jane)
	r.Write("people/b.yaml", "b\n")
	h["f2"] = r.Commit("Add b", kim)
	r.Checkout("main")
	h["m1"] = r.Merge("feature", "Merge feature\n\nApproved-by: Alex <alex@example.com>\n", bot)
	r.Write("people/c.yaml", "c\n")
	h["d1"] = r.Commit("Push c", jane)
	return r, h
}

func hashes(cs []history.Commit) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Hash)
	}
	return out
}

func TestFirstParents(t *testing.T) {
	r, h := repo(t)
	ctx := context.Background()
	got, err := history.FirstParents(ctx, r.R, "main", h["root"])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{h["m1"], h["d1"]}; !reflect.DeepEqual(hashes(got), want) {
		t.Errorf("since root: %v, want %v", hashes(got), want)
	}
	if !got[0].IsMerge() || got[1].IsMerge() || got[1].Subject() != "Push c" {
		t.Errorf("commits: %+v", got)
	}
	all, err := history.FirstParents(ctx, r.R, "main", "")
	if err != nil || len(all) != 3 || all[0].Hash != h["root"] {
		t.Errorf("whole chain: %v, %v", hashes(all), err)
	}
	none, err := history.FirstParents(ctx, r.R, "main", "main")
	if err != nil || len(none) != 0 {
		t.Errorf("since head: %v, %v", hashes(none), err)
	}
	// f1 is on main's history but not on its first-parent chain.
	if _, err := history.FirstParents(ctx, r.R, "main", h["f1"]); !errors.Is(err, history.ErrNotOnBranch) {
		t.Errorf("since a branch commit: %v, want ErrNotOnBranch", err)
	}
}

func TestIntroduced(t *testing.T) {
	r, h := repo(t)
	got, err := history.Introduced(context.Background(), r.R, h["m1"])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{h["f2"], h["f1"]}; !reflect.DeepEqual(hashes(got), want) {
		t.Errorf("got %v, want %v", hashes(got), want)
	}
	if got[0].Author.Email != kim.Email {
		t.Errorf("author %v", got[0].Author)
	}
	single, err := history.Introduced(context.Background(), r.R, h["d1"])
	if err != nil || !reflect.DeepEqual(hashes(single), []string{h["d1"]}) {
		t.Errorf("a plain commit: %v, %v", hashes(single), err)
	}
}

func TestLastApplied(t *testing.T) {
	r, h := repo(t)
	ctx := context.Background()
	got, err := history.LastApplied(ctx, r.R, "alm-status")
	if err != nil || got != "" {
		t.Fatalf("no status branch: %q, %v", got, err)
	}
	r.OrphanCommit("alm-status", "Applied\n\n"+history.AppliedTrailer+": "+h["root"]+"\n", bot)
	r.OrphanCommit("alm-status", "Applied\n\n"+history.AppliedTrailer+": "+h["m1"]+"\n", bot)
	r.OrphanCommit("alm-status", "Notices sent\n", bot) // a receipt without a revision
	r.OrphanCommit("alm-status", "alm refused d1\n\nAlm-Refused-Revision: "+h["d1"]+"\n", bot)
	got, err = history.LastApplied(ctx, r.R, "alm-status")
	if err != nil || got != h["m1"] {
		t.Errorf("got %q, %v; want %s", got, err, h["m1"])
	}
}

func TestResolveAndRead(t *testing.T) {
	r, h := repo(t)
	got, err := history.Resolve(r.R, "main~1")
	if err != nil || got != h["m1"] {
		t.Errorf("main~1 = %q, %v", got, err)
	}
	c, err := history.Read(r.R, h["m1"])
	if err != nil || len(c.Parents) != 2 || c.Parents[1] != h["f2"] {
		t.Errorf("read: %+v, %v", c, err)
	}
	if _, err := history.Resolve(r.R, "nope"); err == nil {
		t.Error("resolved a missing revision")
	}
}

func TestChanged(t *testing.T) {
	r, h := repo(t)
	r.Write("people/a.yaml", "a, changed\n")
	r.Remove("people/b.yaml")
	r.Write("README.md", "notes\n")
	h["d2"] = r.Commit("Change a, remove b", jane)
	blob := func(rev, path string) string {
		t.Helper()
		c, err := r.R.CommitObject(plumbingHash(t, r, rev))
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.File(path)
		if err != nil {
			t.Fatal(err)
		}
		return f.Hash.String()
	}
	people := func(p string) bool { return strings.HasPrefix(p, "people/") }
	tests := []struct {
		name     string
		from, to string
		keep     func(string) bool
		want     []history.FileChange
	}{
		{"root against the empty tree", "", h["root"], nil,
			[]history.FileChange{{Path: "alm.yaml", To: blob(h["root"], "alm.yaml")}}},
		{"a merge adds two", h["root"], h["m1"], nil, []history.FileChange{
			{Path: "people/a.yaml", To: blob(h["m1"], "people/a.yaml")},
			{Path: "people/b.yaml", To: blob(h["m1"], "people/b.yaml")}}},
		{"changed, removed, and a file not kept", h["d1"], h["d2"], people, []history.FileChange{
			{Path: "people/a.yaml", From: blob(h["d1"], "people/a.yaml"), To: blob(h["d2"], "people/a.yaml")},
			{Path: "people/b.yaml", From: blob(h["d1"], "people/b.yaml")}}},
		{"no change", h["d2"], h["d2"], nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := history.Changed(context.Background(), r.R, tt.from, tt.to, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func plumbingHash(t *testing.T, r *historytest.Repo, rev string) plumbing.Hash {
	t.Helper()
	h, err := r.R.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		t.Fatal(err)
	}
	return *h
}
