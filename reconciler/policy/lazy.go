package policy

import (
	"context"
	"strconv"

	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"
)

// A check reads a handful of the repository's people and service accounts:
// the approvers, the owners and managers of what changed. Converting all of
// them into OPA's values up front was most of a check's time and memory at
// 100,000 people, so the store keeps each person's and service account's
// document as its Go value. OPA converts one (through JSON, as jsonValue
// does) the first time a rule reads it; a rule that walks every person
// still sees every one, converted then.

// document is a person's or service account's document as the store holds
// it, unconverted.
type document interface{ document() }

func (personDoc) document()  {}
func (accountDoc) document() {}

// storeValue is d as the store holds it: JSON-shaped but for the people and
// service accounts, which stay documents.
func storeValue(d Data) map[string]any {
	people, accounts, logins, emails := d.People, d.ServiceAccounts, d.Logins, d.Emails
	d.People, d.ServiceAccounts, d.Logins, d.Emails = nil, nil, nil, nil
	out := jsonValue(d)
	out["people"] = documents(people)
	out["serviceAccounts"] = documents(accounts)
	out["logins"] = stringsValue(logins)
	out["emails"] = stringsValue(emails)
	return out
}

func documents[T document](docs map[string]T) any {
	if docs == nil {
		return nil // as jsonValue gives a nil map
	}
	out := make(map[string]any, len(docs))
	for name, doc := range docs {
		out[name] = doc
	}
	return out
}

func stringsValue(m map[string]string) any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lazyStore is OPA's in-memory store, able to read a path into a document
// it holds unconverted (data.alm.base.people.asmith.roles, read as one
// path when a rule names it whole).
type lazyStore struct {
	storage.Store
}

func newLazyStore(data map[string]any) lazyStore {
	// The values are JSON-shaped or documents, and nothing changes them
	// after: the store need not round-trip them through JSON.
	return lazyStore{inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false))}
}

func (s lazyStore) Read(ctx context.Context, txn storage.Transaction, path storage.Path) (any, error) {
	v, err := s.Store.Read(ctx, txn, path)
	if err == nil || !storage.IsNotFound(err) {
		return v, err
	}
	// The in-memory store stops at a document: find it, convert it, and
	// read the rest of the path in its JSON form.
	for i := len(path) - 1; i > 0; i-- {
		doc, derr := s.Store.Read(ctx, txn, path[:i])
		if derr != nil {
			continue
		}
		if _, ok := doc.(document); !ok {
			return nil, err
		}
		var value any = doc
		if rerr := util.RoundTrip(&value); rerr != nil {
			return nil, rerr
		}
		if found, ok := walk(value, path[i:]); ok {
			return found, nil
		}
		return nil, err
	}
	return nil, err
}

// walk follows a storage path through JSON-shaped values.
func walk(v any, path storage.Path) (any, bool) {
	for _, key := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
