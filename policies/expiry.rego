# Expiry: service accounts expire, within their template's lifetime.max
# (the template as it stood at base) counted from spec.created (or from today
# when created is not set); a contractor has an end date. Dates are compared
# as days: today is the date at now in alm.yaml's timeZone.
package alm.builtin.expiry

import data.alm.builtin.lib

deny contains v if {
	some f in lib.present
	f.kind == "ServiceAccount"
	object.get(f.after.spec, "expires", null) == null
	v := {
		"rule": "expiry",
		"file": f.path,
		"field": "spec.expires",
		"msg": sprintf("service account %s has no expiry: set spec.expires%s", [f.name, max_hint(f)]),
	}
}

max_hint(f) := sprintf(" (at most %s after spec.created, per template %s)", [lifetime, f.template]) if {
	lifetime := lib.template_at_base(f).spec.lifetime.max
} else := ""

# start is where the lifetime is counted from.
start_ns(f) := lib.date_ns(f.after.spec.created) if {
	object.get(f.after.spec, "created", null) != null
} else := lib.today_ns

deny contains v if {
	some f in lib.present
	f.kind == "ServiceAccount"
	expires := f.after.spec.expires
	expires != null
	lifetime := lib.template_at_base(f).spec.lifetime.max
	limit := start_ns(f) + lib.duration_ns(lifetime)
	lib.date_ns(expires) > limit
	v := {
		"rule": "expiry",
		"file": f.path,
		"field": "spec.expires",
		"msg": sprintf("expires %s is past template %s's maximum lifetime of %s: expire on or before %s, and renew later", [
			expires, f.template, lifetime, time.format([limit, "UTC", "2006-01-02"]),
		]),
	}
}

warn contains v if {
	some f in lib.present
	f.kind == "ServiceAccount"
	f.class == "create"
	expires := f.after.spec.expires
	expires != null
	lib.date_ns(expires) <= lib.today_ns
	v := {
		"rule": "expiry",
		"file": f.path,
		"field": "spec.expires",
		"msg": sprintf("service account %s is created already expired (%s): it will be disabled at once", [f.name, expires]),
	}
}

deny contains v if {
	some f in lib.present
	f.kind == "Person"
	f.after.spec.type == "contractor"
	object.get(f.after.spec, "endDate", null) == null
	v := {
		"rule": "expiry",
		"file": f.path,
		"field": "spec.endDate",
		"msg": sprintf("contractor %s has no end date: set spec.endDate (the contract's last day)", [f.name]),
	}
}
