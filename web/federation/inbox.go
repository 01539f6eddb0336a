package federation

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// inbox receives an activity posted to a show's inbox, or to the shared
// inbox when show is empty. The request must be signed by the key of the
// activity's actor (401 otherwise, and nothing is recorded). Follow,
// Undo{Follow} and the Delete of an account are acted upon; anything else
// is answered 202 and ignored.
func (s *Service) inbox(w http.ResponseWriter, r *http.Request, show string) {
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
	var act activity
	if err := json.Unmarshal(body, &act); err != nil || act.Type == "" || act.Actor == "" {
		// The actor may be an object in some servers' activities.
		var loose struct {
			Actor struct {
				ID string `json:"id"`
			} `json:"actor"`
		}
		if err == nil && act.Actor == "" && json.Unmarshal(body, &loose) == nil {
			act.Actor = loose.Actor.ID
		}
		if act.Type == "" || act.Actor == "" {
			problem(w, http.StatusBadRequest, "Ce n'est pas une activité ActivityPub. / Not an ActivityPub activity.")
			return
		}
	}
	if err := s.authenticate(r.Context(), r, body, act.Actor); err != nil {
		if errors.Is(err, errBusy) {
			busy(w)
			return
		}
		s.log.InfoContext(r.Context(), "inbox: refused", "actor", act.Actor, "type", act.Type, "err", err)
		problem(w, http.StatusUnauthorized, "Signature HTTP absente ou invalide. / Missing or invalid HTTP signature.")
		return
	}
	status, err := s.handleActivity(r.Context(), show, act)
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

// busy answers 503 to a sender that came while maxFetches documents were
// being fetched: servers send an activity again later.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "60")
	problem(w, http.StatusServiceUnavailable, "Serveur occupé, réessayez plus tard. / Busy, try again later.")
}

// authenticate checks that req is signed by a key of actor, fetching the
// key when it is not known or when the known one does not verify (the
// actor may have changed keys).
func (s *Service) authenticate(ctx context.Context, req *http.Request, body []byte, actor string) error {
	sig, err := checkSigned(req, body, time.Now())
	if err != nil {
		return err
	}
	for _, fresh := range []bool{false, true} {
		key, err := s.publicKeyOf(ctx, sig.keyID, fresh)
		if err != nil {
			return err
		}
		if key.Owner != actor {
			return errors.New("the signing key belongs to another actor")
		}
		if err = sig.verify(req, key.Key); err == nil {
			return nil
		}
		if fresh {
			return err
		}
	}
	return errBadSignature
}

// handleActivity acts on an authenticated activity and returns the status
// to answer.
func (s *Service) handleActivity(ctx context.Context, show string, act activity) (int, error) {
	switch act.Type {
	case "Follow":
		target := objectID(act.Object)
		slug, ok := s.showOfActor(target)
		if !ok || (show != "" && slug != show) {
			return http.StatusNotFound, errNotForUs
		}
		if _, ok := s.federated(slug); !ok {
			return http.StatusNotFound, errNotForUs
		}
		remote, err := s.actorOf(ctx, act.Actor)
		if err != nil {
			return http.StatusBadGateway, err
		}
		if err := s.addFollower(ctx, slug, follower{
			Actor: act.Actor, Inbox: remote.Inbox, SharedInbox: remote.SharedInbox,
			FollowID: act.ID, Since: time.Now().UTC(),
		}); err != nil {
			return http.StatusServiceUnavailable, err
		}
		return http.StatusAccepted, s.accept(ctx, slug, act, remote.Inbox)
	case "Undo":
		var inner activity
		if err := json.Unmarshal(act.Object, &inner); err != nil || inner.Type != "Follow" {
			return http.StatusAccepted, nil
		}
		if inner.Actor != act.Actor {
			return http.StatusForbidden, errors.New("undo of another actor's follow")
		}
		if slug, ok := s.showOfActor(objectID(inner.Object)); ok {
			return http.StatusAccepted, s.removeFollower(ctx, slug, act.Actor)
		}
		return http.StatusAccepted, nil
	case "Delete":
		if objectID(act.Object) != act.Actor {
			return http.StatusAccepted, nil // a post of theirs: we keep none
		}
		for _, sh := range s.cfg.Catalog.Shows() {
			if err := s.removeFollower(ctx, sh.Slug, act.Actor); err != nil {
				return http.StatusServiceUnavailable, err
			}
		}
		return http.StatusAccepted, nil
	}
	return http.StatusAccepted, nil
}

// accept queues the Accept of a Follow to the follower's inbox.
func (s *Service) accept(ctx context.Context, show string, follow activity, inbox string) error {
	followJSON, err := json.Marshal(follow)
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
