package alm.builtin.naming_test

import data.alm.builtin.fixtures_test as fx
import data.alm.builtin.naming

check(files) := vs if {
	vs := naming.deny with input as fx.input_of(files, null)
		with data.alm.repository as fx.repo
		with data.alm.base as fx.repo
}

renamed(name) := object.union(fx.sa_create, {"name": name, "after": {"metadata": {"name": name}}})

test_good_name_passes if {
	count(check([fx.sa_create])) == 0
}

test_pattern_mismatch_denied if {
	vs := check([renamed("backup")])
	count(vs) == 1
	some v in vs
	v.field == "metadata.name"
	contains(v.msg, "naming pattern")
}

test_too_long_denied if {
	vs := check([renamed("svc-abcdefghijklmnopq")]) # 21 characters, also past the pattern
	count(vs) == 1 # for its length; the pattern is not matched against a name this long
	some v in vs
	contains(v.msg, "is 21 characters")
}

test_longest_name_matched if {
	vs := check([renamed("bak-abcdefghijklmnop")]) # 20 characters, against the pattern
	count(vs) == 1
	some v in vs
	contains(v.msg, "naming pattern")
}

test_deleted_file_not_checked if {
	f := object.union(renamed("backup"), {"op": "delete"})
	count(check([f])) == 0
}
