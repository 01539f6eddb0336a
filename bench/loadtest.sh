#!/usr/bin/env bash
# usage: .ci/with-minio bench/loadtest.sh [DURATION]
#
# make loadtest: antenne on 127.0.0.1 over the MinIO that .ci/with-minio
# started, then bench/loadtest for DURATION (60s): 200 feed readers, 50
# media downloaders with ranges, 10 hosts uploading and editing. Exits 1
# when anything was lost or got a 5xx.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60s}
: "${ANTENNE_TEST_S3_ENDPOINT:?run me through .ci/with-minio}"

work=$(mktemp -d "${TMPDIR:-/tmp}/antenne-load.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/antenne" ./cmd/antenne
go build -o "$work/loadtest" ./bench/loadtest

port=$((20000 + RANDOM % 40000))
export ANTENNE_ADDR=127.0.0.1:$port ANTENNE_BASE_URL=http://127.0.0.1:$port \
  ANTENNE_S3_ENDPOINT=$ANTENNE_TEST_S3_ENDPOINT ANTENNE_S3_ACCESS_KEY=$ANTENNE_TEST_S3_ACCESS_KEY \
  ANTENNE_S3_SECRET_KEY=$ANTENNE_TEST_S3_SECRET_KEY ANTENNE_S3_SECURE=false ANTENNE_S3_PATH_STYLE=true \
  ANTENNE_S3_BUCKET=loadtest ANTENNE_S3_CREATE_BUCKET=true ANTENNE_LOG_LEVEL=warn TMPDIR=$work
"$work/antenne" shows create load --title "Load test" >/dev/null
echo "load-test-password" | "$work/antenne" hosts add loader --show load --password-stdin >/dev/null
token=$("$work/antenne" hosts token create loader | awk '{print $NF}' | tail -1)

"$work/antenne" serve 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

status=0
"$work/loadtest" -url "http://127.0.0.1:$port" -token "$token" -show load -duration "$duration" || status=$?
if grep -q 'level=ERROR' "$work/serve.log"; then
  echo "errors logged by antenne:"; grep 'level=ERROR' "$work/serve.log" | head -20
fi
exit $status
