package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
)

func TestStudioSemesterPage(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 64<<20)
	ctx := t.Context()
	paris := episodes.Paris()
	for i, ep := range []struct {
		title, theme string
		aired        time.Time
		publish      bool
	}{
		{"Les communs (partie 1)", "Les communs", time.Date(2021, 2, 5, 9, 30, 0, 0, paris), true},
		{"Les communs (partie 2)", "Les communs", time.Date(2021, 2, 12, 9, 30, 0, 0, paris), true},
		{"Vie privée & données", "", time.Date(2021, 3, 5, 9, 30, 0, 0, paris), true},
		{"Brouillon", "", time.Date(2021, 3, 12, 9, 30, 0, 0, paris), false},
		{"Automne", "", time.Date(2020, 10, 2, 9, 30, 0, 0, paris), true},
	} {
		up := episodes.Upload{Show: "lvel", Title: ep.title, Theme: ep.theme, AiredAt: ep.aired,
			Path: episodestest.Make(t, episodestest.Recording{Format: "mp3", Seconds: 2, Frequency: 300 + 60*i})}
		if ep.publish {
			up.PublishAt = time.Now().Add(-time.Minute)
		}
		if _, err := env.svc.Ingest(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	c := env.login("alice")
	resp, page := env.do(c, "GET", "/studio/lvel/semester?code=P21", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("semester page: got %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"printemps 2021", "3 épisodes publiés, 0:06", `data-copy="themes"`, `href="/lvel/seasons/P21/themes.tex"`, `href="?code=A20"`, `href="?code=A21"`} {
		if !strings.Contains(page, want) {
			t.Errorf("semester page lacks %q", want)
		}
	}
	start := strings.Index(page, `readonly>`)
	end := strings.Index(page, "</textarea>")
	if start < 0 || end < start {
		t.Fatalf("no themes field on the page:\n%s", page)
	}
	got := html.UnescapeString(page[start+len("readonly>") : end])
	want := "Les thèmes suivants auront été abordés ce semestre :\n\n- Les communs\n- Vie privée & données\n"
	if got != want {
		t.Errorf("themes to paste:\ngot  %q\nwant %q", got, want)
	}

	if resp, _ := env.do(c, "GET", "/studio/lvel/semester?code=X20", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown semester: got %d, want 400", resp.StatusCode)
	}
	if resp, page := env.do(c, "GET", "/studio/lvel/semester?code=P19", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Aucun épisode") {
		t.Errorf("empty semester: got %d", resp.StatusCode)
	}
	if resp, _ := env.do(c, "GET", "/studio/lvel/semester", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("current semester: got %d, want 200", resp.StatusCode)
	}
	if resp, _ := env.do(env.login("bob"), "GET", "/studio/lvel/semester", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another show's host: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := env.do(nil, "GET", "/studio/lvel/semester", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("without a session: got %d, want a redirect to the login", resp.StatusCode)
	}
}
