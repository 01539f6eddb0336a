package feed

import (
	"strings"
	"testing"
)

func TestRenderNotes(t *testing.T) {
	tests := []struct {
		name, md string
		want     string   // exact HTML, when not empty
		has      []string // substrings the HTML must hold
		hasNot   []string // substrings it must not hold
	}{
		{name: "empty", md: "", want: ""},
		{name: "blank", md: " \n\t\n", want: ""},
		{name: "only forbidden characters", md: "\x01\uFFFE", want: ""},
		{name: "paragraph", md: "Bonjour *à* **tous** & ~~personne~~", want: "<p>Bonjour <em>à</em> <strong>tous</strong> &amp; <del>personne</del></p>"},
		{name: "link", md: "[Picasoft](https://picasoft.net)", want: `<p><a href="https://picasoft.net" rel="nofollow">Picasoft</a></p>`},
		{name: "bare URL", md: "voir https://picasoft.net", has: []string{`<a href="https://picasoft.net" rel="nofollow">`}},
		{name: "list", md: "- un\n- deux", want: "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"},
		{name: "script", md: "a<script>alert(1)</script>b", hasNot: []string{"script", "alert"}},
		{name: "script block", md: "<script>\nalert(1)\n</script>", want: ""},
		{name: "javascript link", md: "[x](javascript:alert(1))", hasNot: []string{"javascript", "href"}},
		{name: "javascript link mixed case", md: "[x](JaVaScRiPt:alert(1))", hasNot: []string{"avascript", "href"}},
		{name: "javascript entity", md: `<a href="&#106;avascript:alert(1)">x</a>`, hasNot: []string{"avascript", "href"}},
		{name: "data link", md: "[x](data:text/html;base64,PHNjcmlwdD4=)", hasNot: []string{"data:", "href"}},
		{name: "event handler", md: `<p onclick="alert(1)" onmouseover="x()">p</p>`, want: "<p>p</p>"},
		{name: "image", md: "![pixel](https://tracker.example/p.gif)", hasNot: []string{"<img", "tracker"}},
		{name: "iframe", md: `<iframe src="https://evil.example"></iframe>`, hasNot: []string{"iframe", "evil"}},
		{name: "style", md: `<style>body{}</style><b style="color:red">b</b>`, hasNot: []string{"style", "body{}"}},
		{name: "mailto", md: "<radio@picasoft.net>", has: []string{`href="mailto:radio@picasoft.net"`}},
		{name: "code", md: "`a < b && c`", want: "<p><code>a &lt; b &amp;&amp; c</code></p>"},
		{name: "cdata end", md: "fin ]]> ici", hasNot: []string{"]]>"}},
		{name: "control chars", md: "a\x01b\uFFFEc\x7f", want: "<p>abc\x7f</p>"},
		{name: "emoji and accents", md: "Été 🎙️ Zoé", want: "<p>Été 🎙️ Zoé</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RenderNotes(tt.md)
			if tt.want != "" || (tt.has == nil && tt.hasNot == nil) {
				if got != tt.want {
					t.Errorf("RenderNotes(%q): got %q, want %q", tt.md, got, tt.want)
				}
			}
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("RenderNotes(%q): got %q, want it to contain %q", tt.md, got, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(strings.ToLower(got), strings.ToLower(s)) {
					t.Errorf("RenderNotes(%q): got %q, want no %q", tt.md, got, s)
				}
			}
			if again := RenderNotes(tt.md); again != got {
				t.Errorf("RenderNotes(%q) twice: got %q then %q", tt.md, got, again)
			}
		})
	}
}

func TestPlainNotes(t *testing.T) {
	tests := []struct{ md, want string }{
		{"", ""},
		{"Bonjour *à* tous & co.", "Bonjour à tous & co."},
		{"Un.\n\nDeux.", "Un.\n\nDeux."},
		{"- un\n- deux\n\nfin", "- un\n- deux\n\nfin"},
		{"[Picasoft](https://picasoft.net) et https://april.org", "Picasoft (https://picasoft.net) et https://april.org"},
		{"Écrire à <radio@picasoft.net>.", "Écrire à radio@picasoft.net."},
		{"# Titre\n\ntexte", "Titre\n\ntexte"},
		{"a<script>alert(1)</script>b", "ab"},
		{"`a < b`", "a < b"},
	}
	for _, tt := range tests {
		if got := PlainNotes(tt.md); got != tt.want {
			t.Errorf("PlainNotes(%q): got %q, want %q", tt.md, got, tt.want)
		}
	}

	long := strings.Repeat("mot ", 2000)
	got := PlainNotes(long)
	if n := len([]rune(got)); n > maxDescription || !strings.HasSuffix(got, "mot…") {
		t.Errorf("PlainNotes of 8,000 characters: got %d characters ending %q, want at most %d ending with \"mot…\"", n, got[len(got)-10:], maxDescription)
	}
}

func TestXMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
		{"a\x00b\x01c\x1fd", "abcd"},
		{"a\uFFFEb\uFFFFc", "abc"},
		{"a\uFFFDb", "a\uFFFDb"}, // a real replacement character stays
		{"a\xffb\xc3", "ab"},     // invalid UTF-8 goes
		{"été 🎙️ \U0010FFFD", "été 🎙️ \U0010FFFD"},
	}
	for _, tt := range tests {
		if got := xmlText(tt.in); got != tt.want {
			t.Errorf("xmlText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNotesForeignContentKeepsText: a <style> inside <math> or <svg>, even
// never closed, loses neither the text after it nor the next paragraphs,
// and lets no style or script through.
func TestNotesForeignContentKeepsText(t *testing.T) {
	for _, md := range []string{
		"Avant <math><style>p{}</math> après.\n\nSuite.",
		"Avant <math><mi>x</mi><style>.a{}</style></math> après.\n\nSuite.",
		"Avant <svg><style>x{}</svg> après.\n\nSuite.",
	} {
		got := RenderNotes(md)
		if !strings.Contains(got, "après.") || !strings.Contains(got, "<p>Suite.</p>") {
			t.Errorf("RenderNotes(%q) = %q, want the text after the formula kept", md, got)
		}
		if strings.Contains(got, "<style") || strings.Contains(got, "<img") || strings.Contains(got, "onerror") || strings.Contains(got, "<math") {
			t.Errorf("RenderNotes(%q) = %q lets markup through", md, got)
		}
	}
	// The mutation-XSS classic: here a browser too reads the rest as
	// style; what matters is that nothing runs.
	md := "Avant <math><mtext><table><mglyph><style><img src=x onerror=alert(1)></math> après."
	if got := RenderNotes(md); strings.Contains(got, "<img") || strings.Contains(got, "onerror") || strings.Contains(got, "<style") {
		t.Errorf("RenderNotes(%q) = %q lets markup through", md, got)
	}
}
