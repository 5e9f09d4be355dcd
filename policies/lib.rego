# Helpers shared by the built-in rules; organisation rules may import them too
# (import data.alm.builtin.lib). The input and data they read are described in
# README.md.
package alm.builtin.lib

# repo is the whole access repository at the head of the change, resolved.
repo := data.alm.repository

# base is the repository as it stood at the base of the change, resolved the
# same way. Whatever decides who must approve a change and who can is read
# from base: templates, roles (privileged, approvers, holders), people's
# status and roles. So a pull request cannot loosen what judges it.
base := data.alm.base

# now_ns is the instant the check runs at, in nanoseconds since the epoch.
now_ns := time.parse_rfc3339_ns(input.now)

# date_ns turns a file's date ("2027-05-31") into nanoseconds: the day at
# 00:00 UTC, a label to compare and count days with, not the instant the day
# begins in alm.yaml's timeZone.
date_ns(d) := time.parse_ns("2006-01-02", d)

# today_ns is input.today (the date at now in alm.yaml's timeZone) as
# date_ns reads dates: a file's day d has begun when date_ns(d) <= today_ns.
today_ns := date_ns(input.today)

unit_ns := {"h": 3600000000000, "d": 86400000000000, "w": 604800000000000}

# duration_ns turns a file's duration ("30d", "2w", "1w2d", "12h") into nanoseconds.
duration_ns(s) := sum([n |
	some m in regex.find_all_string_submatch_n(`(\d+)([hdw])`, s, -1)
	n := to_number(m[1]) * unit_ns[m[2]]
])

# accounts are the kinds that become directory accounts.
accounts := {"Person", "ServiceAccount"}

# kind_word names a kind in messages.
kind_word := {"Person": "person", "ServiceAccount": "service account", "Role": "role", "WorkflowTemplate": "template", "Directory": "directory", "Policy": "policy"}

# present holds the changed files that exist at head (added, modified, renamed).
present contains f if {
	some f in input.change.files
	f.op != "delete"
}

# approval_list names the template list (spec.approvals.<list>) that governs a change class.
approval_list(class) := "grant" if class in {"create", "grant"}

approval_list(class) := "revoke" if class == "revoke"

approval_list(class) := "other" if class in {"rename", "other"}

# field_of is the field that gave a file its class: the first reason of that
# class ("" when none). A file may have several (a role granted and endDate
# moved later are both grants); a function must give one value.
field_of(f) := fields[0] if {
	fields := [object.get(r, "field", "") | some r in f.reasons; r.class == f.class]
	count(fields) > 0
} else := ""

# gone holds the lifecycle statuses of accounts no longer live.
gone := {"leaver", "archived", "retired"}

# reviewed is true when the change comes with a pull request (or Approved-by
# trailers): approvals are only judged then.
reviewed if is_object(input.pullRequest)

# approvers are the people who approved; authors the people who asked.
approvers := {a | some a in input.pullRequest.approvers}

authors := {a | some a in input.pullRequest.authors}

# active reports whether a person can approve: they were active at base.
active(name) if base.people[name].status == "active"

# governing holds the templates that govern an account file: the one before
# the change (resolved at base) and the one after (resolved at head). Their
# approvals and settings are read as they stood at base (base.templates).
governing(f) := {t |
	some t in [object.get(f, "templateBefore", ""), object.get(f, "templateAfter", "")]
	t != ""
}

# template_at_base is the definition at base of the template named after
# the change (before, for a deleted file); undefined for a new template.
template_at_base(f) := base.templates[f.template]

# owner_may_approve reports whether an account's owner may approve changes
# to it: every template governing it said spec.ownerMayApprove: true at base.
owner_may_approve(f) if {
	ts := governing(f)
	count(ts) > 0
	every t in ts {
		base.templates[t].spec.ownerMayApprove == true
	}
}

# counted holds the approvers whose approval counts toward any rule: active
# people who are not among the change's authors.
counted contains a if {
	some a in approvers
	not a in authors
	active(a)
}

# meets reports whether approver a satisfies one approval rule for file f.
meets(a, rule, f) if {
	a in counted
	role_ok(a, rule)
	relation_ok(a, rule, f)
	not barred_owner(a, f)
}

role_ok(_, rule) if not rule.role

role_ok(a, rule) if rule.role in base.people[a].roles

relation_ok(_, rule, _) if not rule.relation

relation_ok(a, rule, f) if a in f.relations[rule.relation]

barred_owner(a, f) if {
	a in f.owners
	not owner_may_approve(f)
}

# needed is how many approvals a rule asks for (count, default 1).
needed(rule) := object.get(rule, "count", 1)

# have counts the approvals that satisfy a rule for a file. Only counted
# approvers can meet a rule, and only those in the rule's relation when it
# has one: looking at just them keeps a large change linear.
have(rule, f) := count({a | some a in eligible(rule, f); meets(a, rule, f)})

eligible(rule, f) := {a | some a in object.get(f.relations, rule.relation, []); a in counted} if rule.relation

eligible(rule, _) := counted if not rule.relation

# describe says a rule in words: "1 approval from a holder of role security-approvers".
describe(rule) := sprintf("%d %s from %s", [needed(rule), plural(needed(rule)), who(rule)])

plural(1) := "approval"

plural(n) := "approvals" if n != 1

who(rule) := sprintf("the %s holding role %s", [rule.relation, rule.role]) if {
	rule.role
	rule.relation
} else := sprintf("a holder of role %s", [rule.role]) if {
	rule.role
} else := sprintf("the %s", [rule.relation])

# able holds the people who could satisfy a rule for a file: active at base,
# not among the authors, not an owner the template bars, holding the role.
# alm check asks them for a review (a denial's can_approve).
able(rule, f) := {p |
	some p in candidates(rule, f)
	active(p)
	not p in authors
	not barred_owner(p, f)
	role_ok(p, rule)
}

# can_approve says who could satisfy a rule for a file, for the message:
# "; can approve: asmith, bjones" or "".
can_approve(rule, f) := sprintf("; can approve: %s", [concat(", ", names)]) if {
	names := sort(able(rule, f))
	count(names) > 0
} else := "; nobody can: no active person other than the authors fits the rule"

# holders_able holds the active people other than the authors who held a
# role at base.
holders_able(role) := {p |
	some p in object.get(base.roles, [role, "holders"], [])
	active(p)
	not p in authors
}

candidates(rule, f) := object.get(f.relations, rule.relation, []) if rule.relation

candidates(rule, _) := object.get(base.roles, [rule.role, "holders"], []) if {
	not rule.relation
	rule.role
}

# approved_by says who approved, for messages.
approved_by := "nobody" if count(approvers) == 0

approved_by := concat(", ", sort([a | some a in approvers])) if count(approvers) > 0

# holds counts the counted approvals from holders (at base) of a role.
holds(role) := count({a | some a in counted; role in base.people[a].roles})

# guardian_roles are the roles that approve privileged roles (a role named
# in spec.approvers of a privileged role, at base). Their holders guard what
# judges every change: alm.yaml, the templates and the policies.
guardian_roles contains rule.role if {
	some r in base.roles
	r.spec.privileged
	some rule in object.get(r.spec, "approvers", [])
	rule.role
}

# guardians are the active people who held a guardian role at base.
guardians contains p if {
	some r in guardian_roles
	some p in object.get(base.roles, [r, "holders"], [])
}
