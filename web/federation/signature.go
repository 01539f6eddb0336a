package federation

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// HTTP Signatures as Mastodon and GoToSocial speak them:
// https://datatracker.ietf.org/doc/html/draft-cavage-http-signatures-12,
// algorithm rsa-sha256 (also announced as "hs2019" by some servers), with a
// Digest header (RFC 3230, SHA-256) over the body of every POST. Written
// here rather than taken from go-fed/httpsig: we need one algorithm and
// four headers, and that library is unmaintained.

// maxClockSkew is how far a signed request's Date may be from our clock:
// older requests are taken for replays.
const maxClockSkew = 5 * time.Minute

// Errors of signature verification. Every one is answered 401.
var (
	errNoSignature  = errors.New("request is not signed")
	errBadSignature = errors.New("signature does not verify")
	errStaleDate    = errors.New("Date header missing or too far from now")
	errBadDigest    = errors.New("Digest header missing or does not match the body")
)

// signedHeaders are the headers we sign, and require signed, on POST; GET
// signs the same without digest.
var (
	postHeaders = []string{"(request-target)", "host", "date", "digest"}
	getHeaders  = []string{"(request-target)", "host", "date"}
)

// digest is the Digest header value of body.
func digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// signRequest sets Date (and Digest when body is not nil) and signs req
// with key under keyID. The request's Host must be set (it is, for a request
// built by http.NewRequest).
func signRequest(req *http.Request, keyID string, key *rsa.PrivateKey, body []byte, now time.Time) error {
	headers := getHeaders
	if body != nil {
		headers = postHeaders
	}
	return signHeaders(req, keyID, key, body, now, headers)
}

// signHeaders is signRequest covering the headers given.
func signHeaders(req *http.Request, keyID string, key *rsa.PrivateKey, body []byte, now time.Time, headers []string) error {
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	if body != nil {
		req.Header.Set("Digest", digest(body))
	}
	sum := sha256.Sum256([]byte(signingString(req, headers)))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("sign request to %s: %w", req.URL, err)
	}
	req.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="rsa-sha256",headers="%s",signature="%s"`,
		keyID, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// signingString is the string a signature covers (draft-cavage section 2.3).
func signingString(req *http.Request, headers []string) string {
	var b strings.Builder
	for i, h := range headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case "(request-target)":
			b.WriteString(strings.ToLower(req.Method))
			b.WriteByte(' ')
			b.WriteString(req.URL.RequestURI())
		case "host":
			host := req.Host
			if host == "" {
				host = req.URL.Host
			}
			b.WriteString(host)
		default:
			b.WriteString(strings.Join(req.Header.Values(h), ", "))
		}
	}
	return b.String()
}

// signature is a parsed Signature header.
type signature struct {
	keyID     string
	algorithm string
	headers   []string
	sig       []byte
	date      time.Time // of the Date header, once checkSigned checked it
}

// parseSignature reads the Signature header of req.
func parseSignature(req *http.Request) (*signature, error) {
	raw := req.Header.Get("Signature")
	if raw == "" {
		return nil, errNoSignature
	}
	s := &signature{headers: []string{"date"}} // the draft's default
	for _, part := range splitParams(raw) {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%w: malformed parameter %q", errBadSignature, part)
		}
		value = strings.Trim(value, `"`)
		switch strings.TrimSpace(name) {
		case "keyId":
			s.keyID = value
		case "algorithm":
			s.algorithm = value
		case "headers":
			s.headers = strings.Fields(strings.ToLower(value))
		case "signature":
			sig, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return nil, fmt.Errorf("%w: signature is not base64", errBadSignature)
			}
			s.sig = sig
		}
	}
	if s.keyID == "" || s.sig == nil {
		return nil, fmt.Errorf("%w: keyId or signature missing", errBadSignature)
	}
	switch s.algorithm {
	case "", "rsa-sha256", "hs2019":
	default:
		return nil, fmt.Errorf("%w: algorithm %q not supported", errBadSignature, s.algorithm)
	}
	return s, nil
}

// splitParams splits a Signature header on the commas outside quotes.
func splitParams(s string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// checkSigned checks what can be checked of req before its key is known:
// the signature covers (request-target), host, date and, for a request
// with a body, digest; the Date is within maxClockSkew of now; the Digest
// matches body. It returns the parsed signature.
func checkSigned(req *http.Request, body []byte, now time.Time) (*signature, error) {
	sig, err := parseSignature(req)
	if err != nil {
		return nil, err
	}
	required := getHeaders
	if req.Method == http.MethodPost {
		required = postHeaders
	}
	for _, h := range required {
		if !slices.Contains(sig.headers, h) {
			return nil, fmt.Errorf("%w: header %q is not signed", errBadSignature, h)
		}
	}
	date, err := http.ParseTime(req.Header.Get("Date"))
	if err != nil || date.Sub(now).Abs() > maxClockSkew {
		return nil, errStaleDate
	}
	sig.date = date
	if req.Method == http.MethodPost && !digestMatches(req.Header.Get("Digest"), body) {
		return nil, errBadDigest
	}
	return sig, nil
}

// digestMatches reports whether a Digest header holds the SHA-256 of body.
func digestMatches(header string, body []byte) bool {
	want := digest(body)
	for _, d := range strings.Split(header, ",") {
		algo, value, ok := strings.Cut(strings.TrimSpace(d), "=")
		if ok && strings.EqualFold(algo, "SHA-256") && "SHA-256="+value == want {
			return true
		}
	}
	return false
}

// verify checks sig over req with the public key pub.
func (sig *signature) verify(req *http.Request, pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(signingString(req, sig.headers)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig.sig); err != nil {
		return errBadSignature
	}
	return nil
}

// parsePublicKey reads a PEM public key (PKIX, or PKCS#1 as some servers
// publish).
func parsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("public key is not PEM")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("public key is not RSA")
	}
	return x509.ParsePKCS1PublicKey(block.Bytes)
}

// publicKeyPEM is the PKIX PEM of key's public half, as actor documents
// publish it.
func publicKeyPEM(key *rsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic(err) // an RSA public key always marshals
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
