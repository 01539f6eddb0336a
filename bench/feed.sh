#!/usr/bin/env bash
# bench/feed.sh: antenne's feed and media against nginx and MinIO, with wrk
# on 127.0.0.1, in one run (issue 5, "Done when"). Run it through
# .ci/with-minio (make bench-http does), which starts a throw-away MinIO and
# exports ANTENNE_TEST_S3_*.
#
# It builds antenne, fills a fresh bucket with a 1,000-episode show
# (bench/gencatalog), starts `antenne serve` on it and nginx serving the
# same feed bytes as static files (gzip_static), then runs wrk for
# DURATION each (10s by default):
#   feed, 200 with gzip:   antenne vs nginx     (target >= 0.7x)
#   feed, 304:             antenne vs nginx     (target >= 0.7x)
#   the same two against a bare Go net/http server (bench/goref), to tell
#   what antenne's code costs from what Go's HTTP server costs
#   media download (8 MiB): antenne proxying MinIO vs MinIO directly
#                           (a presigned URL)   (target >= 0.7x)
# and prints requests/s, throughput and the ratios. Everything it starts is
# stopped and its files removed on exit. wrk and nginx are Debian packages,
# installed when missing.
set -euo pipefail

: "${ANTENNE_TEST_S3_ENDPOINT:?run through .ci/with-minio (make bench-http)}"
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
EPISODES=${EPISODES:-1000}
MEDIA_SIZE=${MEDIA_SIZE:-8388608}

need=""
command -v wrk >/dev/null || need="$need wrk"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
if [ -n "$need" ]; then
  echo "installing:$need" >&2
  SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_http() { # URL
  for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: $1 did not answer" >&2; return 1
}

echo "building antenne and the catalog generator" >&2
go build -o "$tmp/antenne" ./cmd/antenne
go build -o "$tmp/gencatalog" ./bench/gencatalog
go build -o "$tmp/goref" ./bench/goref

aport=$(free_port)
export ANTENNE_S3_ENDPOINT=$ANTENNE_TEST_S3_ENDPOINT
export ANTENNE_S3_ACCESS_KEY=$ANTENNE_TEST_S3_ACCESS_KEY
export ANTENNE_S3_SECRET_KEY=$ANTENNE_TEST_S3_SECRET_KEY
export ANTENNE_S3_BUCKET=antenne-bench-$RANDOM$RANDOM
export ANTENNE_S3_SECURE=false ANTENNE_S3_PATH_STYLE=true ANTENNE_S3_CREATE_BUCKET=true
export ANTENNE_BASE_URL=http://127.0.0.1:$aport

echo "generating $EPISODES episodes in bucket $ANTENNE_S3_BUCKET" >&2
start=$(date +%s.%N)
"$tmp/gencatalog" -episodes "$EPISODES" -media-size "$MEDIA_SIZE" -base "$ANTENNE_BASE_URL" >"$tmp/gen.out"
echo "  done in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
media_key=$(sed -n 's/^media_key=//p' "$tmp/gen.out")
presigned=$(sed -n 's/^presigned=//p' "$tmp/gen.out")

# Request lines are logged at info: warn keeps the log quiet, as nginx's
# access_log off does.
ANTENNE_ADDR=127.0.0.1:$aport ANTENNE_LOG_LEVEL=warn "$tmp/antenne" serve >"$tmp/antenne.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$aport/readyz"
feed_url="http://127.0.0.1:$aport/lvel/feed.xml"
media_url="http://127.0.0.1:$aport/${media_key#shows/}"

# The first build renders every show note; later requests are served from
# memory. Keep the bytes for nginx.
mkdir -p "$tmp/www/lvel"
start=$(date +%s.%N)
curl -fsS -o "$tmp/www/lvel/feed.xml" "$feed_url"
echo "first feed request (cache warm or building): $(echo "($(date +%s.%N) - $start) * 1000" | bc | cut -d. -f1) ms" >&2
gzip -9 -k "$tmp/www/lvel/feed.xml"
echo "feed: $(stat -c %s "$tmp/www/lvel/feed.xml") bytes, $(stat -c %s "$tmp/www/lvel/feed.xml.gz") gzipped" >&2

nport=$(free_port)
# As root, nginx's workers would run as nobody, who cannot read $tmp.
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$tmp/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
  types { application/rss+xml xml; }
  access_log off;
  sendfile on;
  tcp_nopush on;
  gzip_static on;
  etag on;
  client_body_temp_path $tmp/nginx-body;
  proxy_temp_path $tmp/nginx-proxy;
  fastcgi_temp_path $tmp/nginx-fastcgi;
  uwsgi_temp_path $tmp/nginx-uwsgi;
  scgi_temp_path $tmp/nginx-scgi;
  server {
    listen 127.0.0.1:$nport;
    root $tmp/www;
  }
}
CONF
"$NGINX" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" &
pids+=($!)
wait_http "http://127.0.0.1:$nport/lvel/feed.xml"
nginx_url="http://127.0.0.1:$nport/lvel/feed.xml"

# The ceiling of Go's HTTP server here: the same gzipped bytes from memory.
"$tmp/goref" "127.0.0.1:0" "$tmp/www/lvel/feed.xml.gz" >"$tmp/goref.addr" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/goref.addr" ] && break; sleep 0.1; done
goref_url="http://$(head -1 "$tmp/goref.addr")/"
wait_http "$goref_url"

etag() { curl -fsS -o /dev/null -D - "$@" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
a_etag=$(etag -H 'Accept-Encoding: gzip' "$feed_url")
n_etag=$(etag -H 'Accept-Encoding: gzip' "$nginx_url")

# Check that both answer what is measured.
for u in "$feed_url" "$nginx_url"; do
  curl -fsS -H 'Accept-Encoding: gzip' -D - -o /dev/null "$u" | tr -d '\r' | grep -qi '^content-encoding: gzip' \
    || { echo "bench: $u does not gzip" >&2; exit 1; }
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $a_etag" "$feed_url")
[ "$code" = 304 ] || { echo "bench: antenne answered $code to If-None-Match" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $n_etag" "$nginx_url")
[ "$code" = 304 ] || { echo "bench: nginx answered $code to If-None-Match" >&2; exit 1; }
cmp <(curl -fsS "$media_url") <(curl -fsS "$presigned") || { echo "bench: media bytes differ" >&2; exit 1; }

# run NAME URL [HEADERS...]: wrk, printing "requests/s bytes/s".
run() {
  local name=$1 url=$2; shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${args[@]}" "$url")
  if grep -q "Non-2xx or 3xx responses" <<<"$out"; then
    echo "bench: $name: errors" >&2; echo "$out" >&2; exit 1
  fi
  local rps tps
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  tps=$(awk '/^Transfer\/sec:/ {v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
    m = (u=="GB") ? 1073741824 : (u=="MB") ? 1048576 : (u=="KB") ? 1024 : 1;
    if (u !~ /B$/) { n=v; m=1 } ; printf "%.0f", n*m}' <<<"$out")
  printf '%-32s %12.1f req/s %10.1f MiB/s\n' "$name" "$rps" "$(echo "$tps / 1048576" | bc -l)" >&2
  echo "$rps $tps"
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run, on $(nproc) cores" >&2
read -r n200 _ < <(run "nginx feed 200 gzip" "$nginx_url" "Accept-Encoding: gzip")
read -r a200 _ < <(run "antenne feed 200 gzip" "$feed_url" "Accept-Encoding: gzip")
read -r g200 _ < <(run "bare Go net/http 200 gzip" "$goref_url" "Accept-Encoding: gzip")
read -r n304 _ < <(run "nginx feed 304" "$nginx_url" "Accept-Encoding: gzip" "If-None-Match: $n_etag")
read -r a304 _ < <(run "antenne feed 304" "$feed_url" "Accept-Encoding: gzip" "If-None-Match: $a_etag")
read -r g304 _ < <(run "bare Go net/http 304" "$goref_url" "If-None-Match: x")
read -r _ mtp < <(run "MinIO media (direct)" "$presigned")
read -r _ atp < <(run "antenne media (proxying MinIO)" "$media_url")

echo
echo "feed 200 gzip: antenne/nginx = $(ratio "$a200" "$n200")  (target >= 0.7)"
echo "feed 304:      antenne/nginx = $(ratio "$a304" "$n304")  (target >= 0.7)"
echo "               (the ceiling of Go's net/http here: antenne/bare Go = $(ratio "$a200" "$g200") for 200, $(ratio "$a304" "$g304") for 304)"
echo "media:         antenne/MinIO = $(ratio "$atp" "$mtp")  (throughput, target >= 0.7)"
