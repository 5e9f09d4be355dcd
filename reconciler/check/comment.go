package check

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// limitWhy says why a comment leaves things out.
const limitWhy = "GitHub keeps at most 65,536 characters in a comment"

// part is a piece of a comment: text shown whole, or the rows of a list
// or table that are cut when the comment would be too long.
type part struct {
	text string
	rows []string // each ends in "\n"
	// first marks rows kept before the others when not all fit; nil: none.
	first []bool
	// cut words the line that says how many rows were left out and where
	// they are; its length must not grow as left shrinks.
	cut func(left, total int) string
}

func whole(s string) part { return part{text: s} }

// fit joins the parts into at most limit-1 bytes. Text is always shown;
// when the rows do not all fit, the room left is shared among the lists,
// each getting at most an equal share of what the shorter ones leave, and
// each cut list ends with its cut line.
func fit(parts []part, limit int) string {
	room := limit - 1
	var lists []int // indexes of the parts with rows
	var demand []int
	total := 0
	for i, p := range parts {
		if p.cut == nil {
			room -= len(p.text)
			continue
		}
		room -= len(p.text) + len(p.cut(len(p.rows), len(p.rows)))
		n := 0
		for _, r := range p.rows {
			n += len(r)
		}
		lists = append(lists, i)
		demand = append(demand, n)
		total += n
	}
	share := demand
	if total > room {
		share = shares(max(room, 0), demand)
	}
	var b strings.Builder
	next := 0
	for i, p := range parts {
		b.WriteString(p.text)
		if p.cut == nil {
			continue
		}
		budget := share[next]
		next++
		if budget >= demand[next-1] {
			for _, r := range p.rows {
				b.WriteString(r)
			}
			continue
		}
		keep := choose(p, budget)
		left := 0
		for j, r := range p.rows {
			if keep[j] {
				b.WriteString(r)
			} else {
				left++
			}
		}
		b.WriteString(parts[i].cut(left, len(p.rows)))
	}
	out := b.String()
	if len(out) >= limit {
		// Text alone too long: cannot happen with the clipped text the
		// renderers give, but the limit holds in all cases.
		out = clip(out, limit-200) + "\n\n*… cut: " + limitWhy + ".*\n"
	}
	return out
}

// shares divides room among demands: the smaller ones get all they ask,
// the rest equal parts of what remains.
func shares(room int, demand []int) []int {
	order := make([]int, len(demand))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return demand[a] - demand[b] })
	out := make([]int, len(demand))
	for k, i := range order {
		out[i] = min(demand[i], room/(len(order)-k))
		room -= out[i]
	}
	return out
}

// choose picks the rows that fit in budget: the first-marked rows, then
// the others, each in order, skipping any that no longer fits.
func choose(p part, budget int) []bool {
	keep := make([]bool, len(p.rows))
	for _, pass := range []bool{true, false} {
		for j, r := range p.rows {
			isFirst := p.first != nil && p.first[j]
			if isFirst != pass || len(r) > budget {
				continue
			}
			keep[j] = true
			budget -= len(r)
		}
	}
	return keep
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:max(n, 0)] + "…"
}
