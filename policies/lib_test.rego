package alm.builtin.lib_test

import data.alm.builtin.lib

test_duration_ns if {
	lib.duration_ns("30d") == 30 * 86400000000000
	lib.duration_ns("1w2d") == 9 * 86400000000000
	lib.duration_ns("12h") == 12 * 3600000000000
}

test_date_ns if {
	lib.date_ns("1970-01-02") == 86400000000000
}

test_approval_list if {
	lib.approval_list("create") == "grant"
	lib.approval_list("grant") == "grant"
	lib.approval_list("revoke") == "revoke"
	lib.approval_list("rename") == "other"
	lib.approval_list("other") == "other"
}

test_describe if {
	lib.describe({"role": "security-approvers", "count": 2}) == "2 approvals from a holder of role security-approvers"
	lib.describe({"relation": "owner-manager"}) == "1 approval from the owner-manager"
	lib.describe({"role": "admins", "relation": "custodian"}) == "1 approval from the custodian holding role admins"
}

test_field_of if {
	lib.field_of({"class": "grant", "reasons": [{"class": "other", "field": "spec.description"}, {"class": "grant", "field": "spec.roles"}]}) == "spec.roles"
	lib.field_of({"class": "create", "reasons": [{"class": "create", "text": "new"}]}) == ""
	lib.field_of({"class": "other", "reasons": []}) == ""
}

test_field_of_several_reasons_of_the_class if {
	lib.field_of({"class": "grant", "reasons": [
		{"class": "revoke", "field": "spec.inactive"},
		{"class": "grant", "field": "spec.roles"},
		{"class": "grant", "field": "spec.endDate"},
	]}) == "spec.roles"
}

test_kind_word if {
	lib.kind_word.ServiceAccount == "service account"
	lib.kind_word.Person == "person"
}

test_governing if {
	lib.governing({"templateBefore": "a", "templateAfter": "b"}) == {"a", "b"}
	lib.governing({"templateBefore": "", "templateAfter": "b"}) == {"b"}
	lib.governing({"template": "a"}) == set()
}

test_guardians_are_holders_at_base_of_the_roles_approving_privileged_roles if {
	base := {
		"roles": {
			"admins": {"spec": {"privileged": true, "approvers": [{"role": "sec"}, {"relation": "manager"}]}, "holders": []},
			"sec": {"spec": {"privileged": false}, "holders": ["s1"]},
			"ops": {"spec": {"privileged": false, "approvers": [{"role": "other"}]}, "holders": ["o1"]},
		},
		"people": {},
	}
	lib.guardian_roles == {"sec"} with data.alm.base as base
	lib.guardians == {"s1"} with data.alm.base as base
}
