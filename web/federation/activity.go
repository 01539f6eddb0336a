package federation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
)

// ActivityStreams vocabulary and the extensions Mastodon reads.
const (
	contentType   = "application/activity+json"
	publicAddress = "https://www.w3.org/ns/activitystreams#Public"
	asContext     = "https://www.w3.org/ns/activitystreams"
	secContext    = "https://w3id.org/security/v1"
)

// actorContext is the @context of actor documents: the vocabulary, the
// public keys, and the Mastodon terms the document uses.
var actorContext = []any{asContext, secContext, map[string]string{
	"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
	"toot":                      "http://joinmastodon.org/ns#",
	"discoverable":              "toot:discoverable",
	"PropertyValue":             "schema:PropertyValue",
	"schema":                    "http://schema.org#",
	"value":                     "schema:value",
}}

// noteContext is the @context of the activities we send.
var noteContext = []any{asContext, map[string]string{"Hashtag": "as:Hashtag"}}

// urls is the ActivityPub URL scheme, under the site's base URL:
//
//	/ap/actor                      the instance actor (signs our GETs)
//	/ap/inbox                      the shared inbox
//	/ap/shows/<show>               a show's actor (#main-key: its key)
//	/ap/shows/<show>/inbox         its inbox
//	/ap/shows/<show>/outbox        its outbox (paged)
//	/ap/shows/<show>/followers     its followers collection
//	/ap/shows/<show>/notes/<id>    the Note announcing an episode
type urls struct{ base string }

func (u urls) instanceActor() string { return u.base + "/ap/actor" }
func (u urls) sharedInbox() string   { return u.base + "/ap/inbox" }
func (u urls) actor(show string) string {
	return u.base + "/ap/shows/" + url.PathEscape(show)
}
func (u urls) key(actor string) string      { return actor + "#main-key" }
func (u urls) inbox(show string) string     { return u.actor(show) + "/inbox" }
func (u urls) outbox(show string) string    { return u.actor(show) + "/outbox" }
func (u urls) followers(show string) string { return u.actor(show) + "/followers" }
func (u urls) note(show, id string) string {
	return u.actor(show) + "/notes/" + url.PathEscape(id)
}

// actorDoc is an actor document. Shows are of type Service: Mastodon and
// GoToSocial follow Service accounts like any other and mark them as
// automated ("bot"), which is what a publisher's account is.
type actorDoc struct {
	Context           any               `json:"@context"`
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	PreferredUsername string            `json:"preferredUsername"`
	Name              string            `json:"name,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	URL               string            `json:"url,omitempty"`
	Inbox             string            `json:"inbox"`
	Outbox            string            `json:"outbox,omitempty"`
	Followers         string            `json:"followers,omitempty"`
	Endpoints         map[string]string `json:"endpoints,omitempty"`
	Icon              *image            `json:"icon,omitempty"`
	Attachment        []propertyValue   `json:"attachment,omitempty"`
	ManuallyApproves  bool              `json:"manuallyApprovesFollowers"`
	Discoverable      bool              `json:"discoverable"`
	Published         string            `json:"published,omitempty"`
	PublicKey         publicKey         `json:"publicKey"`
}

type image struct {
	Type      string `json:"type"`
	MediaType string `json:"mediaType,omitempty"`
	URL       string `json:"url"`
}

type propertyValue struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

type publicKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

// note is the Note announcing an episode.
type note struct {
	Context      any          `json:"@context,omitempty"`
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	AttributedTo string       `json:"attributedTo"`
	Name         string       `json:"name,omitempty"`
	Content      string       `json:"content"`
	URL          string       `json:"url"`
	Published    string       `json:"published"`
	Updated      string       `json:"updated,omitempty"`
	To           []string     `json:"to"`
	Cc           []string     `json:"cc"`
	Tag          []hashtag    `json:"tag,omitempty"`
	Attachment   []attachment `json:"attachment,omitempty"`
	Sensitive    bool         `json:"sensitive"`
	// Replies is the replies collection, in the served Note only (not
	// in noteHash: its absence leaves the hash as it was).
	Replies string `json:"replies,omitempty"`
}

type hashtag struct {
	Type string `json:"type"`
	Href string `json:"href"`
	Name string `json:"name"`
}

// attachment is the episode's audio: Mastodon and GoToSocial show a player
// for an attachment whose mediaType is audio.
type attachment struct {
	Type      string `json:"type"`
	MediaType string `json:"mediaType"`
	URL       string `json:"url"`
	Name      string `json:"name,omitempty"`
	Duration  string `json:"duration,omitempty"` // xsd:duration
}

// activity is what we send and what we read from inboxes.
type activity struct {
	Context   any             `json:"@context,omitempty"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Object    json.RawMessage `json:"object,omitempty"`
	Published string          `json:"published,omitempty"`
	To        []string        `json:"to,omitempty"`
	Cc        []string        `json:"cc,omitempty"`
}

// excerptRunes bounds the notes excerpt of a Note.
const excerptRunes = 400

// buildNote is the Note announcing ep of show. Its content is the title,
// an excerpt of the notes in plain text, a link to the episode's page and
// the show's hashtags.
func buildNote(u urls, links feed.Links, show *episodes.Show, ep *episodes.Episode) (*note, error) {
	page := links.Episode(show.Slug, ep.Slug)
	audio, err := links.Object(ep.Media.Key)
	if err != nil {
		return nil, fmt.Errorf("audio of episode %s: %w", ep.ID, err)
	}
	n := &note{
		ID:           u.note(show.Slug, ep.ID),
		Type:         "Note",
		AttributedTo: u.actor(show.Slug),
		URL:          page,
		Published:    ep.PublishAt.UTC().Format(time.RFC3339),
		To:           []string{publicAddress},
		Cc:           []string{u.followers(show.Slug)},
		Attachment: []attachment{{
			Type:      "Audio",
			MediaType: ep.Media.Type,
			URL:       audio,
			Name:      ep.Title,
			Duration:  xsdDuration(ep.Media.Duration),
		}},
	}
	var b strings.Builder
	b.WriteString("<p><strong>" + html.EscapeString(ep.Title) + "</strong></p>")
	if ex := excerpt(feed.PlainNotes(ep.Notes), excerptRunes); ex != "" {
		b.WriteString("<p>" + html.EscapeString(ex) + "</p>")
	}
	b.WriteString(`<p><a href="` + html.EscapeString(page) + `">` + html.EscapeString(page) + "</a></p>")
	var tags []string
	for _, t := range show.Hashtags {
		href := links.Show(show.Slug)
		n.Tag = append(n.Tag, hashtag{Type: "Hashtag", Href: href, Name: "#" + t})
		tags = append(tags, `<a href="`+html.EscapeString(href)+`" class="mention hashtag" rel="tag">#<span>`+html.EscapeString(t)+"</span></a>")
	}
	if len(tags) > 0 {
		b.WriteString("<p>" + strings.Join(tags, " ") + "</p>")
	}
	n.Content = b.String()
	return n, nil
}

// noteHash identifies what a Note says: a change of it is worth an Update.
func noteHash(n *note) string {
	c := *n
	c.Updated = ""
	data, _ := json.Marshal(c)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// excerpt cuts s to at most max runes, at a word boundary, with an
// ellipsis when cut.
func excerpt(s string, max int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := []rune(s)[:max]
	if i := strings.LastIndexAny(string(cut), " \n"); i > max/2 {
		return strings.TrimSpace(string(cut)[:i]) + "…"
	}
	return string(cut) + "…"
}

// xsdDuration writes d as an xsd:duration, e.g. PT40M12S.
func xsdDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("PT%dH%dM%dS", s/3600, s/60%60, s%60)
}
