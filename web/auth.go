package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picasoft/antenne/web/accounts"
)

// Sessions. A session is a signed cookie, not a server-side record, so
// that it works on every replica that shares the store: the cookie says
// who (login and the account's Identity, so that a login removed and
// created again is not reopened), until when (expiry), which session
// generation of the host it belongs to and its own random id;
// HMAC-SHA256 with the session key (Config.SessionKey, else the key kept
// in the store) makes it unforgeable. Changing the password or signing out
// everywhere bumps the host's generation, which voids every cookie made
// before; a plain sign-out adds the session's id to the host's revoked
// sessions (kept until the session would expire): one small conditional
// write of the host document, seen by every replica at its next refresh,
// and no other session of the host ends.
const (
	sessionCookie = "antenne_session"
	sessionTTL    = 14 * 24 * time.Hour
	// hostKey is where the auth middlewares leave the signed-in host.
	hostKey = "antenne.host"
	// sessionCtxKey is where requireSession leaves the session.
	sessionCtxKey = "antenne.session"
)

// sessionKey is the key that signs sessions: Config.SessionKey, else the
// one kept in the store, read once. No lock is held while the store is
// asked: requests racing before the first read each ask, and the store's
// conditional create gives them all the same key.
func (s *Server) sessionKey(c *gin.Context) ([]byte, error) {
	if len(s.cfg.SessionKey) > 0 {
		return s.cfg.SessionKey, nil
	}
	if key := s.key.Load(); key != nil {
		return *key, nil
	}
	key, err := s.cfg.Accounts.SessionKey(c.Request.Context())
	if err != nil {
		return nil, err
	}
	s.key.Store(&key)
	return key, nil
}

// session is what a session cookie says: who signed in (login, and the
// Identity of that account, so that a login removed and created again does
// not reopen), the host's session generation then, the session's own
// random id (to sign it out alone) and its expiry.
type session struct {
	login, identity, id string
	gen                 int
	expires             time.Time
}

// newSession is a new session of h until expires.
func newSession(h *accounts.Host, expires time.Time) (session, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return session{}, fmt.Errorf("new session: %w", err)
	}
	return session{login: h.Login, identity: h.Identity(), id: hex.EncodeToString(id[:]), gen: h.SessionGeneration, expires: expires}, nil
}

// signSession is the cookie value of ss:
// base64(login|generation|expiry|identity|id).base64(hmac).
func signSession(key []byte, ss session) string {
	payload := strings.Join([]string{ss.login, strconv.Itoa(ss.gen), strconv.FormatInt(ss.expires.Unix(), 10), ss.identity, ss.id}, "|")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// errBadSession is any cookie that does not open a session.
var errBadSession = errors.New("no valid session")

// openSession checks a cookie value's signature and expiry and returns
// the session it names.
func openSession(key []byte, value string, now time.Time) (session, error) {
	p64, m64, ok := strings.Cut(value, ".")
	if !ok {
		return session{}, errBadSession
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sum, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil {
		return session{}, errBadSession
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(payload)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return session{}, errBadSession
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 5 {
		return session{}, errBadSession
	}
	gen, err1 := strconv.Atoi(parts[1])
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || now.Unix() >= exp {
		return session{}, errBadSession
	}
	return session{login: parts[0], gen: gen, expires: time.Unix(exp, 0), identity: parts[3], id: parts[4]}, nil
}

// secure reports whether the request came over HTTPS, directly or (as the
// base URL says) behind a TLS-terminating proxy: cookies are then Secure.
func (s *Server) secure(c *gin.Context) bool {
	return c.Request.TLS != nil || strings.HasPrefix(s.cfg.Links.Base(), "https:")
}

func (s *Server) setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.secure(c),
	})
}

// sessionHost returns the host whose valid session cookie the request
// carries and the session, or nil. A session opens only the account it
// was made for (same Identity), of the same generation, and not signed
// out.
func (s *Server) sessionHost(c *gin.Context) (*accounts.Host, session) {
	ck, err := c.Request.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, session{}
	}
	key, err := s.sessionKey(c)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "session key unavailable", "err", err)
		return nil, session{}
	}
	ss, err := openSession(key, ck.Value, time.Now())
	if err != nil {
		return nil, session{}
	}
	h, err := s.cfg.Accounts.Host(ss.login)
	if err != nil || h.SessionGeneration != ss.gen || h.Identity() != ss.identity || h.SessionRevoked(ss.id) || h.Disabled {
		return nil, session{}
	}
	return h, ss
}

// requireSession is the studio's middleware: without a valid session the
// browser is sent to the login page (303, so that a POST becomes a GET),
// with the page it wanted in ?next=.
func (s *Server) requireSession(c *gin.Context) {
	h, ss := s.sessionHost(c)
	if h == nil {
		next := c.Request.URL.Path
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			next = "/studio/"
		}
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, "/studio/login?next="+url.QueryEscape(next))
		c.Abort()
		return
	}
	c.Set(hostKey, h)
	c.Set(sessionCtxKey, ss)
	c.Header("Cache-Control", "no-store")
	// After an admin's reset, the host chooses a new password first, and
	// does nothing else with the temporary one (no token, no edit).
	if h.MustChangePassword && !allowedBeforePasswordChange(c.Request) {
		c.Redirect(http.StatusSeeOther, "/studio/account")
		c.Abort()
		return
	}
	c.Next()
}

// allowedBeforePasswordChange reports whether r is one of the requests a
// host whose password was reset may send: the account page, its password
// form and signing out.
func allowedBeforePasswordChange(r *http.Request) bool {
	switch r.URL.Path {
	case "/studio/account":
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	case "/studio/account/password", "/studio/logout":
		return r.Method == http.MethodPost
	}
	return false
}

// requireToken is the API's middleware: a valid "Authorization: Bearer"
// token, else 401.
func (s *Server) requireToken(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	auth := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="antenne"`)
		s.answerProblem(c, problem{Status: http.StatusUnauthorized, Code: "unauthorized", key: "error.unauthorized"})
		return
	}
	h, err := s.cfg.Accounts.HostByToken(c.Request.Context(), strings.TrimSpace(token))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="antenne", error="invalid_token"`)
		s.answerProblem(c, problem{Status: http.StatusUnauthorized, Code: "unauthorized", key: "error.unauthorized"})
		return
	}
	c.Set(hostKey, h)
	c.Next()
}

// currentHost is the host the auth middleware let in.
func currentHost(c *gin.Context) *accounts.Host {
	v, _ := c.Get(hostKey)
	h, _ := v.(*accounts.Host)
	return h
}

// requireShow is the middleware of routes under a :show: the host must
// be allowed to act on it (403), and the show must exist (404, told only
// to those allowed, so that nobody learns which drafts exist elsewhere).
func (s *Server) requireShow(c *gin.Context) {
	if !currentHost(c).CanEdit(c.Param("show")) {
		s.answerProblem(c, problem{Status: http.StatusForbidden, Code: "forbidden", key: "error.forbidden"})
		return
	}
	if _, err := s.cfg.Catalog.Show(c.Param("show")); err != nil {
		s.fail(c, err)
		return
	}
	c.Next()
}

// requireAdmin lets only admins through (403).
func (s *Server) requireAdmin(c *gin.Context) {
	if h := currentHost(c); h == nil || !h.Admin {
		s.answerProblem(c, problem{Status: http.StatusForbidden, Code: "forbidden", key: "error.forbidden"})
		return
	}
	c.Next()
}

// crossOriginGuard refuses state-changing requests that a browser sends
// from another site (Go's CrossOriginProtection: Sec-Fetch-Site, then
// Origin against Host). Requests without those headers (curl, the CLI)
// pass: they carry no ambient cookie of a victim.
func (s *Server) crossOriginGuard(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", loggedPath(r.URL.Path))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("cross-origin request refused / requête d'un autre site refusée\n"))
	}))
	return p.Handler(next)
}
