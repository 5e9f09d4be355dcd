package alm.builtin.references_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.references

check(files) := vs if {
	vs := references.deny with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

warnings(files) := vs if {
	vs := references.warn with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

test_valid_references_pass if {
	count(check([fx.sa_create])) == 0
	count(warnings([fx.sa_create])) == 0
}

test_missing_owner_denied if {
	vs := check([fx.sa_create_with({"owner": "nobody"})])
	count(vs) == 1
	some v in vs
	v.field == "spec.owner"
	contains(v.msg, "owner nobody does not exist")
}

test_leaver_owner_denied if {
	some v in check([fx.sa_create_with({"owner": "gone"})])
	contains(v.msg, "owner gone is a leaver")
}

test_leaver_custodian_denied_with_index if {
	some v in check([fx.sa_create_with({"custodians": ["asmith", "gone"]})])
	v.field == "spec.custodians[1]"
}

test_inactive_owner_warned if {
	count(check([fx.sa_create_with({"owner": "away"})])) == 0
	some w in warnings([fx.sa_create_with({"owner": "away"})])
	contains(w.msg, "owner away is inactive")
}

test_missing_role_denied if {
	some v in check([fx.sa_create_with({"roles": ["vpn", "nope"]})])
	v.field == "spec.roles[1]"
}

test_missing_template_denied if {
	some v in check([fx.sa_create_with({"template": "nope"})])
	v.field == "spec.template"
}

test_leaver_manager_denied if {
	p := fx.repo.people.kfox
	f := object.union(fx.person_change("other", "modify", p, p, "active", "active"), {"path": "people/kfox.yaml", "name": "kfox"})
	some v in check([f])
	v.field == "spec.manager"
}

test_leaving_owner_warns_about_owned_accounts if {
	p := fx.repo.people.jdoe
	f := fx.person_change("revoke", "modify", p, object.union(p, {"spec": {"endDate": "2026-04-30"}}), "active", "leaver")
	some w in warnings([f])
	w.file == "service-accounts/svc-backup.yaml"
	contains(w.msg, "owns service account svc-backup")
}

test_staying_owner_does_not_warn if {
	p := fx.repo.people.jdoe
	f := fx.person_change("other", "modify", p, p, "active", "active")
	count(warnings([f])) == 0
}
