package ad

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

func dialEnv(t *testing.T, env *adtest.Env) *Directory {
	t.Helper()
	d, err := Dial(context.Background(), Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestRangedValues reads a group and a user with more values than one
// window holds: AD does this above 1500 values; rangeStep makes windows of
// 2 so that a handful of objects show it.
func TestRangedValues(t *testing.T) {
	env := adtest.New(t)
	ctx := context.Background()
	d := dialEnv(t, env)
	d.rangeStep = 2
	ou := env.OU(t)
	c := env.Conn(t)

	const users, groups = 5, 3
	var userDNs, groupDNs []string
	for i := range users {
		dn := fmt.Sprintf("CN=r%d,%s", i, ou)
		if err := d.Create(ctx, directory.NewAccount{DN: dn, Name: adtest.Unique(fmt.Sprintf("r%d-", i)), UAC: 514}); err != nil {
			t.Fatal(err)
		}
		userDNs = append(userDNs, dn)
	}
	for i := range groups {
		dn := fmt.Sprintf("CN=g%d,%s", i, ou)
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"group"})
		req.Attribute("sAMAccountName", []string{adtest.Unique(fmt.Sprintf("g%d-", i))})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
		groupDNs = append(groupDNs, dn)
	}
	// every user in g0; r0 in every group
	for _, u := range userDNs {
		if err := d.AddMember(ctx, directory.Ref{DN: groupDNs[0]}, directory.Ref{DN: u}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range groupDNs[1:] {
		if err := d.AddMember(ctx, directory.Ref{DN: g}, directory.Ref{DN: userDNs[0]}); err != nil {
			t.Fatal(err)
		}
	}

	var logs strings.Builder
	d.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	snap, err := d.Read(ctx, directory.Scope{BaseDN: env.BaseDN, OUs: []string{ou}, GroupBase: ou})
	if err != nil {
		t.Fatal(err)
	}
	// g0's members and r0's groups go past the first window
	if !strings.Contains(logs.String(), "ranged=2") {
		t.Errorf("want 2 attributes read in windows, log says: %s", logs.String())
	}
	for _, g := range snap.Groups {
		if directory.SameDN(g.DN, groupDNs[0]) && len(g.Members) != users {
			t.Errorf("%s has %d members, want %d: %v", g.DN, len(g.Members), users, g.Members)
		}
	}
	for _, a := range snap.Accounts {
		if directory.SameDN(a.DN, userDNs[0]) && len(a.MemberOf) != groups {
			t.Errorf("%s is in %d groups, want %d: %v", a.DN, len(a.MemberOf), groups, a.MemberOf)
		}
	}

	d.rangeStep = 0
	whole, err := d.Read(ctx, directory.Scope{BaseDN: env.BaseDN, OUs: []string{ou}, GroupBase: ou})
	if err != nil {
		t.Fatal(err)
	}
	whole.State, snap.State = "", ""
	if fmt.Sprint(whole) != fmt.Sprint(snap) {
		t.Errorf("read in windows:\n%+v\nread whole:\n%+v", snap, whole)
	}
}

// TestWeakPasswordFromServer classifies the server's own answer to a
// password its policy refuses.
func TestWeakPasswordFromServer(t *testing.T) {
	env := adtest.New(t)
	ctx := context.Background()
	d := dialEnv(t, env)
	ou := env.OU(t)
	dn := "CN=Weak," + ou
	if err := d.Create(ctx, directory.NewAccount{DN: dn, Name: adtest.Unique("weak-"), UAC: 514}); err != nil {
		t.Fatal(err)
	}
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace("unicodePwd", []string{unicodePwd("a")})
	err := d.do(ctx, opModify, dn, "unicodePwd", func(c *ldap.Conn) error { return c.Modify(req) })
	if !errors.Is(err, directory.ErrWeakPassword) {
		t.Fatalf("setting password \"a\": %v, want ErrWeakPassword", err)
	}
}

// TestPageOnAClosedConnection: a search on a connection that is closing
// is an error, never an empty result (go-ldap returns no entries and no
// error there, which would read a managed OU as empty).
func TestPageOnAClosedConnection(t *testing.T) {
	client, server := net.Pipe()
	server.Close()
	c := ldap.NewConn(client, false)
	c.Start()
	c.Close()
	req := ldap.NewSearchRequest("OU=People,DC=example,DC=test", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil)
	entries := 0
	_, _, err := page(context.Background(), c, req, func(*ldap.Entry) error { entries++; return nil })
	if err == nil || !lost(err) || entries != 0 {
		t.Fatalf("search on a closed connection: %v, %d entries; want a lost connection", err, entries)
	}
	if tr := translate(opSearch, req.BaseDN, "", err); !directory.Transient(tr) {
		t.Errorf("translated %v, want transient: the read is made again", tr)
	}
}
