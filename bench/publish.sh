#!/usr/bin/env bash
# usage: .ci/with-minio bench/publish.sh [SIZE_MIB]
#
# Issue 4's publish benchmark, in one run against the MinIO that
# .ci/with-minio started: `antenne publish` of a large MP3 (1 GiB by
# default) into MinIO, its peak memory (target < 100 MiB RSS) and its time
# against `mc cp` of the same file to the same MinIO (target <= 1.5x).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
: "${ANTENNE_TEST_S3_ENDPOINT:?run me through .ci/with-minio}"

MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
gobin=$(go env GOPATH)/bin
if ! go version -m "$gobin/mc" 2>/dev/null | grep -q "$MC_VERSION"; then
  echo "building mc $MC_VERSION (once)" >&2
  (cd / && GOFLAGS= go install "github.com/minio/mc@$MC_VERSION")
fi
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/antenne" ./cmd/antenne

# A big MP3: 10 s of 320 kb/s frames without tags, repeated.
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i sine=frequency=330:duration=10 \
  -c:a libmp3lame -b:a 320k -write_xing 0 -id3v2_version 0 -map_metadata -1 "$work/unit.mp3"
unit=$(stat -c %s "$work/unit.mp3")
count=$(( size_mib * 1024 * 1024 / unit + 1 ))
for _ in $(seq "$count"); do cat "$work/unit.mp3"; done > "$work/big.mp3"
bytes=$(stat -c %s "$work/big.mp3")
echo "file: $(( bytes / 1024 / 1024 )) MiB MP3"

export ANTENNE_S3_ENDPOINT=$ANTENNE_TEST_S3_ENDPOINT ANTENNE_S3_ACCESS_KEY=$ANTENNE_TEST_S3_ACCESS_KEY \
  ANTENNE_S3_SECRET_KEY=$ANTENNE_TEST_S3_SECRET_KEY ANTENNE_S3_SECURE=false ANTENNE_S3_PATH_STYLE=true \
  ANTENNE_S3_BUCKET=bench-publish ANTENNE_S3_CREATE_BUCKET=true TMPDIR=$work
# 1 GiB of 320 kb/s lasts 7h27m: over the default bound of a recording (4 h).
export ANTENNE_MAX_DURATION=8h
"$work/antenne" shows create bench --title Bench >/dev/null

export MC_CONFIG_DIR=$work/mc
"$gobin/mc" alias set bench "http://$ANTENNE_TEST_S3_ENDPOINT" "$ANTENNE_TEST_S3_ACCESS_KEY" "$ANTENNE_TEST_S3_SECRET_KEY" >/dev/null
"$gobin/mc" mb --ignore-existing bench/bench-mc >/dev/null

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f %M -o "$work/rss" "$work/antenne" publish "$work/big.mp3" --title "Bench" >/dev/null
t1=$(now)
"$gobin/mc" cp --quiet "$work/big.mp3" bench/bench-mc/big.mp3 >/dev/null
t2=$(now)

rss_kib=$(cat "$work/rss")
awk -v a="$(echo "$t1 - $t0" | bc)" -v m="$(echo "$t2 - $t1" | bc)" -v rss="$rss_kib" 'BEGIN {
  printf "antenne publish: %.2f s, peak RSS %.1f MiB (target < 100 MiB)\n", a, rss / 1024
  printf "mc cp:           %.2f s\n", m
  printf "ratio publish/mc: %.2fx (target <= 1.5x)\n", a / m
}'
