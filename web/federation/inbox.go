package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/picasoft/antenne/storage/bucket"
)

// inbox receives an activity posted to a show's inbox, or to the shared
// inbox when show is empty. It must be sent as ActivityPub JSON (415
// otherwise), to this site's host (the Host header is signed: a request
// signed for another host is 401), signed by the key of the activity's
// actor, by a signature not seen before (401 otherwise, and nothing is
// recorded). What is done with it is inboxHandler's choice by activity
// type; other types are answered 202 and ignored.
func (s *Service) inbox(w http.ResponseWriter, r *http.Request, show string) {
	if !activityMediaType(r.Header.Get("Content-Type")) {
		problem(w, http.StatusUnsupportedMediaType, "Type attendu : application/activity+json. / Expected application/activity+json.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInboxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem(w, http.StatusRequestEntityTooLarge, "Activité trop grande (256 Kio au plus). / Activity too large (256 KiB at most).")
			return
		}
		problem(w, http.StatusBadRequest, "Corps de requête illisible. / Unreadable body.")
		return
	}
	act, err := parseActivity(body)
	if err != nil {
		problem(w, http.StatusBadRequest, "Ce n'est pas une activité ActivityPub valable. / Not a valid ActivityPub activity.")
		return
	}
	if !s.ourHost(r.Host) {
		s.log.InfoContext(r.Context(), "inbox: refused: sent to another host", "host", r.Host, "actor", act.Actor)
		problem(w, http.StatusUnauthorized, "Requête signée pour un autre hôte. / Request signed for another host.")
		return
	}
	handle := s.inboxHandler(act.Type)
	sig, err := s.authenticate(r.Context(), r, body, act.Actor)
	if err == nil && handle != nil {
		// Acted upon: refused if any replica saw the signature.
		if err = s.claimSignature(r.Context(), sig); err != nil && !errors.Is(err, errReplayed) {
			s.log.WarnContext(r.Context(), "inbox: record a signature", "err", err)
			busy(w)
			return
		}
	}
	if err != nil {
		if errors.Is(err, errBusy) {
			busy(w)
			return
		}
		s.log.InfoContext(r.Context(), "inbox: refused", "actor", act.Actor, "type", act.Type, "err", err)
		problem(w, http.StatusUnauthorized, "Signature HTTP absente, invalide ou déjà vue. / Missing, invalid or replayed HTTP signature.")
		return
	}
	status := http.StatusAccepted
	if handle != nil {
		status, err = handle(r.Context(), show, act)
	}
	if errors.Is(err, errBusy) {
		busy(w)
		return
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "inbox: activity failed", "actor", act.Actor, "type", act.Type, "err", err)
		problem(w, status, "L'activité n'a pas pu être traitée. / The activity could not be handled.")
		return
	}
	w.WriteHeader(status)
}

// activityMediaType reports whether a Content-Type is one of
// ActivityPub's: application/activity+json, or application/ld+json with
// the ActivityStreams profile
// (https://www.w3.org/TR/activitypub/#server-to-server-interactions).
func activityMediaType(ct string) bool {
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch typ {
	case contentType:
		return true
	case "application/ld+json":
		return strings.Contains(params["profile"], "https://www.w3.org/ns/activitystreams")
	}
	return false
}

// ourHost reports whether a request's Host is the host of the base URL
// (with or without the scheme's default port).
func (s *Service) ourHost(host string) bool {
	host = strings.ToLower(host)
	want := strings.ToLower(s.host)
	if host == want {
		return true
	}
	for _, port := range []string{":443", ":80"} {
		if strings.TrimSuffix(host, port) == want || strings.TrimSuffix(want, port) == host {
			return true
		}
	}
	return false
}

// parseActivity reads an activity posted to an inbox: it must have a
// type and an actor (an id, or an object with an id, as some servers
// send), and its id, type and actor must be within their bounds.
func parseActivity(body []byte) (activity, error) {
	var act activity
	if err := json.Unmarshal(body, &act); err != nil {
		// The actor may be an object in some servers' activities.
		var loose struct {
			ID     string          `json:"id"`
			Type   string          `json:"type"`
			Actor  json.RawMessage `json:"actor"`
			Object json.RawMessage `json:"object"`
		}
		if json.Unmarshal(body, &loose) != nil {
			return activity{}, err
		}
		act = activity{ID: loose.ID, Type: loose.Type, Actor: objectID(loose.Actor), Object: loose.Object}
	}
	switch {
	case act.Type == "" || act.Actor == "":
		return activity{}, errors.New("not an activity: no type or actor")
	case len(act.Type) > maxTypeLength:
		return activity{}, fmt.Errorf("type: %w", errTooLong)
	}
	if err := checkLength("id", act.ID, maxURLLength); err != nil {
		return activity{}, err
	}
	if err := checkLength("actor", act.Actor, maxURLLength); err != nil {
		return activity{}, err
	}
	return act, nil
}

// busy answers 503 to a sender that came while maxFetches documents were
// being fetched: servers send an activity again later.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "60")
	problem(w, http.StatusServiceUnavailable, "Serveur occupé, réessayez plus tard. / Busy, try again later.")
}

// authenticate checks that req is signed by a key of actor, fetching the
// key when it is not known or when the known one does not verify (the
// actor may have changed keys), and that this replica did not accept its
// signature before. It returns the signature.
func (s *Service) authenticate(ctx context.Context, req *http.Request, body []byte, actor string) (*signature, error) {
	sig, err := checkSigned(req, body, time.Now())
	if err != nil {
		return nil, err
	}
	for _, fresh := range []bool{false, true} {
		key, err := s.publicKeyOf(ctx, sig.keyID, fresh)
		if err != nil {
			return nil, err
		}
		if key.Owner != actor {
			return nil, errors.New("the signing key belongs to another actor")
		}
		if err = sig.verify(req, key.Key); err == nil {
			return sig, s.replays.first(sig.sig, sig.date, time.Now())
		}
		if fresh {
			return nil, err
		}
	}
	return nil, errBadSignature
}

// activityHandler acts on an authenticated activity posted to show's inbox
// (the shared inbox when show is empty) and returns the status to answer.
type activityHandler func(ctx context.Context, show string, act activity) (int, error)

// inboxHandler is what the inbox does with an activity of type typ: nil
// for the types it ignores.
func (s *Service) inboxHandler(typ string) activityHandler {
	switch typ {
	case "Follow":
		return s.onFollow
	case "Undo":
		return s.onUndo
	case "Delete":
		return s.onDelete
	case "Create", "Update":
		return s.onNote
	case "Like", "Announce":
		return s.onReaction
	}
	return nil
}

// onFollow records the actor as a follower of the show and queues the
// Accept.
func (s *Service) onFollow(ctx context.Context, show string, act activity) (int, error) {
	slug, ok := s.showOfActor(objectID(act.Object))
	if !ok || (show != "" && slug != show) {
		return http.StatusNotFound, errNotForUs
	}
	if _, ok := s.federated(slug); !ok {
		return http.StatusNotFound, errNotForUs
	}
	if status, err := s.blockedBy(ctx, slug, act.Actor); status != 0 {
		return status, err
	}
	remote, err := s.actorOf(ctx, act.Actor)
	if err != nil {
		return http.StatusBadGateway, err
	}
	if err := s.addFollower(ctx, slug, follower{
		Actor: act.Actor, Inbox: remote.Inbox, SharedInbox: remote.SharedInbox,
		FollowID: act.ID, Since: time.Now().UTC(),
	}); err != nil {
		if errors.Is(err, errTooManyFollowers) {
			return http.StatusForbidden, err
		}
		return http.StatusServiceUnavailable, err
	}
	return http.StatusAccepted, s.accept(ctx, slug, act, remote.Inbox)
}

// onUndo uncounts a like or a boost (undoReaction), and removes a
// follower when the undone activity is its Follow, given as the activity
// or by its id.
func (s *Service) onUndo(ctx context.Context, show string, act activity) (int, error) {
	if status, done, err := s.undoReaction(ctx, act); done {
		return status, err
	}
	var inner activity
	if err := json.Unmarshal(act.Object, &inner); err == nil {
		if inner.Type != "Follow" {
			return http.StatusAccepted, nil
		}
		if inner.Actor != act.Actor {
			return http.StatusForbidden, errors.New("undo of another actor's follow")
		}
		slug, ok := s.showOfActor(objectID(inner.Object))
		if !ok || (show != "" && slug != show) {
			return http.StatusAccepted, nil
		}
		return s.undoFollow(ctx, slug, act.Actor, inner.ID)
	}
	// The Follow by its id: it is the one a follower document of the
	// actor recorded.
	id := objectID(act.Object)
	if id == "" {
		return http.StatusAccepted, nil
	}
	for _, slug := range s.showsOf(show) {
		if status, err := s.undoFollow(ctx, slug, act.Actor, id); err != nil {
			return status, err
		}
	}
	return http.StatusAccepted, nil
}

// undoFollow removes actor as a follower of show if it follows through
// the Follow followID (an Undo of an older Follow, replayed, leaves a
// newer one alone). An empty followID matches any.
func (s *Service) undoFollow(ctx context.Context, show, actor, followID string) (int, error) {
	f, err := s.readFollower(ctx, show, actor)
	if bucket.IsNotFound(err) {
		return http.StatusAccepted, nil
	}
	if err != nil && !bucket.IsUnreadable(err) {
		return http.StatusServiceUnavailable, err
	}
	if err == nil && followID != "" && f.FollowID != "" && f.FollowID != followID {
		return http.StatusAccepted, nil
	}
	if err := s.removeFollower(ctx, show, actor); err != nil {
		return http.StatusServiceUnavailable, err
	}
	return http.StatusAccepted, nil
}

// onDelete removes a reply its author deleted, and forgets an actor
// that deleted its account: its follows, replies and reactions.
func (s *Service) onDelete(ctx context.Context, show string, act activity) (int, error) {
	if id := objectID(act.Object); id != act.Actor {
		if err := s.deleteReply(ctx, act.Actor, id); err != nil {
			return http.StatusServiceUnavailable, err
		}
		return http.StatusAccepted, nil
	}
	if err := s.forgetAuthor(ctx, act.Actor); err != nil {
		return http.StatusServiceUnavailable, err
	}
	for _, slug := range s.showsOf("") {
		if err := s.removeFollower(ctx, slug, act.Actor); err != nil {
			return http.StatusServiceUnavailable, err
		}
	}
	return http.StatusAccepted, nil
}

// showsOf is show, or every show when show is empty (the shared inbox).
func (s *Service) showsOf(show string) []string {
	if show != "" {
		return []string{show}
	}
	var out []string
	for _, sh := range s.cfg.Catalog.Shows() {
		out = append(out, sh.Slug)
	}
	return out
}

// accept queues the Accept of a Follow to the follower's inbox. The
// Follow is repeated by its id, actor and object only, whatever else it
// carried.
func (s *Service) accept(ctx context.Context, show string, follow activity, inbox string) error {
	followJSON, err := json.Marshal(activity{ID: follow.ID, Type: follow.Type, Actor: follow.Actor, Object: mustJSON(s.u.actor(show))})
	if err != nil {
		return err
	}
	a := activity{
		Context: asContext,
		ID:      s.u.actor(show) + "#accept-" + shortHash(follow.ID+"\n"+follow.Actor),
		Type:    "Accept",
		Actor:   s.u.actor(show),
		Object:  followJSON,
	}
	data, err := activityJSON(a)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, show, a.ID, data, []string{inbox})
}

// objectID is the id of an object given as a URL or as an object.
func objectID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &obj)
	return obj.ID
}

// showOfActor is the show whose actor URL is id.
func (s *Service) showOfActor(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, s.u.base+"/ap/shows/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}
