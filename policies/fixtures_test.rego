# Fixtures shared by the built-in rules' tests: a small repository (as
# data.alm.repository and, unless a test says otherwise, data.alm.base) and
# changed files (as input.change.files), shaped as README.md documents.
package alm.builtin.fixtures_test

now := "2026-05-01T00:00:00Z"

person(name, status, manager, roles) := {
	"metadata": {"name": name, "id": concat("", ["id-", name])},
	"spec": {"givenName": name, "surname": "Test", "type": "employee", "manager": manager, "roles": roles, "github": name, "startDate": "2025-01-01", "endDate": null},
	"file": sprintf("people/%s.yaml", [name]),
	"status": status,
	"template": "employee",
	"roles": roles,
}

repo := {
	"revision": "head",
	"directory": null,
	"templates": {
		"service-account": {
			"metadata": {"name": "service-account"},
			"file": "templates/service-account.yaml",
			"spec": {
				"appliesTo": "ServiceAccount",
				"naming": "^svc-[a-z0-9-]{2,16}$",
				"lifetime": {"default": "180d", "max": "365d"},
				"approvals": {
					"grant": [{"role": "security-approvers", "count": 1}, {"relation": "owner-manager"}],
					"revoke": [{"relation": "owner-or-manager"}],
				},
				"ownerMayApprove": false,
			},
		},
		"lenient": {
			"metadata": {"name": "lenient"},
			"file": "templates/lenient.yaml",
			"spec": {"appliesTo": "ServiceAccount", "approvals": {"revoke": [{"relation": "owner-or-manager"}]}, "ownerMayApprove": true},
		},
		"employee": {
			"metadata": {"name": "employee"},
			"file": "templates/employee.yaml",
			"spec": {"appliesTo": "Person", "naming": "^[a-z]+$", "approvals": {"grant": [{"relation": "manager"}], "revoke": [{"relation": "manager"}]}, "ownerMayApprove": false},
		},
	},
	"roles": {
		"vpn": {"metadata": {"name": "vpn"}, "file": "roles/vpn.yaml", "spec": {"groups": ["VPN Users"], "privileged": false}, "holders": ["jdoe"]},
		"security-approvers": {"metadata": {"name": "security-approvers"}, "file": "roles/security-approvers.yaml", "spec": {"groups": ["Security Approvers"], "privileged": false}, "holders": ["sec1", "sec2"]},
		"admins": {"metadata": {"name": "admins"}, "file": "roles/admins.yaml", "spec": {"groups": ["Domain Admins"], "privileged": true, "approvers": [{"role": "security-approvers", "count": 2}]}, "holders": []},
		"bare-admin": {"metadata": {"name": "bare-admin"}, "file": "roles/bare-admin.yaml", "spec": {"groups": ["Server Operators"], "privileged": true}, "holders": []},
	},
	"people": {
		"jdoe": person("jdoe", "active", "asmith", ["vpn"]),
		"asmith": person("asmith", "active", "cboss", []),
		"cboss": person("cboss", "active", "", []),
		"sec1": person("sec1", "active", "cboss", ["security-approvers"]),
		"sec2": person("sec2", "active", "cboss", ["security-approvers"]),
		"gone": person("gone", "leaver", "cboss", []),
		"away": person("away", "inactive", "cboss", []),
		"later": person("later", "pending", "cboss", []),
		"kfox": person("kfox", "active", "gone", []),
	},
	"serviceAccounts": {
		"svc-backup": {
			"metadata": {"name": "svc-backup", "id": "sa-01"},
			"file": "service-accounts/svc-backup.yaml",
			"spec": {"template": "service-account", "owner": "jdoe", "roles": ["vpn"], "expires": "2027-01-31", "description": "Nightly backup of the file servers"},
			"status": "active",
			"template": "service-account",
		},
		"svc-old": {
			"metadata": {"name": "svc-old", "id": "sa-09"},
			"file": "service-accounts/svc-old.yaml",
			"spec": {"template": "service-account", "owner": "gone", "roles": [], "expires": "2026-12-31", "description": "Legacy"},
			"status": "active",
			"template": "service-account",
		},
	},
	"logins": {"jdoe": "jdoe", "asmith": "asmith", "sec1": "sec1", "sec2": "sec2"},
	"emails": {},
}

sa_relations(owner, manager) := {
	"owner": [owner],
	"manager": [manager],
	"owner-manager": [manager],
	"owner-or-manager": [owner, manager],
	"custodian": [],
}

# sa_spec is a valid service account's spec; edit it with object.union.
sa_spec := {"template": "service-account", "owner": "jdoe", "roles": ["vpn"], "created": "2026-05-01", "expires": "2026-12-31", "description": "Serves the intranet web site"}

sa(name, spec) := {"metadata": {"name": name, "id": concat("", ["sa-", name])}, "spec": spec}

# sa_create is a new service account svc-web owned by jdoe (manager asmith).
sa_create := sa_create_with({})

sa_create_with(edit) := {
	"path": "service-accounts/svc-web.yaml",
	"op": "add",
	"kind": "ServiceAccount",
	"name": "svc-web",
	"id": "sa-svc-web",
	"class": "create",
	"reasons": [{"class": "create", "text": "new service account svc-web"}],
	"grantedRoles": object.get(edit, "roles", ["vpn"]),
	"revokedRoles": [],
	"before": null,
	"after": sa("svc-web", object.union(sa_spec, edit)),
	"template": object.get(edit, "template", "service-account"),
	"templateBefore": "",
	"templateAfter": object.get(edit, "template", "service-account"),
	"statusBefore": "",
	"statusAfter": "active",
	"relations": sa_relations("jdoe", "asmith"),
	"owners": ["jdoe"],
}

# sa_change is a modification of svc-backup of a class, with roles granted.
sa_change(class, granted) := {
	"path": "service-accounts/svc-backup.yaml",
	"op": "modify",
	"kind": "ServiceAccount",
	"name": "svc-backup",
	"id": "sa-01",
	"class": class,
	"reasons": [{"class": class, "field": "spec.roles", "text": "roles changed"}],
	"grantedRoles": granted,
	"revokedRoles": [],
	"before": repo.serviceAccounts["svc-backup"],
	"after": object.union(repo.serviceAccounts["svc-backup"], {"spec": {"roles": array.concat(["vpn"], granted)}}),
	"template": "service-account",
	"templateBefore": "service-account",
	"templateAfter": "service-account",
	"statusBefore": "active",
	"statusAfter": "active",
	"relations": sa_relations("jdoe", "asmith"),
	"owners": ["jdoe"],
}

# person_change is a modification of jdoe's file.
person_change(class, op, before, after, status_before, status_after) := {
	"path": "people/jdoe.yaml",
	"op": op,
	"kind": "Person",
	"name": "jdoe",
	"id": "id-jdoe",
	"class": class,
	"reasons": [{"class": class, "text": "changed"}],
	"grantedRoles": [],
	"revokedRoles": [],
	"before": before,
	"after": after,
	"template": "employee",
	"templateBefore": where(before, "employee"),
	"templateAfter": where(after, "employee"),
	"statusBefore": status_before,
	"statusAfter": status_after,
	"relations": {"owner": ["jdoe"], "manager": ["asmith"], "owner-manager": ["asmith"], "owner-or-manager": ["jdoe", "asmith"], "custodian": []},
	"owners": ["jdoe"],
}

# where is t when the object exists, else "" (no template governs a missing file).
where(obj, t) := t if obj != null

where(null, _) := ""

# with_template puts a file under another template, before and after.
with_template(f, t) := object.union(f, {"template": t, "templateBefore": where(f.before, t), "templateAfter": where(f.after, t)})

pr(author, approvers) := {
	"number": 7,
	"source": "github",
	"author": author,
	"authors": [author],
	"approvers": approvers,
	"unknownApprovers": [],
	"labels": [],
}

input_of(files, pull) := {
	"now": now,
	"timeZone": "UTC",
	"today": "2026-05-01",
	"change": {"base": "base", "head": "head", "files": files},
	"pullRequest": pull,
}

# rules returns the rule ids of a set of violations.
rules(vs) := {v.rule | some v in vs}

# with_rule returns the violations of one rule.
with_rule(vs, rule) := {v | some v in vs; v.rule == rule}
