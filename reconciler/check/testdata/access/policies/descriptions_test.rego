package alm.org.descriptions_test

import data.alm.org.descriptions

file(description) := {
	"path": "service-accounts/svc-web.yaml",
	"op": "add",
	"kind": "ServiceAccount",
	"name": "svc-web",
	"class": "create",
	"before": null,
	"after": {"metadata": {"name": "svc-web"}, "spec": {"description": description}},
}

check(files) := vs if {
	vs := descriptions.deny with input as {"now": "2026-05-01T00:00:00Z", "change": {"files": files}, "pullRequest": null}
}

test_long_description_passes if {
	count(check([file("Serves the intranet web site to staff")])) == 0
}

test_short_description_denied if {
	vs := check([file("web")])
	count(vs) == 1
	some v in vs
	v.field == "spec.description"
	contains(v.msg, "shorter than 20 characters")
}

test_missing_description_denied if {
	f := object.union(file(""), {"after": {"spec": {}}})
	count(check([f])) == 1
}

test_deleted_account_not_checked if {
	f := object.union(file("web"), {"op": "delete"})
	count(check([f])) == 0
}
