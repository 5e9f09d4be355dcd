package alm.builtin.review_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.review

# base is the fixtures' repository with reviews on the employee and
# service-account templates (grace on the employee's only).
base := object.union(fx.repo, {"templates": {
	"employee": {"spec": {"review": {"every": "180d", "by": "manager", "grace": "14d"}}},
	"service-account": {"spec": {"review": {"every": "90d", "by": "owner", "grace": "0d"}}},
}})

warnings(files) := vs if {
	vs := review.warn with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as base
}

jdoe(spec, status) := fx.person_change("other", "modify", fx.repo.people.jdoe, object.union(fx.repo.people.jdoe, {"spec": spec}), "active", status)

test_reviewed_recently_passes if {
	count(warnings([jdoe({"reviewed": "2026-01-01"}, "active")])) == 0
}

test_review_overdue_warned if {
	vs := warnings([jdoe({"reviewed": "2025-10-01"}, "active")])
	count(vs) == 1
	some v in vs
	v.field == "spec.reviewed"
	v.file == "people/jdoe.yaml"
	contains(v.msg, "person jdoe's access review was due 2026-03-30 (every 180d from spec.reviewed): its manager confirms it")
	contains(v.msg, "not confirmed by 2026-04-13 (grace 14d), alm disables the account")
}

test_due_today_warned if {
	count(warnings([jdoe({"reviewed": "2025-11-02"}, "active")])) == 1
	count(warnings([jdoe({"reviewed": "2025-11-03"}, "active")])) == 0
}

test_never_reviewed_counts_from_start if {
	# startDate 2025-01-01 in the fixtures: due 2025-06-30
	some v in warnings([jdoe({}, "unreviewed")])
	v.field == "spec.startDate"
	contains(v.msg, "due 2025-06-30")
}

test_leaver_not_warned if {
	count(warnings([jdoe({"reviewed": "2024-01-01"}, "leaver")])) == 0
}

test_template_without_review_passes if {
	vs := review.warn with input as fx.input_of([jdoe({"reviewed": "2024-01-01"}, "active")], null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
	count(vs) == 0
}

test_service_account_counts_from_created_without_grace if {
	vs := warnings([fx.sa_create_with({"created": "2026-01-01"})])
	count(vs) == 1
	some v in vs
	v.field == "spec.created"
	contains(v.msg, "service account svc-web's access review was due 2026-04-01 (every 90d from spec.created): its owner")
	not contains(v.msg, "disables")
	count(warnings([fx.sa_create_with({"created": "2026-02-01"})])) == 0
}
