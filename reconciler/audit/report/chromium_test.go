package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's headless browser. make report-check installs it
// and sets ALM_TEST_CHROMIUM_REQUIRED=1 where it could, so a missing browser
// fails there instead of passing as a skip.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium (or chromium-browser) is not on the PATH: install Debian's package (apt-get install chromium, as make report-check does as root) to open the report in a browser"
	if os.Getenv("ALM_TEST_CHROMIUM_REQUIRED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// artifacts is where the browser test leaves the report, its screenshot and
// its PDF for a person to look at: testdata/artifacts, which Git ignores.
func artifacts(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shown is what the browser made of a report.
type shown struct {
	Grants     []string `json:"grants"`
	Removals   []string `json:"removals"`
	Exceptions []string `json:"exceptions"`
	Overdue    []string `json:"overdue"`
	Done       []string `json:"done"`
	Summary    []string `json:"summary"`
	Charts     []int    `json:"charts"`   // each chart line's drawn length
	Scripts    int      `json:"scripts"`  // script elements in the DOM
	Overflow   bool     `json:"overflow"` // wider than the window
}

// readPage runs in the page (through DevTools, which the page's CSP does not
// govern): the text of each table row, cells joined by " | ".
const readPage = `(() => {
  const rows = sel => [...document.querySelectorAll(sel + ' tbody tr')]
    .map(tr => [...tr.cells].map(td => td.innerText.replace(/\s+/g, ' ').trim()).join(' | '));
  return {
    grants: rows('#grants'), removals: rows('#removals'), exceptions: rows('#exceptions'),
    overdue: rows('#reviews-overdue + table'), done: rows('#reviews-done + table'),
    summary: [...document.querySelectorAll('.summary .card')].map(c => c.innerText.replace(/\s+/g, ' ').trim()),
    charts: [...document.querySelectorAll('svg path.line')].map(p => Math.round(p.getTotalLength())),
    scripts: document.scripts.length,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
  };
})()`

// open renders d into dir/name.html, opens it in headless Chromium, and
// returns what the page shows and every console error, warning, fetch or
// dialog the browser reported. It leaves name.png and name.pdf beside it.
func open(t *testing.T, dir, name string, d Data) (shown, []string) {
	t.Helper()
	exe := chromium(t)
	file := filepath.Join(dir, name+".html")
	var buf bytes.Buffer
	if err := Render(&buf, d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var problems []string
	problem := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, a...))
	}
	listen := func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problem("console %s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problem("exception: %s", ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problem("console %s (%s): %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			// The file itself is the only thing the page may load.
			if u := ev.Request.URL; u != "file://"+file {
				problem("fetched %s", u)
			}
		case *page.EventJavascriptDialogOpening:
			problem("a script opened a dialog: %s", ev.Message)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // Chromium refuses its sandbox to root, as tests run in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx, chromedp.WithListener(listen))
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitReady("footer")); err != nil {
		t.Fatalf("open %s in %s: %v", file, exe, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[shown](readPage))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("print %s: %v", file, err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("printing %s gave no PDF", file)
	}
	for ext, b := range map[string][]byte{".png": png, ".pdf": pdf} {
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("report, screenshot and PDF: %s.{html,png,pdf}", filepath.Join(dir, name))
	cancel() // stop the browser before reading what it reported
	mu.Lock()
	defer mu.Unlock()
	return got, slices.Clone(problems)
}

func TestChromium(t *testing.T) {
	got, problems := open(t, artifacts(t), "year", fixture(t))
	for _, p := range problems {
		t.Errorf("the browser reported: %s", p)
	}
	want := shown{
		Grants: []string{
			"2025-02-03 08:15 UTC | jdoe | vpn-users | jdoe | mallen | a1b2c3d4e5f6",
			"2025-03-10 14:02 UTC | asmith | tier0-admins | asmith | mallen, kpatel | b2c3d4e5f607",
			"2025-04-01 06:00 UTC | svc-backup | backup-operators | rroe | kpatel | c3d4e5f60718",
			"2025-05-02 09:00 UTC | kcole | contractors | mallen | hr-lead | e5f60718293a",
			"2025-06-16 07:45 UTC | jdoe | finance-ro department Sales -> Finance | mallen | kpatel | d4e5f6071829",
			"not applied | bwayne | vpn-users | bwayne | mallen | f60718293a4b",
		},
		Removals: []string{
			"2025-06-16 07:45 UTC | jdoe | sales-ro department Sales -> Finance | mallen | kpatel | d4e5f6071829",
			"2025-10-01 00:05 UTC | kcole | contractors expired 2025-09-30 | none | none | none",
			"2025-11-20 10:30 UTC | svc-legacy | backup-operators retired | rroe | kpatel | 0718293a4b5c",
		},
		Exceptions: []string{
			"2025-08-14 22:41 UTC | direct push | 9e8d7c6b5a4f | ops-bot | people/asmith.yaml: roles + helpdesk, pushed to main without a pull request",
			"2025-09-02 03:00 UTC | drift | none | unknown | helpdesk-2 added to tier0-admins in the directory by hand; reverted by the next run",
		},
		Overdue: []string{"jdoe | kpatel | 2025-12-01 | 30 days"},
		Done: []string{
			"asmith | mallen | 2025-06-10 | 2025-06-05",
			"svc-backup | kpatel | 2025-07-01 | 2025-07-15 (14 days late)",
		},
		Summary: []string{"6 access granted", "3 access removed", "2 exceptions", "2 reviews done", "1 reviews overdue"},
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"grants", got.Grants, want.Grants},
		{"removals", got.Removals, want.Removals},
		{"exceptions", got.Exceptions, want.Exceptions},
		{"overdue reviews", got.Overdue, want.Overdue},
		{"reviews done", got.Done, want.Done},
		{"summary", got.Summary, want.Summary},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("the page shows these %s:\n  %s\nwant:\n  %s", c.name, strings.Join(c.got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
	if len(got.Charts) != 2 || got.Charts[0] == 0 || got.Charts[1] == 0 {
		t.Errorf("chart lines drawn %v long, want two lines of some length", got.Charts)
	}
	if got.Overflow {
		t.Error("the page is wider than a 1100-pixel window")
	}
}

// TestChromiumEscaping: names that are markup show as text in a browser, and
// nothing in them runs.
func TestChromiumEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Data{
		From: at.AddDate(0, -1, 0), To: at.AddDate(0, 1, 0), GeneratedAt: at,
		Grants:     []Access{{Account: evil, Group: `<img src=x onerror=alert(2)>`, Applied: at, Commit: `" onmouseover="alert(3)`, Requester: evil, Approvers: []string{evil}}},
		Exceptions: []Exception{{Kind: "direct push", When: at, Commit: "c0ffee", Author: evil, What: "</td></tr></table>" + evil}},
	}
	got, problems := open(t, t.TempDir(), "escaping", d)
	for _, p := range problems {
		t.Errorf("the browser reported: %s", p)
	}
	if got.Scripts != 0 {
		t.Errorf("the DOM holds %d script elements", got.Scripts)
	}
	wantGrant := `2025-03-01 12:00 UTC | <script>alert(1)</script> | <img src=x onerror=alert(2)> | <script>alert(1)</script> | <script>alert(1)</script> | " onmouseove`
	if !slices.Equal(got.Grants, []string{wantGrant}) {
		t.Errorf("grants shown as %q, want %q", got.Grants, wantGrant)
	}
	wantException := `2025-03-01 12:00 UTC | direct push | c0ffee | <script>alert(1)</script> | </td></tr></table><script>alert(1)</script>`
	if !slices.Equal(got.Exceptions, []string{wantException}) {
		t.Errorf("exceptions shown as %q, want %q", got.Exceptions, wantException)
	}
}
