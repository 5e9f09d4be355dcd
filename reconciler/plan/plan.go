// Package plan computes what must change in the directory to make it match
// the desired state, and checks the result against the guards before
// anything is written. Diff and Guard are pure functions; rendering lives in
// reconciler/plan/render and writing in reconciler/apply.
//
// A Plan is also an artifact: `alm plan --out plan.json` saves it as JSON
// (this package's struct tags are that format, described in
// docs/plan-json.md) and `alm apply --plan plan.json` reads it back with Decode.
package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/notify"
)

// FormatVersion is the version of the plan's JSON form. It changes only
// when a field changes meaning or goes away; new fields do not change it.
const FormatVersion = 1

// Action is what one change does.
type Action string

const (
	Adopt         Action = "adopt"          // write alm's marker on an existing account a file adopts, and nothing else
	CreateOU      Action = "create-ou"      // create a managed OU that does not exist
	CreateGroup   Action = "create-group"   // create a group a role names that does not exist, with alm's marker
	RenameGroup   Action = "rename-group"   // give a group alm created the new name a role gives it (cn and sAMAccountName)
	Create        Action = "create"         // create an account, disabled, with a random password, in one add
	SetPassword   Action = "set-password"   // give a half-made account the random password it never got
	Update        Action = "update"         // set attributes (and userAccountControl flags)
	Move          Action = "move"           // a new DN under the same name
	Rename        Action = "rename"         // a new name: one modrdn plus sAMAccountName, userPrincipalName, mail
	AddMember     Action = "add-member"     // add the account to a group
	Enable        Action = "enable"         // clear the disable bit
	RemoveMember  Action = "remove-member"  // remove the account from a group
	Disable       Action = "disable"        // set the disable bit
	DisableOrphan Action = "disable-orphan" // disable an unmanaged account, where alm.yaml says so
	Delete        Action = "delete"         // delete the account
)

// Phase is the action's place in the safe order apply follows: adoptions
// (a marker, nothing else) and what takes access away first (removals from
// privileged groups, disables, other removals, deletes), then what prepares
// (OUs, groups, creates - disabled, with a password -, repairs,
// attributes, moves and renames), and what grants last (group additions,
// then enables). A run stopped at any point leaves access reduced rather
// than widened.
func (a Action) Phase() int {
	switch a {
	case Adopt:
		return 0
	case CreateGroup:
		return 4
	case RenameGroup:
		return 8
	case RemoveMember:
		return 2
	case Disable, DisableOrphan:
		return 1
	case Delete:
		return 3
	case CreateOU:
		return 4
	case Create:
		return 5
	case SetPassword:
		return 6
	case Update:
		return 7
	case Move, Rename:
		return 8
	case AddMember:
		return 9
	case Enable:
		return 10
	}
	return 11
}

// Phase is the change's place in apply's order: its action's, except that
// a removal from a privileged group goes before everything else.
func (c *Change) Phase() int {
	if c.Action == RemoveMember && c.Privileged != "" {
		return 0
	}
	return c.Action.Phase()
}

// AttrChange is one attribute's value before and after. userAccountControl
// travels as an attribute too (decimal), though apply writes it apart.
type AttrChange struct {
	Name  string `json:"name"`
	Old   string `json:"old"`
	New   string `json:"new"`
	Field string `json:"field,omitempty"` // the file's field that sets it
	Drift bool   `json:"drift,omitempty"`
}

// Change is one write to the directory, with its reason.
type Change struct {
	// ID is stable across runs for the same change: action, account id, and
	// the group or OU it concerns.
	ID        string `json:"id"`
	Action    Action `json:"action"`
	AccountID string `json:"accountID,omitempty"` // metadata.id; empty for OUs and orphans
	Account   string `json:"account,omitempty"`   // the login the files give it (an orphan's own)
	Kind      string `json:"kind,omitempty"`      // Person or ServiceAccount
	File      string `json:"file,omitempty"`      // the account's file
	// Marker is the ownership marker: the value matched in the directory,
	// or for a create the value to write.
	Marker string `json:"marker,omitempty"`
	// DN is the account's DN when the plan was made (for a create, the DN
	// to create); NewDN is where a move or rename puts it. Changes after a
	// move find the account at its new DN.
	DN    string `json:"dn"`
	NewDN string `json:"newDN,omitempty"`
	// GUID is the account's objectGUID as read (empty for an account this
	// run creates): writes address the object read, never another that
	// took its DN since.
	GUID       string       `json:"guid,omitempty"`
	Attributes []AttrChange `json:"attributes,omitempty"`
	Group      string       `json:"group,omitempty"`     // the group's DN, for add-member and remove-member
	GroupGUID  string       `json:"groupGUID,omitempty"` // the group's objectGUID as read
	GroupName  string       `json:"groupName,omitempty"` // as the role names it, or the group's own name
	// GroupMarker is the marker of the group, read, on a removal of a
	// member alm does not manage from a group alm created: the group's
	// marker is what allows it.
	GroupMarker string `json:"groupMarker,omitempty"`
	// Privileged says why the group of a remove-member is privileged; such
	// removals go first.
	Privileged string `json:"privileged,omitempty"`
	// Drift: the files asked for the same thing at the last apply, so the
	// directory was changed outside alm since (or the last apply of this
	// change failed). See Options.Previous.
	Drift  bool           `json:"drift"`
	Reason desired.Reason `json:"reason"`
	// DependsOn lists changes that must apply first; when one does not,
	// this one is skipped.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Attribute returns the change's attribute of that name.
func (c *Change) Attribute(name string) (AttrChange, bool) {
	for _, a := range c.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return AttrChange{}, false
}

// Finding kinds.
const (
	FindingUnmanagedMembership = "unmanaged-membership" // a membership no role names, reported (unmanagedMemberships: report)
	FindingNameTaken           = "name-taken"           // a create cannot happen: the login is another object's
	FindingDNTaken             = "dn-taken"             // a create, move or rename cannot happen: the DN is another object's
	FindingMissingGroup        = "missing-group"        // a group a role names does not exist
	FindingAdminCount          = "admin-count"          // adminCount=1 left behind on a managed account
	FindingHalfMade            = "half-made"            // an account alm made that never got a password
	FindingDuplicateMarker     = "duplicate-marker"     // two objects carry the marker of one id
	FindingStrayMarker         = "stray-marker"         // an object carries the marker of an id no file has
	FindingProtectedMarked     = "protected-marked"     // a protected or built-in account carries alm's marker
	FindingUnprivilegedGrant   = "unprivileged-grant"   // a role not marked privileged names a privileged group
	FindingAdoptRefused        = "adopt-refused"        // a file adopts an account alm may not or cannot take
	FindingGroupRename         = "group-rename"         // a group a role renamed is one alm did not create
	FindingProtectedMember     = "protected-member"     // a protected account in a group alm created: left there
	FindingUnreadMember        = "unread-member"        // a member of a group alm created that alm does not read: left there
	FindingAdoption            = "adoption"             // an account adopted in this run: what the next plan will change
	// FindingPrivilegedPrimaryGroup: a managed account's primary group is
	// privileged, a membership no member attribute shows.
	FindingPrivilegedPrimaryGroup = "privileged-primary-group"
)

// Finding is something that leaves the directory different from what Git
// says and that this plan does not (or not only by itself) put right: the
// plan says "No changes" only when there are none. A finding a change of
// the plan repairs names it in RepairedBy.
type Finding struct {
	ID         string `json:"id"` // stable across runs: kind and what it is about
	Kind       string `json:"kind"`
	Account    string `json:"account,omitempty"`
	AccountID  string `json:"accountID,omitempty"`
	File       string `json:"file,omitempty"`
	DN         string `json:"dn,omitempty"`
	Group      string `json:"group,omitempty"`
	Text       string `json:"text"` // what differs
	Fix        string `json:"fix"`  // what to do about it
	RepairedBy string `json:"repairedBy,omitempty"`
}

// Orphan is an account in a managed OU that alm does not own.
type Orphan struct {
	DN      string `json:"dn"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Action  string `json:"action"` // "report", or "disable" when the plan disables it
	Reason  string `json:"reason"`
}

// Plan is everything to change, in the order to change it.
type Plan struct {
	FormatVersion  int       `json:"formatVersion"`
	Revision       string    `json:"revision"`       // the access repository's commit
	DirectoryState string    `json:"directoryState"` // the snapshot's state token
	Now            time.Time `json:"now"`
	BaseDN         string    `json:"baseDN"`
	// Managed counts the accounts in the directory that carry alm's marker:
	// the base of the limits' fractions.
	Managed int `json:"managedAccounts"`
	// DriftKnown says whether the plan was made knowing the last applied
	// state; when false no change is marked as drift.
	DriftKnown bool              `json:"driftKnown"`
	Changes    []Change          `json:"changes"`
	Findings   []Finding         `json:"findings"`
	Orphans    []Orphan          `json:"orphans"`
	Warnings   []desired.Warning `json:"warnings"`
	// Notices are the messages due that an apply would send (end-of-life
	// notices not yet sent on every channel alm.yaml configures). Diff
	// does not compute them: the reconciler adds them from the files, the
	// time and the ledger on the status branch.
	Notices []notify.Message `json:"notices"`
	// Rotations are the service accounts whose password an apply rotates
	// (their template's rotateEvery has passed), added by the reconciler.
	Rotations []Rotation `json:"rotations,omitempty"`
}

// Rotation is a password an apply sets anew, sealed to its reader.
type Rotation struct {
	Account string    `json:"account"`
	File    string    `json:"file"`
	DueAt   time.Time `json:"dueAt"`
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Matches reports whether the directory matches the access repository:
// nothing to change and nothing found that differs.
func (p *Plan) Matches() bool { return len(p.Changes) == 0 && len(p.Findings) == 0 }

// Remaining returns the findings no applied change repaired: applied holds
// the IDs of the changes that applied.
func (p *Plan) Remaining(applied map[string]bool) []Finding {
	out := []Finding{}
	for _, f := range p.Findings {
		if f.RepairedBy == "" || !applied[f.RepairedBy] {
			out = append(out, f)
		}
	}
	return out
}

// Summary counts a plan's changes by kind.
type Summary struct {
	Create       int // accounts, OUs and groups
	OUs          int // of which OUs
	Groups       int // of which groups
	Adopt        int // accounts adopted: their marker written
	Update       int
	Move         int
	Rename       int
	AddMember    int
	Enable       int
	RemoveMember int
	Disable      int // accounts and orphans
	Delete       int
	SetPassword  int
	Drift        int // of all the above, changes marked drift
	Findings     int
}

// Summary counts the changes. Create includes OUs; Disable includes orphans.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case CreateOU:
			s.Create++
			s.OUs++
		case Create:
			s.Create++
		case CreateGroup:
			s.Create++
			s.Groups++
		case Adopt:
			s.Adopt++
		case Update:
			s.Update++
		case Move:
			s.Move++
		case Rename, RenameGroup:
			s.Rename++
		case AddMember:
			s.AddMember++
		case Enable:
			s.Enable++
		case RemoveMember:
			s.RemoveMember++
		case Disable, DisableOrphan:
			s.Disable++
		case Delete:
			s.Delete++
		case SetPassword:
			s.SetPassword++
		}
		if c.Drift {
			s.Drift++
		}
	}
	s.Findings = len(p.Findings)
	return s
}

// Decode reads a plan saved as JSON (alm plan --out) and checks that this
// alm can apply it.
func Decode(r io.Reader) (*Plan, error) {
	var p Plan
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan format version %d: this alm reads version %d; make the plan again with this alm", p.FormatVersion, FormatVersion)
	}
	return &p, nil
}
