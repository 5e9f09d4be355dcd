package alm.builtin.approvals_test

import data.alm.builtin.approvals
import data.alm.builtin.fixtures_test as fx

check(files, pull) := vs if {
	vs := approvals.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

warnings(files, pull) := vs if {
	vs := approvals.warn with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
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
	f := fx.with_template(fx.sa_change("revoke", []), "lenient")
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

# judged runs the rules with the repository at head and at base apart.
judged(files, pull, head, base) := vs if {
	vs := approvals.deny with input as fx.input_of(files, pull)
		with data.alm.repository as head
		with data.alm.base as base
}

# lax_service_account is the repository after a change that drops the
# service-account template's approvals and lets owners approve.
lax_service_account := object.union(fx.repo, {"templates": {"service-account": {"spec": {
	"approvals": {"grant": [], "revoke": []},
	"ownerMayApprove": true,
}}}})

test_template_approvals_read_at_base if {
	# Loosened in the same change: the template at base still judges it.
	vs := fx.with_rule(judged([fx.sa_create], fx.pr("jdoe", ["asmith"]), lax_service_account, fx.repo), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "template service-account asks for 1 approval from a holder of role security-approvers")

	# Once the loosened template is merged, it is what judges.
	count(judged([fx.sa_create], fx.pr("jdoe", ["asmith"]), lax_service_account, lax_service_account)) == 0
}

lax_added := object.union(fx.repo, {"templates": {"lax": {
	"metadata": {"name": "lax"},
	"file": "templates/lax.yaml",
	"spec": {"appliesTo": "ServiceAccount", "approvals": {}, "ownerMayApprove": true},
}}})

test_account_under_new_template_denied if {
	f := fx.sa_create_with({"template": "lax"})
	vs := fx.with_rule(judged([f], fx.pr("jdoe", ["asmith"]), lax_added, fx.repo), "new-template")
	count(vs) == 1
	some v in vs
	v.file == "service-accounts/svc-web.yaml"
	v.field == "spec.template"
	contains(v.msg, "merge templates/lax.yaml first, in its own pull request")

	# Without a pull request too: the change cannot pass, however approved.
	"new-template" in fx.rules(judged([f], null, lax_added, fx.repo))

	# Merged first, the template judges the next change.
	count(fx.with_rule(judged([f], fx.pr("jdoe", ["asmith"]), lax_added, lax_added), "new-template")) == 0
}

test_moving_to_a_laxer_template_keeps_the_old_one if {
	# svc-backup moves from service-account to lenient (no grant list):
	# service-account's grant approvals still apply.
	f := object.union(fx.sa_change("grant", []), {"template": "lenient", "templateAfter": "lenient"})
	vs := fx.with_rule(check([f], fx.pr("sec1", ["asmith"])), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "template service-account asks for 1 approval from a holder of role security-approvers")
}

# svc_backup_deleted is the deletion of svc-backup's file.
svc_backup_deleted := object.union(fx.sa_change("revoke", []), {
	"op": "delete", "after": null, "templateAfter": "", "statusAfter": "",
	"reasons": [{"class": "revoke", "text": "service account svc-backup removed"}],
})

test_delete_judged_by_template_at_base if {
	# The change also deletes the template: its revoke approvals at base apply.
	head := json.remove(fx.repo, ["templates/service-account"])
	not head.templates["service-account"]
	vs := fx.with_rule(judged([svc_backup_deleted], fx.pr("sec1", ["cboss"]), head, fx.repo), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "the owner-or-manager")
	count(judged([svc_backup_deleted], fx.pr("sec1", ["asmith"]), head, fx.repo)) == 0
}

test_role_added_by_the_change_cannot_be_granted_by_it if {
	head := object.union(fx.repo, {"roles": {"super": {"metadata": {"name": "super"}, "file": "roles/super.yaml", "spec": {"groups": ["Domain Admins"], "privileged": false}, "holders": []}}})
	vs := fx.with_rule(judged([fx.sa_change("grant", ["super"])], fx.pr("jdoe", ["sec1", "asmith"]), head, fx.repo), "new-role")
	count(vs) == 1
	some v in vs
	contains(v.msg, "merge roles/super.yaml first")
}

test_privileged_read_at_base if {
	# The change drops privileged from admins and grants it at once.
	head := object.union(fx.repo, {"roles": {"admins": {"spec": {"privileged": false, "approvers": []}}}})
	count(fx.with_rule(judged([fx.sa_change("grant", ["admins"])], fx.pr("jdoe", ["sec1", "asmith"]), head, fx.repo), "privileged-role")) == 1
}

test_approver_roles_held_at_base if {
	# cboss is given security-approvers by the change: it does not count yet.
	head := object.union(fx.repo, {"people": {"cboss": {"roles": ["security-approvers"]}}})
	vs := fx.with_rule(judged([fx.sa_create], fx.pr("jdoe", ["cboss", "asmith"]), head, fx.repo), "template-approvals")
	count(vs) == 1
	some v in vs
	contains(v.msg, "can approve: sec1, sec2")
	count(judged([fx.sa_create], fx.pr("jdoe", ["cboss", "asmith"]), head, head)) == 0
}

test_approvers_active_at_base if {
	# away is brought back by the change: the approval counts from the next one.
	head := object.union(fx.repo, {"people": {"away": {"status": "active"}}})
	"two-person" in fx.rules(judged([fx.sa_change("other", [])], fx.pr("jdoe", ["away"]), head, fx.repo))
	count(judged([fx.sa_change("other", [])], fx.pr("jdoe", ["away"]), head, head)) == 0
}

# can_approve lists, for alm check to ask for reviews, the people who could
# satisfy the denial: never the authors, never someone inactive.
test_denial_lists_who_can_approve if {
	some v in fx.with_rule(check([fx.sa_create], fx.pr("jdoe", ["asmith"])), "template-approvals")
	v.can_approve == ["sec1", "sec2"]
	some w in fx.with_rule(check([fx.sa_create], fx.pr("jdoe", ["sec1"])), "template-approvals")
	w.can_approve == ["asmith"]
}

test_denial_lists_nobody_when_nobody_can if {
	f := object.union(fx.sa_change("revoke", []), {"relations": {"owner-or-manager": ["away"]}})
	some v in fx.with_rule(check([f], fx.pr("sec1", [])), "template-approvals")
	v.can_approve == []
}

test_privileged_denials_list_who_can_approve if {
	some v in fx.with_rule(check([fx.sa_change("grant", ["admins"])], fx.pr("sec1", ["asmith"])), "privileged-role")
	v.can_approve == ["sec2"]
	some w in fx.with_rule(check([role_change], fx.pr("jdoe", ["asmith"])), "privileged-role")
	w.can_approve == ["sec1", "sec2"]
}
