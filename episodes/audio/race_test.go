//go:build race

package audio_test

// raceDetector is set when the tests run under the race detector, which
// makes the meter much slower: the long test signals are then cut short.
const raceDetector = true
