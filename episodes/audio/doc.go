// Package audio tells what a recording is: its format sniffed from the
// bytes (MP3, M4A/AAC, FLAC, Ogg Vorbis, Opus, WAV), the facts its
// containers give (codec, duration, bitrate, sample rate, channels), its
// tags, cover and chapters, and its loudness (Meter: EBU R 128 integrated
// loudness, loudness range and true peak of decoded PCM). Everything here
// is a pure function over bytes and files: no domain, no store, no child
// process. Every parser bounds what it reads and allocates, whatever the
// input claims, and the meter's memory does not grow with the length.
package audio
