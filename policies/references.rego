# References: the people, templates and roles a changed file names exist, and
# the people are live. Leavers and archived people can own, keep or manage
# nothing; people on leave or not yet started get a warning.
package alm.builtin.references

import data.alm.builtin.lib

# refs lists the people a changed file names: [field, login].
refs(f) := [[sprintf("spec.custodians[%d]", [i]), c] | some i, c in object.get(f.after.spec, "custodians", [])] if {
	f.kind == "ServiceAccount"
}

refs(f) := [] if f.kind != "ServiceAccount"

people_refs(f) := array.concat(single_refs(f), refs(f))

single_refs(f) := [["spec.owner", f.after.spec.owner]] if {
	f.kind == "ServiceAccount"
	f.after.spec.owner
} else := [["spec.manager", f.after.spec.manager]] if {
	f.kind == "Person"
	f.after.spec.manager
} else := []

role_word := {"spec.owner": "owner", "spec.manager": "manager"}

word(field) := role_word[field]

word(field) := "custodian" if startswith(field, "spec.custodians")

deny contains v if {
	some f in lib.present
	some [field, login] in people_refs(f)
	not lib.repo.people[login]
	v := {
		"rule": "references",
		"file": f.path,
		"field": field,
		"msg": sprintf("%s %s does not exist: name a login from people/", [word(field), login]),
	}
}

deny contains v if {
	some f in lib.present
	some [field, login] in people_refs(f)
	status := lib.repo.people[login].status
	status in lib.gone
	v := {
		"rule": "references",
		"file": f.path,
		"field": field,
		"msg": sprintf("%s %s is a %s: name an active person instead", [word(field), login, status]),
	}
}

warn contains v if {
	some f in lib.present
	some [field, login] in people_refs(f)
	status := lib.repo.people[login].status
	status in {"pending", "inactive"}
	v := {
		"rule": "references",
		"file": f.path,
		"field": field,
		"msg": sprintf("%s %s is %s, not active: check that someone can act for this account now", [word(field), login, status]),
	}
}

deny contains v if {
	some f in lib.present
	f.kind in lib.accounts
	some i, r in object.get(f.after.spec, "roles", [])
	not lib.repo.roles[r]
	v := {
		"rule": "references",
		"file": f.path,
		"field": sprintf("spec.roles[%d]", [i]),
		"msg": sprintf("role %s does not exist: add roles/%s.yaml or name an existing role", [r, r]),
	}
}

deny contains v if {
	some f in lib.present
	f.kind in lib.accounts
	t := object.get(f.after.spec, "template", "")
	t != ""
	not lib.repo.templates[t]
	v := {
		"rule": "references",
		"file": f.path,
		"field": "spec.template",
		"msg": sprintf("template %s does not exist: add templates/%s.yaml or name an existing one", [t, t]),
	}
}

# A person who leaves (or whose file goes) leaves behind what they owned or
# managed: say which accounts need a new owner or manager.
leaving contains f.name if {
	some f in input.change.files
	f.kind == "Person"
	not f.statusBefore in lib.gone
	gone_after(f)
}

gone_after(f) if f.op == "delete"

gone_after(f) if f.statusAfter in lib.gone

warn contains v if {
	some name in leaving
	some sa in lib.repo.serviceAccounts
	sa.spec.owner == name
	v := {
		"rule": "references",
		"file": sa.file,
		"field": "spec.owner",
		"msg": sprintf("%s leaves, and owns service account %s: hand it over by changing its spec.owner", [name, sa.metadata.name]),
	}
}

warn contains v if {
	some name in leaving
	some p in lib.repo.people
	p.spec.manager == name
	not p.metadata.name in leaving
	v := {
		"rule": "references",
		"file": p.file,
		"field": "spec.manager",
		"msg": sprintf("%s leaves, and manages %s: give %s a new spec.manager", [name, p.metadata.name, p.metadata.name]),
	}
}
