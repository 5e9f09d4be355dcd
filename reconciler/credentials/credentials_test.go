package credentials_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// keys are an age identity and an SSH ed25519 key, with their public halves.
type keys struct {
	age    *age.X25519Identity
	ssh    age.Identity
	sshPub string
}

func newKeys(t *testing.T) keys {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	spk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return keys{age: id, ssh: sid, sshPub: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(spk))) + " owner@laptop"}
}

// open decrypts an armored age file as its recipient would.
func (k keys) open(t *testing.T, armored []byte) string {
	t.Helper()
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(armored)), k.age, k.ssh)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSealer(t *testing.T) {
	k := newKeys(t)
	for _, tc := range []struct{ name, key, kind string }{
		{"age recipient", k.age.Recipient().String(), credentials.KeyAge},
		{"ssh ed25519 key", k.sshPub, credentials.KeySSH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := credentials.NewSealer(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind() != tc.kind {
				t.Errorf("kind %q, want %q", s.Kind(), tc.kind)
			}
			for _, pw := range []string{"first-Pa55!", "second-Pa55!"} {
				if err := s.Seal([]byte(pw)); err != nil {
					t.Fatal(err)
				}
			}
			got := s.Armored()
			if !bytes.HasPrefix(got, []byte(armor.Header)) || bytes.Contains(got, []byte("Pa55")) {
				t.Errorf("not an armored age file, or the password shows:\n%s", got)
			}
			if pw := k.open(t, got); pw != "second-Pa55!" {
				t.Errorf("decrypted %q, want the last password sealed", pw)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	k := newKeys(t)
	for _, tc := range []struct {
		name, key string
		ok        bool
	}{
		{"age", k.age.Recipient().String(), true},
		{"ssh", k.sshPub, true},
		{"empty", "", false},
		{"age secret key", k.age.String(), false},
		{"broken age", "age1qqqq", false},
		{"two lines", k.age.Recipient().String() + "\n" + k.sshPub, false},
		{"ecdsa", "ecdsa-sha2-nistp256 AAAA", false},
		{"broken ssh", "ssh-ed25519 AAAAnotbase64", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := credentials.ParseKey(tc.key)
			if (err == nil) != tc.ok {
				t.Errorf("ParseKey: err %v, want ok %v", err, tc.ok)
			}
			if err != nil && tc.key != "" && strings.Contains(err.Error(), "AGE-SECRET-KEY") {
				t.Errorf("the error repeats a secret key: %v", err)
			}
		})
	}
}

// acme is examples/acme with credentials in its templates: service
// accounts to their owner, employees to themselves, contractors to their
// manager; keys as each case sets them.
func acme(t *testing.T) *model.Repository {
	t.Helper()
	repo, problems, err := load.Dir("../../examples/acme")
	if err != nil || len(problems) > 0 {
		t.Fatalf("examples/acme: %v %v", err, problems)
	}
	repo.Templates["service-account"].Spec.Credentials = &model.Credentials{To: model.ToOwner, RotateEvery: model.MustDuration("90d")}
	repo.Templates["employee"].Spec.Credentials = &model.Credentials{To: model.ToSelf}
	repo.Templates["contractor"].Spec.Credentials = &model.Credentials{To: model.ToManager}
	return repo
}

func TestPolicies(t *testing.T) {
	k := newKeys(t)
	repo := acme(t)
	for _, p := range repo.People {
		p.Spec.PublicKey = k.age.Recipient().String()
	}
	svc := repo.ServiceAccounts["svc-backup"]
	owner := repo.People[svc.Spec.Owner]
	var contractor *model.Person
	for _, name := range repo.PersonNames() {
		if p := repo.People[name]; repo.TemplateOf(p).Metadata.Name == "contractor" {
			contractor = p
			break
		}
	}
	if contractor == nil {
		t.Fatal("acme has no contractor")
	}
	employee := repo.People["jdoe"]
	for _, tc := range []struct {
		name       string
		edit       func()
		id         string
		to, role   string
		why        string // a part of Why when nothing is sealed
		mustChange bool
	}{
		{name: "service account to its owner", id: svc.Metadata.ID, to: owner.Metadata.Name, role: model.ToOwner},
		{name: "owner without a key", edit: func() { owner.Spec.PublicKey = "" }, id: svc.Metadata.ID, why: "has no spec.publicKey"},
		{name: "owner with a broken key", edit: func() { owner.Spec.PublicKey = "age1broken" }, id: svc.Metadata.ID, why: "spec.publicKey of " + owner.Metadata.Name},
		{name: "template without credentials", edit: func() { repo.Templates["service-account"].Spec.Credentials = nil }, id: svc.Metadata.ID, why: "has no credentials"},
		{name: "employee to self", id: employee.Metadata.ID, to: "jdoe", role: model.ToSelf, mustChange: true},
		{name: "contractor to manager", id: contractor.Metadata.ID, to: contractor.Spec.Manager, role: model.ToManager, mustChange: true},
		{name: "person to owner", edit: func() { repo.Templates["employee"].Spec.Credentials.To = model.ToOwner }, id: employee.Metadata.ID, why: "a person has none"},
		{name: "contractor without manager", edit: func() { contractor.Spec.Manager = "" }, id: contractor.Metadata.ID, why: "has none in the files", mustChange: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo = acme(t)
			for _, p := range repo.People {
				p.Spec.PublicKey = k.age.Recipient().String()
			}
			svc, employee = repo.ServiceAccounts["svc-backup"], repo.People["jdoe"]
			owner, contractor = repo.People[svc.Spec.Owner], repo.People[contractor.Metadata.Name]
			if tc.edit != nil {
				tc.edit()
			}
			got := credentials.Policies(repo)[tc.id]
			if got.MustChange != tc.mustChange {
				t.Errorf("MustChange %v, want %v", got.MustChange, tc.mustChange)
			}
			if tc.why != "" {
				if got.Sealed() || !strings.Contains(got.Why, tc.why) {
					t.Errorf("sealed %v, why %q; want nothing sealed because %q", got.Sealed(), got.Why, tc.why)
				}
				return
			}
			if !got.Sealed() || got.To.Login != tc.to || got.To.Role != tc.role || got.Why != "" {
				t.Errorf("got %+v, want sealed to %s as %s", got, tc.to, tc.role)
			}
			if !strings.HasPrefix(got.KeyAt, "people/"+tc.to+".yaml") {
				t.Errorf("KeyAt %q, want the recipient's file", got.KeyAt)
			}
		})
	}
}

func TestDue(t *testing.T) {
	repo := acme(t)
	// acme's service accounts that are enabled today, by the lifecycle.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	all := credentials.Due(repo, now, nil)
	if len(all) == 0 {
		t.Fatal("no service account due with no ledger")
	}
	svc := repo.ServiceAccounts[all[0].Account]
	for _, tc := range []struct {
		name string
		last map[string]time.Time
		edit func()
		due  bool
	}{
		{name: "never rotated, created long ago", due: true},
		{name: "rotated yesterday", last: map[string]time.Time{svc.Metadata.ID: now.Add(-24 * time.Hour)}},
		{name: "rotated exactly 90 days ago", last: map[string]time.Time{svc.Metadata.ID: now.Add(-90 * 24 * time.Hour)}, due: true},
		{name: "created yesterday", edit: func() { svc.Spec.Created = model.Date{Time: now.AddDate(0, 0, -1)} }},
		{name: "no rotateEvery", edit: func() { repo.Templates["service-account"].Spec.Credentials.RotateEvery = model.Duration{} }},
		{name: "disabled", edit: func() { svc.Spec.State = model.StateDisabled }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo = acme(t)
			svc = repo.ServiceAccounts[svc.Metadata.Name]
			if tc.edit != nil {
				tc.edit()
			}
			var got *credentials.Rotation
			for _, r := range credentials.Due(repo, now, tc.last) {
				if r.AccountID == svc.Metadata.ID {
					got = &r
				}
			}
			if (got != nil) != tc.due {
				t.Fatalf("due %v, want %v", got != nil, tc.due)
			}
			if got != nil && got.DueAt.After(now) {
				t.Errorf("DueAt %s after now", got.DueAt)
			}
		})
	}
}

// channel records what it was sent, or fails.
type channel struct {
	name string
	fail error
	sent []notify.Message
}

func (c *channel) Name() string { return c.name }
func (c *channel) Send(_ context.Context, m notify.Message) error {
	if c.fail != nil {
		return c.fail
	}
	c.sent = append(c.sent, m)
	return nil
}

// TestRotate rotates on the memory directory: the owner's key opens a
// password the directory takes; every refusal writes nothing.
func TestRotate(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	setup := func(t *testing.T) (*model.Repository, *memory.Directory) {
		repo := acme(t)
		for _, p := range repo.People {
			p.Spec.PublicKey = k.age.Recipient().String()
		}
		repo.People["dkim"].Spec.PublicKey = k.sshPub
		d, err := desired.Compute(repo, now)
		if err != nil {
			t.Fatal(err)
		}
		dir := memory.New("DC=example,DC=test")
		dir.SetMarkerAttribute(d.MarkerAttribute)
		for _, ou := range d.OUs {
			if err := dir.AddOU(ou); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range d.Accounts {
			if a.Kind == model.KindServiceAccount && a.Exists {
				if err := dir.AddUser(directory.NewAccount{DN: a.DN, Name: a.Name, Marker: directory.Marker(a.ID)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		return repo, dir
	}
	t.Run("sealed to the owner, delivered", func(t *testing.T) {
		repo, dir := setup(t)
		for _, name := range []string{"svc-backup", repo.ServiceAccountNames()[0]} {
			sa := repo.ServiceAccounts[name]
			s, err := credentials.Rotate(ctx, dir, repo, name, now)
			if err != nil {
				t.Fatal(err)
			}
			if s.To.Login != sa.Spec.Owner || !s.Rotated {
				t.Errorf("sealed to %s, rotated %v; want the owner %s", s.To.Login, s.Rotated, sa.Spec.Owner)
			}
			pw := k.open(t, s.Armored)
			if !dir.CheckPassword(name, pw) {
				t.Errorf("%s: the directory does not take the decrypted password", name)
			}
			m, err := credentials.Message(s)
			if err != nil {
				t.Fatal(err)
			}
			ok, bad := &channel{name: "file"}, &channel{name: "email", fail: errors.New("smtp down")}
			sent, err := credentials.Deliver(ctx, m, []notify.Channel{bad, ok})
			if len(sent) != 1 || sent[0] != "file" || err == nil || !strings.Contains(err.Error(), "channel email: smtp down") {
				t.Errorf("Deliver: sent %v, err %v", sent, err)
			}
			got := ok.sent[0]
			if got.Kind != notify.KindCredentials || got.Subject != "New password for "+name ||
				len(got.Attachments) != 1 || got.Attachments[0].Name != name+".password.age" || got.To[0].Login != sa.Spec.Owner {
				t.Errorf("message %+v", got)
			}
			how := "age -d -i key.txt " + name + ".password.age"
			if s.To.Login == "dkim" {
				how = "age -d -i ~/.ssh/id_ed25519 " + name + ".password.age"
			}
			if !strings.Contains(got.Text, how) {
				t.Errorf("the text does not say %q:\n%s", how, got.Text)
			}
			if strings.Contains(got.Text, pw) || strings.Contains(got.Subject, pw) {
				t.Error("the message shows the password")
			}
		}
	})
	for _, tc := range []struct {
		name, account string
		edit          func(*model.Repository, *memory.Directory)
		want          string
	}{
		{name: "a person", account: "jdoe", want: "is a person"},
		{name: "not managed", account: "svc-unknown", want: "not an account alm manages"},
		{name: "owner without key", account: "svc-backup", edit: func(r *model.Repository, _ *memory.Directory) {
			r.People[r.ServiceAccounts["svc-backup"].Spec.Owner].Spec.PublicKey = ""
		}, want: "has no spec.publicKey"},
		{name: "protected", account: "svc-backup", edit: func(r *model.Repository, _ *memory.Directory) {
			r.Directory.Spec.Protected = append(r.Directory.Spec.Protected, "svc-backup")
		}, want: "protected list"},
		{name: "not in the directory", account: "svc-backup", edit: func(r *model.Repository, _ *memory.Directory) {
			r.ServiceAccounts["svc-backup"].Metadata.ID = "sa-notthere00"
		}, want: "holds no account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, dir := setup(t)
			if tc.edit != nil {
				tc.edit(repo, dir)
			}
			before, _ := dir.Read(ctx, directory.Scope{BaseDN: "DC=example,DC=test", OUs: []string{"DC=example,DC=test"}})
			_, err := credentials.Rotate(ctx, dir, repo, tc.account, now)
			if !errors.Is(err, credentials.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a refusal saying %q", err, tc.want)
			}
			after, _ := dir.Read(ctx, directory.Scope{BaseDN: "DC=example,DC=test", OUs: []string{"DC=example,DC=test"}})
			if before.State != after.State {
				t.Error("a refused rotation wrote to the directory")
			}
		})
	}
}
