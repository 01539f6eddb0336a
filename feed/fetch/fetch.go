// Package fetch is the one HTTP client for every URL antenne fetches on
// someone else's word: the feed, media, artwork, chapters and transcripts
// of an import, and anything fetched later (federation). Such a URL is an
// attacker's choice, so the client
//
//   - speaks only http and https, on the first request and on every
//     redirect, and follows at most Options.MaxRedirects redirects;
//   - refuses, unless Options.AllowPrivate, to connect to an address that
//     is loopback, private (RFC 1918, ULA fc00::/7), link-local, multicast,
//     unspecified, shared (CGNAT 100.64.0.0/10) or reserved, in IPv4,
//     IPv6 or an IPv4-mapped form. The check runs at dial time on the
//     address actually dialled, after DNS resolution, for every
//     connection (redirects included): a name that resolves to a private
//     address, or that changes its answer between two lookups (DNS
//     rebinding), cannot pass;
//   - lets the origins of Options.Trusted (scheme, host and port, as the
//     operator gave them) reach private addresses: moving a show from a
//     server on the same network keeps working, while a redirect from
//     that server elsewhere is checked like any URL;
//   - bounds the time of the whole exchange (Options.Timeout) and the size
//     of every body (Options.MaxBytes).
//
// A refused address gives a *BlockedError, a body over the limit an error
// matching ErrTooLarge; both can be found with errors.As / errors.Is in
// what the client returns.
//
// The client uses no proxy, whatever HTTP_PROXY says: a proxy would dial
// on antenne's behalf where these checks cannot see.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Options configure a client. The zero value refuses private addresses,
// trusts no origin, follows 10 redirects and bounds neither the time of
// an exchange nor the size of a body (pass a context deadline, or use
// ReadAll).
type Options struct {
	// AllowPrivate lets the client connect to private, loopback and other
	// non-public addresses (ANTENNE_FETCH_ALLOW_PRIVATE).
	AllowPrivate bool
	// Trusted lists URLs whose origin (scheme, host, port) may be reached
	// at private addresses: typically the feed URL an operator gave. An
	// entry that is not an absolute http(s) URL trusts nothing.
	Trusted []string
	// Timeout bounds a whole exchange, redirects and body included
	// (http.Client.Timeout); none when zero.
	Timeout time.Duration
	// MaxBytes bounds every response body: a larger declared length fails
	// at once, a longer body fails when the excess is read; none when zero.
	MaxBytes int64
	// MaxRedirects is how many redirects a request may follow; 10 when
	// zero, none when negative.
	MaxRedirects int
}

// ErrTooLarge is matched (errors.Is) by the error of a body longer than
// allowed.
var ErrTooLarge = errors.New("the response is larger than allowed")

// BlockedError tells that a URL or an address was refused.
type BlockedError struct {
	URL    string     // the URL requested, when known
	Addr   netip.Addr // the address refused; invalid for a refused scheme
	Reason string     // e.g. "loopback address", "scheme ftp"
}

func (e *BlockedError) Error() string {
	var b strings.Builder
	b.WriteString("refused to fetch")
	if e.URL != "" {
		fmt.Fprintf(&b, " %s", e.URL)
	}
	if e.Addr.IsValid() {
		fmt.Fprintf(&b, ": %s is a %s; antenne fetches only public addresses", e.Addr, e.Reason)
	} else {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	return b.String()
}

// NewClient returns a client that enforces opts as the package
// documentation describes. It is safe for concurrent use.
func NewClient(opts Options) *http.Client {
	trusted := map[string]bool{}
	for _, t := range opts.Trusted {
		if u, err := url.Parse(t); err == nil {
			if o, ok := origin(u); ok {
				trusted[o] = true
			}
		}
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	checked := &net.Dialer{Timeout: dialer.Timeout, KeepAlive: dialer.KeepAlive, Control: controlPublic}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if opts.AllowPrivate || ctx.Value(trustedKey{}) != nil {
				return dialer.DialContext(ctx, network, addr)
			}
			return checked.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	redirects := opts.MaxRedirects
	if redirects == 0 {
		redirects = 10
	}
	return &http.Client{
		Transport: &guard{next: transport, trusted: trusted, maxBytes: opts.MaxBytes},
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max(redirects, 0) {
				return fmt.Errorf("refused to follow more than %d redirects", max(redirects, 0))
			}
			return checkScheme(req.URL)
		},
	}
}

// trustedKey marks the context of a request to a trusted origin, for the
// dialer.
type trustedKey struct{}

// guard checks every request (redirects included) before the transport
// sends it, and bounds the response body.
type guard struct {
	next     http.RoundTripper
	trusted  map[string]bool
	maxBytes int64
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		return nil, err
	}
	if o, ok := origin(req.URL); ok && g.trusted[o] {
		req = req.WithContext(context.WithValue(req.Context(), trustedKey{}, true))
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			return nil, &BlockedError{URL: req.URL.Redacted(), Addr: be.Addr, Reason: be.Reason}
		}
		return nil, err
	}
	if g.maxBytes > 0 {
		if resp.ContentLength > g.maxBytes {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %d bytes: %w (%d)", req.URL.Redacted(), resp.ContentLength, ErrTooLarge, g.maxBytes)
		}
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: g.maxBytes, max: g.maxBytes}
	}
	return resp, nil
}

// limitedBody fails a read past max bytes.
type limitedBody struct {
	io.ReadCloser
	left, max int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Tell a body that ends exactly at the limit from a longer one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, b.max)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// ReadAll reads r to its end, at most limit bytes; a longer r gives an
// error matching ErrTooLarge.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	return data, nil
}

// origin is u's scheme, lowercase host and port (the default one when
// absent), or false when u is not an absolute http(s) URL.
func origin(u *url.URL) (string, bool) {
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port), true
}

func checkScheme(u *url.URL) error {
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return &BlockedError{URL: u.Redacted(), Reason: fmt.Sprintf("scheme %q (only http and https)", u.Scheme)}
	}
	return nil
}

// controlPublic refuses the dial of a non-public address. It runs on the
// address the dialer is about to connect to, after resolution.
func controlPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Reason: fmt.Sprintf("unreadable address %q", address)}
	}
	if reason := Classify(ap.Addr()); reason != "" {
		return &BlockedError{Addr: ap.Addr().Unmap(), Reason: reason}
	}
	return nil
}

// Non-public ranges that netip has no predicate for.
var reserved = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved (benchmarking) address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
}

// Prefixes of IPv6 addresses that embed an IPv4 address in their last 32
// bits (NAT64) or in bits 16 to 48 (6to4): the embedded address is
// checked too.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Classify returns why a is not a public unicast address ("loopback
// address", "private address"...), or "" when it is one. IPv4-mapped
// IPv6 addresses are judged by their IPv4 address.
func Classify(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid address"
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsPrivate():
		return "private address"
	case a.IsLinkLocalUnicast():
		return "link-local address"
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast address"
	}
	if a.Is4() {
		for _, r := range reserved {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		if r := Classify(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return "NAT64 form of a " + r
		}
	case sixTo4.Contains(a):
		if r := Classify(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return "6to4 form of a " + r
		}
	}
	return ""
}
