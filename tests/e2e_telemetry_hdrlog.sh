#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_telemetry_hdrlog.sh: `fh-stat --hdr-log` dumps a serving process's /hdr intervals into an
# HdrHistogram interval log; HdrHistogram's own HistogramLogProcessor (Debian libhdrhistogram-java)
# reads it and agrees with our reader on the count, maximum and median of a tagged series;
# `fh-stat --shm` shows the same numbers from the shared stats region.
# Target: `fh-stat --demo` unless FH_TELEMETRY_URL points at a running fh.
# fh-test-timeout: 120
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
name=e2e_telemetry_hdrlog
P=0 F=0
ok() { echo "ok   $1"; P=$((P + 1)); }
bad() { echo "FAIL $1"; F=$((F + 1)); }
finish() { echo "$name: $P passed, $F failed, 0 skipped"; [ "$F" -eq 0 ] && exit 0 || exit 1; }

jar=""
for j in /usr/share/java/HdrHistogram.jar /usr/share/java/hdrhistogram.jar; do [ -r "$j" ] && jar=$j && break; done
[ -n "$jar" ] && command -v java >/dev/null || { echo "SKIP: java or libhdrhistogram-java missing"; exit 77; }
[ -x "$B/fh-stat" ] || { echo "SKIP: $B/fh-stat not built"; exit 77; }

tmp=$(mktemp -d /tmp/fh-e2e-hlog-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

tag=${FH_HDR_TAG:-fh_stage_latency.rx_to_ring.itch-a}
if [ -n "${FH_TELEMETRY_URL:-}" ]; then
	url=${FH_TELEMETRY_URL%/}
else
	"$B/fh-stat" --demo --listen 127.0.0.1:0 --port-file "$tmp/port" --seconds 60 --tick-ms 300 \
		--shm "$tmp/stats" 2>"$tmp/demo.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] || { cat "$tmp/demo.log"; bad "demo server started"; finish; }
	url="http://127.0.0.1:$(cat "$tmp/port")"
	sleep 0.7
fi

if "$B/fh-stat" --url "$url" --hdr-log "$tmp/lat.hlog" -i 0.35 -n 9 2>"$tmp/stat.log"; then
	ok "$(tail -1 "$tmp/stat.log" | sed 's/^fh-stat: //')"
else
	cat "$tmp/stat.log"; bad "fh-stat --hdr-log"; finish
fi
head -2 "$tmp/lat.hlog" | grep -q '^#\[Histogram log format version 1.3\]$' && ok "log header" || bad "log header"
[ "$(grep -c '^#\[StartTime' "$tmp/lat.hlog")" = 1 ] && ok "one header for all appends" || bad "single header"
lines=$(grep -c "^Tag=$tag," "$tmp/lat.hlog")
[ "$lines" -ge 2 ] && ok "$lines intervals of $tag" || bad "intervals of $tag ($lines)"

"$B/fh-stat" --hdr-read "$tmp/lat.hlog" --tag "$tag" >"$tmp/ours.txt" || bad "fh-stat --hdr-read"
ours_total=$(sed -n 's/.*Total count *= *\([0-9]*\)\]/\1/p' "$tmp/ours.txt")
ours_max=$(sed -n 's/^#\[Max *= *\([0-9.]*\),.*/\1/p' "$tmp/ours.txt")

java -cp "$jar" org.HdrHistogram.HistogramLogProcessor -i "$tmp/lat.hlog" -tag "$tag" \
	-outputValueUnitRatio 1000 >"$tmp/java.txt" 2>"$tmp/java.err" || { cat "$tmp/java.err"; bad "HistogramLogProcessor ran"; }
java_total=$(sed -n 's/.*Total count *= *\([0-9]*\)\]/\1/p' "$tmp/java.txt")
java_max=$(sed -n 's/^#\[Max *= *\([0-9.]*\),.*/\1/p' "$tmp/java.txt")
if [ -n "$ours_total" ] && [ "$ours_total" -gt 0 ] && [ "$ours_total" = "$java_total" ]; then
	ok "HdrHistogram-Java and fh agree: $java_total values"
else
	bad "total count: fh '$ours_total' HdrHistogram-Java '$java_total'"
fi
if [ -n "$ours_max" ] && [ "$ours_max" = "$java_max" ]; then
	ok "HdrHistogram-Java and fh agree: max $java_max us"
else
	bad "max: fh '$ours_max' HdrHistogram-Java '$java_max'"
fi
# The median row of both percentile tables.
jp50=$(awk '$2 ~ /^0\.5000/ {print $1; exit}' "$tmp/java.txt")
op50=$(awk '$2 ~ /^0\.5000/ {print $1; exit}' "$tmp/ours.txt")
[ -n "$jp50" ] && [ "$jp50" = "$op50" ] && ok "median $jp50 us in both" || bad "median: fh '$op50' java '$jp50'"
# The same numbers from the shared stats region (no HTTP), as an SRE on the box reads them.
if [ -z "${FH_TELEMETRY_URL:-}" ]; then
	"$B/fh-stat" --shm "$tmp/stats" -n 1 >"$tmp/shm.txt" 2>&1
	if grep -q '^fh_messages_total{source="itch-a",core="0"} ' "$tmp/shm.txt" &&
		grep -qE '^fh_stage_latency\{stage="rx_to_ring",source="itch-a"\} +[0-9.]+ ' "$tmp/shm.txt"; then
		ok "fh-stat --shm shows counters and latency percentiles"
	else
		cat "$tmp/shm.txt"; bad "fh-stat --shm"
	fi
fi
finish
