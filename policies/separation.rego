# Separation of duties: whoever asks for a change never approves it, and an
# account's owner never approves a change to their own account unless its
# template says spec.ownerMayApprove: true (every template governing it,
# before and after the change, as it stood at base).
package alm.builtin.separation

import data.alm.builtin.lib

deny contains v if {
	lib.reviewed
	some a in lib.approvers
	a in lib.authors
	v := {
		"rule": "separation-of-duties",
		"msg": sprintf("%s approved a change they authored: the author of a request never approves it; ask someone else to review", [a]),
	}
}

deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind in lib.accounts
	not lib.owner_may_approve(f)
	some a in f.owners
	a in lib.approvers
	not a in lib.authors # reported once, by the rule above
	v := {
		"rule": "separation-of-duties",
		"file": f.path,
		"field": owner_field(f),
		"msg": sprintf("%s approved a change to %s, an account they own: %s on the base branch does not let owners approve (spec.ownerMayApprove); ask another approver", [a, f.name, templates_word(f)]),
	}
}

templates_word(f) := sprintf("template %s", [concat(" and ", sort([t | some t in lib.governing(f)]))]) if {
	count(lib.governing(f)) > 0
} else := "no template"

owner_field(f) := "spec.owner" if f.kind == "ServiceAccount"

owner_field(f) := "metadata.name" if f.kind == "Person"
