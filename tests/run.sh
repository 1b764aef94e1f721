#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run.sh: runs every test binary, end-to-end script and a short fuzz run,
# each under `timeout`; prints each failure with its output; ends with one line
#   TOTAL: N passed, N failed, N skipped
# Counts are test cases: a binary or script that prints a line
# "NAME: N passed, N failed, N skipped" counts those; otherwise it counts one.
# A file may set its own time limit with a line "fh-test-timeout: SECONDS".
# Usage: tests/run.sh [PATTERN]   (only tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
export FH_BUILD=${FH_BUILD:-build}
export FH_DATA=${FH_DATA:-$(cd .. && pwd)/shared/data}
pattern=${1:-}
default_timeout=${TEST_TIMEOUT:-300}
fuzz_seconds=${FUZZ_SHORT_SECONDS:-10}
logdir=$FH_BUILD/test-logs
mkdir -p "$logdir"

P=0 F=0 S=0
failed_names=()

limit_of() {
	local t
	t=$(grep -m1 -o 'fh-test-timeout: *[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$')
	echo "${t:-$default_timeout}"
}

# run NAME TIMEOUT CMD...
run() {
	local name=$1 lim=$2 log="$logdir/$1.log" rc summary p f s start end
	shift 2
	start=$(date +%s)
	timeout -k 10 "$lim" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s)
	summary=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$log" | tail -n 1)
	if [ -n "$summary" ]; then
		p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
		s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$summary")
		s=${s:-0}
	else
		p=0 f=0 s=0
		case $rc in
		0) p=1 ;;
		77) s=1 ;;
		*) f=1 ;;
		esac
	fi
	# A crash or time-out after a clean summary is still a failure.
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "$f" = 0 ]; then
		f=1
	fi
	P=$((P + p)) F=$((F + f)) S=$((S + s))
	if [ "$f" != 0 ]; then
		[ $rc -eq 124 ] && echo "TIMEOUT after ${lim}s" >>"$log"
		printf 'FAIL  %-32s %3ss  (exit %d)\n' "$name" $((end - start)) $rc
		sed 's/^/      | /' "$log" | tail -n 150
		failed_names+=("$name")
	elif [ $rc -eq 77 ] || { [ "$p" = 0 ] && [ "$s" != 0 ]; }; then
		printf 'SKIP  %-32s %3ss  %s\n' "$name" $((end - start)) "$(grep -m1 -i 'skip' "$log" | cut -c1-100)"
	else
		printf 'PASS  %-32s %3ss  %s passed%s\n' "$name" $((end - start)) "$p" \
			"$([ "$s" != 0 ] && echo ", $s skipped")"
	fi
}

for t in "$FH_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	run "$n" "$(limit_of "tests/$n.c")" "$t"
done

for t in tests/e2e_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	run "$n" "$(limit_of "$t")" bash "$t"
done

# A short run of every libFuzzer target (the long one is `make fuzz`).
for t in "$FH_BUILD"/fuzz/fuzz_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	corpus="$FH_BUILD/fuzz/corpus-$n"
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/corpus/$n" ] && seeds=("tests/corpus/$n")
	run "$n-short" $((fuzz_seconds + 120)) "$t" -max_total_time="$fuzz_seconds" \
		-artifact_prefix="$logdir/$n-" "$corpus" "${seeds[@]}"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "TOTAL: $P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
