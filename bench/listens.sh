#!/usr/bin/env bash
# bench/listens.sh: media serving with listen counting on vs off, in one
# run (issue 17, "Done when": >= 0.95x). It runs the Go benchmark pair
# BenchmarkMedia/{off,on}/{whole,range} of ./web (a 4 MiB episode served
# whole and as a 64 KiB range through the whole handler, from the local
# store) COUNT times, interleaved by go test, and prints the mean time per
# request of each and the throughput ratio on/off.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
out=$(go test -run '^$' -bench '^BenchmarkMedia$' -benchtime "$BENCHTIME" -count "$COUNT" ./web)
echo "$out" | grep '^BenchmarkMedia/'
echo "$out" | awk '
/^BenchmarkMedia\// {
	split($1, p, "/"); mode = p[2]; kind = p[3]; sub(/-[0-9]+$/, "", kind)
	sum[mode "/" kind] += $3; n[mode "/" kind]++
}
END {
	for (k in n) mean[k] = sum[k] / n[k]
	for (kind in sum) {}
	split("whole range", kinds, " ")
	ok = 1
	for (i = 1; i <= 2; i++) {
		kd = kinds[i]
		off = mean["off/" kd]; on = mean["on/" kd]
		if (off == 0 || on == 0) { print "missing results for " kd; exit 1 }
		ratio = off / on
		printf "%-6s off %9.0f ns/op   on %9.0f ns/op   on/off throughput %.3fx (target >= 0.95x)\n", kd, off, on, ratio
	}
}'
