package federation

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/feed"
)

// Routes are the paths Handler serves, in the syntax of gin's router;
// web registers each of them. Every document is served as
// application/activity+json (JRD for WebFinger, JSON for NodeInfo).
var Routes = []struct{ Method, Path string }{
	{http.MethodGet, "/.well-known/webfinger"},
	{http.MethodGet, "/.well-known/nodeinfo"},
	{http.MethodGet, "/nodeinfo/2.1"},
	{http.MethodGet, "/ap/actor"},
	{http.MethodPost, "/ap/inbox"},
	{http.MethodGet, "/ap/shows/:show"},
	{http.MethodPost, "/ap/shows/:show/inbox"},
	{http.MethodGet, "/ap/shows/:show/outbox"},
	{http.MethodGet, "/ap/shows/:show/followers"},
	{http.MethodGet, "/ap/shows/:show/notes/:id"},
	{http.MethodGet, "/ap/shows/:show/notes/:id/replies"},
}

// instanceUsername is the instance actor's username. It cannot be a
// show's (slugs have no dot) and is valid for Mastodon and GoToSocial,
// unlike the host name Mastodon uses for its own, which may hold a port.
const instanceUsername = "instance.actor"

// maxInboxBody bounds an activity posted to an inbox: larger is 413.
const maxInboxBody = 256 << 10

// notesPerPage is the length of a page of the outbox.
const notesPerPage = 20

// ServeHTTP serves the routes of Routes.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/.well-known/webfinger":
		s.webfinger(w, r)
	case p == "/.well-known/nodeinfo":
		s.nodeinfoLinks(w, r)
	case p == "/nodeinfo/2.1":
		s.nodeinfo(w, r)
	case p == "/ap/actor":
		s.instanceActor(w, r)
	case p == "/ap/inbox" && r.Method == http.MethodPost:
		s.inbox(w, r, "")
	case strings.HasPrefix(p, "/ap/shows/"):
		rest := strings.TrimPrefix(p, "/ap/shows/")
		show, sub, _ := strings.Cut(rest, "/")
		if _, ok := s.federated(show); !ok {
			problem(w, http.StatusNotFound, "Ce compte n'existe pas. / No such account.")
			return
		}
		switch {
		case sub == "":
			s.showActor(w, r, show)
		case sub == "inbox" && r.Method == http.MethodPost:
			s.inbox(w, r, show)
		case sub == "outbox":
			s.outbox(w, r, show)
		case sub == "followers":
			s.followersCollection(w, r, show)
		case strings.HasPrefix(sub, "notes/") && strings.HasSuffix(sub, "/replies"):
			s.repliesCollection(w, r, show, strings.TrimSuffix(strings.TrimPrefix(sub, "notes/"), "/replies"))
		case strings.HasPrefix(sub, "notes/"):
			s.noteDoc(w, r, show, strings.TrimPrefix(sub, "notes/"))
		default:
			problem(w, http.StatusNotFound, "Page introuvable. / Not found.")
		}
	default:
		problem(w, http.StatusNotFound, "Page introuvable. / Not found.")
	}
}

// problem answers status with a short message, French first.
func problem(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// writeDoc answers v as JSON of the given type.
func writeDoc(w http.ResponseWriter, r *http.Request, typ string, v any) {
	data, err := activityJSON(v)
	if err != nil {
		problem(w, http.StatusInternalServerError, "Erreur interne. / Internal error.")
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// webfinger answers acct:<show>@<host> (RFC 7033), as Mastodon looks up a
// handle, and the actor's URL itself.
func (s *Service) webfinger(w http.ResponseWriter, r *http.Request) {
	res := r.URL.Query().Get("resource")
	var show string
	if acct, ok := strings.CutPrefix(res, "acct:"); ok {
		user, host, _ := strings.Cut(acct, "@")
		if !strings.EqualFold(host, s.host) {
			problem(w, http.StatusNotFound, "Ce compte n'est pas ici. / No such account here.")
			return
		}
		show = user
	} else if rest, ok := strings.CutPrefix(res, s.u.base+"/ap/shows/"); ok {
		show, _ = url.PathUnescape(rest)
	} else {
		problem(w, http.StatusBadRequest, "Paramètre resource=acct:émission@hôte attendu. / Expected resource=acct:show@host.")
		return
	}
	if show == instanceUsername {
		// Servers check the WebFinger of every actor whose signature they
		// verify, the instance actor's included.
		writeDoc(w, r, "application/jrd+json", map[string]any{
			"subject": "acct:" + instanceUsername + "@" + s.host,
			"aliases": []string{s.u.instanceActor()},
			"links":   []map[string]string{{"rel": "self", "type": contentType, "href": s.u.instanceActor()}},
		})
		return
	}
	sh, ok := s.federated(show)
	if !ok {
		problem(w, http.StatusNotFound, "Ce compte n'existe pas. / No such account.")
		return
	}
	writeDoc(w, r, "application/jrd+json", map[string]any{
		"subject": "acct:" + sh.Slug + "@" + s.host,
		"aliases": []string{s.u.actor(sh.Slug), s.cfg.Links.Show(sh.Slug)},
		"links": []map[string]string{
			{"rel": "self", "type": contentType, "href": s.u.actor(sh.Slug)},
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": s.cfg.Links.Show(sh.Slug)},
		},
	})
}

// nodeinfoLinks is /.well-known/nodeinfo, which points to the document.
func (s *Service) nodeinfoLinks(w http.ResponseWriter, r *http.Request) {
	writeDoc(w, r, "application/json", map[string]any{
		"links": []map[string]string{{
			"rel":  "http://nodeinfo.diaspora.software/ns/schema/2.1",
			"href": s.u.base + "/nodeinfo/2.1",
		}},
	})
}

// nodeinfo is the NodeInfo 2.1 document
// (https://github.com/jhass/nodeinfo/blob/main/schemas/2.1/schema.json).
func (s *Service) nodeinfo(w http.ResponseWriter, r *http.Request) {
	shows, posts := 0, 0
	for _, sh := range s.cfg.Catalog.Shows() {
		if sh.FediverseOff {
			continue
		}
		shows++
		if eps, err := s.cfg.Catalog.Episodes(sh.Slug, episodes.ListOptions{Status: episodes.Published}); err == nil {
			posts += len(eps)
		}
	}
	writeDoc(w, r, `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`, map[string]any{
		"version":           "2.1",
		"software":          map[string]string{"name": "antenne", "version": s.cfg.Software, "repository": "https://github.com/picasoft/antenne"},
		"protocols":         []string{"activitypub"},
		"services":          map[string][]string{"inbound": {}, "outbound": {"rss2.0"}},
		"openRegistrations": false,
		"usage":             map[string]any{"users": map[string]int{"total": shows}, "localPosts": posts},
		"metadata":          map[string]any{},
	})
}

// instanceActor is the actor whose key signs our GET requests.
func (s *Service) instanceActor(w http.ResponseWriter, r *http.Request) {
	key, err := s.keys.get(r.Context(), instanceKeyName)
	if err != nil {
		s.log.ErrorContext(r.Context(), "instance actor key", "err", err)
		problem(w, http.StatusServiceUnavailable, "Réessayez dans un instant. / Try again in a moment.")
		return
	}
	id := s.u.instanceActor()
	writeDoc(w, r, contentType, actorDoc{
		Context:           actorContext,
		ID:                id,
		Type:              "Application",
		PreferredUsername: instanceUsername,
		Inbox:             s.u.sharedInbox(),
		Endpoints:         map[string]string{"sharedInbox": s.u.sharedInbox()},
		ManuallyApproves:  true,
		PublicKey:         publicKey{ID: s.u.key(id), Owner: id, PublicKeyPEM: publicKeyPEM(key)},
	})
}

// showActor is a show's actor document.
func (s *Service) showActor(w http.ResponseWriter, r *http.Request, show string) {
	sh, _ := s.federated(show)
	key, err := s.keys.get(r.Context(), showKeyName(show))
	if err != nil {
		s.log.ErrorContext(r.Context(), "actor key", "show", show, "err", err)
		problem(w, http.StatusServiceUnavailable, "Réessayez dans un instant. / Try again in a moment.")
		return
	}
	writeDoc(w, r, contentType, s.actorDocument(sh, publicKeyPEM(key)))
}

// ActorURL is the URL of a show's actor, for content negotiation on the
// show's page.
func (s *Service) ActorURL(show string) string { return s.u.actor(show) }

func (s *Service) actorDocument(sh *episodes.Show, pem string) actorDoc {
	id := s.u.actor(sh.Slug)
	d := actorDoc{
		Context:           actorContext,
		ID:                id,
		Type:              "Service",
		PreferredUsername: sh.Slug,
		Name:              sh.Title,
		Summary:           feed.RenderNotes(sh.Description),
		URL:               s.cfg.Links.Show(sh.Slug),
		Inbox:             s.u.inbox(sh.Slug),
		Outbox:            s.u.outbox(sh.Slug),
		Followers:         s.u.followers(sh.Slug),
		Endpoints:         map[string]string{"sharedInbox": s.u.sharedInbox()},
		Discoverable:      true,
		PublicKey:         publicKey{ID: s.u.key(id), Owner: id, PublicKeyPEM: pem},
		Attachment: []propertyValue{{
			Type:  "PropertyValue",
			Name:  "Podcast",
			Value: `<a href="` + htmlAttr(s.cfg.Links.Feed(sh.Slug)) + `" rel="alternate">` + htmlAttr(s.cfg.Links.Feed(sh.Slug)) + `</a>`,
		}},
	}
	if !sh.Created.IsZero() {
		d.Published = sh.Created.UTC().Format(time.RFC3339)
	}
	if sh.Artwork != nil {
		if u, err := s.cfg.Links.Object(sh.Artwork.Key); err == nil {
			d.Icon = &image{Type: "Image", MediaType: sh.Artwork.Type, URL: u}
		}
	}
	return d
}

// outbox is a show's outbox: an OrderedCollection of the Create
// activities of its published episodes, newest first, paged.
func (s *Service) outbox(w http.ResponseWriter, r *http.Request, show string) {
	sh, _ := s.federated(show)
	eps, err := s.cfg.Catalog.Episodes(show, episodes.ListOptions{Status: episodes.Published})
	if err != nil {
		problem(w, http.StatusNotFound, "Ce compte n'existe pas. / No such account.")
		return
	}
	eps = feed.Published(eps, s.cfg.Catalog.Now())
	id := s.u.outbox(show)
	pages := max(1, (len(eps)+notesPerPage-1)/notesPerPage)
	q := r.URL.Query().Get("page")
	if q == "" {
		writeDoc(w, r, contentType, map[string]any{
			"@context": asContext, "id": id, "type": "OrderedCollection",
			"totalItems": len(eps), "first": id + "?page=1", "last": id + "?page=" + strconv.Itoa(pages),
		})
		return
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > pages {
		problem(w, http.StatusNotFound, "Page introuvable. / Not found.")
		return
	}
	var items []any
	for _, ep := range eps[(n-1)*notesPerPage : min(len(eps), n*notesPerPage)] {
		nt, err := buildNote(s.u, s.cfg.Links, sh, ep)
		if err != nil {
			continue
		}
		items = append(items, activity{ID: nt.ID + "#create", Type: "Create", Actor: nt.AttributedTo,
			Published: nt.Published, To: nt.To, Cc: nt.Cc, Object: mustJSON(nt)})
	}
	page := map[string]any{
		"@context": noteContext, "id": id + "?page=" + strconv.Itoa(n), "type": "OrderedCollectionPage",
		"partOf": id, "totalItems": len(eps), "orderedItems": items,
	}
	if n > 1 {
		page["prev"] = id + "?page=" + strconv.Itoa(n-1)
	}
	if n < pages {
		page["next"] = id + "?page=" + strconv.Itoa(n+1)
	}
	writeDoc(w, r, contentType, page)
}

// followersCollection gives the number of followers, not who they are.
func (s *Service) followersCollection(w http.ResponseWriter, r *http.Request, show string) {
	n, err := s.FollowerCount(r.Context(), show)
	if err != nil {
		s.log.ErrorContext(r.Context(), "count followers", "show", show, "err", err)
		problem(w, http.StatusServiceUnavailable, "Réessayez dans un instant. / Try again in a moment.")
		return
	}
	writeDoc(w, r, contentType, map[string]any{
		"@context": asContext, "id": s.u.followers(show), "type": "OrderedCollection", "totalItems": n,
	})
}

// noteDoc is the Note of a published episode.
func (s *Service) noteDoc(w http.ResponseWriter, r *http.Request, show, id string) {
	sh, _ := s.federated(show)
	ep, err := s.cfg.Catalog.Episode(show, id)
	if err != nil || ep.Status(s.cfg.Catalog.Now()) != episodes.Published {
		problem(w, http.StatusNotFound, "Cet épisode n'est pas publié. / No such episode.")
		return
	}
	n, err := buildNote(s.u, s.cfg.Links, sh, ep)
	if err != nil {
		problem(w, http.StatusNotFound, "Cet épisode n'est pas publié. / No such episode.")
		return
	}
	n.Context = noteContext
	n.Replies = s.u.replies(show, id)
	writeDoc(w, r, contentType, n)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func htmlAttr(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;").Replace(s)
}

var errNotForUs = errors.New("activity is not addressed to a show of ours")
