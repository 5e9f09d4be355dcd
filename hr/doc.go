// Package hr turns an HR export into changes of the access repository:
// joiners (new files, pending until they start), movers, leavers, renames,
// rehires and contractors' end dates, for the people whose files say
// source: hr. HR's row is authoritative for the fields its export has a
// column for; every other byte of a file (roles, keys, notes, comments,
// layout) is kept. Rows that cannot be carried out are reported with their
// line and column and skipped; an export that leaves out or changes more
// people than the mapping's limits is refused whole. The changes reach the
// repository as one pull request (Deliver, through a small Host interface
// connectors/github implements), updated while it is open, or as files in
// a working tree (Write), so they go through alm check's approvals and the
// audit trail like any other change.
package hr
