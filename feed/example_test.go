package feed_test

import (
	"fmt"

	"github.com/picasoft/antenne/feed"
)

func ExampleNewLinks() {
	l, err := feed.NewLinks("https://radio.picasoft.net", "https://media.picasoft.net")
	if err != nil {
		panic(err)
	}
	media, _ := l.Object("shows/lvel/media/les-communs-9f86d081884c.mp3")
	key, _ := feed.ObjectKey("lvel", feed.DirMedia, "les-communs-9f86d081884c.mp3")
	fmt.Println(l.Feed("lvel"))
	fmt.Println(l.Episode("lvel", "les-communs"))
	fmt.Println(l.Chapters("lvel", "les-communs"))
	fmt.Println(media)
	fmt.Println(key)
	// Output:
	// https://radio.picasoft.net/lvel/feed.xml
	// https://radio.picasoft.net/lvel/les-communs
	// https://radio.picasoft.net/lvel/les-communs/chapters.json
	// https://media.picasoft.net/lvel/media/les-communs-9f86d081884c.mp3
	// shows/lvel/media/les-communs-9f86d081884c.mp3
}

func ExampleRenderNotes() {
	fmt.Println(feed.RenderNotes("On parle des **communs** avec [Framasoft](https://framasoft.org).<script>alert(1)</script>"))
	fmt.Println(feed.PlainNotes("On parle des **communs** avec [Framasoft](https://framasoft.org)."))
	// Output:
	// <p>On parle des <strong>communs</strong> avec <a href="https://framasoft.org" rel="nofollow">Framasoft</a>.</p>
	// On parle des communs avec Framasoft (https://framasoft.org).
}
