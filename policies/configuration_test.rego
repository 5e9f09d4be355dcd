package alm.builtin.configuration_test

import data.alm.builtin.configuration
import data.alm.builtin.fixtures_test as fx

check(files, pull) := vs if {
	vs := configuration.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

judged(files, pull, base) := vs if {
	vs := configuration.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
		with data.alm.base as base
}

config_file(kind, path, name, op, before, after) := {
	"path": path, "op": op, "kind": kind, "name": name, "class": "other",
	"reasons": [{"class": "other", "field": "spec.approvals", "text": "spec.approvals changed"}],
	"grantedRoles": [], "revokedRoles": [],
	"before": before, "after": after,
	"template": "", "templateBefore": "", "templateAfter": "",
	"statusBefore": "", "statusAfter": "", "relations": {}, "owners": [],
}

sa_template := fx.repo.templates["service-account"]

template_loosened := config_file("WorkflowTemplate", "templates/service-account.yaml", "service-account", "modify", sa_template, object.union(sa_template, {"spec": {"approvals": {"grant": []}}}))

template_added := config_file("WorkflowTemplate", "templates/lax.yaml", "lax", "add", null, {"metadata": {"name": "lax"}, "spec": {"appliesTo": "ServiceAccount"}})

template_deleted := config_file("WorkflowTemplate", "templates/service-account.yaml", "service-account", "delete", sa_template, null)

directory_changed := config_file("Directory", "alm.yaml", "acme", "modify", {"metadata": {"name": "acme"}, "spec": {"orphans": "report"}}, {"metadata": {"name": "acme"}, "spec": {"orphans": "disable"}})

policy_deleted := config_file("Policy", "policies/descriptions.rego", "policies/descriptions.rego", "delete", "package alm.org.descriptions", null)

test_changes_need_a_guardian if {
	every f in [template_loosened, template_added, template_deleted, directory_changed, policy_deleted] {
		vs := check([f], fx.pr("jdoe", ["asmith"]))
		count(vs) > 0
		some v in vs
		v.rule == "configuration-approvals"
		v.file == f.path
		contains(v.msg, "1 approval from a holder of role security-approvers")
		contains(v.msg, "can approve: sec1, sec2")
	}
}

test_guardian_approval_passes if {
	every f in [template_loosened, template_added, template_deleted, directory_changed, policy_deleted] {
		count(check([f], fx.pr("jdoe", ["sec1"]))) == 0
	}
}

test_messages_say_what_happened if {
	some v in check([template_added], fx.pr("jdoe", ["asmith"]))
	startswith(v.msg, "templates/lax.yaml is added:")
	some w in check([directory_changed], fx.pr("jdoe", ["asmith"]))
	startswith(w.msg, "alm.yaml is changed:")
}

test_guardian_who_authored_does_not_count if {
	vs := check([directory_changed], fx.pr("sec1", ["sec1"]))
	count(vs) == 1
	some v in vs
	contains(v.msg, "can approve: sec2")
}

test_template_keeps_its_grant_approvals_at_base if {
	# At base the template asked for two security approvers to grant.
	base := object.union(fx.repo, {"templates": {"service-account": {"spec": {"approvals": {"grant": [{"role": "security-approvers", "count": 2}, {"relation": "owner-manager"}]}}}}})
	vs := judged([template_loosened], fx.pr("jdoe", ["sec1"]), base)
	count(vs) == 1
	some v in vs
	contains(v.msg, "template service-account is changed: it needs what it asks for granting on the base branch, 2 approvals from a holder of role security-approvers")
	count(judged([template_loosened], fx.pr("jdoe", ["sec1", "sec2"]), base)) == 0
}

test_renamed_template_judged_by_its_name_at_base if {
	base := object.union(fx.repo, {"templates": {"service-account": {"spec": {"approvals": {"grant": [{"role": "security-approvers", "count": 2}]}}}}})
	f := object.union(template_loosened, {"name": "svc", "oldName": "service-account"})
	count(judged([f], fx.pr("jdoe", ["sec1"]), base)) == 1
}

test_nobody_can_without_privileged_approvers if {
	base := object.union(fx.repo, {"roles": {"admins": {"spec": {"privileged": false}}}})
	vs := judged([directory_changed], fx.pr("jdoe", ["sec1"]), base)
	count(vs) == 1
	some v in vs
	contains(v.msg, "nobody can: give a privileged role spec.approvers")
}

test_accounts_and_roles_are_not_configuration if {
	count(check([fx.sa_change("other", [])], fx.pr("jdoe", ["asmith"]))) == 0
}

test_no_pull_request_no_denial if {
	count(check([directory_changed], null)) == 0
}

test_denial_lists_the_guardians_who_can_approve if {
	some v in check([directory_changed], fx.pr("sec1", ["asmith"]))
	v.can_approve == ["sec2"]
	base := object.union(fx.repo, {"templates": {"service-account": {"spec": {"approvals": {"grant": [{"role": "security-approvers", "count": 2}]}}}}})
	some w in judged([template_loosened], fx.pr("jdoe", ["sec1"]), base)
	startswith(w.msg, "template service-account is changed")
	w.can_approve == ["sec1", "sec2"]
}
