#!/usr/bin/env bash
# usage: bench/ingest.sh [MINUTES]
#
# Issue 12's ingest benchmark, in one run: `antenne publish` of a Mumble-like
# recording (45 minutes of 24-bit mono 48 kHz WAV by default, speech-like:
# noise shaped into syllables and phrases with pauses) into a local data
# folder, against the plain MP3 encode of the same file
# (`ffmpeg -i X -ac 1 -c:a libmp3lame -b:a 96k out.mp3`). Prints both times
# (wall clock, and CPU with ffmpeg's included), their ratio (target <= 2.0x)
# and the loudness ffmpeg's ebur128 measures on the published MP3 (target
# -16 +/- 1 LUFS, true peak <= -1 dBTP).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-45}
command -v ffmpeg >/dev/null || { echo "ingest.sh: ffmpeg is needed (make deps)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench-ingest.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/antenne" ./cmd/antenne

echo "making $minutes minutes of 24-bit mono 48 kHz speech-like WAV..."
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi \
  -i "anoisesrc=color=pink:sample_rate=48000:amplitude=0.6:duration=$((minutes * 60)):seed=1,aeval='0.3*val(0)*(0.1+0.9*pow(abs(sin(2*PI*2.5*t)),3))*lt(mod(t,7),5)':c=same" \
  -c:a pcm_s24le "$work/Mixdown.wav"
echo "file: $(( $(stat -c %s "$work/Mixdown.wav") / 1024 / 1024 )) MiB WAV"

export ANTENNE_DATA_DIR=$work/data TMPDIR=$work
"$work/antenne" shows create bench --title Bench >/dev/null

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f '%U %S' -o "$work/cpu-antenne" "$work/antenne" publish "$work/Mixdown.wav" --title Bench >/dev/null 2>"$work/publish.log" ||
  { cat "$work/publish.log" >&2; exit 1; }
t1=$(now)
/usr/bin/time -f '%U %S' -o "$work/cpu-ffmpeg" ffmpeg -hide_banner -nostdin -loglevel error -i "$work/Mixdown.wav" \
  -ac 1 -c:a libmp3lame -b:a 96k "$work/out.mp3"
t2=$(now)

mp3=$(find "$work/data" -name '*.mp3' | head -n 1)
[ -n "$mp3" ] || { echo "ingest.sh: no MP3 published under $work/data" >&2; exit 1; }
summary=$(ffmpeg -hide_banner -nostdin -nostats -i "$mp3" -map 0:a:0 -af ebur128=peak=true -f null - 2>&1 |
  sed -n '/Summary:/,$p')
value() { echo "$summary" | awk -v key="$1" '$1 == key { v = $2 } END { print v }'; }

awk -v a="$(echo "$t1 - $t0" | bc)" -v f="$(echo "$t2 - $t1" | bc)" \
    -v ac="$(awk '{ print $1 + $2 }' "$work/cpu-antenne")" -v fc="$(awk '{ print $1 + $2 }' "$work/cpu-ffmpeg")" \
    -v i="$(value I:)" -v lra="$(value LRA:)" -v tp="$(value Peak:)" -v min="$minutes" 'BEGIN {
  printf "antenne publish (%d min WAV to MP3): %.1f s (CPU %.1f s)\n", min, a, ac
  printf "ffmpeg -c:a libmp3lame -b:a 96k:    %.1f s (CPU %.1f s)\n", f, fc
  printf "ratio publish/encode: %.2fx (target <= 2.0x; CPU %.2fx)\n", a / f, ac / fc
  printf "published MP3 by ebur128: %s LUFS (target -16 +/- 1), LRA %s LU, true peak %s dBTP (target <= -1)\n", i, lra, tp
}'
