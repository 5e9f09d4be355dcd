package reconcile_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// The child process of TestKilledApplyConverges reads its work from these.
const (
	envChildRepo   = "ALM_TEST_CHILD_REPO"
	envChildNow    = "ALM_TEST_CHILD_NOW"
	envChildSecret = "ALM_TEST_CHILD_SECRET"
)

// testPassword is the password the child gives an account: derived from
// its login with a secret only this test run knows, so that the test can
// bind as any account without alm ever revealing a password.
func testPassword(secret, login string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.ToLower(login)))
	return "Kx9!" + hex.EncodeToString(m.Sum(nil))[:20]
}

// TestApplyChild is the apply TestKilledApplyConverges kills: a whole alm
// apply (plan, guards, apply, receipt) of the repository it is given, at
// the instant it is given, logging each change applied on stderr.
func TestApplyChild(t *testing.T) {
	repo := os.Getenv(envChildRepo)
	if repo == "" {
		t.Skip("run by TestKilledApplyConverges in a process of its own")
	}
	env := adtest.New(t)
	now, err := time.Parse(time.RFC3339, os.Getenv(envChildNow))
	if err != nil {
		t.Fatal(err)
	}
	secret := os.Getenv(envChildSecret)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx := context.Background()
	d, err := ad.Dial(ctx, ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password,
		NewPassword: func(name string) (string, error) { return testPassword(secret, name), nil }}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src := reconcile.Source{Path: repo, Rev: "HEAD"}
	pl, err := reconcile.Plan(ctx, d, src, reconcile.Options{Now: now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	res, err := reconcile.Apply(ctx, d, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: now, Logger: log},
		Retries: 2, Backoff: 50 * time.Millisecond, DirectoryURL: env.URL})
	if err != nil || !res.Result.OK() {
		t.Fatalf("apply: %v\n%s", err, failures(res))
	}
}

// TestKilledApplyConverges: an apply creating 500 accounts is killed with
// SIGKILL at several moments - while creating, once the members are
// written (all 500 in one write), while enabling. At each, every account in the directory has a password and
// every enabled one binds with it; an apply run to the end then converges:
// every account made once, enabled, in its group, and able to bind.
func TestKilledApplyConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 500 accounts")
	}
	const people = 500
	w := newWorld(t)
	staff := w.role("staff", &model.Birthright{Department: "Engineering"}, false)
	logins := make([]string, people)
	for i := range logins {
		p := employee("k")
		logins[i] = p.Metadata.Name
		w.putPerson(p)
	}
	w.commit(strconv.Itoa(people) + " people")
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	child := func(killAfter int) (applied int, killed bool) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildRepo+"="+w.repo.Path, envChildNow+"="+at("2026-11-22").Format(time.RFC3339),
			envChildSecret+"="+hex.EncodeToString(secret))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var tail []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "msg=applied") {
				applied++
			}
			tail = append(tail[max(0, len(tail)-20):], line)
			if killAfter > 0 && applied >= killAfter && !killed {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL: nothing of alm's runs after it
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed && err != nil {
			t.Fatalf("apply run to the end: %v\n%s", err, strings.Join(tail, "\n"))
		}
		return applied, killed
	}

	// Kill at 60 changes applied (creating), then, as each run first
	// creates what is missing, adds members and enables: at 400 (still
	// creating), at 300 (the members were written, in one write of the
	// 500: a kill finds all of them or none) and at 200 (enabling).
	for i, killAfter := range []int{60, 400, 300, 200} {
		applied, killed := child(killAfter)
		if !killed {
			t.Fatalf("the apply ended (%d applied) before it could be killed at %d", applied, killAfter)
		}
		w.run(fmt.Sprintf("killed after %d changes", killAfter), func(t *testing.T) {
			accounts := w.passwordsHold(t, secret, 15)
			enabled, grouped := 0, 0
			for _, o := range accounts {
				if o.enabled() {
					enabled++
				}
				if len(o.MemberOf) > 0 {
					grouped++
				}
			}
			t.Logf("%d accounts, %d in their group, %d enabled", len(accounts), grouped, enabled)
			// The moments are where this test says they are.
			switch i {
			case 0, 1:
				if len(accounts) == 0 || len(accounts) == people || enabled > 0 {
					t.Errorf("killed while creating: %d accounts, %d enabled", len(accounts), enabled)
				}
			case 2:
				// The kill lands a moment after the 300th line: the first
				// enables may have been made by then.
				if len(accounts) != people || grouped != people || enabled == people {
					t.Errorf("killed once the members were written: %d accounts, %d in their group, %d enabled", len(accounts), grouped, enabled)
				}
			case 3:
				if enabled == 0 || enabled == people {
					t.Errorf("killed while enabling: %d enabled", enabled)
				}
			}
		})
	}
	child(0)
	again := w.plan(at("2026-11-22"))
	if !again.Plan.Matches() {
		t.Errorf("a plan after the last apply has changes or findings:\n%s", text(t, again.Plan))
	}
	accounts := w.passwordsHold(t, secret, people)
	if len(accounts) != people {
		t.Fatalf("%d accounts below %s, want %d, each made once", len(accounts), w.ou, people)
	}
	for _, login := range logins {
		o := accounts[strings.ToLower(login)]
		if o == nil {
			t.Errorf("%s is missing", login)
			continue
		}
		wantEnabled(t, o, true)
		wantGroups(t, o, staff)
	}
}

// passwordsHold checks that no account below the world's OU lacks a
// password, and that up to sample of the enabled ones bind with the one
// the child gave them. It returns the accounts by lower-case login.
func (w *world) passwordsHold(t *testing.T, secret []byte, sample int) map[string]*object {
	t.Helper()
	res, err := w.conn.SearchWithPaging(ldap.NewSearchRequest(w.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=user)(objectCategory=person))", []string{directory.AttrSAMAccountName, directory.AttrUserAccountControl, "pwdLastSet", "memberOf"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*object{}
	bound := 0
	for _, e := range res.Entries {
		login := e.GetAttributeValue(directory.AttrSAMAccountName)
		uac, _ := strconv.Atoi(e.GetAttributeValue(directory.AttrUserAccountControl))
		o := &object{DN: e.DN, UAC: uac, MemberOf: e.GetAttributeValues("memberOf")}
		out[strings.ToLower(login)] = o
		if e.GetAttributeValue("pwdLastSet") == "0" {
			t.Errorf("%s has no password (pwdLastSet 0), enabled %v", e.DN, o.enabled())
		}
		if !o.enabled() || bound >= sample {
			continue
		}
		bound++
		c, err := ldap.DialURL(w.env.URL, ldap.DialWithTLSConfig(mustTLS(t, w.env)))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Bind(e.DN, testPassword(hex.EncodeToString(secret), login)); err != nil {
			t.Errorf("enabled %s does not bind with its password: %v", e.DN, err)
		}
		c.Close()
	}
	return out
}
