package reconcile_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// TestPasswordsDeliveredAndRotated: a new service account's password goes
// to its owner once, sealed to the owner's key; 30 days later (the
// template's rotateEvery) a run rotates it and delivers the new one; the
// passwords open with the owner's identity and are the directory's.
func TestPasswordsDeliveredAndRotated(t *testing.T) {
	owner, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	repo := historytest.New(t)
	repo.Write("alm.yaml", "apiVersion: alm/v1\nkind: Directory\nmetadata: {name: t}\nspec:\n  domain: example.test\n  baseDN: DC=example,DC=test\n")
	repo.Write("templates/employee.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: employee}\nspec:\n  appliesTo: Person\n  ou: OU=People\n  credentials: {to: self}\n")
	repo.Write("people/nokey.yaml", "apiVersion: alm/v1\nkind: Person\nmetadata: {name: nokey, id: \"004218\"}\nspec:\n  givenName: Noah\n  surname: Key\n  email: noah.key@example.test\n  type: employee\n  startDate: 2026-01-05\n")
	repo.Write("templates/service-account.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: service-account}\nspec:\n  appliesTo: ServiceAccount\n  ou: OU=Services\n  lifetime: {default: 180d, max: 365d}\n  credentials: {to: owner, rotateEvery: 30d}\n")
	repo.Write("people/jdoe.yaml", "apiVersion: alm/v1\nkind: Person\nmetadata: {name: jdoe, id: \"004217\"}\nspec:\n  givenName: Jane\n  surname: Doe\n  email: jane.doe@example.test\n  type: employee\n  startDate: 2026-01-05\n  publicKey: "+owner.Recipient().String()+"\n")
	repo.Write("service-accounts/svc-backup.yaml", "apiVersion: alm/v1\nkind: ServiceAccount\nmetadata: {name: svc-backup, id: sa-01}\nspec:\n  template: service-account\n  description: Nightly backup\n  owner: jdoe\n  created: 2026-11-20\n  expires: 2027-05-01\n")
	repo.Commit("Import", importer)

	dir := memory.New("DC=example,DC=test")
	mail := &inbox{name: "email"}
	ctx := context.Background()
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	run := func(at time.Time) {
		t.Helper()
		pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: at})
		if err != nil || pl.Refused != nil {
			t.Fatalf("plan at %s: %v %v", at, err, pl.Refused)
		}
		res, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: at}, Channels: []notify.Channel{mail}})
		if err != nil || res.Undelivered() > 0 {
			t.Fatalf("apply at %s: %v %+v", at, err, res.Notices)
		}
	}
	passwords := func() []string {
		var out []string
		for _, m := range mail.got {
			if m.Kind != notify.KindCredentials || m.Account != "svc-backup" {
				continue
			}
			if len(m.Attachments) != 1 || m.To[0].Login != "jdoe" {
				t.Fatalf("credentials message %+v", m)
			}
			r, err := age.Decrypt(armor.NewReader(bytes.NewReader(m.Attachments[0].Content)), owner)
			if err != nil {
				t.Fatal(err)
			}
			pw, _ := io.ReadAll(r)
			if strings.Contains(m.Text, string(pw)) {
				t.Fatal("the message's text holds the password")
			}
			out = append(out, string(pw))
		}
		return out
	}
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	run(start)
	// A person whose file has no key gets no password, and is told how to reset instead.
	told := false
	for _, m := range mail.got {
		if m.Account == "nokey" {
			told = m.Kind == notify.KindCredentials && len(m.Attachments) == 0 && strings.HasPrefix(m.Subject, "No password sent") && m.To[0].Login == "nokey"
		}
	}
	if !told {
		t.Errorf("nokey was not told how to reset: %+v", mail.got)
	}
	run(start.Add(10 * 24 * time.Hour))
	if pw := passwords(); len(pw) != 1 || !dir.CheckPassword("svc-backup", pw[0]) {
		t.Fatalf("after the first runs %d passwords delivered (want the first one, the directory's)", len(pw))
	}
	run(start.Add(31 * 24 * time.Hour)) // rotateEvery has passed since the password was set
	run(start.Add(32 * 24 * time.Hour))
	pw := passwords()
	if len(pw) != 2 || pw[0] == pw[1] || !dir.CheckPassword("svc-backup", pw[1]) || dir.CheckPassword("svc-backup", pw[0]) {
		t.Fatalf("after rotateEvery: %d passwords delivered, want the first and one new password, the directory's", len(pw))
	}
}
