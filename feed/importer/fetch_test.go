package importer_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picasoft/antenne/feed/importer"
	"github.com/picasoft/antenne/storage/storagetest"
)

// TestImportRefusesPrivateAddresses imports a feed from a host on
// 127.0.0.1 (the operator's feed URL: trusted) whose items point, directly
// or through a redirect of the trusted host, to another service on
// 127.0.0.1: nothing of that service is fetched unless the operator allows
// private addresses.
func TestImportRefusesPrivateAddresses(t *testing.T) {
	var internalHits atomic.Int64
	mp3, err := os.ReadFile(recording(t, "ep2"))
	if err != nil {
		t.Fatal(err)
	}
	mp3b, err := os.ReadFile(recording(t, "ep3"))
	if err != nil {
		t.Fatal(err)
	}
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		switch r.URL.Path {
		case "/media.mp3":
			w.Write(mp3)
		case "/media2.mp3":
			w.Write(mp3b)
		case "/art.png":
			w.Write(pngImage(t, 1400, 1400))
		case "/chapters.json":
			fmt.Fprint(w, `{"version":"1.2.0","chapters":[{"startTime":0,"title":"Secret"}]}`)
		case "/transcript.vtt":
			fmt.Fprint(w, "WEBVTT\n\n00:00.000 --> 00:01.000\nsecret\n")
		}
	}))
	t.Cleanup(internal.Close)

	h := newHost(t, "minimal.xml", "/feed.xml", map[string]string{"/ep1.mp3": "ep1"}, nil)
	h.redirect = map[string]string{"/redirect.mp3": internal.URL + "/media2.mp3"}
	h.feed = fmt.Appendf(nil, `<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>Fuite</title><link>http://example.org/</link><description>d</description>
<item><title>Direct</title><guid>direct</guid><pubDate>2 Oct 2020 09:30 GMT</pubDate>
<enclosure url="%[2]s/media.mp3" type="audio/mpeg"/></item>
<item><title>Redirect</title><guid>redirect</guid><pubDate>3 Oct 2020 09:30 GMT</pubDate>
<enclosure url="%[1]s/redirect.mp3" type="audio/mpeg"/></item>
<item><title>Extras</title><guid>extras</guid><pubDate>4 Oct 2020 09:30 GMT</pubDate>
<enclosure url="%[1]s/ep1.mp3" type="audio/mpeg"/>
<itunes:image xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" href="%[2]s/art.png"/>
<podcast:chapters url="%[2]s/chapters.json" type="application/json+chapters"/>
<podcast:transcript url="%[2]s/transcript.vtt" type="text/vtt"/></item>
</channel></rss>`, h.srv.URL, internal.URL)

	rep := run(t, t.Context(), newService(t, storagetest.Dir(t)), h.url("/feed.xml"), importer.Options{})
	want := map[string]importer.Outcome{"Direct": importer.Failed, "Redirect": importer.Failed, "Extras": importer.Imported}
	for _, it := range rep.Items {
		if it.Outcome != want[it.Title] {
			t.Errorf("%s: got %s (%s), want %s", it.Title, it.Outcome, it.Reason, want[it.Title])
		}
		if it.Outcome == importer.Failed && !strings.Contains(it.Reason, "127.0.0.1 is a loopback address") {
			t.Errorf("%s: reason %q does not say the address was refused", it.Title, it.Reason)
		}
		if it.Title == "Extras" {
			notes := strings.Join(it.Notes, "\n")
			for _, what := range []string{"artwork left out", "chapters left out", "transcript left out"} {
				if !strings.Contains(notes, what) || strings.Count(notes, "refused to fetch "+internal.URL) != 3 {
					t.Errorf("Extras: notes %q do not say %q", notes, what)
				}
			}
		}
	}
	if len(rep.Items) != 3 {
		t.Errorf("got %d items, want 3", len(rep.Items))
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the internal service got %d requests, want 0", n)
	}

	// The operator allows private addresses: everything is fetched.
	rep = run(t, t.Context(), newService(t, storagetest.Dir(t)), h.url("/feed.xml"), importer.Options{AllowPrivate: true})
	for _, it := range rep.Items {
		if it.Outcome != importer.Imported {
			t.Errorf("allowed: %s: got %s (%s), want imported", it.Title, it.Outcome, it.Reason)
		}
		if it.Title == "Extras" && (it.Episode == nil || len(it.Episode.Chapters) != 1 || it.Episode.Transcript == nil) {
			t.Errorf("allowed: Extras lacks its chapters or transcript: %+v", it.Episode)
		}
	}
	if internalHits.Load() == 0 {
		t.Error("allowed: the internal service got no request")
	}
}

// TestImportHTMLTranscriptIsText imports an item whose only transcript is
// HTML: it is stored as plain text, its words kept and no markup left.
func TestImportHTMLTranscriptIsText(t *testing.T) {
	h := newHost(t, "minimal.xml", "/feed.xml", map[string]string{"/ep1.mp3": "ep1"}, map[string][]byte{
		"/t.html": []byte(`<html><body><p>Bonjour <b>et</b> bienvenue.</p><script>alert(document.cookie)</script><img src=x onerror=alert(1)></body></html>`),
	})
	h.feed = fmt.Appendf(nil, `<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>Texte</title><link>http://example.org/</link><description>d</description>
<item><title>Un</title><guid>un</guid><pubDate>2 Oct 2020 09:30 GMT</pubDate>
<enclosure url="%[1]s/ep1.mp3" type="audio/mpeg"/>
<podcast:transcript url="%[1]s/t.html" type="text/html"/></item>
</channel></rss>`, h.srv.URL)
	blobs := storagetest.Dir(t)
	rep := run(t, t.Context(), newService(t, blobs), h.url("/feed.xml"), importer.Options{})
	if len(rep.Items) != 1 || rep.Items[0].Outcome != importer.Imported {
		t.Fatalf("got %+v, want one item imported", rep.Items)
	}
	tr := rep.Items[0].Episode.Transcript
	if tr == nil || tr.Type != "text/plain" || !strings.HasSuffix(tr.Key, ".txt") {
		t.Fatalf("transcript %+v, want text/plain in a .txt", tr)
	}
	text := string(read(t, blobs, tr.Key))
	if !strings.Contains(text, "Bonjour et bienvenue.") || strings.ContainsAny(text, "<>") || strings.Contains(text, "alert") {
		t.Errorf("stored transcript %q, want the words without markup or script", text)
	}
}

// TestImportDeadlines: a media server that never answers fails its item
// at the item deadline and the import goes on; the whole import stops at
// its own deadline with an error that says so.
func TestImportDeadlines(t *testing.T) {
	h := newHost(t, "minimal.xml", "/podcast/feed.xml", map[string]string{
		"/podcast/files/un.mp3":    "ep1",
		"/podcast/files/trois.mp3": "ep3",
	}, nil)
	h.mu.Lock()
	h.block["/podcast/files/deux.mp3"] = func() {} // answers nothing until the client leaves
	h.mu.Unlock()

	rep := run(t, t.Context(), newService(t, storagetest.Dir(t)), h.url(h.feedPath), importer.Options{ItemTimeout: time.Second})
	for _, it := range rep.Items {
		want := importer.Imported
		if it.Title == "Deux" {
			want = importer.Failed
			if !strings.Contains(it.Reason, "took longer than 1s") {
				t.Errorf("Deux: reason %q, want the item deadline", it.Reason)
			}
		}
		if it.Outcome != want {
			t.Errorf("%s: got %s (%s), want %s", it.Title, it.Outcome, it.Reason, want)
		}
	}

	_, err := importer.Import(t.Context(), newService(t, storagetest.Dir(t)), h.url(h.feedPath),
		importer.Options{Timeout: 2 * time.Second, TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "took longer than 2s") {
		t.Errorf("import deadline: got %v, want an error naming it", err)
	}
}
