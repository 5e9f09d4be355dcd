package schemas

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/model"
)

const examples = "../examples/acme"

// Every file of the example repository validates against its kind's schema,
// names that schema for editors, is named after its object, and decodes into
// the model's types with no field left over.
func TestExamples(t *testing.T) {
	s := mustCompile(t)
	kindOfFolder := map[string]string{}
	for kind, folder := range model.Folders {
		kindOfFolder[folder] = kind
	}
	seen := map[string]int{}
	err := filepath.WalkDir(examples, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, examples+string(filepath.Separator)))
		if d.IsDir() {
			// policies/ and .github/ hold Rego and CI files, which no schema covers.
			if rel == "policies" || rel == ".github" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".yaml") && !strings.HasSuffix(rel, ".yml") {
			return nil
		}
		wantKind := model.KindDirectory
		if rel != model.DirectoryFile {
			wantKind = kindOfFolder[path.Dir(rel)]
		}
		seen[wantKind]++
		t.Run(rel, func(t *testing.T) {
			if wantKind == "" {
				t.Fatalf("%s is in no folder of the access repository layout", rel)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkSchemaComment(t, p, rel, data, wantKind)

			var n yaml.Node
			if err := yaml.Unmarshal(data, &n); err != nil {
				t.Fatalf("parse: %v", err)
			}
			doc, _ := FromYAML(&n).(map[string]any)
			if doc["kind"] != wantKind {
				t.Errorf("kind is %v, want %s", doc["kind"], wantKind)
			}
			for _, v := range s.Validate(wantKind, doc) {
				t.Errorf("%s: %s", strings.Join(v.Pointer, "/"), v.Message)
			}
			meta, _ := doc["metadata"].(map[string]any)
			if want := strings.TrimSuffix(path.Base(rel), ".yaml"); rel != model.DirectoryFile && meta["name"] != want {
				t.Errorf("metadata.name is %v, want %s (files are named after their object)", meta["name"], want)
			}
			decodeModel(t, data, wantKind)
		})
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", examples, err)
	}
	for kind, least := range map[string]int{model.KindDirectory: 1, model.KindWorkflowTemplate: 3, model.KindPerson: 12, model.KindServiceAccount: 6, model.KindRole: 6} {
		if seen[kind] < least {
			t.Errorf("%d files of kind %s, want at least %d", seen[kind], kind, least)
		}
	}
}

// checkSchemaComment wants the first line to point the YAML language server
// at the kind's schema, by a relative path that exists.
func checkSchemaComment(t *testing.T, p, rel string, data []byte, kind string) {
	t.Helper()
	first, _, _ := bytes.Cut(data, []byte("\n"))
	ref, ok := strings.CutPrefix(string(first), "# yaml-language-server: $schema=")
	if !ok {
		t.Errorf("first line is %q, want a yaml-language-server $schema comment", first)
		return
	}
	want := strings.Repeat("../", strings.Count(rel, "/")+2) + "schemas/" + fileOf[kind]
	if ref != want {
		t.Errorf("$schema is %s, want %s", ref, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(ref))); err != nil {
		t.Errorf("$schema %s: %v", ref, err)
	}
}

func decodeModel(t *testing.T, data []byte, kind string) {
	t.Helper()
	var v any
	switch kind {
	case model.KindDirectory:
		v = &model.Directory{}
	case model.KindWorkflowTemplate:
		v = &model.WorkflowTemplate{}
	case model.KindPerson:
		v = &model.Person{}
	case model.KindServiceAccount:
		v = &model.ServiceAccount{}
	case model.KindRole:
		v = &model.Role{}
	}
	// The model's types hold no apiVersion or kind: decode the rest strictly.
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "apiVersion")
	delete(doc, "kind")
	rest, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(rest))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Errorf("decode into model.%s: %v", kind, err)
	}
}
