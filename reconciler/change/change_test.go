package change

import (
	"reflect"
	"testing"

	"github.com/alm-project/alm/reconciler/model"
)

func repo(edit func(r *model.Repository)) *model.Repository {
	r := model.NewRepository()
	r.Roles["vpn"] = &model.Role{Metadata: model.Metadata{Name: "vpn"}, Spec: model.RoleSpec{Groups: []string{"VPN Users"}}}
	r.Roles["admins"] = &model.Role{Metadata: model.Metadata{Name: "admins"}, Spec: model.RoleSpec{Groups: []string{"Domain Admins"}, Privileged: true}}
	r.Roles["engineering"] = &model.Role{Metadata: model.Metadata{Name: "engineering"}, Spec: model.RoleSpec{Groups: []string{"Engineering"}, Birthright: &model.Birthright{Department: "Engineering"}}}
	r.People["jdoe"] = &model.Person{Metadata: model.AccountMetadata{Name: "jdoe", ID: "004217"}, Spec: model.PersonSpec{
		GivenName: "Jane", Surname: "Doe", Type: model.TypeEmployee, Department: "Sales", Manager: "asmith",
		StartDate: model.MustDate("2026-01-05"), Roles: []string{"vpn"},
	}}
	r.ServiceAccounts["svc-backup"] = &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-backup", ID: "sa-01"}, Spec: model.ServiceAccountSpec{
		Template: "service-account", Description: "Nightly backup", Owner: "jdoe", Roles: []string{"vpn"},
		Expires: model.MustDate("2027-05-31"),
	}}
	if edit != nil {
		edit(r)
	}
	return r
}

func TestBetween(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(r *model.Repository)
		path    string
		op      Op
		class   Class
		granted []string
		revoked []string
		fields  []string // fields of the reasons, in order
	}{
		{
			name: "new service account is a create and grants its roles",
			edit: func(r *model.Repository) {
				r.ServiceAccounts["svc-web"] = &model.ServiceAccount{Metadata: model.AccountMetadata{Name: "svc-web", ID: "sa-02"}, Spec: model.ServiceAccountSpec{Owner: "jdoe", Roles: []string{"admins", "vpn"}}}
			},
			path: "service-accounts/svc-web.yaml", op: Added, class: Create, granted: []string{"admins", "vpn"}, fields: []string{""},
		},
		{
			name: "role added is a grant",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.Roles = []string{"vpn", "admins"} },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Grant, granted: []string{"admins"}, fields: []string{"spec.roles"},
		},
		{
			name: "role removed is a revoke",
			edit: func(r *model.Repository) { r.People["jdoe"].Spec.Roles = nil },
			path: "people/jdoe.yaml", op: Modified, class: Revoke, revoked: []string{"vpn"}, fields: []string{"spec.roles"},
		},
		{
			name: "role swapped is a grant: the stronger class wins",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.Roles = []string{"admins"} },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Grant, granted: []string{"admins"}, revoked: []string{"vpn"}, fields: []string{"spec.roles", "spec.roles"},
		},
		{
			name: "department move into a birthright grants the birthright role",
			edit: func(r *model.Repository) { r.People["jdoe"].Spec.Department = "Engineering" },
			path: "people/jdoe.yaml", op: Modified, class: Grant, granted: []string{"engineering"}, fields: []string{"spec.roles", "spec.department"},
		},
		{
			name: "endDate set is a revoke",
			edit: func(r *model.Repository) { r.People["jdoe"].Spec.EndDate = model.MustDate("2026-06-30") },
			path: "people/jdoe.yaml", op: Modified, class: Revoke, fields: []string{"spec.endDate"},
		},
		{
			name: "expires later is a grant (renewal)",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.Expires = model.MustDate("2027-11-30") },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Grant, fields: []string{"spec.expires"},
		},
		{
			name: "expires earlier is a revoke",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.Expires = model.MustDate("2026-12-31") },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Revoke, fields: []string{"spec.expires"},
		},
		{
			name: "state retired is a revoke",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.State = model.StateRetired },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Revoke, fields: []string{"spec.state"},
		},
		{
			name: "inactive window added is a revoke",
			edit: func(r *model.Repository) {
				r.People["jdoe"].Spec.Inactive = &model.Inactive{Type: model.InactiveLongTermAway, From: model.MustDate("2026-07-01")}
			},
			path: "people/jdoe.yaml", op: Modified, class: Revoke, fields: []string{"spec.inactive"},
		},
		{
			name: "description edit is other",
			edit: func(r *model.Repository) { r.ServiceAccounts["svc-backup"].Spec.Description = "Backups" },
			path: "service-accounts/svc-backup.yaml", op: Modified, class: Other, fields: []string{"spec.description"},
		},
		{
			name: "id change is other and named",
			edit: func(r *model.Repository) { r.People["jdoe"].Metadata.ID = "999" },
			path: "people/jdoe.yaml", op: Modified, class: Other, fields: []string{"metadata.id"},
		},
		{
			name: "file deleted is a revoke of all roles",
			edit: func(r *model.Repository) { delete(r.ServiceAccounts, "svc-backup") },
			path: "service-accounts/svc-backup.yaml", op: Deleted, class: Revoke, revoked: []string{"vpn"}, fields: []string{""},
		},
		{
			name: "group added to a role is a grant",
			edit: func(r *model.Repository) { r.Roles["vpn"].Spec.Groups = []string{"VPN Users", "Remote Desktop Users"} },
			path: "roles/vpn.yaml", op: Modified, class: Grant, fields: []string{"spec.groups"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := Between(repo(nil), repo(tt.edit))
			if len(set.Files) != 1 {
				t.Fatalf("got %d changed files, want 1: %+v", len(set.Files), set.Files)
			}
			f := set.Files[0]
			if f.Path != tt.path || f.Op != tt.op || f.Class != tt.class {
				t.Errorf("got %s %s %s, want %s %s %s (reasons %+v)", f.Path, f.Op, f.Class, tt.path, tt.op, tt.class, f.Reasons)
			}
			if !reflect.DeepEqual(f.Granted, tt.granted) || !reflect.DeepEqual(f.Revoked, tt.revoked) {
				t.Errorf("granted %v revoked %v, want %v %v", f.Granted, f.Revoked, tt.granted, tt.revoked)
			}
			var fields []string
			for _, r := range f.Reasons {
				fields = append(fields, r.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("reason fields %q, want %q (%+v)", fields, tt.fields, f.Reasons)
			}
		})
	}
}

func TestBetweenRename(t *testing.T) {
	head := repo(func(r *model.Repository) {
		p := r.People["jdoe"]
		delete(r.People, "jdoe")
		p.Metadata.Name = "jsmith"
		p.Spec.PreviousNames = []string{"jdoe"}
		r.People["jsmith"] = p
	})
	set := Between(repo(nil), head)
	if len(set.Files) != 1 {
		t.Fatalf("got %d files, want one rename: %+v", len(set.Files), set.Files)
	}
	f := set.Files[0]
	if f.Op != Renamed || f.Class != Rename || f.OldPath != "people/jdoe.yaml" || f.Path != "people/jsmith.yaml" || f.OldName != "jdoe" {
		t.Errorf("got %+v", f)
	}
}

func TestBetweenUnchanged(t *testing.T) {
	if set := Between(repo(nil), repo(nil)); !set.Empty() {
		t.Errorf("identical repositories: got %+v", set.Files)
	}
}

func TestBetweenPolicyFile(t *testing.T) {
	base := repo(func(r *model.Repository) {
		r.Policies = []model.PolicyFile{{Path: "policies/a.rego", Source: "package a\n"}}
	})
	head := repo(func(r *model.Repository) {
		r.Policies = []model.PolicyFile{{Path: "policies/a.rego", Source: "package a\n\nx := 1\n"}}
	})
	set := Between(base, head)
	if len(set.Files) != 1 || set.Files[0].Kind != KindPolicy || set.Files[0].Op != Modified || set.Files[0].Class != Other {
		t.Errorf("got %+v", set.Files)
	}
}
