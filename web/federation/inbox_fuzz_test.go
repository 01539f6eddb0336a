package federation

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseActivity feeds the inbox's JSON reading with anything: it
// never panics, and what it accepts has a type and an actor within their
// bounds, and an object whose id can be read.
func FuzzParseActivity(f *testing.F) {
	for _, seed := range []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://m.example/1","type":"Follow","actor":"https://m.example/users/a","object":"https://radio.example/ap/shows/lvel"}`,
		`{"id":"https://m.example/2","type":"Undo","actor":"https://m.example/users/a","object":{"id":"https://m.example/1","type":"Follow","actor":"https://m.example/users/a","object":"https://radio.example/ap/shows/lvel"}}`,
		`{"id":"https://m.example/3","type":"Undo","actor":"https://m.example/users/a","object":"https://m.example/1"}`,
		`{"id":"https://m.example/4","type":"Delete","actor":"https://m.example/users/a","object":"https://m.example/users/a"}`,
		`{"id":"https://m.example/5","type":"Create","actor":{"id":"https://m.example/users/a"},"to":"https://www.w3.org/ns/activitystreams#Public","object":{"type":"Note"}}`,
		`{"type":"Follow","actor":"` + strings.Repeat("<", 3000) + `"}`,
		`{"type":["Follow"],"actor":7}`,
		`[]`, `null`, `{}`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		act, err := parseActivity(body)
		if err != nil {
			return
		}
		if act.Type == "" || act.Actor == "" {
			t.Errorf("accepted an activity without type or actor: %+v", act)
		}
		if len(act.Type) > maxTypeLength || len(act.ID) > maxURLLength || len(act.Actor) > maxURLLength {
			t.Errorf("accepted fields over their bounds: %d, %d, %d bytes", len(act.Type), len(act.ID), len(act.Actor))
		}
		objectID(act.Object)
		var inner activity
		if json.Unmarshal(act.Object, &inner) == nil {
			objectID(inner.Object)
		}
	})
}
