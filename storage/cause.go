package storage

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"
)

// Cause is the likely reason why a store cannot be used, for the
// operator's log: what to check in the configuration.
type Cause int

const (
	// CauseUnknown: the error says nothing more precise.
	CauseUnknown Cause = iota
	// CauseUnreachable: nothing answers at the endpoint (connection
	// refused, no such host, a timeout).
	CauseUnreachable
	// CauseCredentials: the store refuses the access key or the secret
	// key (unknown key, bad signature, access denied).
	CauseCredentials
	// CauseTLSToPlain: TLS was asked of an endpoint that speaks plain
	// HTTP.
	CauseTLSToPlain
	// CausePlainToTLS: plain HTTP was sent to an endpoint that wants TLS.
	CausePlainToTLS
	// CauseNoBucket: the bucket does not exist.
	CauseNoBucket
)

// credentialCodes are the S3 error codes of refused credentials.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "AccessDenied": true,
	"InvalidToken": true, "ExpiredToken": true, "InvalidSecurity": true,
}

// errNoBucket is Ping's answer when the server answers but the bucket is
// not there.
var errNoBucket = errors.New("the bucket does not exist")

// CauseOf tells the likely reason of err, an error of a store.
func CauseOf(err error) Cause {
	if err == nil {
		return CauseUnknown
	}
	if errors.Is(err, errNoBucket) {
		return CauseNoBucket
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.Code == "NoSuchBucket":
			return CauseNoBucket
		case credentialCodes[er.Code]:
			return CauseCredentials
		case er.StatusCode == 400 && strings.Contains(strings.ToLower(er.Message), "https"):
			// Go's TLS server: "Client sent an HTTP request to an HTTPS
			// server."; nginx: "The plain HTTP request was sent to HTTPS port".
			return CausePlainToTLS
		}
		return CauseUnknown
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"),
		strings.Contains(msg, "first record does not look like a TLS handshake"):
		return CauseTLSToPlain
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &dnsErr) || errors.As(err, &opErr) {
		return CauseUnreachable
	}
	return CauseUnknown
}
