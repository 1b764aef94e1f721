#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perf/run.sh (`make bench`): runs every benchmark binary, prints its output
# and collects the RESULT lines into $FH_BUILD/bench-results.txt with the
# machine and date, ready to copy into perf/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
FH_BUILD=${FH_BUILD:-build}
out=$FH_BUILD/bench-results.txt
{
	echo "# $(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
} >"$out"
rc=0
for b in "$FH_BUILD"/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" 2>&1 | tee "$FH_BUILD/$(basename "$b").log" || rc=1
	grep '^RESULT ' "$FH_BUILD/$(basename "$b").log" >>"$out"
done
echo "== results ($out)"
cat "$out"
exit $rc
