package preview

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/load"
)

// TestWidenedHeadOnSamba: against the real directory, a head that widens
// alm.yaml's leavers OU to the whole test OU and adds a template in an OU
// the base does not manage is previewed from one read of the base's scope:
// accounts in the test OU and in the other OU - inside the head's OUs,
// outside the base's - are not in the preview.
func TestWidenedHeadOnSamba(t *testing.T) {
	env := adtest.New(t)
	ou := env.OU(t)
	rel := strings.TrimSuffix(ou, ","+env.BaseDN)
	conn := env.Conn(t)
	addOU := func(dn string) {
		t.Helper()
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "organizationalUnit"})
		if err := conn.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	addOU("OU=People," + ou)
	addOU("OU=Groups," + ou)
	addOU("OU=Other," + ou)
	group := adtest.Unique("g")
	req := ldap.NewAddRequest("CN="+group+",OU=Groups,"+ou, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute("sAMAccountName", []string{group})
	if err := conn.Add(req); err != nil {
		t.Fatal(err)
	}
	var outsiders []string
	for _, parent := range []string{ou, "OU=Other," + ou} {
		name := adtest.Unique("out")
		req := ldap.NewAddRequest("CN="+name+","+parent, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
		req.Attribute("sAMAccountName", []string{name})
		if err := conn.Add(req); err != nil {
			t.Fatal(err)
		}
		outsiders = append(outsiders, name)
	}

	alice, bob := adtest.Unique("a"), adtest.Unique("b")
	repo := historytest.New(t)
	author := historytest.Person{Name: "Test Author", Email: "author@example.test"}
	repo.Write("alm.yaml", `apiVersion: alm/v1
kind: Directory
metadata: {name: test}
spec:
  domain: `+env.Domain+`
  baseDN: `+env.BaseDN+`
  groupsOU: OU=Groups,`+rel+`
  leaversOU: OU=Leavers,`+rel+`
`)
	repo.Write("templates/employee.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: employee}\nspec:\n  appliesTo: Person\n  personTypes: [employee]\n  ou: OU=People,"+rel+"\n")
	repo.Write("roles/staff.yaml", "apiVersion: alm/v1\nkind: Role\nmetadata: {name: staff}\nspec:\n  groups: ["+group+"]\n")
	repo.Write("people/"+alice+".yaml", strings.ReplaceAll(person("LOGIN", "id-"+alice, "Engineer"), "LOGIN", alice))
	baseRev := repo.Commit("Import", author)

	data := strings.Replace(readFile(t, repo, "alm.yaml"), "leaversOU: OU=Leavers,"+rel, "leaversOU: "+rel, 1)
	repo.Write("alm.yaml", data)
	repo.Write("templates/contractor.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: contractor}\nspec:\n  appliesTo: Person\n  personTypes: [contractor]\n  ou: OU=Other,"+rel+"\n")
	repo.Write("people/"+bob+".yaml", strings.Replace(strings.ReplaceAll(person("LOGIN", "id-"+bob, "Admin"), "LOGIN", bob),
		"type: employee", "type: contractor\n  endDate: 2027-01-05", 1))
	headRev := repo.Commit("Widen the leavers OU, add contractors elsewhere", author)

	base, problems, err := load.Commit(context.Background(), repo.R, baseRev)
	if err != nil || len(problems) > 0 {
		t.Fatalf("load base: %v %v", err, problems)
	}
	head, problems, err := load.Commit(context.Background(), repo.R, headRev)
	if err != nil || len(problems) > 0 {
		t.Fatalf("load head: %v %v", err, problems)
	}
	d, err := ad.Dial(context.Background(), ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rec := &recorder{dir: d}
	p, err := Compute(context.Background(), rec, base, head, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}

	want, err := desired.Compute(base, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.scopes) != 1 || !reflect.DeepEqual(rec.scopes[0], want.Scope()) {
		t.Errorf("read %+v, want once the base's scope %+v", rec.scopes, want.Scope())
	}
	if len(p.Settings) != 1 || p.Settings[0].Field != "spec.leaversOU" {
		t.Errorf("settings changing: %+v, want spec.leaversOU", p.Settings)
	}
	if !slices.Equal(p.Unread, []string{"OU=Other," + ou}) {
		t.Errorf("unread: %v, want the contractors' OU", p.Unread)
	}
	var created []string
	for _, c := range p.Changes.New {
		created = append(created, c.Account)
	}
	if !slices.Contains(created, bob) || slices.Contains(created, alice) || p.Changes.Len() == 0 {
		t.Errorf("new changes for %v: want %s's (the pull request's), not %s's (pending before it)", created, bob, alice)
	}
	shown := *p
	shown.Settings = nil
	out, err := json.Marshal(shown)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range outsiders {
		if strings.Contains(string(out), name) {
			t.Errorf("the preview shows %s, outside the base's OUs:\n%s", name, out)
		}
	}
}

func readFile(t *testing.T, r *historytest.Repo, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.Path, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
