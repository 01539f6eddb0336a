package web_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

// The hostile inputs of issue 8, each with the answer it must get. After
// each one the service must still be healthy. Slow clients and huge
// headers against the real server's timeouts are in
// cmd/antenne/hostile_test.go.

// hostileFiles are uploads that are no recording, or broken ones.
func hostileFiles(t *testing.T) map[string][]byte {
	random := make([]byte, 64<<10)
	rand.Read(random)
	id3Huge := append([]byte("ID3\x04\x00\x00"), 0x7f, 0x7f, 0x7f, 0x7f) // syncsafe size: 256 MiB
	id3Huge = append(id3Huge, make([]byte, 100)...)
	flacHuge := []byte("fLaC")
	flacHuge = append(flacHuge, 0x00, 0xff, 0xff, 0xff) // a STREAMINFO of 16 MiB
	flacHuge = append(flacHuge, make([]byte, 64)...)
	wavLies := []byte("RIFF\xff\xff\xff\xffWAVEfmt ")
	wavLies = binary.LittleEndian.AppendUint32(wavLies, 16)
	wavLies = append(wavLies, 1, 0, 1, 0, 0x80, 0xbb, 0, 0, 0, 0x77, 1, 0, 3, 0, 24, 0)
	wavLies = append(wavLies, []byte("data\xff\xff\xff\x7f")...)
	return map[string][]byte{
		"empty":                     {},
		"PNG named .mp3":            append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 200)...),
		"text named .mp3":           []byte("Bonjour, ceci n'est pas une émission.\n"),
		"random bytes":              random,
		"ID3 tag claiming 256 MiB":  id3Huge,
		"FLAC with a huge metadata": flacHuge,
		"WAV whose sizes lie":       wavLies,
		"HTML named .mp3":           []byte("<!doctype html><script>alert(1)</script>"),
	}
}

func (env *studioEnv) healthy(t *testing.T) {
	t.Helper()
	if resp, _ := env.do(nil, "GET", "/healthz", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after a hostile request: %d", resp.StatusCode)
	}
}

func TestHostileUploads(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	auth := map[string]string{"Authorization": "Bearer " + env.tokens["alice"], "Content-Type": "audio/mpeg"}
	for name, data := range hostileFiles(t) {
		t.Run(name, func(t *testing.T) {
			resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes", bytes.NewReader(data), auth)
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, `"unsupported_audio"`) {
				t.Errorf("got %d %s, want 415 unsupported_audio", resp.StatusCode, out)
			}
			env.healthy(t)
		})
	}
	if keys := env.objects("shows/lvel/media/"); len(keys) != 0 {
		t.Errorf("hostile uploads stored %v", keys)
	}
	// The studio says it in French.
	c := env.login("alice")
	body, h := multipartBody(t, "affiche.mp3", hostileFiles(t)["PNG named .mp3"])
	resp, out := env.do(c, "POST", "/studio/lvel/upload", body, h)
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, "il ressemble à une image PNG") {
		t.Errorf("studio upload of a PNG: got %d, want 415 with the French message", resp.StatusCode)
	}
}

// TestRefusalsSayWhy: a damaged file is refused with its reason, in
// French in the studio and in the language the API client asks for; a
// reason the catalogue lacks is told in English rather than not at all.
func TestRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	mp3, err := os.ReadFile(episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 520}))
	if err != nil {
		t.Fatal(err)
	}
	var frames []byte
	for range 600 {
		frames = append(frames, "TXXX\x00\x00\x00\x0c\x00\x00\x00desc\x00valeur"...)
	}
	size := len(frames)
	tagged := append([]byte{'I', 'D', '3', 4, 0, 0, byte(size >> 21 & 0x7f), byte(size >> 14 & 0x7f), byte(size >> 7 & 0x7f), byte(size & 0x7f)}, frames...)
	tagged = append(tagged, mp3...)
	cut := []byte("fLa")
	c := env.login("alice")
	for _, tc := range []struct {
		name   string
		data   []byte
		fr, en string
	}{
		{"600 TXXX frames", tagged, "son étiquette ID3 a plus de 500 champs TXXX", "its ID3 tag has more than 500 TXXX frames; remove the needless tags"},
		{"an ID3 tag claiming 256 MiB", hostileFiles(t)["ID3 tag claiming 256 MiB"], "son étiquette ID3 annonce 268435465 octets, plus que les 110 octets du fichier", "its ID3 tag claims 268435465 bytes"},
		{"a FLAC cut after 3 bytes", cut, "le fichier s&#39;arrête après 3 octets", "the file is cut after 3 bytes"},
		// No translation: the parser's English reason.
		{"a FLAC with a huge metadata block", hostileFiles(t)["FLAC with a huge metadata"], "(il ressemble à un enregistrement abîmé ou incomplet) : a metadata block of", "a metadata block of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, h := multipartBody(t, "emission.mp3", tc.data)
			resp, out := env.do(c, "POST", "/studio/lvel/upload", body, h)
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, tc.fr) {
				t.Errorf("studio: got %d, want 415 saying %q in:\n%s", resp.StatusCode, tc.fr, out)
			}
			auth := map[string]string{"Authorization": "Bearer " + env.tokens["alice"], "Content-Type": "audio/mpeg", "Accept-Language": "en"}
			resp, out = env.do(nil, "POST", "/api/v1/shows/lvel/episodes", bytes.NewReader(tc.data), auth)
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(out, tc.en) {
				t.Errorf("API in English: got %d %s, want 415 saying %q", resp.StatusCode, out, tc.en)
			}
		})
	}
	if keys := env.objects("shows/lvel/media/"); len(keys) != 0 {
		t.Errorf("refused uploads stored %v", keys)
	}
}

func TestHostileFileNames(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	names := []string{
		"../../../etc/passwd.mp3",
		`..\..\windows\system.ini`,
		"/absolute/path.mp3",
		"a\x00b.mp3",
		strings.Repeat("très-long-", 1000) + ".mp3",
		"\u202eevil\u202c3pm.exe",
		"émission 🎙️ n°1 (finale).mp3",
		"CON.mp3",
	}
	for i, name := range names {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			mp3 := episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 1, Frequency: 300 + 40*i})
			body, h := multipartBody(t, name, readFile(t, mp3))
			h["Authorization"] = "Bearer " + env.tokens["alice"]
			resp, out := env.do(nil, "POST", "/api/v1/shows/lvel/episodes", body, h)
			if resp.StatusCode >= 500 {
				t.Fatalf("file name %q: got %d %s", name, resp.StatusCode, out)
			}
			if resp.StatusCode != http.StatusCreated && (resp.StatusCode < 400 || resp.StatusCode > 499) {
				t.Errorf("file name %q: got %d, want 201 or a clear 4xx", name, resp.StatusCode)
			}
			env.healthy(t)
		})
	}
	for _, key := range env.objects("") {
		if strings.Contains(key, "..") || strings.ContainsAny(key, "\\\x00\u202e") || len(key) > 300 {
			t.Errorf("an uploaded file name leaked into the key %q", key)
		}
	}
}

func TestHostileHeadersAndBodies(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	id := env.upload(t, "alice", "lvel")
	auth := "Bearer " + env.tokens["alice"]
	huge := strings.Repeat("x", 2<<20)
	tests := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		header map[string]string
		want   int
	}{
		{"huge header value", "GET", "/lvel/feed.xml", nil, map[string]string{"X-Filler": huge}, http.StatusRequestHeaderFieldsTooLarge},
		{"huge cookie", "GET", "/studio/", nil, map[string]string{"Cookie": "antenne_session=" + huge}, http.StatusRequestHeaderFieldsTooLarge},
		{"oversized JSON", "PATCH", "/api/v1/shows/lvel/episodes/" + id, strings.NewReader(`{"title": "` + strings.Repeat("a", 2<<20) + `"}`),
			map[string]string{"Authorization": auth, "Content-Type": "application/json"}, http.StatusRequestEntityTooLarge},
		{"malformed JSON", "PATCH", "/api/v1/shows/lvel/episodes/" + id, strings.NewReader(`{"title": `),
			map[string]string{"Authorization": auth, "Content-Type": "application/json"}, http.StatusBadRequest},
		{"JSON of the wrong shape", "PATCH", "/api/v1/shows/lvel/episodes/" + id, strings.NewReader(`{"title": ["a"]}`),
			map[string]string{"Authorization": auth, "Content-Type": "application/json"}, http.StatusBadRequest},
		{"path traversal in media", "GET", "/lvel/media/..%2F..%2Fshow.json", nil, nil, http.StatusNotFound},
		{"path traversal in show", "GET", "/..%2Fhosts/feed.xml", nil, nil, http.StatusNotFound},
		{"unknown semester", "GET", "/lvel/seasons/X99/themes.md", nil, nil, http.StatusBadRequest},
		{"forged token", "GET", "/api/v1/shows", nil, map[string]string{"Authorization": "Bearer ant_forged"}, http.StatusUnauthorized},
		{"token without scheme", "GET", "/api/v1/shows", nil, map[string]string{"Authorization": env.tokens["alice"]}, http.StatusUnauthorized},
		{"forged session", "GET", "/studio/lvel/", nil, map[string]string{"Cookie": "antenne_session=YWxpY2V8MHw5OTk5OTk5OTk5.AAAA"}, http.StatusSeeOther},
		{"garbage session", "GET", "/studio/lvel/", nil, map[string]string{"Cookie": "antenne_session=%00%ff"}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := env.do(nil, tt.method, tt.path, tt.body, tt.header)
			if resp.StatusCode != tt.want {
				t.Errorf("got %d %.200s, want %d", resp.StatusCode, out, tt.want)
			}
			env.healthy(t)
		})
	}
}

// sessionCookie makes a session cookie as antenne signs them, with the
// store's key: login|generation|expiry|identity|id, then its HMAC-SHA256.
func sessionCookie(t *testing.T, env *studioEnv, login string, gen int, expires time.Time) string {
	key, err := env.hosts.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h, err := env.hosts.Host(login)
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf("%s|%d|%d|%s|test-session", login, gen, expires.Unix(), h.Identity())
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(payload))
	return "antenne_session=" + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestExpiredAndRevokedCredentials(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	ctx := t.Context()
	// A well-signed cookie works; the same one expired does not.
	good := sessionCookie(t, env, "alice", 0, time.Now().Add(time.Hour))
	if resp, _ := env.do(nil, "GET", "/studio/lvel/", nil, map[string]string{"Cookie": good}); resp.StatusCode != http.StatusOK {
		t.Fatalf("a valid session cookie: got %d, want 200 (the cookie format changed?)", resp.StatusCode)
	}
	expired := sessionCookie(t, env, "alice", 0, time.Now().Add(-time.Minute))
	if resp, _ := env.do(nil, "GET", "/studio/lvel/", nil, map[string]string{"Cookie": expired}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an expired session: got %d, want a redirect to the login", resp.StatusCode)
	}
	old := sessionCookie(t, env, "alice", -1, time.Now().Add(time.Hour))
	if resp, _ := env.do(nil, "GET", "/studio/lvel/", nil, map[string]string{"Cookie": old}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session of an older generation: got %d, want a redirect to the login", resp.StatusCode)
	}
	// A revoked token and the token of a removed host are refused.
	h, err := env.hosts.Host("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range h.Tokens {
		if err := env.hosts.RevokeToken(ctx, "alice", tok.ID); err != nil {
			t.Fatal(err)
		}
	}
	if resp, _ := env.do(nil, "GET", "/api/v1/shows", nil, map[string]string{"Authorization": "Bearer " + env.tokens["alice"]}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token: got %d, want 401", resp.StatusCode)
	}
	if err := env.hosts.RemoveHost(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := env.do(nil, "GET", "/api/v1/shows", nil, map[string]string{"Authorization": "Bearer " + env.tokens["bob"]}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token of a removed host: got %d, want 401", resp.StatusCode)
	}
	env.healthy(t)
}

// TestInjectionInEveryTextField writes markup, XML breakers and script
// links into every text a host can type: the feed stays well-formed and
// safe, the pages escape it, the notes lose their scripts.
func TestInjectionInEveryTextField(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	ctx := t.Context()
	const evil = `<script>alert(1)</script>]]><![CDATA[ & "quote' <img src=x onerror=alert(2)> &amp; &#0; ` + "\x01\x0b\ufffe"
	if _, err := env.svc.UpdateShow(ctx, "lvel", "", func(sh *episodes.Show) error {
		sh.Title, sh.Description, sh.Author, sh.Copyright = "Titre "+evil, evil, "Auteur "+evil, evil
		sh.Hosts = []episodes.Person{{Name: evil, Role: "host"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	id := env.upload(t, "alice", "lvel")
	e, err := env.svc.UpdateEpisode(ctx, "lvel", id, "", func(e *episodes.Episode) error {
		e.Title, e.Theme = "Titre "+evil, evil
		e.Notes = "Notes " + evil + "\n\n[clic](javascript:alert(3)) <a href=\"javascript:alert(4)\">lien</a> <iframe src=//evil></iframe>\n\n<style>body{display:none}</style>"
		e.Persons = []episodes.Person{{Name: `"><svg onload=alert(5)>`, Role: "guest"}}
		e.Chapters = []episodes.Chapter{{Start: 0, Title: evil}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.Publish(ctx, "lvel", e.ID, ""); err != nil {
		t.Fatal(err)
	}

	resp, feedXML := env.do(nil, "GET", "/lvel/feed.xml", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	dec := xml.NewDecoder(strings.NewReader(feedXML))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the feed is not well-formed XML: %v", err)
		}
	}
	var parsed struct {
		Channel struct {
			Items []struct {
				Encoded string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	xml.Unmarshal([]byte(feedXML), &parsed)
	if len(parsed.Channel.Items) != 1 {
		t.Fatalf("feed items: got %d, want 1", len(parsed.Channel.Items))
	}
	html := strings.ToLower(parsed.Channel.Items[0].Encoded)
	for _, bad := range []string{"<script", "javascript:", "onerror", "<iframe", "<style", "<img"} {
		if strings.Contains(html, bad) {
			t.Errorf("the feed's show notes carry %q:\n%s", bad, html)
		}
	}

	ep, _ := env.svc.Episode("lvel", e.ID)
	for _, path := range []string{"/lvel/", "/lvel/" + ep.Slug, "/lvel/" + ep.Slug + "/embed", "/"} {
		resp, page := env.do(nil, "GET", path, nil, nil)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusFound {
			t.Errorf("%s: got %d", path, resp.StatusCode)
			continue
		}
		low := strings.ToLower(page)
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "javascript:alert", "<iframe", "<style>body"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s shows unescaped %q", path, bad)
			}
		}
	}
	c := env.login("alice")
	resp, page := env.do(c, "GET", "/studio/lvel/"+e.ID, nil, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "<script>alert") || strings.Contains(page, "<svg onload") {
		t.Errorf("the studio form does not escape what hosts typed (status %d)", resp.StatusCode)
	}
	env.healthy(t)
}
