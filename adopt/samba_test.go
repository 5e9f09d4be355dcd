package adopt_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/adopt"
	"github.com/alm-project/alm/adopt/adopttest"
	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/load"
)

// TestImportOnSamba imports 200 hand-made accounts from the real directory:
// the files validate, odd CNs are pinned, and a second run writes nothing.
func TestImportOnSamba(t *testing.T) {
	env := adtest.New(t)
	ou := env.OU(t)
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	dom, err := adopttest.Build(env.Conn(t), env.BaseDN, ou, adopttest.Options{People: 180, Services: 20, Now: at, Domain: env.Domain})
	if err != nil {
		t.Fatal(err)
	}
	repo := writeRepo(t, nil)
	for p, content := range dom.Repo(env.Domain) {
		write(t, repo, p, content)
	}
	dir, err := ad.Dial(t.Context(), ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	o := adopt.Options{Repo: repo, OUs: []string{dom.People, dom.Services}, Now: at}
	r, err := adopt.Run(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	r.Text(&text)
	if len(r.Problems) > 0 {
		t.Fatalf("the files have problems:\n%s", text.String())
	}
	accounts := 0
	for _, f := range r.Files {
		if f.Kind != "Role" {
			accounts++
		}
	}
	if created, _, _ := r.Count(); accounts != 200 || created != len(r.Files) {
		t.Fatalf("%d account files, %d new of %d; want 200 accounts, all new:\n%s", accounts, created, len(r.Files), text.String())
	}
	if r.Pins.CN != 180 || r.Pins.CNFormat != "{surname}, {givenName}" {
		t.Errorf("pins %+v: want every person's cn pinned, most as {surname}, {givenName}", r.Pins)
	}
	person := read(t, repo, "people/"+dom.PersonLogins[25]+".yaml")
	for _, want := range []string{"  cn: Rossi, Bruno\n", "  manager: " + dom.PersonLogins[25%18] + "\n", "  adopt: true\n"} {
		if !strings.Contains(person, want) {
			t.Errorf("missing %q in:\n%s", want, person)
		}
	}
	rdp := read(t, repo, "roles/remote-desktop-users.yaml")
	if !strings.Contains(rdp, "'CN=Remote Desktop Users,CN=Builtin,"+env.BaseDN+"'") {
		t.Errorf("the BUILTIN group is not named by its DN:\n%s", rdp)
	}
	if _, problems, err := load.Dir(repo); err != nil || len(problems) > 0 {
		t.Fatalf("alm validate: %v %v", err, problems)
	}

	again, err := adopt.Run(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if created, changed, _ := again.Count(); created != 0 || changed != 0 {
		var b strings.Builder
		again.Text(&b)
		t.Errorf("a second run: %d new, %d changed:\n%s", created, changed, b.String())
	}
}
