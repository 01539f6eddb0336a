package feed

import (
	"errors"
	"testing"
)

func TestLinks(t *testing.T) {
	l, err := NewLinks("https://radio.picasoft.net/", "")
	if err != nil {
		t.Fatal(err)
	}
	lm, err := NewLinks("https://radio.picasoft.net/antenne", "https://media.picasoft.net/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, got, want string
	}{
		{"show", l.Show("lvel"), "https://radio.picasoft.net/lvel/"},
		{"feed", l.Feed("lvel"), "https://radio.picasoft.net/lvel/feed.xml"},
		{"episode", l.Episode("lvel", "les-communs"), "https://radio.picasoft.net/lvel/les-communs"},
		{"chapters", l.Chapters("lvel", "les-communs"), "https://radio.picasoft.net/lvel/les-communs/chapters.json"},
		{"base with path", lm.Feed("lvel"), "https://radio.picasoft.net/antenne/lvel/feed.xml"},
		{"escaped slug", l.Episode("lvel", "a b?c#d"), "https://radio.picasoft.net/lvel/a%20b%3Fc%23d"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}

	objects := []struct {
		links     Links
		key, want string
	}{
		{l, "shows/lvel/media/ep-1.mp3", "https://radio.picasoft.net/lvel/media/ep-1.mp3"},
		{l, "shows/lvel/originals/abc.wav", "https://radio.picasoft.net/lvel/originals/abc.wav"},
		{l, "shows/lvel/images/abc.jpg", "https://radio.picasoft.net/lvel/images/abc.jpg"},
		{l, "shows/lvel/transcripts/ep-1.vtt", "https://radio.picasoft.net/lvel/transcripts/ep-1.vtt"},
		{l, "shows/lvel/media/été & co.mp3", "https://radio.picasoft.net/lvel/media/%C3%A9t%C3%A9%20&%20co.mp3"},
		{lm, "shows/lvel/media/ep-1.mp3", "https://media.picasoft.net/lvel/media/ep-1.mp3"},
		{lm, "shows/lvel/originals/abc.wav", "https://media.picasoft.net/lvel/originals/abc.wav"},
		{lm, "shows/lvel/images/abc.jpg", "https://media.picasoft.net/lvel/images/abc.jpg"},
		{lm, "shows/lvel/transcripts/ep-1.vtt", "https://radio.picasoft.net/antenne/lvel/transcripts/ep-1.vtt"},
	}
	for _, tt := range objects {
		got, err := tt.links.Object(tt.key)
		if err != nil || got != tt.want {
			t.Errorf("Object(%q): got %q, %v, want %q", tt.key, got, err, tt.want)
		}
		show, dir, file, err := SplitKey(tt.key)
		if err != nil {
			t.Errorf("SplitKey(%q): %v", tt.key, err)
			continue
		}
		if back, err := ObjectKey(show, dir, file); err != nil || back != tt.key {
			t.Errorf("ObjectKey(SplitKey(%q)): got %q, %v, want the key back", tt.key, back, err)
		}
	}

	for _, key := range []string{
		"", "shows/lvel/show.json", "shows/lvel/episodes/e1.json", "hosts/alice.json",
		"shows/lvel/media/", "shows/lvel/media/..", "shows/lvel/media/a/b.mp3", "shows//media/a.mp3",
		"shows/../media/a.mp3", "shows/lvel/media/a\x00.mp3", `shows/lvel/media/a\b.mp3`, "/shows/lvel/media/a.mp3",
	} {
		if got, err := l.Object(key); !errors.Is(err, ErrNotPublic) {
			t.Errorf("Object(%q): got %q, %v, want ErrNotPublic", key, got, err)
		}
	}
}

func TestNewLinksErrors(t *testing.T) {
	tests := []struct{ base, media string }{
		{"", ""},
		{"radio.picasoft.net", ""},
		{"ftp://radio.picasoft.net", ""},
		{"https://", ""},
		{"https://radio.picasoft.net/?a=b", ""},
		{"https://radio.picasoft.net/#top", ""},
		{"https://user:pw@radio.picasoft.net", ""},
		{"https://radio.picasoft.net", "/media"},
		{"https://radio.picasoft.net", "://bad"},
	}
	for _, tt := range tests {
		if l, err := NewLinks(tt.base, tt.media); err == nil {
			t.Errorf("NewLinks(%q, %q): got %+v, want an error", tt.base, tt.media, l)
		}
	}
	if !(Links{}).IsZero() {
		t.Errorf("the zero Links: got IsZero false, want true")
	}
}
