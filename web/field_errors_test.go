package web_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/picasoft/antenne/web"
)

// TestFieldErrorsTranslated: a refused value reads in the studio's
// language, while the API gives the English reason with the field and
// the key.
func TestFieldErrorsTranslated(t *testing.T) {
	t.Parallel()
	env := newStudioEnv(t, 0)
	id := env.upload(t, "alice", "lvel")
	alice := env.login("alice")
	path := "/studio/lvel/" + id
	_, page := env.do(alice, "GET", path, nil, nil)
	rev := revisionField.FindStringSubmatch(page)[1]
	long := strings.Repeat("é", 256)

	formError := regexp.MustCompile(`<p class="form-error" role="alert">([^<]*)</p>`)
	for _, tc := range []struct {
		name, lang string
		fields     []string
		want       string
	}{
		{"title too long, French", "fr", []string{"title", long, "action", "save"},
			"Valeur refusée pour « titre » : le texte a 256 caractères, au plus 255"},
		{"past publication date, French", "fr", []string{"title", "Les communs", "schedule_at", "2020-03-05T09:30", "action", "schedule"},
			"Valeur refusée pour « date de publication » : 2020-03-05 09:30 CET n'est pas dans le futur : choisissez une date à venir"},
		{"unreadable date, French", "fr", []string{"title", "Les communs", "schedule_at", "vendredi", "action", "schedule"},
			"Valeur refusée pour « date de publication » : « vendredi » n'est pas une date"},
		{"title too long, English", "en", []string{"title", long, "action", "save"},
			"Value refused for “title”: the text has 256 characters, at most 255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, h := form(append([]string{"revision", rev}, tc.fields...)...)
			h["Accept-Language"] = tc.lang
			resp, out := env.do(alice, "POST", path, body, h)
			m := formError.FindStringSubmatch(out)
			if resp.StatusCode != 400 || m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), tc.want) {
				t.Fatalf("got %d, message %q; want 400 starting with %q", resp.StatusCode, m, tc.want)
			}
			if tc.lang == "fr" && (strings.Contains(m[1], "characters") || strings.Contains(m[1], "future")) {
				t.Errorf("French page shows English: %q", m[1])
			}
		})
	}

	// The API: English message, field and key, whatever Accept-Language.
	auth := map[string]string{"Authorization": "Bearer " + env.tokens["alice"], "Content-Type": "application/json", "Accept-Language": "fr"}
	for _, tc := range []struct {
		name, method, path, body string
		field, key, message      string
	}{
		{"title too long", "PATCH", "", `{"title":"` + long + `"}`, "title", "text.too_long", "title: the text has 256 characters, more than 255"},
		{"schedule in the past", "POST", "/schedule", `{"at":"2020-03-05T09:30"}`, "publish_at", "publish_at.past", "publish_at: 2020-03-05 09:30 CET is not in the future"},
		{"schedule unreadable", "POST", "/schedule", `{"at":"vendredi"}`, "publish_at", "time.malformed", `publish_at: "vendredi" is not a date`},
	} {
		resp, out := env.do(nil, tc.method, "/api/v1/shows/lvel/episodes/"+id+tc.path, strings.NewReader(tc.body), auth)
		var got struct {
			Error struct{ Code, Message, Field, Key string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || resp.StatusCode != 400 {
			t.Errorf("API %s: got %d %.300s, want 400 JSON", tc.name, resp.StatusCode, out)
			continue
		}
		if e := got.Error; e.Code != "invalid" || e.Field != tc.field || e.Key != tc.key || !strings.HasPrefix(e.Message, tc.message) {
			t.Errorf("API %s: got %+v, want code invalid, field %s, key %s, message %q", tc.name, e, tc.field, tc.key, tc.message)
		}
	}
}

// TestFieldErrorKeysTranslated reads the code of episodes, web and
// web/accounts for every field error it makes (invalid(field, key, ...)
// and episodes.Invalid(field, key, ...)) and checks that the catalogue
// has a French and an English text for the key and the field, with as
// many values as the English reason.
func TestFieldErrorKeysTranslated(t *testing.T) {
	t.Parallel()
	verbs := regexp.MustCompile(`%[^%]`)
	found := 0
	for _, dir := range []string{"../episodes", ".", "accounts"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 3 {
					return true
				}
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					if fn.Name != "invalid" && fn.Name != "Invalid" {
						return true
					}
				case *ast.SelectorExpr:
					if fn.Sel.Name != "Invalid" {
						return true
					}
				default:
					return true
				}
				key, ok1 := literal(call.Args[1])
				format, ok2 := literal(call.Args[2])
				if !ok1 || !ok2 {
					return true // the declarations of invalid and Invalid
				}
				found++
				texts := web.Catalogue("invalid." + key)
				if texts[0] == "" || texts[1] == "" {
					t.Errorf("%s: key %q has no French or no English text", name, key)
				}
				want := len(verbs.FindAllString(format, -1))
				for _, text := range texts {
					if got := len(verbs.FindAllString(text, -1)); got != want {
						t.Errorf("%s: %q: text %q has %d values, the reason %d", name, key, text, got, want)
					}
				}
				if field, ok := literal(call.Args[0]); ok {
					if l := web.Catalogue("field." + field); l[0] == "" || l[1] == "" {
						t.Errorf("%s: field %q has no French or no English label", name, field)
					}
				}
				return true
			})
		}
	}
	if found < 40 {
		t.Errorf("found %d field errors in the code, want at least 40: is the scan broken?", found)
	}
}

func literal(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
