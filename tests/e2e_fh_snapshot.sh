#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_snapshot: a late start. fh joins a MoldUDP64 session in the middle
# (the capture cut with editcap: its first sequence is far above 1), fetches a
# GLIMPSE snapshot over SoupBinTCP from fh-sim's snapshot server (same seed
# and session), builds its books from it, then applies the live stream from
# the snapshot's sequence: the books equal those of a full replay. Twice:
# the snapshot taken at the first live sequence, and taken ahead of it (the
# live packets below the snapshot's sequence must be dropped, one of them
# cut in the middle). The same late start without a snapshot server gives
# other books (the test can tell). Then a long hole mid-session, without a
# re-request server and with one that never answers (given up, then the
# snapshot): the source goes stale, its books are rebuilt from a snapshot and
# published fresh, identical to the full replay.
# fh-test-timeout: 180
set -u
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
command -v editcap >/dev/null || { echo "skip: editcap missing"; exit 77; }
T=$(mktemp -d /tmp/fh-e2e-snapshot.XXXXXX)
SRV_PIDS=()
cleanup() {
	local p
	for p in "${SRV_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T" /dev/shm/fh-e2e-snap-$$-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

MSGS=30000
SIM=(--seed 71 --messages $MSGS --symbols 120 --session SNAPSHOT01 --heartbeat-ms 0 --bundle-us 0)
"$B/fh-sim" "${SIM[@]}" --group 233.54.12.111:26477 --pps 2000 --pcap "$T/full.pcap" >/dev/null || exit 1
editcap -F nsecpcap -r "$T/full.pcap" "$T/late.pcap" 300-1000000 >/dev/null 2>&1 || exit 1
# A long hole mid-session (no re-request server: it goes to the snapshot).
"$B/fh-sim" "${SIM[@]}" --group 233.54.12.111:26477 --pps 2000 --gap 5001-9000 --pcap "$T/hole.pcap" >/dev/null || exit 1
SH=9600
# First live sequence F of the cut capture, and the sequence and count of
# the packet 20 further on (the second snapshot lands inside it).
read -r F S2 <<<"$(python3 - "$T/late.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, pk = 24, []
while off + 16 <= len(d):
    cl = struct.unpack("<I", d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + cl]
    off += 16 + cl
    u = 14 + (f[14] & 15) * 4
    seq, cnt = struct.unpack(">QH", f[u + 18:u + 28])
    if 0 < cnt < 0xFFFF:
        pk.append((seq, cnt))
s, c = pk[20]
print(pk[0][0], s + c // 2 if c > 1 else s)
PY
)"
[ "${F:-0}" -gt 1000 ] && [ "${S2:-0}" -gt "$F" ]
check "set-up: the cut capture starts at sequence $F (of $MSGS); second snapshot at $S2" $?

# serve NAME SEQ: fh-sim's snapshot server for the session at SEQ; sets PORT_<NAME>.
serve() {
	local port=
	"$B/fh-sim" "${SIM[@]}" --serve-snapshot 127.0.0.1:0 --snapshot-seq "$2" --serve-seconds 60 \
		>"$T/srv-$1.out" 2>"$T/srv-$1.err" &
	SRV_PIDS+=($!)
	for _ in $(seq 100); do
		port=$(sed -n 's/^snapshot 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv-$1.out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	eval "PORT_$1=\${port:-0}"
	[ -n "$port" ]
}
serve at "$F"
check "fh-sim --serve-snapshot at sequence $F (port $PORT_at)" $?
serve ahead "$S2"
check "fh-sim --serve-snapshot at sequence $S2 (port $PORT_ahead)" $?
serve hole "$SH"
check "fh-sim --serve-snapshot at sequence $SH (port $PORT_hole)" $?
# a re-request server that is down: the hole is given up, then rebuilt from the snapshot
"$B/fh-sim" "${SIM[@]}" --serve-rereq 127.0.0.1:0 --rereq-down --serve-seconds 60 >"$T/srv-rr.out" 2>"$T/srv-rr.err" &
SRV_PIDS+=($!)
PORT_rr=
for _ in $(seq 100); do
	PORT_rr=$(sed -n 's/^rereq 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv-rr.out" 2>/dev/null)
	[ -n "$PORT_rr" ] && break
	sleep 0.05
done
[ -n "$PORT_rr" ]
check "fh-sim --serve-rereq --rereq-down (port ${PORT_rr:-none})" $?

run() { # run NAME PCAP [SNAPSHOT_PORT [REREQUEST_PORT]]
	mkdir -p "$T/$1"
	local rec=
	[ -n "${3:-}" ] && rec="    recovery:
      snapshot: {host: 127.0.0.1, port: $3}"
	[ -n "${4:-}" ] && rec="$rec
      rerequest: {host: 127.0.0.1, port: $4, timeout_ms: 20ms, retries: 2}"
	cat >"$T/$1/fh.yaml" <<YAML
version: 1
sources:
  - name: chan1
    protocol: itch50
    transport: pcap
    group: 233.54.12.111
    port: 26477
    pcap: {file: $2, speed: recorded}
$rec
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-snap-$$-$1, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$1/dead.dlq}
YAML
	timeout 60 "$B/fh" --config "$T/$1/fh.yaml" --exit-at-end --quiet --digest "$T/$1/fh.digest" \
		--summary "$T/$1/summary.json" --books-out "$T/$1/books.txt" >"$T/$1/fh.out" 2>"$T/$1/fh.err"
	local rc=$?
	check "$1: fh replays and exits 0 (exit $rc)" $rc
	[ $rc = 0 ] || tail -5 "$T/$1/fh.err"
	timeout 20 "$B/fh-sub" --start oldest --type feed_status -n 1000000 -t 2 "fh-e2e-snap-$$-$1" \
		>"$T/$1/status.txt" 2>"$T/$1/sub.err"
	echo $? >"$T/$1/sub.rc"
}
f() { python3 -c "
import json
s=json.load(open('$T/$1/summary.json'))['sources'][0]
print($2)" 2>/dev/null; }
# st_kinds RUN: the STALE (3) / FRESH (4) statuses published, in order.
st_kinds() {
	awk '{ delete a; for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) a[kv[1]] = kv[2] }
		$2 == "feed_status" && (a["kind"] == 3 || a["kind"] == 4) { printf "%s%s", (n++ ? "," : ""), a["kind"] }' "$T/$1/status.txt"
}
# last_status RUN KIND-LIST: the kind of the last FEED_STATUS among KIND-LIST (3 stale, 4 fresh), "none".
last_status() {
	awk -v ks=",$2," '{ delete a; for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) a[kv[1]] = kv[2] }
		$2 == "feed_status" && index(ks, "," a["kind"] ",") { k = a["kind"] } END { print k ? k : "none" }' \
		"$T/$1/status.txt"
}

run full "$T/full.pcap"
run nosnap "$T/late.pcap"
run at "$T/late.pcap" "$PORT_at"
run ahead "$T/late.pcap" "$PORT_ahead"
run hole "$T/hole.pcap" "$PORT_hole"
run giveup "$T/hole.pcap" "$PORT_hole" "${PORT_rr:-1}"

[ "$(f full "'%d %d' % (s['messages'], s['gaps'])")" = "$MSGS 0" ]
check "full replay: $MSGS messages, no gap" $?
[ -s "$T/nosnap/books.txt" ] && ! cmp -s "$T/full/books.txt" "$T/nosnap/books.txt"
check "late start without a snapshot: books differ from the full replay (the late start loses state)" $?

for run in at ahead; do
	seq=$F
	[ $run = ahead ] && seq=$S2
	[ -s "$T/full/books.txt" ] && cmp -s "$T/full/books.txt" "$T/$run/books.txt"
	r=$?
	check "late start, snapshot at $seq: books identical to the full replay ($(wc -l <"$T/full/books.txt") levels)" $r
	[ -s "$T/full/fh.digest" ] && cmp -s <(grep '^book ' "$T/full/fh.digest") <(grep '^book ' "$T/$run/fh.digest")
	r=$?
	check "late start, snapshot at $seq: every book checksum identical ($(grep -c '^book ' "$T/full/fh.digest") books)" $r
	v=$(f $run "'%d %d %d %s' % (s['last_seq'], s['gaps'], s['gap_msgs'], s['gap_ranges'] or 'none')")
	[ "$v" = "$MSGS 0 0 none" ]
	check "late start, snapshot at $seq: live applied up to $MSGS, no gap reported (last_seq gaps gap_msgs ranges: $v)" $?
	v=$(f $run "'%d %d %d %d' % (s['recovery']['snapshots'], s['recovery']['snapshot_failed'], s['recovery']['snapshot_next_seq'], s['first_seq'])")
	[ "$v" = "1 0 $seq $seq" ]
	check "late start, snapshot at $seq: one snapshot, live from its sequence (snapshots failed next_seq first_seq: $v)" $?
	v=$(f $run "'%d %d %d' % (s['recovery']['snapshot_msgs'], s['messages'] - s['recovery']['snapshot_msgs'], s['dup_msgs'])")
	read -r sm lm dm <<<"$v"
	[ "${sm:-0}" -gt 0 ] && [ "$lm" = $((MSGS - seq + 1)) ] && [ "$dm" = $((seq - F)) ]
	check "late start, snapshot at $seq: $sm snapshot messages, exactly the $((MSGS - seq + 1)) live ones from $seq applied ($lm), the $((seq - F)) below it dropped ($dm)" $?
	ls=$(last_status $run 3,4)
	[ "$(cat "$T/$run/sub.rc")" = 0 ] && [ "$ls" != 3 ]
	check "late start, snapshot at $seq: the books are not left stale (last stale/fresh status: $ls)" $?
	[ -s "$T/$run/books.txt" ] && ! grep -qi 'stale' "$T/$run/books.txt"
	check "late start, snapshot at $seq: no book flagged stale in --books-out" $?
done

# A long hole (5001-9000) mid-session, no re-request server: the source is
# stale while its books are rebuilt from a snapshot taken at $SH, then fresh.
[ -s "$T/full/books.txt" ] && cmp -s "$T/full/books.txt" "$T/hole/books.txt"
check "hole 5001-9000 rebuilt from a snapshot at $SH: books identical to the full replay" $?
[ -s "$T/full/fh.digest" ] && cmp -s <(grep '^book ' "$T/full/fh.digest") <(grep '^book ' "$T/hole/fh.digest")
check "hole 5001-9000 rebuilt from a snapshot at $SH: every book checksum identical" $?
v=$(f hole "'%d %d %d %d %d' % (s['recovery']['snapshots'], s['recovery']['snapshot_failed'], s['recovery']['snapshot_next_seq'], s['last_seq'], s['stale_books'])")
[ "$v" = "1 0 $SH $MSGS 0" ]
check "hole: one snapshot, live from $SH to $MSGS, no book left stale (snapshots failed next_seq last_seq stale_books: $v)" $?
g=$(awk '{ delete a; for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) a[kv[1]] = kv[2] }
	$2 == "feed_status" && (a["kind"] == 1 || a["kind"] == 2) { printf "%s%s[%s,%s]", (n++ ? "," : ""), a["kind"] == 1 ? "gap" : "recovered", a["first"], a["last"] }' "$T/hole/status.txt")
[ "$g" = "gap[5001,9000],recovered[5001,9000]" ]
check "hole: FEED_STATUS GAP then RECOVERED for 5001-9000 ($g)" $?
k=$(st_kinds hole)
[ "$k" = "3,4" ]
check "hole: the source published STALE, then FRESH once rebuilt ($k)" $?

# The same hole with a re-request server that never answers: re-requested,
# given up, then rebuilt from the snapshot.
[ -s "$T/full/books.txt" ] && cmp -s "$T/full/books.txt" "$T/giveup/books.txt"
check "hole, re-requests given up, then the snapshot: books identical to the full replay" $?
v=$(f giveup "'%d %d %d %d %d %d' % (s['recovery']['requests'], s['recovery']['failed_msgs'], s['recovery']['snapshots'], s['recovery']['snapshot_next_seq'], s['last_seq'], s['stale_books'])")
read -r rq fm rest <<<"$v"
[ "${rq:-0}" -gt 0 ] && [ "${fm:-0}" -gt 0 ] && [ "$rest" = "1 $SH $MSGS 0" ]
check "hole, re-requests given up, then the snapshot: requests failed snapshots next_seq last_seq stale_books: $v" $?
k=$(st_kinds giveup)
[ "$k" = "3,4" ]
check "hole, re-requests given up: STALE, then FRESH once rebuilt ($k)" $?

echo "e2e_fh_snapshot: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
