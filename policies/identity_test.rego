package alm.builtin.identity_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.identity

check(files) := vs if {
	vs := identity.deny with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

warnings(files) := vs if {
	vs := identity.warn with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

test_id_changed_denied if {
	p := fx.repo.people.jdoe
	f := fx.person_change("other", "modify", p, object.union(p, {"metadata": {"id": "999"}}), "active", "active")
	vs := check([f])
	count(vs) == 1
	some v in vs
	v.field == "metadata.id"
	contains(v.msg, `restore "id-jdoe"`)
}

test_id_unchanged_passes if {
	p := fx.repo.people.jdoe
	f := fx.person_change("other", "modify", p, object.union(p, {"spec": {"title": "Lead"}}), "active", "active")
	count(check([f])) == 0
}

test_live_account_deleted_denied if {
	f := fx.person_change("revoke", "delete", fx.repo.people.jdoe, null, "active", "")
	vs := check([f])
	count(vs) == 1
	some v in vs
	v.rule == "live-account-deleted"
	contains(v.msg, "set spec.endDate instead")
}

test_retired_account_deleted_passes if {
	f := object.union(fx.sa_change("revoke", []), {"op": "delete", "after": null, "statusBefore": "retired"})
	count(check([f])) == 0
}

test_live_service_account_deleted_denied if {
	f := object.union(fx.sa_change("revoke", []), {"op": "delete", "after": null, "statusBefore": "expired"})
	some v in check([f])
	contains(v.msg, "state: retired")
}

test_rename_without_previous_names_warned if {
	p := fx.repo.people.jdoe
	after := object.union(p, {"metadata": {"name": "jsmith"}})
	f := object.union(fx.person_change("rename", "rename", p, after, "active", "active"), {"name": "jsmith", "oldName": "jdoe"})
	some w in warnings([f])
	w.rule == "rename-history"
}

test_rename_with_previous_names_passes if {
	p := fx.repo.people.jdoe
	after := object.union(p, {"metadata": {"name": "jsmith"}, "spec": {"previousNames": ["jdoe"]}})
	f := object.union(fx.person_change("rename", "rename", p, after, "active", "active"), {"name": "jsmith", "oldName": "jdoe"})
	count(warnings([f])) == 0
	count(check([f])) == 0
}
