package alm.builtin.expiry_test

import data.alm.builtin.expiry
import data.alm.builtin.fixtures_test as fx

check(files) := vs if {
	vs := expiry.deny with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

warnings(files) := vs if {
	vs := expiry.warn with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

test_within_lifetime_passes if {
	count(check([fx.sa_create])) == 0
	count(warnings([fx.sa_create])) == 0
}

test_no_expiry_denied if {
	vs := check([fx.sa_create_with({"expires": null})])
	count(vs) == 1
	some v in vs
	v.field == "spec.expires"
	contains(v.msg, "at most 365d")
}

test_past_lifetime_max_denied if {
	vs := check([fx.sa_create_with({"expires": "2027-06-01"})])
	count(vs) == 1
	some v in vs
	contains(v.msg, "on or before 2027-05-01")
}

test_lifetime_counts_from_today_without_created if {
	count(check([fx.sa_create_with({"created": null, "expires": "2027-05-01"})])) == 0
	count(check([fx.sa_create_with({"created": null, "expires": "2027-05-03"})])) == 1
}

test_created_expired_warned if {
	some w in warnings([fx.sa_create_with({"expires": "2026-04-01"})])
	contains(w.msg, "already expired")
}

# on is the input at 2026-05-01T20:00:00Z, which is 2026-05-02 in Auckland.
on(files, zone, today) := object.union(fx.input_of(files, null), {"now": "2026-05-01T20:00:00Z", "timeZone": zone, "today": today})

check_on(files, zone, today) := vs if {
	vs := expiry.deny with input as on(files, zone, today)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

warnings_on(files, zone, today) := vs if {
	vs := expiry.warn with input as on(files, zone, today)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

test_expired_once_the_day_has_begun_in_the_zone if {
	created := [fx.sa_create_with({"created": "2026-05-01", "expires": "2026-05-02"})]
	some w in warnings_on(created, "Pacific/Auckland", "2026-05-02")
	contains(w.msg, "already expired (2026-05-02)")
	count(warnings_on(created, "UTC", "2026-05-01")) == 0
}

test_lifetime_counts_from_today_in_the_zone if {
	files := [fx.sa_create_with({"created": null, "expires": "2027-05-02"})]
	count(check_on(files, "Pacific/Auckland", "2026-05-02")) == 0
	vs := check_on(files, "UTC", "2026-05-01")
	count(vs) == 1
	some v in vs
	contains(v.msg, "on or before 2027-05-01")
}

contractor(end) := fx.person_change(
	"create", "add", null,
	object.union(fx.repo.people.jdoe, {"spec": {"type": "contractor", "endDate": end}}),
	"", "active",
)

test_contractor_without_end_date_denied if {
	vs := check([contractor(null)])
	count(vs) == 1
	some v in vs
	v.field == "spec.endDate"
}

test_contractor_with_end_date_passes if {
	count(check([contractor("2026-12-31")])) == 0
}
