package alm.builtin.separation_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.separation

check(files, pull) := vs if {
	vs := separation.deny with input as fx.input_of(files, pull)
		with data.alm.repository as fx.repo
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
	f := object.union(fx.sa_change("revoke", []), {"template": "lenient"})
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
