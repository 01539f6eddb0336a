// Package web serves antenne over HTTP with gin: the public pages, the feed
// and media, the hosts' studio and the JSON API.
//
// # Shared base
//
// Every handler uses the same few pieces:
//
//   - errors.go: s.fail(c, err) answers any error with the status and the
//     user message that problemOf maps it to (404 for episodes.ErrNotFound,
//     409 for a conflict or a duplicate, 400 for a FieldError, 415 for an
//     unsupported recording, 413 for an oversized body, 503 when the store
//     cannot be reached, 500 otherwise) and logs the cause; the user never
//     sees internal error text. Under /api/ the answer is JSON
//     {"error": {"code", "message"}} (plus "field" and "key" for an
//     episodes.FieldError, whose message is then its English Reason),
//     elsewhere an HTML page. Forms can call problemOf(err).Message(lang)
//     to show the message beside the field: a FieldError's Key and Args
//     are translated there with the "field.*" and "invalid.*" texts of
//     the catalogue.
//   - i18n.go: langOf(c) is the request's language ("fr" first, "en" when
//     ?lang=en, the lang cookie or Accept-Language ask for it); tr(lang,
//     key, args...) translates a key of the messages catalogue, where every
//     text is written in French and English. Templates call it as
//     {{t $.Lang "key"}}.
//   - templates.go: s.render(c, status, page, title, data) executes
//     templates/<page>.html inside templates/layout.html (which defines
//     "layout" and calls the page's "content" and optional "head"
//     blocks); files named _*.html are partials every page can call. The
//     data is in .Data, the language in .Lang. Everything is embedded.
//   - security.go: every response carries a strict Content-Security-Policy
//     (default-src 'self', no inline script or style: put scripts in
//     static/ and attach handlers from there), X-Frame-Options DENY,
//     X-Content-Type-Options nosniff and Referrer-Policy same-origin;
//     s.allowFraming(c) lifts the framing ban (the embeddable player only).
//
// # Public side
//
// public.go registers the routes listeners and podcast apps reach; see
// publicRoutes for the table. What the public sees of a show is built
// once per catalog version (public_cache.go) and the feed with it, so that
// the feed, the pages and the media checks are served from memory.
package web
