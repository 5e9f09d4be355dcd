package audit_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/audittest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The generated history is the same every time (fixed contents, authors
// and dates), so its commit hashes, and the rendered output, are too.
func TestRenderGolden(t *testing.T) {
	h := audittest.New(t)
	a := open(t, h, true)
	ctx := context.Background()
	tl, err := a.Account(ctx, "000005")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := a.At(ctx, audittest.Day(10, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Diff(ctx, audittest.Day(1, 20), audittest.Day(10, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := a.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"account.txt", func(b *bytes.Buffer) error { return audit.WriteTimeline(b, tl, audit.FormatText) }},
		{"account.csv", func(b *bytes.Buffer) error { return audit.WriteTimeline(b, tl, audit.FormatCSV) }},
		{"access.txt", func(b *bytes.Buffer) error { return audit.WriteAccess(b, acc, audit.FormatText) }},
		{"access.csv", func(b *bytes.Buffer) error { return audit.WriteAccess(b, acc, audit.FormatCSV) }},
		{"diff.txt", func(b *bytes.Buffer) error { return audit.WriteDiff(b, d, audit.FormatText) }},
		{"diff.csv", func(b *bytes.Buffer) error { return audit.WriteDiff(b, d, audit.FormatCSV) }},
		{"diff.json", func(b *bytes.Buffer) error { return audit.WriteDiff(b, d, audit.FormatJSON) }},
		{"verify.txt", func(b *bytes.Buffer) error { return audit.WriteExceptions(b, x, audit.FormatText) }},
		{"verify.json", func(b *bytes.Buffer) error { return audit.WriteExceptions(b, x, audit.FormatJSON) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s differs from %s:\n%s", tt.file, path, b.String())
			}
		})
	}
	if err := audit.WriteDiff(&bytes.Buffer{}, d, "yaml"); err == nil {
		t.Error("format yaml accepted")
	}
}
