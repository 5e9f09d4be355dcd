// Package ad reads and writes Active Directory user and group objects over
// LDAPS with go-ldap, for the reconciler: one paged read of the managed OUs
// into a directory.Snapshot, and one method for each kind of change. Every
// LDAP failure comes back as a *directory.Error saying what to do.
package ad
