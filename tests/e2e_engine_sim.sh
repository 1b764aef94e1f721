#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_engine_sim.sh: fh-sim writes a day file with injected anomalies and its truth
# list, and the same seed without injection; decode -> book -> engine
# (test_engine test_day_file) must report every anomaly with its instrument,
# window and rule, explain every alert, and stay silent on the clean session.
set -u
B=${FH_BUILD:-build}
sim=$B/fh-sim
t=$B/tests/test_engine
if [ ! -x "$sim" ] || [ ! -x "$t" ]; then
	echo "skip: $sim or $t not built"
	exit 77
fi
tmp=$(mktemp -d /tmp/fh-e2e-engine.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
symbols=400
messages=1500000

run() { # name itch truth
	if FH_ENGINE_ITCH=$2 FH_ENGINE_TRUTH=$3 FH_ENGINE_SYMBOLS=$symbols \
		timeout 120 "$t" test_day_file >"$tmp/$1.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $1: $(grep -m1 'messages,' "$tmp/$1.log")"
	else
		fail=$((fail + 1))
		echo "FAIL $1"
		sed 's/^/     | /' "$tmp/$1.log" | tail -n 20
	fi
}

for seed in 11 12; do
	if ! "$sim" --seed $seed --messages $messages --symbols $symbols --anomalies 12 \
		--truth "$tmp/a$seed.truth" --itch "$tmp/a$seed.itch" >"$tmp/sim.log" 2>&1; then
		echo "FAIL fh-sim (seed $seed)"; cat "$tmp/sim.log"; fail=$((fail + 1)); continue
	fi
	n=$(wc -l <"$tmp/a$seed.truth")
	if [ "$n" -lt 6 ]; then
		echo "FAIL seed $seed: only $n anomalies in the truth file"; fail=$((fail + 1))
	fi
	run "anomalies-seed$seed" "$tmp/a$seed.itch" "$tmp/a$seed.truth"
	"$sim" --seed $seed --messages $messages --symbols $symbols --itch "$tmp/c$seed.itch" \
		>"$tmp/sim.log" 2>&1 || { echo "FAIL fh-sim clean"; fail=$((fail + 1)); continue; }
	: >"$tmp/empty.truth"
	run "clean-seed$seed" "$tmp/c$seed.itch" "$tmp/empty.truth"
done
echo "e2e_engine_sim: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
