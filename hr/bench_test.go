package hr

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"
	"testing/fstest"

	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// export is HR's export of synthetic.Files(n)'s people as they are, except
// one in a hundred moved to another department, one in a thousand leaving,
// and joiners (a hundredth of n) appended.
func export(n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,givenName,surname,email,type,department,title,manager,startDate,endDate\n")
	departments := []string{"Engineering", "Sales", "Finance", "Support"}
	for i := range n {
		typ, end := "employee", ""
		switch {
		case i%10 == 9:
			typ, end = "contractor", "2027-01-31"
		case i%50 == 7:
			end = "2026-04-10"
		case i%1000 == 11:
			end = "2026-12-31" // a leaver
		}
		start := "2024-01-08"
		if i%100 == 3 {
			start = "2026-05-05"
		}
		manager := ""
		if i > 0 {
			manager = fmt.Sprintf("%06d", 100000+(i-1)/8)
		}
		dept := departments[i%len(departments)]
		if i%100 == 5 {
			dept = "Operations" // a mover
		}
		fmt.Fprintf(&b, "%06d,Given%d,Surname%d,%s@example.test,%s,%s,Engineer,%s,%s,%s\n",
			100000+i, i, i, synthetic.PersonName(i), typ, dept, manager, start, end)
	}
	for j := range n / 100 {
		fmt.Fprintf(&b, "J%06d,Néw,Jöiner%d,,employee,Sales,Engineer,100000,2027-01-04,\n", j, j)
	}
	return b.Bytes()
}

// BenchmarkSync: an export of 50,000 people plus 500 joiners against a
// repository of the same 50,000. Floors measured in the same run: reading
// the CSV with encoding/csv alone, and loading the repository (what any
// alm command pays first). Sync reads and parses the export, works out
// every change, and edits the files changed (in memory).
func BenchmarkSync(b *testing.B) {
	const n = 50000
	files, err := synthetic.Files(n)
	if err != nil {
		b.Fatal(err)
	}
	mem := fstest.MapFS{}
	for p, content := range files {
		mem[p] = &fstest.MapFile{Data: []byte(content)}
	}
	data := export(n)
	repo, problems, err := load.FS(mem, "")
	if err != nil || len(problems) > 0 {
		b.Fatalf("load: %v %v", err, problems)
	}
	m := Default()
	m.Columns.Login = ""
	m.Limits.Changes.Share = 1
	b.Run("floor=csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			rows := 0
			for {
				if _, err := r.Read(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
				rows++
			}
			if rows != n+n/100+1 {
				b.Fatalf("%d rows", rows)
			}
		}
	})
	b.Run("floor=load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := load.FS(mem, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res := syncOnce(b, repo, mem, data, m)
			if res.Count(Joiner) != n/100 || res.Count(Mover) != n/100 || res.Count(Leaver) != n/1000 || len(res.Bad) != 0 || res.Refused != "" {
				b.Fatalf("%s (refused %q, first bad %v)", res.Summary(), res.Refused, res.Bad)
			}
		}
	})
}

func syncOnce(b *testing.B, repo *model.Repository, fsys fstest.MapFS, data []byte, m Mapping) *Result {
	x, err := Read("export.csv", bytes.NewReader(data), m)
	if err != nil {
		b.Fatal(err)
	}
	res, err := Sync(repo, fsys, x, Options{Mapping: m, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return res
}
