package web_test

import (
	"bytes"
	"net/http"
	"testing"
)

// TestFormOfManyParts sends forms of 200,000 tiny parts to the studio's
// settings and to the API's upload: each gets a 400 that says why, not a
// 500, and the server stays healthy.
func TestFormOfManyParts(t *testing.T) {
	env := newStudioEnv(t, 64<<20)
	var body bytes.Buffer
	for range 200_000 {
		body.WriteString("--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n")
	}
	body.WriteString("--X--\r\n")
	form := body.Bytes()
	ct := map[string]string{"Content-Type": "multipart/form-data; boundary=X"}

	root := env.login("root")
	resp, out := env.do(root, "POST", "/studio/lvel/settings", bytes.NewReader(form), ct)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("studio settings: got %d, want 400\n%.300s", resp.StatusCode, out)
	}
	api := map[string]string{"Content-Type": ct["Content-Type"], "Authorization": "Bearer " + env.tokens["alice"]}
	resp, out = env.do(nil, "POST", "/api/v1/shows/lvel/episodes", bytes.NewReader(form), api)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("API upload: got %d, want 400\n%.300s", resp.StatusCode, out)
	}
	env.healthy(t)
}
