package ad_test

// The scale issue's two Samba figures, each against its floor measured in
// the same run: a no-op alm plan of ALM_BENCH_PLAN_N (10,000) accounts
// against ldapsearch reading the same, and a first alm apply of
// ALM_BENCH_APPLY_N (2,000, to keep make bench bounded) accounts against
// ldapadd and ldapmodify writing the same. Both skip without
// ALM_TEST_AD_ENV; both stop and restart the DC (adtest Populate,
// Scratch), which nothing else may use meanwhile.
//
//	scripts/ad/start.sh DIR && ALM_TEST_AD_ENV=DIR/ad.env \
//	  go test -run '^$' -bench BenchmarkSamba -benchtime 1x ./connectors/ad/
//
// ALM_BENCH_CPUPROFILE=FILE writes a CPU profile of alm's timed part alone.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/reconcile"
)

const (
	envPlanN      = "ALM_BENCH_PLAN_N"
	envApplyN     = "ALM_BENCH_APPLY_N"
	envCPUProfile = "ALM_BENCH_CPUPROFILE"
)

// sambaNow is the instant the synthetic repository is planned at: its
// leavers have left, its joiners of next week are provisioned.
var sambaNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// sambaRoot is where examples/synthetic's alm.yaml puts everything.
const sambaRoot = "OU=ALM"

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// benchRepo is synthetic.Files(n) committed in a Git repository packed
// like a clone, loaded, and its desired state at sambaNow.
type benchRepo struct {
	path string
	src  reconcile.Source
	repo *model.Repository
	want *desired.State
}

func newBenchRepo(b *testing.B, n int) *benchRepo {
	b.Helper()
	files, err := synthetic.Files(n)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	git(b, dir, "init", "-q", "-b", "main")
	git(b, dir, "add", "-A")
	git(b, dir, "-c", "user.name=Bench", "-c", "user.email=bench@example.test", "commit", "-q", "-m", fmt.Sprintf("%d people", n))
	git(b, dir, "repack", "-adq")
	r := &benchRepo{path: dir, src: reconcile.Source{Path: dir, Rev: "HEAD"}}
	repo, problems, err := load.Revision(context.Background(), dir, "HEAD")
	if err != nil || len(problems) > 0 {
		b.Fatalf("load: %v %v", err, problems)
	}
	if r.want, err = desired.Compute(repo, sambaNow); err != nil {
		b.Fatal(err)
	}
	r.repo = repo
	return r
}

func git(b *testing.B, dir string, args ...string) {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// firstSeed is what alm's first apply of the repository writes into a
// directory holding only its root OU: alm's own plan, recorded.
func firstSeed(b *testing.B, r *benchRepo, base string) *adtest.Seed {
	b.Helper()
	root := sambaRoot + "," + base
	empty := &directory.Snapshot{BaseDN: r.want.BaseDN, Accounts: []directory.Account{}, Groups: []directory.Group{}, OUs: []string{root}}
	p := plan.Diff(r.want, empty, plan.Options{})
	seed, err := adtest.SeedOf(p, r.want.MarkerAttribute, credentials.Policies(r.repo), nil)
	if err != nil {
		b.Fatal(err)
	}
	return seed
}

func dialAs(ctx context.Context, env *adtest.Env) (*ad.Directory, error) {
	return ad.Dial(ctx, ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password}, nil)
}

// peakHeap samples the heap's live objects every millisecond until the
// returned function is called, which returns the high-water mark.
func peakHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// profile runs f under the CPU profile ALM_BENCH_CPUPROFILE names, if any.
func profile(b *testing.B, f func()) {
	path := os.Getenv(envCPUProfile)
	if path == "" {
		f()
		return
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		b.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	f()
}

// ldapTool runs an OpenLDAP client bound as alm binds, verifying the DC
// with its CA; its output goes to stdout. Exit code 32 (no such object)
// is no error when allowMissing: alm reads a missing OU as empty.
func ldapTool(env *adtest.Env, pwFile string, stdout io.Writer, allowMissing bool, tool string, args ...string) error {
	cmd := exec.Command(tool, append([]string{"-x", "-H", env.URL, "-D", env.BindDN, "-y", pwFile}, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+env.CAFile, "LDAPTLS_REQCERT=demand")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if allowMissing && errors.As(err, &exit) && exit.ExitCode() == 32 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", tool, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

func passwordFile(b *testing.B, env *adtest.Env) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bind-pass")
	if err := os.WriteFile(p, []byte(env.Password), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// dnCounter counts the entries of the LDIF written to it: its lines
// starting "dn: ".
type dnCounter struct {
	n, col int
	ok     bool
}

func (c *dnCounter) Write(p []byte) (int, error) {
	const prefix = "dn: "
	for _, ch := range p {
		if ch == '\n' {
			c.col = 0
			continue
		}
		if c.col < len(prefix) {
			c.ok = (c.col == 0 || c.ok) && ch == prefix[c.col]
			if c.ok && c.col == len(prefix)-1 {
				c.n++
			}
		}
		c.col++
	}
	return len(p), nil
}

// BenchmarkSambaPlanNoop: alm plan of a repository whose accounts the
// directory already holds as alm wrote them (loaded offline, see
// adtest.Populate), against the floor: ldapsearch reading the managed OUs
// and the groups OU with the attributes the connector asks for. Each round
// also plans with --cache-dir holding the revision, as a deployed
// reconciler keeps it (cached-s/plan).
func BenchmarkSambaPlanNoop(b *testing.B) {
	env := adtest.New(b)
	n := envInt(b, envPlanN, 10000)
	env.LockRoot(b, sambaRoot)
	ctx := context.Background()

	t0 := time.Now()
	r := newBenchRepo(b, n)
	seed := firstSeed(b, r, env.BaseDN)
	b.Logf("repository of %d people and seed of %d accounts made in %s", n, seed.Users(), time.Since(t0).Round(time.Millisecond))
	took, warm := env.Populate(b, sambaRoot, seed)
	how := "cold: loaded offline and kept"
	if warm {
		how = "warm: a kept copy"
	}
	b.Logf("directory of %d accounts ready in %s (%s)", seed.Users(), took.Round(time.Millisecond), how)

	// The apply that made the directory left its receipt.
	rc := receipt.Receipt{Revision: r.repo.Revision, AppliedAt: sambaNow, Directory: env.URL,
		Orphans: []receipt.Orphan{}, Findings: []receipt.Finding{}}
	if _, err := receipt.Write(ctx, r.path, r.repo.Directory.Spec.StatusBranch, rc, receipt.Signature{}); err != nil {
		b.Fatal(err)
	}
	// A deployed reconciler keeps its parsed files (--cache-dir): the
	// plan is measured both ways.
	cacheDir := b.TempDir()
	cachedSrc := func() reconcile.Source {
		c, err := load.OpenCache(cacheDir)
		if err != nil {
			b.Fatal(err)
		}
		src := r.src
		src.Cache = c
		return src
	}
	planFrom := func(src reconcile.Source) *reconcile.Planned {
		d, err := dialAs(ctx, env)
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		pl, err := reconcile.Plan(ctx, d, src, reconcile.Options{Now: sambaNow})
		if err != nil {
			b.Fatal(err)
		}
		return pl
	}
	plan := func() *reconcile.Planned { return planFrom(r.src) }
	pl := planFrom(cachedSrc()) // fills the folder
	if !pl.Plan.Matches() {
		var what []string
		for i, c := range pl.Plan.Changes {
			if i < 5 {
				what = append(what, fmt.Sprintf("%s %s", c.Action, c.DN))
			}
		}
		for i, f := range pl.Plan.Findings {
			if i < 5 {
				what = append(what, fmt.Sprintf("finding %s: %s", f.Kind, f.Text))
			}
		}
		b.Fatalf("the loaded directory is not what alm would have written: %d changes, %d findings, e.g.\n%s",
			len(pl.Plan.Changes), len(pl.Plan.Findings), strings.Join(what, "\n"))
	}
	accounts := pl.Plan.Managed
	if len(pl.Snapshot.Accounts) < seed.Users() {
		b.Fatalf("read %d accounts, loaded %d", len(pl.Snapshot.Accounts), seed.Users())
	}
	pl = nil

	pw := passwordFile(b, env)
	userAttrs := append([]string{directory.AttrSAMAccountName, "objectGUID", directory.AttrUserAccountControl, "memberOf",
		r.want.MarkerAttribute, "objectSid", "isCriticalSystemObject", "adminCount", "pwdLastSet", "primaryGroupID"}, directory.ManagedAttributes...)
	groupAttrs := []string{directory.AttrSAMAccountName, "objectGUID", "member", "objectSid", "isCriticalSystemObject", "adminCount", r.want.MarkerAttribute}
	floor := func() (int, error) {
		var count dnCounter
		if err := ldapTool(env, pw, io.Discard, false, "ldapsearch", "-LLL", "-b", "", "-s", "base", "(objectClass=*)", "highestCommittedUSN", "defaultNamingContext"); err != nil {
			return 0, err
		}
		for _, ou := range r.want.OUs {
			args := append([]string{"-LLL", "-E", "pr=1000/noprompt", "-b", ou, "-s", "sub", "(&(objectCategory=person)(objectClass=user))"}, userAttrs...)
			if err := ldapTool(env, pw, &count, true, "ldapsearch", args...); err != nil {
				return 0, err
			}
		}
		args := append([]string{"-LLL", "-E", "pr=1000/noprompt", "-b", r.want.GroupsOU, "-s", "sub", "(objectClass=group)"}, groupAttrs...)
		err := ldapTool(env, pw, &count, true, "ldapsearch", args...)
		return count.n, err
	}

	var almTime, cachedTime, floorTime time.Duration
	var peak, alloc uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := peakHeap()
		start := time.Now()
		profile(b, func() { pl = plan() })
		almTime += time.Since(start)
		peak = max(peak, stop())
		runtime.ReadMemStats(&after)
		alloc += after.TotalAlloc - before.TotalAlloc
		if !pl.Plan.Matches() {
			b.Fatalf("plan %d has %d changes, %d findings", i, len(pl.Plan.Changes), len(pl.Plan.Findings))
		}
		pl = nil
		src := cachedSrc()
		start = time.Now()
		pl = planFrom(src)
		cachedTime += time.Since(start)
		if !pl.Plan.Matches() {
			b.Fatalf("plan %d with --cache-dir has %d changes, %d findings", i, len(pl.Plan.Changes), len(pl.Plan.Findings))
		}
		pl = nil

		start = time.Now()
		entries, err := floor()
		floorTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if entries < accounts {
			b.Fatalf("the floor read %d entries, fewer than the %d accounts", entries, accounts)
		}
	}
	b.StopTimer()
	almS, floorS := almTime.Seconds()/float64(b.N), floorTime.Seconds()/float64(b.N)
	b.ReportMetric(almS, "s/plan")
	b.ReportMetric(floorS, "floor-s/plan")
	b.ReportMetric(almS/floorS, "ratio")
	cachedS := cachedTime.Seconds() / float64(b.N)
	b.ReportMetric(cachedS, "cached-s/plan")
	b.ReportMetric(1.3, "target")
	b.ReportMetric(float64(accounts), "accounts")
	b.ReportMetric(float64(peak)/float64(accounts), "peak-heap-B/account")
	b.ReportMetric(float64(alloc)/float64(b.N)/float64(accounts), "alloc-B/account")
	b.ReportMetric(took.Seconds(), "setup-s")
	b.Logf("alm with --cache-dir %.2fs: %.2fx", cachedS, cachedS/floorS)
	b.Logf("alm %.2fs, floor %.2fs: %.2fx (target <= 1.3x); peak heap %.0f MiB (%.1f KiB/account), allocated %.1f KiB/account; setup %s (%s)",
		almS, floorS, almS/floorS, float64(peak)/(1<<20), float64(peak)/float64(accounts)/1024, float64(alloc)/float64(b.N)/float64(accounts)/1024,
		took.Round(time.Millisecond), how)
}

// BenchmarkSambaApply: alm's first apply of ALM_BENCH_APPLY_N (2000)
// people, against the floor doing the same writes: ldapadd of the same
// entries (users with unicodePwd, enabled at once) and ldapmodify adding
// the group members in batches of 500. Each runs on a fresh copy of the
// DC (adtest Scratch) holding only the empty, delegated root OU.
func BenchmarkSambaApply(b *testing.B) {
	env := adtest.New(b)
	n := envInt(b, envApplyN, 2000)
	env.LockRoot(b, sambaRoot)
	ctx := context.Background()
	root := sambaRoot + "," + env.BaseDN

	r := newBenchRepo(b, n)
	seed := firstSeed(b, r, env.BaseDN)
	ldif := filepath.Join(b.TempDir(), "floor.ldif")
	var buf bytes.Buffer
	if err := seed.LDIF(&buf, 500); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(ldif, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	users := seed.Users()
	branch := r.repo.Directory.Spec.StatusBranch
	fresh := func() func() {
		restore := env.Scratch(b)
		env.AddOU(b, root)
		env.Delegate(b, root)
		return restore
	}

	var almTime, floorTime, planTime time.Duration
	created := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		restore := fresh()
		pw := passwordFile(b, env)
		b.StartTimer()
		start := time.Now()
		err := ldapTool(env, pw, io.Discard, false, "ldapmodify", "-a", "-f", ldif)
		floorTime += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		restore()

		restore = fresh()
		b.StartTimer()
		var res *reconcile.Applied
		start = time.Now()
		profile(b, func() {
			d, err := dialAs(ctx, env)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			pl, err := reconcile.Plan(ctx, d, r.src, reconcile.Options{Now: sambaNow})
			if err != nil {
				b.Fatal(err)
			}
			if pl.Refused != nil {
				b.Fatalf("plan refused: %v", pl.Refused)
			}
			planTime += time.Since(start)
			res, err = reconcile.Apply(ctx, d, pl, r.src, reconcile.ApplyOptions{Options: reconcile.Options{Now: sambaNow},
				Retries: 2, Backoff: 100 * time.Millisecond, DirectoryURL: env.URL})
			if err != nil {
				b.Fatal(err)
			}
		})
		almTime += time.Since(start)
		b.StopTimer()
		if !res.Result.OK() {
			b.Fatalf("apply: %d failed, %d skipped", res.Result.Failed, res.Result.Skipped)
		}
		made := 0
		for _, c := range res.Result.Changes {
			if c.Change.Action == plan.Create {
				made++
			}
		}
		if made != users {
			b.Fatalf("alm created %d accounts, the floor %d", made, users)
		}
		created += made
		restore()
		git(b, r.path, "branch", "-D", branch) // the next iteration is a first apply again
		b.StartTimer()
	}
	b.StopTimer()
	almRate := float64(created) / almTime.Seconds()
	floorRate := float64(users*b.N) / floorTime.Seconds()
	b.ReportMetric(almRate, "accounts/s")
	b.ReportMetric(floorRate, "floor-accounts/s")
	b.ReportMetric(almRate/floorRate, "ratio")
	b.ReportMetric(0.9, "target")
	b.ReportMetric(float64(users), "accounts")
	b.ReportMetric(planTime.Seconds()/float64(b.N), "plan-s")
	b.Logf("%d accounts (%s=%d people): alm %.1f/s in %.1fs (plan %.1fs), floor %.1f/s in %.1fs: %.2fx (target >= 0.9x)",
		users, envApplyN, n, almRate, almTime.Seconds()/float64(b.N), planTime.Seconds()/float64(b.N), floorRate, floorTime.Seconds()/float64(b.N), almRate/floorRate)
}
