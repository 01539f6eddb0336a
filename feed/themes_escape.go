package feed

import "strings"

// latexEscaper escapes the characters LaTeX treats as commands in running
// text, and < > | which print as other glyphs in the default OT1 font
// encoding. Everything else, accents included, stays as UTF-8 (inputenc
// reads UTF-8 by default since LaTeX 2018).
var latexEscaper = strings.NewReplacer(
	`\`, `\textbackslash{}`,
	`&`, `\&`,
	`%`, `\%`,
	`$`, `\$`,
	`#`, `\#`,
	`_`, `\_`,
	`{`, `\{`,
	`}`, `\}`,
	`~`, `\textasciitilde{}`,
	`^`, `\textasciicircum{}`,
	`<`, `\textless{}`,
	`>`, `\textgreater{}`,
	`|`, `\textbar{}`,
)

// escapeLaTeX makes s print as itself in LaTeX running text.
func escapeLaTeX(s string) string { return latexEscaper.Replace(s) }

// markdownEscaper escapes the characters that start inline markup in
// CommonMark and GitHub Flavored Markdown (emphasis, code, links, HTML,
// strikethrough, tables).
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`,
	"`", "\\`",
	`*`, `\*`,
	`_`, `\_`,
	`[`, `\[`,
	`]`, `\]`,
	`<`, `\<`,
	`>`, `\>`,
	`~`, `\~`,
	`|`, `\|`,
)

// escapeMarkdown makes s, one line, read as itself in a list item: inline
// markup is escaped, and so is a start that would open a block (heading,
// nested list, quote).
func escapeMarkdown(s string) string {
	s = markdownEscaper.Replace(s)
	switch {
	case s == "":
		return s
	case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "+"), strings.HasPrefix(s, "-"):
		return `\` + s
	}
	// "2021. Bilan" or "1) Intro" would open an ordered list.
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return s[:i] + `\` + s[i:]
	}
	return s
}
