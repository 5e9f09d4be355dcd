package reconcile_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// proxy forwards TCP connections to the directory and can drop them,
// stall them, or refuse new ones, as a failing network would.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   []*link
	refuse  bool
	dialled int // connections forwarded, ever
}

// link is one client connection and its connection to the directory.
type link struct {
	client, server net.Conn
	stalled        chan struct{} // closed: answers no longer reach the client
	once           sync.Once
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.drop()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s, stalled: make(chan struct{})}
		p.mu.Lock()
		p.conns = append(p.conns, l)
		p.dialled++
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(stallWriter{l}, s); c.Close() }()
	}
}

// stallWriter forwards the directory's answers until its link stalls;
// then it holds them, as a network that stopped delivering would.
type stallWriter struct{ l *link }

func (w stallWriter) Write(b []byte) (int, error) {
	select {
	case <-w.l.stalled:
		select {} // never delivered; the link is closed under it at the end
	default:
	}
	return w.l.client.Write(b)
}

// drop closes every connection now open.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.conns {
		l.client.Close()
		l.server.Close()
	}
	p.conns = nil
}

// stall stops answers reaching the clients of the connections now open;
// requests still reach the directory. New connections work.
func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.conns {
		l.once.Do(func() { close(l.stalled) })
	}
}

// down drops every connection and refuses new ones, or, given false,
// accepts them again.
func (p *proxy) down(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
	if on {
		p.drop()
	}
}

// tripwire calls trip before the nth account is created: the failure
// then meets a run in the middle of its writes.
type tripwire struct {
	reconcile.Directory
	n, at int
	trip  func()
}

func (w *tripwire) Create(ctx context.Context, a directory.NewAccount) error {
	w.n++
	if w.n == w.at {
		w.trip()
	}
	return w.Directory.Create(ctx, a)
}

// TestConnectionFailures: the connection to the directory is dropped, or
// stalled (requests reach the server, answers never come back), in the
// middle of an apply, or the directory becomes unreachable. The apply
// finishes within a bounded time; every change applies or is reported
// failed or not attempted, none is lost or made twice; a second apply
// converges.
func TestConnectionFailures(t *testing.T) {
	const people = 30
	tests := []struct {
		name string
		trip func(p *proxy)
		// the first apply: everything applied, or it stops at the
		// unreachable directory and the rest is not attempted
		stops bool
	}{
		{name: "dropped", trip: func(p *proxy) { p.drop() }},
		{name: "stalled", trip: func(p *proxy) { p.stall() }},
		{name: "unreachable", trip: func(p *proxy) { p.down(true) }, stops: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			staff := w.role("staff", &model.Birthright{Department: "Engineering"}, false)
			var logins []string
			for range people {
				p := employee("x")
				logins = append(logins, p.Metadata.Name)
				w.putPerson(p)
			}
			w.commit("people")

			u, err := url.Parse(w.env.URL)
			if err != nil {
				t.Fatal(err)
			}
			px := newProxy(t, u.Host)
			d, err := ad.Dial(context.Background(), ad.Config{URL: "ldaps://" + px.addr(), CAFile: w.env.CAFile, ServerName: w.env.ServerName,
				BindDN: w.env.BindDN, Password: w.env.Password, Timeout: 2 * time.Second}, w.log)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			now := at("2026-11-22")
			pl, err := reconcile.Plan(context.Background(), d, w.src, w.options(now))
			if err != nil {
				t.Fatal(err)
			}
			tw := &tripwire{Directory: d, at: people / 2, trip: func() { tc.trip(px) }}
			start := time.Now()
			res, err := reconcile.Apply(context.Background(), tw, pl, w.src, reconcile.ApplyOptions{
				Options: w.options(now), Retries: 3, Backoff: 100 * time.Millisecond, DirectoryURL: w.env.URL})
			took := time.Since(start)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			// Bounded: a stalled request waits its 2 s timeout once; an
			// unreachable directory costs the redials' backoff, not a
			// timeout per change.
			if took > 40*time.Second {
				t.Errorf("the apply took %s", took)
			}
			if n := len(res.Result.Changes); n != len(pl.Plan.Changes) {
				t.Errorf("%d results for %d changes: a change was lost", n, len(pl.Plan.Changes))
			}
			unreachable := 0
			for _, cr := range res.Result.Changes {
				switch {
				case cr.Outcome == apply.Applied:
				case tc.stops && cr.Outcome == apply.Failed && strings.Contains(cr.Error, directory.ErrUnreachable.Error()):
					unreachable++
				case tc.stops && cr.Outcome == apply.Skipped && strings.Contains(cr.Error, "not attempted: the directory could not be reached"):
				default:
					t.Errorf("%s: %s %s", cr.Change.ID, cr.Outcome, cr.Error)
				}
			}
			switch {
			case tc.stops && (unreachable != 1 || res.Result.Skipped == 0):
				t.Errorf("want one change failed on the unreachable directory and the rest not attempted; %d failed, %d skipped", res.Result.Failed, res.Result.Skipped)
			case !tc.stops && !res.Result.OK():
				t.Errorf("want everything applied through the new connection:\n%s", failures(res))
			}
			t.Logf("%s: %d applied, %d failed, %d not attempted in %s; %d connections made", tc.name,
				res.Result.Applied, res.Result.Failed, res.Result.Skipped, took.Round(time.Millisecond), px.dialled)

			// The network back, a second apply converges; nothing twice.
			px.down(false)
			w.reconcile(now)
			res2, err := d.Read(context.Background(), pl.Desired.Scope())
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, a := range res2.Accounts {
				seen[strings.ToLower(a.Name)]++
			}
			for _, login := range logins {
				if seen[strings.ToLower(login)] != 1 {
					t.Errorf("%s is in the directory %d times", login, seen[strings.ToLower(login)])
				}
				o := w.mustLookup(login)
				wantEnabled(t, o, true)
				wantGroups(t, o, staff)
			}
			if len(res2.Accounts) != people {
				t.Errorf("%d accounts, want %d", len(res2.Accounts), people)
			}
		})
	}
}

// TestDialFailuresAreNotTransient: a name that does not resolve is not
// worth dialling again; nothing listening is; a refused bind is not.
func TestDialFailuresAreNotTransient(t *testing.T) {
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name      string
		url, pass string
		class     error
		transient bool
	}{
		{"name that does not resolve", "ldaps://no-such-dc.invalid:636", w.env.Password, directory.ErrUnreachable, false},
		{"nothing listening", "ldaps://" + closed, w.env.Password, directory.ErrUnavailable, true},
		{"bind refused", w.env.URL, "wrong-" + w.env.Password, directory.ErrAuth, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ad.Dial(context.Background(), ad.Config{URL: tc.url, CAFile: w.env.CAFile, ServerName: w.env.ServerName,
				BindDN: w.env.BindDN, Password: tc.pass, Timeout: 2 * time.Second}, nil)
			if !errors.Is(err, tc.class) || directory.Transient(err) != tc.transient {
				t.Errorf("error %v: want class %v, transient %v", err, tc.class, tc.transient)
			}
		})
	}
}

// TestRefusedBindIsRemembered: a connection lost, and the bind account
// disabled meanwhile (Samba still takes the old password for a while after
// a reset, so disabling is the refusal to test): the connector dials once
// more, is refused,
// and from then on answers every request with that refusal without
// binding again (bind after bind would lock the account out).
func TestRefusedBindIsRemembered(t *testing.T) {
	w := newWorld(t)
	login := adtest.Unique("bind-")
	dn := "CN=" + login + "," + w.ou
	pw := "Bind-" + adtest.Unique("p") + "!9"
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute(directory.AttrSAMAccountName, []string{login})
	add.Attribute(directory.AttrUserAccountControl, []string{"512"})
	add.Attribute("unicodePwd", []string{quotedUTF16(pw)})
	if err := w.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(w.env.URL)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	d, err := ad.Dial(context.Background(), ad.Config{URL: "ldaps://" + px.addr(), CAFile: w.env.CAFile, ServerName: w.env.ServerName,
		BindDN: dn, Password: pw, Timeout: 2 * time.Second}, w.log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	scope := directory.Scope{BaseDN: w.env.BaseDN, OUs: []string{w.ou}, GroupBase: w.ou}
	if _, err := d.Read(context.Background(), scope); err != nil {
		t.Fatal(err)
	}
	w.modify(dn, func(r *ldap.ModifyRequest) { r.Replace(directory.AttrUserAccountControl, []string{"514"}) })
	px.drop()
	for i := range 3 {
		if _, err := d.Read(context.Background(), scope); !errors.Is(err, directory.ErrAuth) || directory.Transient(err) {
			t.Fatalf("read %d after the bind account was disabled: %v, want the refused bind", i, err)
		}
	}
	if px.dialled != 2 {
		t.Errorf("%d connections made, want 2: the first, and one that found the bind refused", px.dialled)
	}
}
