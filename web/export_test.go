package web

import "testing"

// Catalogue is the French and English texts of a catalogue key, empty
// when the key is missing: for the tests of package web_test.
func Catalogue(key string) [2]string {
	if m, ok := messages[key]; ok {
		return m
	}
	return studioMessages[key]
}

// SquarePNG is a valid show artwork, a 1400x1400 PNG: for the tests of
// package web_test.
func SquarePNG(t testing.TB) []byte { return squarePNG(t) }
