package alm.builtin.separation_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.separation

check(files, pull) := vs if {
	vs := separation.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

test_author_approving_own_request_denied if {
	vs := check([fx.sa_change("other", [])], fx.pr("sec1", ["sec1", "asmith"]))
	count(vs) == 1
	some v in vs
	v.rule == "separation-of-duties"
	contains(v.msg, "sec1 approved a change they authored")
}

test_other_approver_passes if {
	count(check([fx.sa_change("other", [])], fx.pr("sec1", ["asmith"]))) == 0
}

test_owner_approving_own_account_denied if {
	vs := check([fx.sa_change("revoke", [])], fx.pr("sec1", ["jdoe"]))
	count(vs) == 1
	some v in vs
	v.file == "service-accounts/svc-backup.yaml"
	v.field == "spec.owner"
}

test_owner_approving_own_account_allowed_by_template if {
	f := fx.with_template(fx.sa_change("revoke", []), "lenient")
	count(check([f], fx.pr("sec1", ["jdoe"]))) == 0
}

test_person_approving_own_file_denied if {
	p := fx.repo.people.jdoe
	f := fx.person_change("other", "modify", p, p, "active", "active")
	vs := check([f], fx.pr("asmith", ["jdoe"]))
	count(vs) == 1
}

test_no_pull_request_no_denial if {
	count(check([fx.sa_change("other", [])], null)) == 0
}

test_owner_may_approve_read_at_base if {
	# The change sets ownerMayApprove on the template and has the owner approve.
	head := object.union(fx.repo, {"templates": {"service-account": {"spec": {"ownerMayApprove": true}}}})
	vs := separation.deny with input as fx.input_of([fx.sa_change("revoke", [])], fx.pr("sec1", ["jdoe"]))
		with data.alm.repository as head
		with data.alm.base as fx.repo
	count(vs) == 1
	some v in vs
	contains(v.msg, "template service-account on the base branch does not let owners approve")
}

test_owner_may_approve_needs_every_template if {
	# Moving from lenient to service-account: service-account forbids it.
	f := object.union(fx.with_template(fx.sa_change("revoke", []), "lenient"), {"templateAfter": "service-account"})
	vs := check([f], fx.pr("sec1", ["jdoe"]))
	count(vs) == 1
	some v in vs
	contains(v.msg, "template lenient and service-account")
}
