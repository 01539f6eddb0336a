package main

import (
	"fmt"

	"github.com/picasoft/antenne/storage"
)

// storeAdvice names what to check when the store cannot be used, in the
// words of the configuration; "" when the error says nothing precise.
func storeAdvice(err error) string {
	switch storage.CauseOf(err) {
	case storage.CauseCredentials:
		return "the store refuses the credentials: check ANTENNE_S3_ACCESS_KEY and ANTENNE_S3_SECRET_KEY (or the file of ANTENNE_S3_SECRET_KEY_FILE)"
	case storage.CauseTLSToPlain:
		return "the endpoint speaks plain HTTP, not TLS: set ANTENNE_S3_SECURE=false (or give the endpoint's TLS port)"
	case storage.CausePlainToTLS:
		return "the endpoint wants TLS: set ANTENNE_S3_SECURE=true"
	case storage.CauseNoBucket:
		return "the bucket does not exist: create it, set ANTENNE_S3_CREATE_BUCKET=true, or check ANTENNE_S3_BUCKET"
	case storage.CauseUnreachable:
		return "nothing answers at ANTENNE_S3_ENDPOINT: is the store running, and is its host:port right?"
	}
	return ""
}

// withStoreAdvice adds storeAdvice's words to err, when it has some.
func withStoreAdvice(err error) error {
	if advice := storeAdvice(err); advice != "" {
		return fmt.Errorf("%w (likely cause: %s)", err, advice)
	}
	return err
}
