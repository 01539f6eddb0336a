#!/usr/bin/env bash
# usage: bench/ingest.sh [MINUTES]
#
# The ingest benchmark (issues 12 and 23), in one run: `antenne publish` of
# two Mumble-like recordings (45 minutes of 24-bit mono 48 kHz WAV by
# default) into a local data folder, each against the plain MP3 encode of
# the same file (`ffmpeg -i X -ac 1 -c:a libmp3lame -b:a 96k out.mp3`):
#   - "noise": noise shaped into syllables and phrases with pauses, whose
#     peaks stay under the ceiling once brought to -16 LUFS (gain only);
#   - "voices": synthetic speech (ffmpeg's flite, 30 s repeated 90 times)
#     where one voice in five is 10 dB louder than the others: brought to
#     -16 LUFS, its peaks need the limiter.
# Prints both times (wall clock, and CPU with ffmpeg's included), their
# ratio (target <= 1.2x), antenne's peak RSS and the loudness ffmpeg's
# ebur128 measures on the published MP3 (target -16 +/- 0.5 LUFS, true peak
# <= -1 dBTP). Exits 1 when a loudness target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-45}
command -v ffmpeg >/dev/null || { echo "ingest.sh: ffmpeg is needed (make deps)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench-ingest.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/antenne" ./cmd/antenne

ff() { ffmpeg -hide_banner -nostdin -loglevel error "$@"; }
echo "making $minutes minutes of 24-bit mono 48 kHz WAV, twice..."
ff -f lavfi \
  -i "anoisesrc=color=pink:sample_rate=48000:amplitude=0.6:duration=$((minutes * 60)):seed=1,aeval='0.3*val(0)*(0.1+0.9*pow(abs(sin(2*PI*2.5*t)),3))*lt(mod(t,7),5)':c=same" \
  -c:a pcm_s24le "$work/noise.wav"
cat >"$work/words.txt" <<'EOF'
Welcome back to the show. Tonight we talk about free software, community hosting, and why a small
association can run its own services. Our guests have been maintaining servers for ten years, and they
will tell us what went wrong, what went right, and what they would do differently. But first, a few
words about the news of the week, and a reminder that the next meeting is on Thursday.
EOF
ff -f lavfi -i "flite=textfile=$work/words.txt:voice=slt,aresample=48000,apad=whole_dur=30,atrim=duration=30,volume=volume='0.3+0.7*lt(mod(t\,10)\,2)':eval=frame" \
  -c:a pcm_s24le "$work/unit.wav"
ff -stream_loop $((minutes * 2 - 1)) -i "$work/unit.wav" -c:a pcm_s24le "$work/voices.wav"
rm "$work/unit.wav"
echo "files: $(( $(stat -c %s "$work/noise.wav") / 1024 / 1024 )) MiB WAV each"

export ANTENNE_DATA_DIR=$work/data TMPDIR=$work
"$work/antenne" shows create bench --title Bench >/dev/null

now() { date +%s.%N; }
failed=0
for name in noise voices; do
  t0=$(now)
  /usr/bin/time -f '%U %S %M' -o "$work/cpu-antenne" "$work/antenne" publish "$work/$name.wav" --title "Bench $name" >/dev/null 2>"$work/publish.log" ||
    { cat "$work/publish.log" >&2; exit 1; }
  t1=$(now)
  /usr/bin/time -f '%U %S' -o "$work/cpu-ffmpeg" ffmpeg -hide_banner -nostdin -loglevel error -y -i "$work/$name.wav" \
    -ac 1 -c:a libmp3lame -b:a 96k "$work/out.mp3"
  t2=$(now)

  mp3=$(find "$work/data" -name "bench-$name-*.mp3" | head -n 1)
  [ -n "$mp3" ] || { echo "ingest.sh: no MP3 published for $name under $work/data" >&2; exit 1; }
  summary=$(ffmpeg -hide_banner -nostdin -nostats -i "$mp3" -map 0:a:0 -af ebur128=peak=true -f null - 2>&1 |
    sed -n '/Summary:/,$p')
  value() { echo "$summary" | awk -v key="$1" '$1 == key { v = $2 } END { print v }'; }

  awk -v name="$name" -v a="$(echo "$t1 - $t0" | bc)" -v f="$(echo "$t2 - $t1" | bc)" \
      -v ac="$(awk '{ print $1 + $2 }' "$work/cpu-antenne")" -v fc="$(awk '{ print $1 + $2 }' "$work/cpu-ffmpeg")" \
      -v rss="$(awk '{ print $3 }' "$work/cpu-antenne")" \
      -v i="$(value I:)" -v lra="$(value LRA:)" -v tp="$(value Peak:)" -v min="$minutes" 'BEGIN {
    printf "%s: antenne publish (%d min WAV to MP3): %.1f s (CPU %.1f s, peak RSS %.0f MiB)\n", name, min, a, ac, rss / 1024
    printf "%s: ffmpeg -c:a libmp3lame -b:a 96k:    %.1f s (CPU %.1f s)\n", name, f, fc
    printf "%s: ratio publish/encode: %.2fx (target <= 1.2x; CPU %.2fx)\n", name, a / f, ac / fc
    printf "%s: published MP3 by ebur128: %s LUFS (target -16 +/- 0.5), LRA %s LU, true peak %s dBTP (target <= -1)\n", name, i, lra, tp
    exit !(i >= -16.5 && i <= -15.5 && tp <= -1)
  }' || failed=1
done
exit $failed
