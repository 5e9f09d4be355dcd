package alm.builtin.approvals_test

import data.alm.builtin.approvals
import data.alm.builtin.fixtures_test as fx

check(files, pull) := vs if {
	vs := approvals.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
}

warnings(files, pull) := vs if {
	vs := approvals.warn with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
}

test_create_with_template_approvals_passes if {
	count(check([fx.sa_create], fx.pr("jdoe", ["sec1", "asmith"]))) == 0
}

test_create_without_security_approver_denied if {
	vs := fx.with_rule(check([fx.sa_create], fx.pr("jdoe", ["asmith"])), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "a holder of role security-approvers")
	contains(v.msg, "can approve: sec1, sec2")
	v.file == "service-accounts/svc-web.yaml"
}

test_create_without_owner_manager_denied if {
	vs := fx.with_rule(check([fx.sa_create], fx.pr("jdoe", ["sec1"])), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "the owner-manager")
	contains(v.msg, "can approve: asmith")
}

test_revoke_by_manager_alone_passes if {
	count(check([fx.sa_change("revoke", [])], fx.pr("sec1", ["asmith"]))) == 0
}

test_revoke_by_owner_denied_when_template_forbids if {
	vs := fx.with_rule(check([fx.sa_change("revoke", [])], fx.pr("sec1", ["jdoe"])), "template-approvals")
	count(vs) == 1
}

test_revoke_by_owner_passes_when_template_allows if {
	f := object.union(fx.sa_change("revoke", []), {"template": "lenient"})
	count(check([f], fx.pr("sec1", ["jdoe"]))) == 0
}

test_grant_needs_more_than_revoke if {
	count(check([fx.sa_change("grant", [])], fx.pr("sec1", ["asmith"]))) > 0
	count(check([fx.sa_change("revoke", [])], fx.pr("sec1", ["asmith"]))) == 0
}

test_author_approval_does_not_count if {
	# asmith wrote the change, so the manager relation is not satisfied.
	vs := fx.with_rule(check([fx.sa_change("revoke", [])], fx.pr("asmith", ["asmith", "sec1"])), "template-approvals")
	count(vs) == 1
}

test_inactive_approver_does_not_count if {
	f := object.union(fx.sa_change("revoke", []), {"relations": {"owner-or-manager": ["away"]}})
	count(fx.with_rule(check([f], fx.pr("sec1", ["away"])), "template-approvals")) == 1
	some w in warnings([f], fx.pr("sec1", ["away"]))
	w.rule == "inactive-approver"
}

test_privileged_role_without_its_approvers_denied if {
	vs := fx.with_rule(check([fx.sa_change("grant", ["admins"])], fx.pr("jdoe", ["sec1", "asmith"])), "privileged-role")
	count(vs) == 1
	some v in vs
	contains(v.msg, "privileged role admins")
	contains(v.msg, "2 approvals from a holder of role security-approvers")
}

test_privileged_role_with_its_approvers_passes if {
	count(check([fx.sa_change("grant", ["admins"])], fx.pr("jdoe", ["sec1", "sec2", "asmith"]))) == 0
}

test_privileged_role_without_approvers_listed_denied if {
	vs := fx.with_rule(check([fx.sa_change("grant", ["bare-admin"])], fx.pr("jdoe", ["sec1", "sec2", "asmith"])), "privileged-role")
	count(vs) == 1
	some v in vs
	contains(v.msg, "lists no approvers")
}

role_change := {
	"path": "roles/admins.yaml", "op": "modify", "kind": "Role", "name": "admins", "class": "grant",
	"reasons": [{"class": "grant", "field": "spec.groups", "text": "group added"}],
	"grantedRoles": [], "revokedRoles": [],
	"before": fx.repo.roles.admins, "after": fx.repo.roles.admins,
	"template": "", "statusBefore": "", "statusAfter": "", "relations": {}, "owners": [],
}

test_privileged_role_change_needs_its_approvers if {
	count(fx.with_rule(check([role_change], fx.pr("jdoe", ["asmith"])), "privileged-role")) == 1
	count(check([role_change], fx.pr("jdoe", ["sec1", "sec2"]))) == 0
}

test_two_person_rule_no_approvals_denied if {
	"two-person" in fx.rules(check([fx.sa_change("other", [])], fx.pr("jdoe", [])))
}

test_two_person_rule_only_author_denied if {
	"two-person" in fx.rules(check([fx.sa_change("other", [])], fx.pr("jdoe", ["jdoe"])))
}

test_two_person_rule_one_other_passes if {
	count(check([fx.sa_change("other", [])], fx.pr("jdoe", ["cboss"]))) == 0
}

test_unknown_approver_warned if {
	pull := object.union(fx.pr("jdoe", ["asmith"]), {"unknownApprovers": ["octocat"]})
	some w in warnings([fx.sa_change("revoke", [])], pull)
	w.rule == "unknown-approver"
	contains(w.msg, "octocat")
}

test_no_pull_request_warns_and_does_not_deny if {
	count(check([fx.sa_create], null)) == 0
	some w in warnings([fx.sa_create], null)
	w.rule == "approvals"
}

test_rule_nobody_can_satisfy_says_so if {
	f := object.union(fx.sa_change("revoke", []), {"relations": {"owner-or-manager": []}})
	some v in check([f], fx.pr("sec1", ["asmith"]))
	contains(v.msg, "nobody can")
}
