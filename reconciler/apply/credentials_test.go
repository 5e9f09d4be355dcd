package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// TestFirstCredentials: the accounts an apply creates get passwords that
// leave the directory only sealed to whom their template says; the
// recipient's key opens what the directory takes; neither the password
// nor its ciphertext is in the result's JSON or the logs.
func TestFirstCredentials(t *testing.T) {
	w := newWorld(t, "")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	w.repo.Templates["service-account"].Spec.Credentials = &model.Credentials{To: model.ToOwner}
	w.repo.Templates["employee"].Spec.Credentials = &model.Credentials{To: model.ToSelf}
	// contractors: no credentials in their template
	for _, p := range w.repo.People {
		p.Spec.PublicKey = id.Recipient().String()
	}
	keyless := w.repo.ServiceAccounts["svc-backup"].Spec.Owner
	w.repo.People[keyless].Spec.PublicKey = ""

	d, p := w.plan("2026-11-23")
	if err := plan.Guard(p, plan.NewGuardOptions(d)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res := apply.Run(context.Background(), w.dir, p, apply.Options{Logger: log, Credentials: credentials.Policies(w.repo)})
	if !res.OK() {
		t.Fatalf("apply: %s", failures(res))
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var passwords []string
	creates := 0
	for _, cr := range res.Changes {
		c := cr.Change
		if c.Action != plan.Create {
			continue
		}
		creates++
		s, ok := res.Sealed[c.ID]
		if !ok {
			t.Errorf("%s: no credential in the result", c.Account)
			continue
		}
		person := w.repo.People[c.Account]
		// svc-backup's owner, and so that person's own account, has no key;
		// contractors' template sends nothing.
		wantSealed := c.Account != "svc-backup" && c.Account != keyless &&
			(person == nil || w.repo.TemplateOf(person).Metadata.Name == "employee")
		if got := len(s.Armored) > 0; got != wantSealed {
			t.Errorf("%s: sealed %v, want %v (why: %s)", c.Account, got, wantSealed, s.Why)
			continue
		}
		if !wantSealed {
			if s.Why == "" || !strings.HasPrefix(cr.Credentials, "not sealed: ") {
				t.Errorf("%s: nothing sealed, and nothing says why: %q", c.Account, cr.Credentials)
			}
			continue
		}
		r, err := age.Decrypt(armor.NewReader(bytes.NewReader(s.Armored)), id)
		if err != nil {
			t.Fatalf("%s: %v", c.Account, err)
		}
		pw, _ := io.ReadAll(r)
		if !w.dir.CheckPassword(c.Account, string(pw)) {
			t.Errorf("%s: the directory does not take the decrypted password", c.Account)
		}
		if got, want := w.dir.MustChangePassword(c.Account), person != nil; got != want {
			t.Errorf("%s: must change at first logon %v, want %v", c.Account, got, want)
		}
		if !strings.HasPrefix(cr.Credentials, "sealed to ") {
			t.Errorf("%s: result says %q", c.Account, cr.Credentials)
		}
		passwords = append(passwords, string(pw))
		if bytes.Contains(out, s.Armored[40:80]) {
			t.Errorf("%s: the ciphertext is in the result's JSON", c.Account)
		}
	}
	if creates == 0 || len(passwords) == 0 {
		t.Fatalf("%d creates, %d sealed: the test proves nothing", creates, len(passwords))
	}
	for _, pw := range passwords {
		if bytes.Contains(out, []byte(pw)) || bytes.Contains(logs.Bytes(), []byte(pw)) {
			t.Errorf("a password is in clear in the result or the logs")
		}
	}
	w.last = d
	w.noChanges("2026-11-23")
	// A second apply creates nothing, so it seals nothing.
	if res := w.apply("2026-11-23", nil); len(res.Sealed) != 0 {
		t.Errorf("a second apply sealed %d passwords", len(res.Sealed))
	}
}
