package adtest

// Big directories for benchmarks, made in minutes: what alm's first apply
// of a plan writes is recorded as LDIF (Seed), loaded offline into the
// stopped DC's database with Samba's own ldbmodify (its module stack hashes
// the passwords and allocates the SIDs, as an LDAP add does), and the
// loaded DC kept, keyed by the LDIF, so the next run starts it by copying
// (scripts/ad/populate.sh).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/plan"
)

// Seed is what alm's first apply of a plan leaves in the directory: the
// OUs, groups and accounts it creates, with the attributes connectors/ad
// writes (Create, CreateGroup, CreateOU), every later write of the run
// (enables, members, updates) folded in.
type Seed struct {
	Marker  string // the marker attribute
	entries []*seedEntry
	byDN    map[string]*seedEntry
}

type seedEntry struct {
	dn         string
	kind       string // "ou", "group", "user"
	attrs      []seedAttr
	members    []string
	mustChange bool // pwdLastSet=0 in a modify of its own, as Create does
}

type seedAttr struct {
	name   string
	values []string
}

func (e *seedEntry) set(name string, values ...string) {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].name, name) {
			if len(values) == 0 {
				e.attrs = slices.Delete(e.attrs, i, i+1)
			} else {
				e.attrs[i].values = values
			}
			return
		}
	}
	if len(values) > 0 {
		e.attrs = append(e.attrs, seedAttr{name, values})
	}
}

func (e *seedEntry) get(name string) string {
	for _, a := range e.attrs {
		if strings.EqualFold(a.name, name) && len(a.values) > 0 {
			return a.values[0]
		}
	}
	return ""
}

// SeedOf records what apply.Run makes of p (a first apply: creates, their
// updates, members, enables) against a recorder that writes as
// connectors/ad does. creds are the repository's credentials.Policies;
// password gives each account's password (SeedPassword when nil).
func SeedOf(p *plan.Plan, marker string, creds map[string]credentials.Policy, password func(name string) string) (*Seed, error) {
	if password == nil {
		password = SeedPassword
	}
	r := &recorder{s: &Seed{Marker: marker, byDN: map[string]*seedEntry{}}, password: password}
	res := apply.Run(context.Background(), r, p, apply.Options{Credentials: creds})
	if !res.OK() {
		var why []string
		for _, c := range res.Changes {
			if c.Outcome != apply.Applied {
				why = append(why, c.Change.ID+": "+c.Error)
			}
			if len(why) == 5 {
				break
			}
		}
		return nil, fmt.Errorf("record the first apply: %d failed, %d skipped: %s", res.Failed, res.Skipped, strings.Join(why, "; "))
	}
	return r.s, nil
}

// SeedPassword is the password a seeded account gets: derived from its
// login, so that a test may bind as it; test directories only.
func SeedPassword(name string) string {
	m := hmac.New(sha256.New, []byte("alm adtest seed"))
	m.Write([]byte(strings.ToLower(name)))
	return "Sd7!" + hex.EncodeToString(m.Sum(nil))[:16]
}

// Users counts the accounts of the seed.
func (s *Seed) Users() int {
	n := 0
	for _, e := range s.entries {
		if e.kind == "user" {
			n++
		}
	}
	return n
}

// LDIF writes the seed as LDIF change records (ldapmodify, ldbmodify).
// With batch 0, each group is added after the accounts, its members in
// the add: the fastest offline load. With batch > 0 the groups come first,
// without members, and the members follow in modifies of up to batch
// values each, as alm writes them. Parent OUs come before what they
// hold, managers before whom they manage.
func (s *Seed) LDIF(w io.Writer, batch int) error {
	var b bytes.Buffer
	ous, groups, users := s.ordered()
	for _, e := range ous {
		writeAdd(&b, e, false)
	}
	if batch > 0 {
		for _, e := range groups {
			writeAdd(&b, e, false)
		}
	}
	for _, e := range users {
		writeAdd(&b, e, false)
	}
	for _, e := range groups {
		if batch <= 0 {
			writeAdd(&b, e, true)
			continue
		}
		for m := e.members; len(m) > 0; {
			chunk := m[:min(batch, len(m))]
			m = m[len(chunk):]
			fmt.Fprintf(&b, "dn: %s\nchangetype: modify\nadd: member\n", e.dn)
			for _, v := range chunk {
				writeValue(&b, "member", v)
			}
			b.WriteString("-\n\n")
		}
	}
	for _, e := range users {
		if e.mustChange {
			fmt.Fprintf(&b, "dn: %s\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: 0\n-\n\n", e.dn)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Key names the seed's content, for keeping a loaded copy of it.
func (s *Seed) Key() string {
	h := sha256.New()
	if err := s.LDIF(h, 0); err != nil {
		panic(err) // a hash does not fail
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *Seed) ordered() (ous, groups, users []*seedEntry) {
	for _, e := range s.entries {
		switch e.kind {
		case "ou":
			ous = append(ous, e)
		case "group":
			groups = append(groups, e)
		default:
			users = append(users, e)
		}
	}
	depth := func(dn string) int { return strings.Count(dn, ",") - strings.Count(dn, `\,`) }
	slices.SortStableFunc(ous, func(a, b *seedEntry) int { return depth(a.dn) - depth(b.dn) })
	// managers first: each account after the account its manager names
	done := map[string]bool{}
	var sorted []*seedEntry
	var visit func(e *seedEntry, depth int)
	visit = func(e *seedEntry, depth int) {
		key := strings.ToLower(e.dn)
		if done[key] || depth > len(users) {
			return
		}
		done[key] = true
		if m := s.byDN[strings.ToLower(e.get(directory.AttrManager))]; m != nil && m.kind == "user" {
			visit(m, depth+1)
		}
		sorted = append(sorted, e)
	}
	for _, e := range users {
		visit(e, 0)
	}
	return ous, groups, sorted
}

func writeAdd(b *bytes.Buffer, e *seedEntry, members bool) {
	fmt.Fprintf(b, "dn: %s\nchangetype: add\n", e.dn)
	for _, a := range e.attrs {
		for _, v := range a.values {
			writeValue(b, a.name, v)
		}
	}
	if members {
		for _, v := range e.members {
			writeValue(b, "member", v)
		}
	}
	b.WriteString("\n")
}

// writeValue writes one attribute value, base64 when LDIF needs it.
func writeValue(b *bytes.Buffer, name, v string) {
	safe := v != "" && v[0] != ' ' && v[0] != ':' && v[0] != '<' && v[len(v)-1] != ' '
	for i := 0; safe && i < len(v); i++ {
		safe = v[i] >= 0x20 && v[i] < 0x7f
	}
	if safe {
		fmt.Fprintf(b, "%s: %s\n", name, v)
	} else {
		fmt.Fprintf(b, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(v)))
	}
}

// recorder is an apply.Writer (and apply.MemberBatcher) that writes into a
// Seed what connectors/ad would send to the directory.
type recorder struct {
	s        *Seed
	password func(string) string
}

var errFirstApply = errors.New("not part of a first apply: the seed records creates, updates, members and enables only")

func (r *recorder) add(dn, kind string) (*seedEntry, error) {
	key := strings.ToLower(dn)
	if r.s.byDN[key] != nil {
		return nil, &directory.Error{Op: "add", DN: dn, Class: directory.ErrExists, Detail: "recorded twice"}
	}
	e := &seedEntry{dn: dn, kind: kind}
	r.s.byDN[key] = e
	r.s.entries = append(r.s.entries, e)
	return e, nil
}

func (r *recorder) find(ref directory.Ref) (*seedEntry, error) {
	if e := r.s.byDN[strings.ToLower(ref.DN)]; e != nil && ref.GUID == "" {
		return e, nil
	}
	return nil, fmt.Errorf("%s: %w", ref.DN, errFirstApply)
}

func firstValue(dn string) (string, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return "", fmt.Errorf("parse DN %q: %v", dn, err)
	}
	return parsed.RDNs[0].Attributes[0].Value, nil
}

// CreateOU writes what connectors/ad CreateOU does.
func (r *recorder) CreateOU(_ context.Context, dn string) error {
	v, err := firstValue(dn)
	if err != nil {
		return err
	}
	e, err := r.add(dn, "ou")
	if err != nil {
		return err
	}
	e.set("objectClass", "top", "organizationalUnit")
	e.set("ou", v)
	return nil
}

// CreateGroup writes what connectors/ad CreateGroup does.
func (r *recorder) CreateGroup(_ context.Context, g directory.NewGroup) error {
	e, err := r.add(g.DN, "group")
	if err != nil {
		return err
	}
	e.set("objectClass", "top", "group")
	e.set(directory.AttrSAMAccountName, g.Name)
	e.set("groupType", strconv.Itoa(directory.GroupTypeGlobalSecurity))
	if g.Marker != "" {
		e.set(r.s.Marker, g.Marker)
	}
	return nil
}

// Create writes what connectors/ad Create does: one add with the marker,
// the attributes, userAccountControl and the password.
func (r *recorder) Create(_ context.Context, a directory.NewAccount) error {
	cn, err := firstValue(a.DN)
	if err != nil {
		return err
	}
	pw := r.password(a.Name)
	if a.Seal != nil {
		if err := a.Seal([]byte(pw)); err != nil {
			return err
		}
	}
	e, err := r.add(a.DN, "user")
	if err != nil {
		return err
	}
	e.set("objectClass", "top", "person", "organizationalPerson", "user")
	e.set(directory.AttrSAMAccountName, a.Name)
	e.set(directory.AttrCN, cn)
	if a.Marker != "" {
		e.set(r.s.Marker, a.Marker)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range a.Attributes {
			if !yield(k) {
				return
			}
		}
	}) {
		if v := a.Attributes[name]; v != "" {
			e.set(name, v)
		}
	}
	e.set(directory.AttrUserAccountControl, strconv.Itoa(directory.UACNormalAccount|a.UAC|directory.UACAccountDisable))
	e.set("unicodePwd", quotedUTF16(pw))
	e.mustChange = a.MustChangePassword && a.Marker != ""
	return nil
}

// Modify replaces attributes; an empty value removes one.
func (r *recorder) Modify(_ context.Context, ref directory.Ref, attrs map[string]string) error {
	e, err := r.find(ref)
	if err != nil {
		return err
	}
	for name, v := range attrs {
		if v == "" {
			e.set(name)
		} else {
			e.set(name, v)
		}
	}
	return nil
}

// SetAccountControl replaces userAccountControl.
func (r *recorder) SetAccountControl(_ context.Context, ref directory.Ref, uac int) error {
	e, err := r.find(ref)
	if err != nil {
		return err
	}
	e.set(directory.AttrUserAccountControl, strconv.Itoa(uac))
	return nil
}

// AddMember adds a member, named by DN as connectors/ad does without a GUID.
func (r *recorder) AddMember(ctx context.Context, group, member directory.Ref) error {
	return r.AddMembers(ctx, group, []directory.Ref{member})
}

// AddMembers adds members in one write.
func (r *recorder) AddMembers(_ context.Context, group directory.Ref, members []directory.Ref) error {
	g, err := r.find(group)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.GUID != "" {
			return fmt.Errorf("member %s named by GUID: %w", m.DN, errFirstApply)
		}
		g.members = append(g.members, m.DN)
	}
	return nil
}

func (r *recorder) Adopt(context.Context, directory.Ref, string) error { return errFirstApply }
func (r *recorder) SetPassword(context.Context, directory.Ref, directory.Seal) error {
	return errFirstApply
}
func (r *recorder) Move(context.Context, directory.Ref, string) error { return errFirstApply }
func (r *recorder) RemoveMember(context.Context, directory.Ref, directory.Ref) error {
	return errFirstApply
}
func (r *recorder) RemoveMembers(context.Context, directory.Ref, []directory.Ref) error {
	return errFirstApply
}
func (r *recorder) Delete(context.Context, directory.Ref) error { return errFirstApply }

// ------------------------------------------------------- the DC's database

// Dir is the directory start.sh was given (AD_DIR in ad.env).
func (e *Env) Dir() (string, error) {
	f, err := os.Open(e.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	vars, err := parse(f.Name(), bufio.NewScanner(f))
	if err != nil {
		return "", err
	}
	if vars["AD_DIR"] == "" {
		return "", fmt.Errorf("%s: no AD_DIR: rerun scripts/ad/start.sh", e.path)
	}
	return vars["AD_DIR"], nil
}

// populate runs scripts/ad/populate.sh DIR args...
func (e *Env) populate(args ...string) (string, error) {
	dir, err := e.Dir()
	if err != nil {
		return "", err
	}
	script, err := scriptPath("populate.sh")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(script, append([]string{dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("populate.sh %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// scriptPath finds scripts/ad/name above the working directory (go test
// runs in the package's folder).
func scriptPath(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "ad", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || filepath.Dir(dir) == dir {
			return "", fmt.Errorf("scripts/ad/%s not found above the working directory", name)
		}
		dir = filepath.Dir(dir)
	}
}

// LockRoot takes, for the rest of the test, the lock Root takes on the OU
// rdn at the domain's root, without clearing or creating anything.
func (e *Env) LockRoot(tb testing.TB, rdn string) string {
	tb.Helper()
	dn := rdn + "," + e.BaseDN
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "alm-adtest-"+strings.ToLower(strings.NewReplacer("=", "-", ",", "-").Replace(dn))+".lock"),
		os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatalf("lock %s: %v", dn, err)
	}
	tb.Cleanup(func() { lock.Close() })
	return dn
}

// Scratch stops the DC and starts a copy of it, which the test may fill
// at will; restore (called at the test's end at the latest) throws the
// copy away and starts the DC again as it was. Nothing else may use the DC
// meanwhile: its ports are the same, and it restarts.
func (e *Env) Scratch(tb testing.TB) (restore func()) {
	tb.Helper()
	out, err := e.populate("scratch")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%s", strings.TrimSpace(out))
	restore = e.restorer(tb)
	e.refresh(tb)
	return restore
}

// restorer returns a function, also called when the test ends, that
// starts the DC kept aside again; only its first call does anything.
func (e *Env) restorer(tb testing.TB) func() {
	done := false
	restore := func() {
		if done {
			return
		}
		done = true
		out, err := e.populate("restore")
		if err != nil {
			tb.Error(err)
			return
		}
		tb.Logf("%s", strings.TrimSpace(out))
		e.refresh(tb)
	}
	tb.Cleanup(restore)
	return restore
}

// Populate starts the DC holding seed, below the OU rdn at the domain's
// root (which it creates empty, delegated to the bind account, as Root
// does): from a copy kept of an earlier load when there is one (warm),
// else by loading seed offline into the stopped DC's database and keeping
// a copy (cold). When the test ends, the DC is started again as it was
// before. It returns how long that took and whether it was warm.
func (e *Env) Populate(tb testing.TB, rdn string, seed *Seed) (took time.Duration, warm bool) {
	tb.Helper()
	start := time.Now()
	key := seed.Key()
	_, err := e.populate("has", key)
	warm = err == nil
	if !warm {
		// What the load goes below: the root OU, empty, delegated, made
		// in a copy of the DC (absent or empty in a DC start.sh started).
		out, err := e.populate("scratch")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("%s", strings.TrimSpace(out))
		e.restorer(tb)
		e.refresh(tb)
		c, err := e.dial()
		if err != nil {
			tb.Fatal(err)
		}
		dn := rdn + "," + e.BaseDN
		if err := addOU(c, dn); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			c.Close()
			tb.Fatalf("create %s: %v", dn, err)
		}
		c.Close()
		e.Delegate(tb, dn)
		f, err := os.CreateTemp(tb.TempDir(), "seed-*.ldif")
		if err != nil {
			tb.Fatal(err)
		}
		if err := seed.LDIF(f, 0); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
		if out, err = e.populate("load", key, f.Name()); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("%s", strings.TrimSpace(out))
	} else {
		out, err := e.populate("load", key)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("%s", strings.TrimSpace(out))
		e.restorer(tb)
	}
	e.refresh(tb)
	return time.Since(start), warm
}

// AddOU creates an OU as the administrator (its parent must exist); one
// there already is no error.
func (e *Env) AddOU(tb testing.TB, dn string) {
	tb.Helper()
	c, err := e.dial()
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if err := addOU(c, dn); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		tb.Fatalf("create %s: %v", dn, err)
	}
}

// refresh makes the delegated account bind again on the DC now running
// (another copy of the database may hold another password for it).
func (e *Env) refresh(tb testing.TB) {
	tb.Helper()
	if !e.Delegated {
		return
	}
	delegatedMu.Lock()
	delete(delegatedCache, e.path)
	delegatedMu.Unlock()
	dn, pw, err := e.delegated()
	if err != nil {
		tb.Fatalf("set up the delegated bind account again: %v", err)
	}
	e.BindDN, e.Password = dn, pw
}
