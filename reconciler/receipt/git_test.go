package receipt

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/reconciler/history"
)

var who = Signature{Name: "alm test", Email: "alm@example.test"}

// accessRepo makes a non-bare repository on main with an access file or two.
func accessRepo(t *testing.T) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, repo, dir, map[string]string{"alm.yaml": "kind: Directory\n", "people/ann.yaml": "kind: Person\n"})
	return dir, repo
}

func commitFiles(t *testing.T, repo *git.Repository, dir string, files map[string]string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("access change", &git.CommitOptions{Author: &object.Signature{Name: "a", Email: "a@example.test", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func receiptAt(rev string, at time.Time, results ...string) Receipt {
	r := Receipt{Revision: rev, AppliedAt: at, Directory: "ldaps://dc1.example.test"}
	for i, res := range results {
		r.Changes = append(r.Changes, Entry{ID: string(rune('a' + i)), Action: "create", Account: "u", DN: "CN=u", Result: res})
	}
	r.Plan = Summarize(r.Changes)
	return r
}

// branchFiles lists the files of the branch's tip, with their contents.
func branchFiles(t *testing.T, repoPath, branch string) (*object.Commit, map[string]string) {
	t.Helper()
	repo, err := git.PlainOpen(repoPath)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("branch %s: %v", branch, err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	err = iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, files
}

func names(files map[string]string) []string {
	var out []string
	for n := range files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestWriteAndAppend(t *testing.T) {
	ctx := t.Context()
	dir, repo := accessRepo(t)
	headBefore, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	rev := headBefore.Hash().String()
	first := receiptAt(rev, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Applied, Applied, Failed)

	h1, err := Write(ctx, dir, "", first, who)
	if err != nil {
		t.Fatal(err)
	}
	c1, files := branchFiles(t, dir, DefaultBranch)
	if c1.Hash.String() != h1 {
		t.Errorf("Write returned %s, the branch is at %s", h1, c1.Hash)
	}
	if len(c1.ParentHashes) != 0 {
		t.Errorf("the first receipt commit has parents %v, want an orphan", c1.ParentHashes)
	}
	file1 := "receipts/20260301T090000Z-" + rev[:7] + ".json"
	if got := names(files); strings.Join(got, " ") != file1+" status.json" {
		t.Errorf("branch holds %v, want only %s and status.json", got, file1)
	}
	want, _ := Marshal(first)
	if files[file1] != string(want) || files["status.json"] != string(want) {
		t.Errorf("receipt files differ from Marshal:\n%s", files[file1])
	}
	wantMsg := "alm apply " + rev[:7] + ": 2 applied, 1 failed\n\nAlm-Applied-Revision: " + rev + "\n"
	if c1.Message != wantMsg {
		t.Errorf("message %q, want %q", c1.Message, wantMsg)
	}
	if c1.Author.Name != who.Name || !c1.Author.When.Equal(first.AppliedAt) {
		t.Errorf("author %v, want %s at %s", c1.Author, who.Name, first.AppliedAt)
	}

	second := receiptAt(rev, first.AppliedAt.Add(time.Hour), Applied)
	h2, err := Write(ctx, dir, "", second, who)
	if err != nil {
		t.Fatal(err)
	}
	c2, files := branchFiles(t, dir, DefaultBranch)
	if c2.Hash.String() != h2 || len(c2.ParentHashes) != 1 || c2.ParentHashes[0] != c1.Hash {
		t.Errorf("second commit %s has parents %v, want [%s]", c2.Hash, c2.ParentHashes, c1.Hash)
	}
	file2 := "receipts/20260301T100000Z-" + rev[:7] + ".json"
	if got := names(files); strings.Join(got, " ") != file1+" "+file2+" status.json" {
		t.Errorf("branch holds %v after the second receipt", got)
	}
	want2, _ := Marshal(second)
	if files["status.json"] != string(want2) || files[file1] != string(want) {
		t.Error("status.json is not the second receipt, or the first was changed")
	}

	last, err := Last(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if last == nil || !last.AppliedAt.Equal(second.AppliedAt) || len(last.Changes) != 1 {
		t.Errorf("Last = %+v, want the second receipt", last)
	}

	// The access repository is as it was.
	headAfter, err := repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		t.Fatal(err)
	}
	if headAfter.Target() != plumbing.NewBranchReferenceName("main") {
		t.Errorf("HEAD points to %s, want main", headAfter.Target())
	}
	if h, _ := repo.Head(); h.Hash() != headBefore.Hash() {
		t.Errorf("main moved from %s to %s", headBefore.Hash(), h.Hash())
	}
	wt, _ := repo.Worktree()
	st, err := wt.Status()
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsClean() {
		t.Errorf("working tree not clean after Write:\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "status.json")); !os.IsNotExist(err) {
		t.Errorf("status.json appeared in the working tree: %v", err)
	}
}

func TestWriteSameSecond(t *testing.T) {
	dir, _ := accessRepo(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for range 3 {
		if _, err := Write(t.Context(), dir, "status", receiptAt("abcdef0123", at, Applied), who); err != nil {
			t.Fatal(err)
		}
	}
	_, files := branchFiles(t, dir, "status")
	want := []string{
		"receipts/20260301T090000Z-abcdef0-2.json",
		"receipts/20260301T090000Z-abcdef0-3.json",
		"receipts/20260301T090000Z-abcdef0.json",
		"status.json",
	}
	if got := names(files); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestWriteBare(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatal(err)
	}
	if r, err := Last(t.Context(), dir, ""); r != nil || err != nil {
		t.Fatalf("Last without a branch = %v, %v; want nil, nil", r, err)
	}
	r := receiptAt("0123456789", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Applied)
	if _, err := Write(t.Context(), dir, "", r, Signature{}); err != nil {
		t.Fatal(err)
	}
	c, _ := branchFiles(t, dir, DefaultBranch)
	if c.Author.Name != "alm" || c.Author.Email != "alm@localhost" {
		t.Errorf("default author %v, want alm <alm@localhost>", c.Author)
	}
	got, err := Last(t.Context(), dir, "")
	if err != nil || got == nil || got.Revision != r.Revision {
		t.Errorf("Last = %+v, %v", got, err)
	}
}

func TestWriteRefuses(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		branch string
		r      Receipt
		setup  func(t *testing.T, dir string, repo *git.Repository)
		want   string
	}{
		{name: "the checked-out branch", branch: "main", r: receiptAt("abc", at),
			want: "checked out"},
		{name: "a branch with access files", branch: "copy", r: receiptAt("abc", at),
			setup: func(t *testing.T, dir string, repo *git.Repository) {
				head, _ := repo.Head()
				if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/copy", head.Hash())); err != nil {
					t.Fatal(err)
				}
			}, want: "holds alm.yaml"},
		{name: "no revision", r: receiptAt("", at), want: "no revision"},
		{name: "no time", r: receiptAt("abc", time.Time{}), want: "no AppliedAt"},
		{name: "not a repository", r: receiptAt("abc", at),
			setup: func(t *testing.T, dir string, _ *git.Repository) {
				if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
					t.Fatal(err)
				}
			}, want: "open repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, repo := accessRepo(t)
			if tt.setup != nil {
				tt.setup(t, dir, repo)
			}
			branch := tt.branch
			if branch == "" {
				branch = DefaultBranch
			}
			name := plumbing.NewBranchReferenceName(branch)
			before, _ := repo.Storer.Reference(name)
			_, err := Write(t.Context(), dir, tt.branch, tt.r, who)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write: %v, want an error saying %q", err, tt.want)
			}
			after, _ := repo.Storer.Reference(name)
			if (before == nil) != (after == nil) || (before != nil && before.Hash() != after.Hash()) {
				t.Errorf("a refused Write moved %s from %v to %v", name, before, after)
			}
		})
	}
}

// remoteSetup makes a bare remote and a repository pushing to it.
func remoteSetup(t *testing.T) (work, bare string) {
	t.Helper()
	work, repo := accessRepo(t)
	bare = t.TempDir()
	opts := &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}, Bare: true}
	if _, err := git.PlainInitWithOptions(bare, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(&git.PushOptions{RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"}}); err != nil {
		t.Fatal(err)
	}
	return work, bare
}

func TestPush(t *testing.T) {
	ctx := t.Context()
	work, bare := remoteSetup(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	first := receiptAt("1111111111", at, Applied)
	if _, err := Write(ctx, work, "", first, who); err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, work, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, work, "", nil); err != nil {
		t.Errorf("a second Push with nothing new: %v", err)
	}
	if got, err := Last(ctx, bare, ""); err != nil || got == nil || got.Revision != first.Revision {
		t.Fatalf("Last on the remote = %+v, %v", got, err)
	}

	// A fresh clone (CI) has the branch only as origin's: it reads it, and
	// a new receipt continues it, so that the push is a fast-forward.
	clone := t.TempDir()
	if _, err := git.PlainClone(clone, false, &git.CloneOptions{URL: bare}); err != nil {
		t.Fatal(err)
	}
	if got, err := Last(ctx, clone, ""); err != nil || got == nil || got.Revision != first.Revision {
		t.Fatalf("Last in a clone = %+v, %v", got, err)
	}
	second := receiptAt("2222222222", at.Add(time.Hour), Failed)
	if _, err := Write(ctx, clone, "", second, who); err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, clone, "", nil); err != nil {
		t.Fatal(err)
	}
	c, files := branchFiles(t, bare, DefaultBranch)
	if len(c.ParentHashes) != 1 || len(files) != 3 {
		t.Errorf("remote branch at %s with parents %v holds %v, want both receipts", c.Hash, c.ParentHashes, names(files))
	}
	if got, _ := Last(ctx, bare, ""); got == nil || got.Revision != second.Revision {
		t.Errorf("Last on the remote = %+v, want the clone's receipt", got)
	}

	// The first repository did not fetch: its branch is behind and has
	// diverged once it writes, so the push is refused and says what to do.
	if _, err := Write(ctx, work, "", receiptAt("3333333333", at.Add(2*time.Hour)), who); err != nil {
		t.Fatal(err)
	}
	err := Push(ctx, work, "", nil)
	if err == nil || !strings.Contains(err.Error(), "fetch origin") {
		t.Errorf("Push of a diverged branch: %v, want a refusal saying to fetch", err)
	}
}

func TestPushWithoutRemote(t *testing.T) {
	dir, _ := accessRepo(t)
	if err := Push(t.Context(), dir, "", nil); err != nil {
		t.Errorf("Push without a remote: %v, want nothing done", err)
	}
}

func TestScrub(t *testing.T) {
	urls := []string{"https://x-access-token:ghs_SECRET@github.com/o/r.git", "https://ghp_TOKEN@github.com/o/r", "/srv/git/r.git"}
	msg := "push https://x-access-token:ghs_SECRET@github.com/o/r.git and ghp_TOKEN failed"
	got := scrub(msg, urls)
	if strings.Contains(got, "ghs_SECRET") || strings.Contains(got, "ghp_TOKEN") {
		t.Errorf("scrub left a secret: %q", got)
	}
	if !strings.Contains(got, "github.com/o/r.git") {
		t.Errorf("scrub removed more than the secret: %q", got)
	}
}

// TestRefusedReceipts: a refusal is on the branch and in status.json, and
// round-trips; Last and history.LastApplied pass it over, as it applied nothing.
func TestRefusedReceipts(t *testing.T) {
	ctx := t.Context()
	dir, repo := accessRepo(t)
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	rev := head.Hash().String()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	lastApplied := func() string {
		t.Helper()
		got, err := history.LastApplied(ctx, repo, DefaultBranch)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Refusals alone: nothing was ever applied.
	guard := refusedByGuard()
	guard.Revision, guard.AppliedAt = rev, at
	if _, err := Write(ctx, dir, "", guard, who); err != nil {
		t.Fatal(err)
	}
	if got, err := Last(ctx, dir, ""); err != nil || got != nil {
		t.Errorf("Last with only a refusal = %+v, %v; want nil", got, err)
	}
	if got := lastApplied(); got != "" {
		t.Errorf("history.LastApplied with only a refusal = %q, want none", got)
	}

	applied := receiptAt(rev, at.Add(time.Hour), Applied)
	if _, err := Write(ctx, dir, "", applied, who); err != nil {
		t.Fatal(err)
	}
	unapproved := refusedUnapproved()
	unapproved.AppliedAt = at.Add(2 * time.Hour)
	h, err := Write(ctx, dir, "", unapproved, who)
	if err != nil {
		t.Fatal(err)
	}

	c, files := branchFiles(t, dir, DefaultBranch)
	if c.Hash.String() != h || !strings.Contains(c.Message, RefusedTrailer+": "+unapproved.Revision) {
		t.Errorf("refusal commit %s: %q", c.Hash, c.Message)
	}
	want, _ := Marshal(unapproved)
	if files[StatusFile] != string(want) {
		t.Errorf("status.json is not the refusal:\n%s", files[StatusFile])
	}
	if len(files) != 4 {
		t.Errorf("branch holds %v, want three receipts and status.json", names(files))
	}
	latest, err := Latest(ctx, dir, "")
	if err != nil || latest == nil {
		t.Fatalf("Latest = %v, %v", latest, err)
	}
	if got, _ := Marshal(*latest); string(got) != string(want) {
		t.Errorf("the refusal does not round-trip:\n%s\nwant\n%s", got, want)
	}
	last, err := Last(ctx, dir, "")
	if err != nil || last == nil || last.Refused != nil || !last.AppliedAt.Equal(applied.AppliedAt) {
		t.Errorf("Last = %+v, %v; want the applied receipt", last, err)
	}
	if got := lastApplied(); got != rev {
		t.Errorf("history.LastApplied = %q, want %s", got, rev)
	}
	if strings.Contains(strings.Join(values(files), ""), "Secr3t") {
		t.Error("a refusal's receipt holds the directory's password")
	}

	bad := refusedByGuard()
	bad.Refused.By = "someone"
	if _, err := Write(ctx, dir, "", bad, who); err == nil || !strings.Contains(err.Error(), `refused by "someone"`) {
		t.Errorf("Write of a refusal by nobody known: %v", err)
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
