# Approvals: a change is approved by enough of the right people. The template
# of each account says who approves which class of change (granting needs more
# than revoking); a privileged role needs its own approvers on top; and every
# change needs at least one approval from someone other than its authors.
# Templates and roles are read as they stood at base (lib.base): a pull
# request cannot add or loosen the template or role that judges it.
package alm.builtin.approvals

import data.alm.builtin.lib

# Each account file needs the approvals its templates list for its class:
# the template before the change and the one after, both as at base.
deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind in lib.accounts
	list := lib.approval_list(f.class)
	some t in lib.governing(f)
	some rule in object.get(lib.base.templates, [t, "spec", "approvals", list], [])
	lib.have(rule, f) < lib.needed(rule)
	v := {
		"rule": "template-approvals",
		"file": f.path,
		"field": lib.field_of(f),
		"msg": sprintf("%s %s is a %s change: template %s asks for %s (spec.approvals.%s), and it has %d; approved by %s%s", [
			lib.kind_word[f.kind], f.name, f.class, t, lib.describe(rule), list,
			lib.have(rule, f), lib.approved_by, lib.can_approve(rule, f),
		]),
		"can_approve": sort(lib.able(rule, f)),
	}
}

# An account governed by a template that this change adds cannot be judged:
# the template's approvals are read as they stand at base. Merge the template
# first, on its own.
deny contains v if {
	some f in input.change.files
	f.kind in lib.accounts
	some t in lib.governing(f)
	not lib.base.templates[t]
	lib.repo.templates[t]
	v := {
		"rule": "new-template",
		"file": f.path,
		"field": template_field(f),
		"msg": sprintf("%s %s is governed by template %s, which this change adds: an account is judged by its template as it stands on the base branch, so merge %s first, in its own pull request, then this change", [
			lib.kind_word[f.kind], f.name, t, lib.repo.templates[t].file,
		]),
	}
}

template_field(f) := "spec.template" if object.get(f, ["after", "spec", "template"], "") != ""

template_field(f) := "spec.type" if {
	object.get(f, ["after", "spec", "template"], "") == ""
	f.kind == "Person"
}

template_field(f) := "" if {
	object.get(f, ["after", "spec", "template"], "") == ""
	f.kind != "Person"
}

# A role that this change adds cannot be granted by it: whether a role is
# privileged, and who approves it, is read as it stands at base.
deny contains v if {
	some f in input.change.files
	f.kind in lib.accounts
	some r in f.grantedRoles
	not lib.base.roles[r]
	lib.repo.roles[r]
	v := {
		"rule": "new-role",
		"file": f.path,
		"field": "spec.roles",
		"msg": sprintf("%s %s is granted role %s, which this change adds: a grant is judged by the role as it stands on the base branch, so merge %s first, in its own pull request, then grant it", [
			lib.kind_word[f.kind], f.name, r, lib.repo.roles[r].file,
		]),
	}
}

# Granting a privileged role needs the role's own approvers (spec.approvers).
deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind in lib.accounts
	some r in f.grantedRoles
	role := lib.base.roles[r]
	role.spec.privileged
	some rule in object.get(role.spec, "approvers", [])
	lib.have(rule, f) < lib.needed(rule)
	v := {
		"rule": "privileged-role",
		"file": f.path,
		"field": "spec.roles",
		"msg": sprintf("%s %s is granted privileged role %s, which needs %s (roles/%s spec.approvers), and it has %d; approved by %s%s", [
			lib.kind_word[f.kind], f.name, r, lib.describe(rule), r, lib.have(rule, f), lib.approved_by, lib.can_approve(rule, f),
		]),
		"can_approve": sort(lib.able(rule, f)),
	}
}

# A privileged role that lists no approvers cannot be granted at all.
deny contains v if {
	some f in input.change.files
	f.kind in lib.accounts
	some r in f.grantedRoles
	role := lib.base.roles[r]
	role.spec.privileged
	count(object.get(role.spec, "approvers", [])) == 0
	v := {
		"rule": "privileged-role",
		"file": f.path,
		"field": "spec.roles",
		"msg": sprintf("%s %s is granted privileged role %s, which lists no approvers: add spec.approvers to roles/%s before granting it", [lib.kind_word[f.kind], f.name, r, r]),
	}
}

# Changing a privileged role itself needs its approvers (as they stood before
# the change), so a pull request cannot loosen a role and use it at once.
deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind == "Role"
	role := role_object(f)
	role.spec.privileged
	some rule in object.get(role.spec, "approvers", [])
	rule.role
	have := lib.holds(rule.role)
	have < lib.needed(rule)
	v := {
		"rule": "privileged-role",
		"file": f.path,
		"field": lib.field_of(f),
		"msg": sprintf("privileged role %s is changed: it needs %s, and it has %d; approved by %s", [f.name, lib.describe(rule), have, lib.approved_by]),
		"can_approve": sort(lib.holders_able(rule.role)),
	}
}

role_object(f) := f.before if f.before != null

role_object(f) := f.after if f.before == null

# Two-person rule: something changes, so someone other than its authors approves.
deny contains v if {
	lib.reviewed
	count(input.change.files) > 0
	count(lib.counted) == 0
	v := {
		"rule": "two-person",
		"msg": sprintf("no one but the authors approved this change (approved by %s): at least one other active person listed in people/ must approve", [lib.approved_by]),
	}
}

# An approval from someone who is not a person in the repository does not count.
warn contains v if {
	lib.reviewed
	some who in input.pullRequest.unknownApprovers
	v := {
		"rule": "unknown-approver",
		"msg": sprintf("%s approved, but no person in people/ has that GitHub login (spec.github) or e-mail (spec.email): the approval does not count", [who]),
	}
}

# An approval from a person who is not active does not count.
warn contains v if {
	lib.reviewed
	some a in lib.approvers
	not a in lib.authors
	not lib.active(a)
	v := {
		"rule": "inactive-approver",
		"file": object.get(lib.base.people, [a, "file"], ""),
		"msg": sprintf("%s approved, but was %s, not active, before this change: the approval does not count", [a, object.get(lib.base.people, [a, "status"], "unknown")]),
	}
}

warn contains v if {
	not lib.reviewed
	count(input.change.files) > 0
	v := {
		"rule": "approvals",
		"msg": "approvals were not checked: give --pr (GitHub) or check a merge commit with Approved-by trailers",
	}
}
