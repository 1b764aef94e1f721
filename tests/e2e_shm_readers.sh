#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_shm_readers.sh: a published session read from the shm ring by fh-sub and a test reader
# (every event once, in order, books equal the writer's), a deliberately slow reader (lapped, exact
# count lost), a SIGKILLed reader (nobody else disturbed) and a late reader (snapshot, then books equal).
# fh-test-timeout: 120
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh-pubtest fh-sub; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
[ -d /dev/shm ] || { echo "SKIP: no /dev/shm"; exit 77; }
W=$(mktemp -d /tmp/fh-e2e-shm.XXXXXX)
NAME=fh-e2e-shm-$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
wait_file() { for _ in $(seq 1 200); do [ -s "$1" ] || [ -f "$1" ] && return 0; sleep 0.05; done; return 1; }

# 2 RX rings x 50000 events at 30000/s each (~1.7 s), a 32768-slot ring.
"$B/fh-pubtest" --shm "$NAME" --capacity 32768 --rings 2 --events 50000 --rate 30000 \
	--instruments 16 --heartbeat-ms 50 --start-delay-ms 700 --stats "$W/stats" \
	--books "$W/truth.books" --ready "$W/ready" >"$W/driver.log" 2>&1 &
drv=$!
pids+=($drv)
wait_file "$W/ready" || { bad "driver never became ready"; cat "$W/driver.log"; exit 1; }

mode=$(stat -c %a "/dev/shm/$NAME")
rmode=$(stat -c %a "/dev/shm/$NAME.req")
[ "$mode" = 640 ] && [ "$rmode" = 660 ] && ok "ring mode $mode, request area $rmode (never world-writable)" ||
	bad "ring mode $mode request mode $rmode"

"$B/fh-sub" "$NAME" --start oldest --verify -q --books "$W/a.books" --summary "$W/a.sum" 2>"$W/a.err" &
ra=$!
"$B/fh-pubtest" --read "$NAME" --start oldest --books "$W/b.books" --out "$W/b.out" 2>"$W/b.err" &
rb=$!
"$B/fh-pubtest" --read "$NAME" --start oldest --slow-ns 100000 --out "$W/c.out" 2>"$W/c.err" &
rc=$!
"$B/fh-sub" "$NAME" --start oldest -q --summary "$W/d.sum" 2>/dev/null &
rd=$!
pids+=($ra $rb $rc $rd)
ex=
if [ -x "$B/fh-sub-example" ]; then
	"$B/fh-sub-example" "$NAME" >"$W/ex.out" 2>"$W/ex.err" &
	ex=$!
	pids+=($ex)
fi
sleep 0.3
# the ring itself read-only (the request file next to it is the readers' group-writable area)
if grep -q "/$NAME\$" /proc/$ra/maps && ! grep "/$NAME\$" /proc/$ra/maps | grep -qv ' r--s '; then
	ok "fh-sub maps the ring read-only (its request area $NAME.req read-write)"
else
	bad "fh-sub mapping: $(grep "$NAME" /proc/$ra/maps)"
fi
sleep 0.8 # generation has started (0.7 s delay)
# it must still be reading when it dies, and die of the signal
if kill -0 $rd 2>/dev/null; then
	kill -9 $rd; wait $rd 2>/dev/null; st=$?
	[ $st = 137 ] && ok "SIGKILLed reader $rd mid-session" || bad "reader $rd: exit $st after SIGKILL"
else
	bad "reader $rd had already exited before the SIGKILL"
fi
"$B/fh-pubtest" --read "$NAME" --start next --snapshot --books "$W/e.books" --out "$W/e.out" 2>"$W/e.err" &
re=$!
pids+=($re)

wait $drv; drc=$?
[ $drc = 0 ] && ok "writer finished normally despite the killed reader" || bad "driver exit $drc: $(cat "$W/driver.log")"
for p in $ra $rb $rc $re; do wait $p; done
if [ -n "$ex" ]; then
	wait $ex; exrc=$?
	exn=$(grep -c '^instr .* bid ' "$W/ex.out")
	[ $exrc = 0 ] && [ "$exn" -gt 0 ] && grep -q '^events [0-9]* lost 0$' "$W/ex.err" &&
		ok "fh-sub-example (fh_sub.h only): $exn BBO lines, $(cat "$W/ex.err")" ||
		bad "fh-sub-example: exit $exrc, $exn lines, $(cat "$W/ex.err")"
fi
total=$(val shm_written "$W/stats.final")
gen=$(val generated "$W/stats.final")
echo "writer: generated $gen, shm positions $total"

for r in a.sum b.out; do
	ev=$(val events "$W/$r"); lost=$(val lost "$W/$r"); fp=$(val first_pos "$W/$r")
	oe=$(val order_errors "$W/$r"); pe=$(val pos_errors "$W/$r")
	if [ "$lost" = 0 ] && [ "$oe" = 0 ] && [ "$pe" = 0 ] && [ $((ev + fp)) = "$total" ]; then
		ok "$r: all $ev events exactly once, in order (from position $fp)"
	else
		bad "$r: events $ev first_pos $fp lost $lost order_errors $oe pos_errors $pe (writer $total)"
	fi
done
cmp -s "$W/truth.books" "$W/a.books" && [ -s "$W/a.books" ] && ok "fh-sub books equal the writer's ($(wc -l <"$W/a.books") levels)" || bad "fh-sub books differ"
cmp -s "$W/truth.books" "$W/b.books" && ok "test reader books equal the writer's" || bad "test reader books differ"

ev=$(val events "$W/c.out"); lost=$(val lost "$W/c.out"); laps=$(val laps "$W/c.out"); fp=$(val first_pos "$W/c.out")
oe=$(val order_errors "$W/c.out"); pe=$(val pos_errors "$W/c.out")
if [ "${laps:-0}" -ge 1 ] && [ "$lost" -gt 0 ] && [ $((ev + lost + fp)) = "$total" ] && [ "$oe" = 0 ] && [ "$pe" = 0 ]; then
	ok "slow reader lapped $laps times, reported $lost lost: $ev read + $lost lost = $total written"
else
	bad "slow reader: events $ev lost $lost laps $laps first_pos $fp order $oe pos $pe (writer $total)"
fi

sn=$(val snapshots "$W/e.out"); ev=$(val events "$W/e.out"); lost=$(val lost "$W/e.out"); oe=$(val order_errors "$W/e.out")
if [ "${sn:-0}" -ge 16 ] && [ "$lost" = 0 ] && [ "$oe" = 0 ] && cmp -s "$W/truth.books" "$W/e.books"; then
	ok "late reader: $sn book snapshots, then $ev consistent events; books equal the writer's"
else
	bad "late reader: snapshots $sn events $ev lost $lost order $oe; books $(cmp "$W/truth.books" "$W/e.books" 2>&1)"
fi
[ -f "/dev/shm/$NAME" ] && bad "ring file left behind" || ok "ring files removed at writer exit"
echo "e2e_shm_readers: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
