package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Error classes. Connectors translate their protocol's result codes into
// these, so that apply can decide what to retry and messages can say what to do.
var (
	ErrExists        = errors.New("already exists")
	ErrNoSuchObject  = errors.New("no such object")
	ErrWeakPassword  = errors.New("password does not meet the domain's policy")
	ErrConstraint    = errors.New("constraint violation")
	ErrAccessDenied  = errors.New("insufficient access rights")
	ErrNotEmpty      = errors.New("object has children")
	ErrInvalidSyntax = errors.New("invalid attribute value")
	ErrAuth          = errors.New("invalid credentials")
	// ErrUnavailable is transient: busy, unavailable, timed out, connection lost.
	ErrUnavailable = errors.New("directory unavailable")
	// ErrUnreachable: the connection is gone and dialling again failed, or
	// the server cannot be found. Not transient: a run stops at it instead
	// of trying every change against a dead connection.
	ErrUnreachable = errors.New("directory unreachable")
	// ErrChanged: the object is no longer the one the plan was made from
	// (replaced, or its ownership marker changed): nothing was written.
	ErrChanged = errors.New("object changed since it was read")
)

// Error is one failed directory operation.
type Error struct {
	Op     string // "add", "modify", "modrdn", "delete", "search", "bind"
	DN     string
	Class  error  // one of the Err* classes, or nil when unclassified
	Detail string // the server's own words
	Hint   string // what to do about it
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Op, e.DN)
	if e.Class != nil {
		fmt.Fprintf(&b, ": %v", e.Class)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Class }

// Transient reports whether an error is worth retrying.
func Transient(err error) bool { return errors.Is(err, ErrUnavailable) }

// Fatal reports whether an error ends a run: the directory cannot be
// reached, or refuses alm's bind. Every change after it would meet it
// too (and bind after bind could lock the bind account out).
func Fatal(err error) bool { return errors.Is(err, ErrUnreachable) || errors.Is(err, ErrAuth) }
