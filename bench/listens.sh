#!/usr/bin/env bash
# bench/listens.sh: media serving with listen counting on vs off, in one
# run (issue 17, "Done when": >= 0.95x). It runs BenchmarkMedia of ./web
# COUNT times: a 4 MiB episode served whole and as a 64 KiB range through
# the whole handler from the local store, each iteration serving one
# request with counting off and one with counting on, in alternating order
# (so that the machine's load weighs on both alike). It prints each run and
# the median throughput ratio on/off of each kind.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-2s}
out=$(go test -run '^$' -bench '^BenchmarkMedia$' -benchtime "$BENCHTIME" -count "$COUNT" ./web)
echo "$out" | grep '^BenchmarkMedia/'
for kind in whole range; do
	ratios=$(echo "$out" | awk -v kind="$kind" '$1 ~ "^BenchmarkMedia/" kind "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == "on/off") print $i }' | sort -g)
	n=$(echo "$ratios" | grep -c . || true)
	if [ "$n" -eq 0 ]; then echo "no result for $kind"; exit 1; fi
	median=$(echo "$ratios" | awk -v n="$n" '{ r[NR] = $1 } END { print (n % 2) ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2 }')
	printf "%-5s on/off throughput, median of %d runs: %.3fx (target >= 0.95x)\n" "$kind" "$n" "$median"
done
echo "counting's own cost per request (BenchmarkListen, ./web/listens):"
go test -run '^$' -bench '^BenchmarkListen$' -benchtime "$BENCHTIME" ./web/listens | grep '^BenchmarkListen'
