#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/regress/run.sh: replays every regression case through fh and compares
# its digest (events per family, every book's checksum, sequencing counters)
# with the case's expected.digest; a mismatch prints a unified diff.
# A case is a directory with capture.sh (builds W/capture.pcap: fh-sim with a
# seed, or a reference to ../shared/data), fh.yaml (config template, see
# lib.sh), expected.digest, optionally `live` (packets per second: replayed
# live over A/B kernel_udp lines between network namespaces) and `same-as`
# (another case whose expected digest must be identical, e.g. a lossy A/B
# session and its lossless single-line twin).
# Usage: tests/regress/run.sh [PATTERN]      (FH_BUILD, FH_DATA as for tests/run.sh)
# Re-bless after an intended change: tests/regress/bless.sh [PATTERN]
set -u
cd "$(dirname "$0")/../.."
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd .. && pwd)/shared/data}
export B FH_DATA
. tests/regress/lib.sh
T=$(mktemp -d /tmp/fh-regress.XXXXXX)
trap 'regress_live_down; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
pass=0 fail=0 skip=0
for c in tests/regress/*/; do
	c=${c%/}
	name=$(basename "$c")
	case $name in *"${1:-}"*) ;; *) continue ;; esac
	[ -f "$c/capture.sh" ] && [ -f "$c/fh.yaml" ] || continue
	t0=$(date +%s%N)
	out=$(regress_case "$c" "$T/$name")
	rc=$?
	dt=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
	if [ $rc = 77 ]; then
		skip=$((skip + 1)); echo "skip $name ($out)"; continue
	fi
	if [ $rc != 0 ]; then
		fail=$((fail + 1)); echo "FAIL $name: $out"; continue
	fi
	if [ ! -f "$c/expected.digest" ]; then
		fail=$((fail + 1)); echo "FAIL $name: no expected.digest (run tests/regress/bless.sh $name)"; continue
	fi
	if ! diff -u --label "$name/expected.digest" --label "$name (this build)" \
		"$c/expected.digest" "$T/$name/actual.digest" >"$T/$name.diff"; then
		fail=$((fail + 1))
		echo "FAIL $name: digest differs (${dt}s; - expected, + this build):"
		head -60 "$T/$name.diff" | sed 's/^/     /'
		n=$(grep -c '^[-+][^-+]' "$T/$name.diff")
		[ "$n" -gt 58 ] && echo "     ... $n changed lines in all"
		continue
	fi
	if [ -f "$c/same-as" ]; then
		twin=tests/regress/$(cat "$c/same-as")
		if ! cmp -s "$c/expected.digest" "$twin/expected.digest"; then
			fail=$((fail + 1))
			echo "FAIL $name: expected digest differs from its twin $(basename "$twin"):"
			diff -u "$twin/expected.digest" "$c/expected.digest" | head -30 | sed 's/^/     /'
			continue
		fi
	fi
	pass=$((pass + 1))
	echo "ok   $name ($(grep -c '^book ' "$c/expected.digest") books, $(awk '$1 == "events" {n += $3} END {print n + 0}' "$c/expected.digest") events, ${dt}s)"
done
echo "regress: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
