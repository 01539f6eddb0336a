//go:build !race

package audio_test

const raceDetector = false
