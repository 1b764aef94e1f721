#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_recovery: MoldUDP64 gap recovery through the real fh, replaying
# paced two-line (A/B) captures made by fh-sim, with fh-sim's re-request
# server (same seed and session) answering on 127.0.0.1:
#  1. line A losing 1 % of its packets at random and line B a different 1 %:
#     books identical to the lossless run, no gap, not one re-request;
#  2. losses on both lines (random 1 % each plus ranges lost on both): every
#     hole re-requested and filled, books identical, no unrecovered gap,
#     never published stale;
#  3. the server down, a second channel beside it losing nothing: exactly
#     the ranges lost on both lines are reported as gaps, the affected
#     source is published stale, the other one is not and its books are
#     those of its lossless session;
#  4. live: both lines on two kernel sockets (kernel_udp in a network
#     namespace, tcpreplay from another), 1 % lost on each line, then holes
#     on both: no request, then every hole re-requested, books identical.
# fh-test-timeout: 240
set -u
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
. "$(dirname "$0")/regress/lib.sh"
T=$(mktemp -d /tmp/fh-e2e-recovery.XXXXXX)
SRV_PIDS=()
cleanup() {
	local p
	for p in "${SRV_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	regress_live_down
	wait 2>/dev/null
	rm -rf "$T" /dev/shm/fh-e2e-rec-$$-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0 skip=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
command -v mergecap >/dev/null || { echo "skip: mergecap missing"; exit 77; }

MSGS=20000
# Channel 1 (the one that loses) and channel 2 (lossless), each on two lines,
# paced at 1000 packets/s so the hold buffer and the server have time. One
# hole lost on both lines is near the end: fh must finish its recovery (or
# give it up, 3 sends 20+40+80 ms apart) before it stops at the end of the
# capture, and account for every message held meanwhile.
SIM1=(--seed 61 --messages $MSGS --symbols 100 --session RECOVER001 --heartbeat-ms 0 --bundle-us 0)
NET1=(--group 233.54.12.111:26477 --group-b 233.54.12.112:26478 --pps 1000)
SIM2=(--seed 62 --messages $MSGS --symbols 100 --session RECOVER002 --heartbeat-ms 0 --bundle-us 0)
NET2=(--group 233.54.12.113:26479 --group-b 233.54.12.114:26480 --pps 1000)
"$B/fh-sim" "${SIM1[@]}" "${NET1[@]}" --pcap "$T/clean.pcap" >/dev/null || exit 1
"$B/fh-sim" "${SIM1[@]}" "${NET1[@]}" --drop-pct 1 --impair-lines AB --impair-seed 9 \
	--pcap "$T/loss.pcap" >/dev/null || exit 1
"$B/fh-sim" "${SIM1[@]}" "${NET1[@]}" --drop-pct 1 --impair-lines AB --impair-seed 9 \
	--gap 3001-3400:AB --gap 6001-6001:AB --gap 8001-8100:AB --gap 19901-19950:AB --pcap "$T/both.pcap" >/dev/null || exit 1
"$B/fh-sim" "${SIM2[@]}" "${NET2[@]}" --pcap "$T/c2.pcap" >/dev/null || exit 1
mergecap -F nsecpcap -w "$T/down.pcap" "$T/both.pcap" "$T/c2.pcap" || exit 1
# Channel 2's reference books: fh-book on its session as one line.
"$B/fh-sim" "${SIM2[@]}" --group 233.54.12.113:26479 --pcap "$T/c2ref.pcap" >/dev/null || exit 1
"$B/fh-book" dump "$T/c2ref.pcap" >"$T/c2ref.books" 2>/dev/null

# What a capture holds for the channel on ports PA (line A) / PB (line B):
# packets lost on each line and the message ranges missing on both.
lost() { # lost PCAP PA PB -> "lostA lostB ranges|none msgs"
	python3 - "$@" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
pa, pb = int(sys.argv[2]), int(sys.argv[3])
off, seen = 24, {pa: {}, pb: {}}
while off + 16 <= len(d):
    cl = struct.unpack("<I", d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + cl]
    off += 16 + cl
    u = 14 + (f[14] & 15) * 4
    dport = struct.unpack(">H", f[u + 2:u + 4])[0]
    if dport not in seen:
        continue
    seq, cnt = struct.unpack(">QH", f[u + 18:u + 28])
    if cnt in (0, 0xFFFF):
        continue
    seen[dport][seq] = cnt
union = dict(seen[pa]); union.update(seen[pb])
both, expect = [], 1
for s in sorted(union):
    if s > expect:
        both.append((expect, s - 1))
    expect = s + union[s]
print(len(union) - len(seen[pa]), len(union) - len(seen[pb]),
      ",".join("[%d,%d]" % r for r in both) or "none", sum(b - a + 1 for a, b in both))
PY
}
read -r la lb r_loss _ <<<"$(lost "$T/loss.pcap" 26477 26478)"
[ "$la" -gt 0 ] && [ "$lb" -gt 0 ] && [ "$r_loss" = none ]
check "set-up: line A lost $la packets, line B $lb others, none lost on both" $?
read -r _ _ r_both n_both <<<"$(lost "$T/both.pcap" 26477 26478)"
[ "$r_both" != none ]
check "set-up: lost on both lines: $n_both messages in $r_both" $?
read -r _ _ r_c2 _ <<<"$(lost "$T/c2.pcap" 26479 26480)"
[ "$r_c2" = none ]
check "set-up: channel 2 loses nothing" $?

# serve NAME SIM-ARGS...: fh-sim's re-request server for that session; sets PORT_<NAME>.
serve() {
	local name=$1 port=
	shift
	"$B/fh-sim" "$@" --serve-rereq 127.0.0.1:0 --serve-seconds 80 >"$T/srv-$name.out" 2>"$T/srv-$name.err" &
	SRV_PIDS+=($!)
	for _ in $(seq 100); do
		port=$(sed -n 's/^rereq 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv-$name.out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	eval "PORT_$name=\${port:-0}"
	[ -n "$port" ]
}
serve up1 "${SIM1[@]}"
check "fh-sim --serve-rereq serves channel 1 (port $PORT_up1)" $?
serve down1 "${SIM1[@]}" --rereq-down
check "fh-sim --serve-rereq --rereq-down: channel 1's server, down (port $PORT_down1)" $?
serve up2 "${SIM2[@]}"
check "fh-sim --serve-rereq serves channel 2 (port $PORT_up2)" $?

src() { # src NAME PCAP GROUP_A PORT_A GROUP_B PORT_B RR_PORT
	cat <<YAML
  - name: $1
    protocol: itch50
    transport: pcap
    lines:
      a: {group: $3, port: $4}
      b: {group: $5, port: $6}
    pcap: {file: $2, speed: recorded}
    recovery:
      rerequest: {host: 127.0.0.1, port: $7, timeout_ms: 20ms, retries: 2}
YAML
}
run() { # run NAME SOURCES-YAML
	mkdir -p "$T/$1"
	cat >"$T/$1/fh.yaml" <<YAML
version: 1
sources:
$2
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-rec-$$-$1, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$1/dead.dlq}
YAML
	timeout 60 "$B/fh" --config "$T/$1/fh.yaml" --exit-at-end --quiet --digest "$T/$1/fh.digest" \
		--summary "$T/$1/summary.json" --books-out "$T/$1/books.txt" >"$T/$1/fh.out" 2>"$T/$1/fh.err"
	local rc=$?
	check "$1: fh replays the paced capture and exits 0 (exit $rc)" $rc
	[ $rc = 0 ] || tail -5 "$T/$1/fh.err"
	timeout 20 "$B/fh-sub" --start oldest --type feed_status -n 1000000 -t 2 "fh-e2e-rec-$$-$1" \
		>"$T/$1/status.txt" 2>"$T/$1/sub.err"
	echo $? >"$T/$1/sub.rc"
}
# f RUN SRC EXPR: a value from the summary of source SRC (s: the source, r: its recovery).
f() { python3 -c "
import json
s=[x for x in json.load(open('$T/$1/summary.json'))['sources'] if x['name']=='$2'][0]
r=s.get('recovery', {})
v=$3
print(','.join('[%d,%d]' % tuple(x) for x in v) if isinstance(v, list) else v)" 2>/dev/null; }
# st RUN SRCID KIND: "first,last" of each FEED_STATUS of that kind for that source id.
st() {
	awk -v s="$2" -v k="$3" '{ delete a; for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) a[kv[1]] = kv[2] }
		$2 == "feed_status" && a["src"] == s && a["kind"] == k { print a["first"] "," a["last"] }' "$T/$1/status.txt"
}
stale() { st "$1" "$2" 3 | wc -l; }
books() { grep "^$2 " "$T/$1/books.txt" | cut -d' ' -f2-; }

A1=(233.54.12.111 26477 233.54.12.112 26478)
A2=(233.54.12.113 26479 233.54.12.114 26480)
run clean "$(src chan1 "$T/clean.pcap" "${A1[@]}" "$PORT_up1")"
run loss "$(src chan1 "$T/loss.pcap" "${A1[@]}" "$PORT_up1")"
run both "$(src chan1 "$T/both.pcap" "${A1[@]}" "$PORT_up1")"
run down "$(src chan1 "$T/down.pcap" "${A1[@]}" "$PORT_down1")
$(src chan2 "$T/down.pcap" "${A2[@]}" "$PORT_up2")"

# 0. the lossless reference
v=$(f clean chan1 "'%d %d %d' % (s['messages'], s['gaps'], r['requests'])")
[ "$v" = "$MSGS 0 0" ]
check "lossless: $MSGS messages, no gap, no request (messages gaps requests: $v)" $?

v=$(for run in clean loss both down; do f $run chan1 "s['accounted']"; done; f down chan2 "s['accounted']")
[ "$(echo $v)" = "True True True True True" ]
r=$?
check "every frame accounted for in every run (summary accounted: $(echo $v))" $r

# 1. A/B arbitration fills one-line losses: no request at all.
v=$(f loss chan1 "'%d %d %d %d' % (s['messages'], s['gaps'], s['gap_msgs'], r['requests'])")
[ "$v" = "$MSGS 0 0 0" ]
check "1 % on A, another 1 % on B: $MSGS messages, no gap, requests == 0 (messages gaps gap_msgs requests: $v)" $?
[ -s "$T/clean/books.txt" ] && cmp -s "$T/clean/books.txt" "$T/loss/books.txt"
r=$?
check "1 % on A, another 1 % on B: books identical to the lossless run ($(wc -l <"$T/clean/books.txt") levels)" $r
cmp -s <(grep '^book ' "$T/clean/fh.digest") <(grep '^book ' "$T/loss/fh.digest") && [ -s "$T/clean/fh.digest" ]
check "1 % on A, another 1 % on B: every book checksum identical" $?

# 2. losses on both lines: recovered through the server.
v=$(f both chan1 "'%d %d %d' % (r['requests'], r['recovered_msgs'], r['failed_msgs'])")
read -r req rec fl <<<"$v"
[ "${req:-0}" -gt 0 ] && [ "$rec" = "$n_both" ] && [ "$fl" = 0 ]
check "loss on both lines: $req requests, $rec messages recovered (== the $n_both lost on both), $fl failed" $?
v=$(f both chan1 "'%d %s %d' % (s['messages'], s['gap_ranges'] or 'none', s['gap_msgs'])")
[ "$v" = "$MSGS none 0" ]
check "loss on both lines: every message delivered, no unrecovered gap (messages ranges gap_msgs: $v)" $?
[ -s "$T/clean/books.txt" ] && cmp -s "$T/clean/books.txt" "$T/both/books.txt"
check "loss on both lines: books identical to the lossless run" $?
cmp -s <(grep '^book ' "$T/clean/fh.digest") <(grep '^book ' "$T/both/fh.digest") && [ -s "$T/both/fh.digest" ]
check "loss on both lines: every book checksum identical" $?
[ "$(cat "$T/both/sub.rc")" = 0 ] && [ "$(stale both 0)" = 0 ]
r=$?
check "loss on both lines: never published stale ($(wc -l <"$T/both/status.txt") feed statuses)" $r

# 3. server down: exactly what was lost on both lines is a gap; the
# affected source is stale, the other is not and is whole.
v=$(f down chan1 "s['gap_ranges']")
[ "$v" = "$r_both" ]
check "server down: the gaps reported are exactly the ranges lost on both lines ($v)" $?
v=$(f down chan1 "'%d %d' % (r['failed_msgs'], s['messages'])")
[ "$v" = "$n_both $((MSGS - n_both))" ]
check "server down: $n_both messages given up, the other $((MSGS - n_both)) delivered (failed delivered: $v)" $?
v=$(f down chan1 "r['requests']")
[ "${v:-0}" -gt 0 ]
check "server down: the holes were re-requested ($v requests) before being given up" $?
n1=$(stale down 0) n2=$(stale down 1)
[ "$n1" -gt 0 ] && [ "$n2" = 0 ]
check "server down: chan1 published STALE ($n1 statuses), chan2 never ($n2)" $?
[ "$n1" -gt 0 ] && [ "$(st down 0 4 | wc -l)" = 0 ]
check "server down: chan1 never published FRESH again" $?
g=$(st down 0 1 | awk '{ printf "%s[%s]", (n++ ? "," : ""), $0 }')
[ "$g" = "$r_both" ]
check "server down: FEED_STATUS GAP published for exactly those ranges ($g)" $?
v1=$(f down chan1 "'%d %d' % (s['stale_books'], s['books'])") v2=$(f down chan2 "'%d %d' % (s['stale_books'], s['books'])")
read -r s1 b1 <<<"$v1"
read -r s2 b2 <<<"$v2"
[ "${b1:-0}" -gt 0 ] && [ "$s1" = "$b1" ] && [ "${b2:-0}" -gt 0 ] && [ "$s2" = 0 ]
check "server down: every one of chan1's $b1 books ends stale ($s1), none of chan2's $b2 ($s2)" $?
v=$(f both chan1 "s['stale_books']")
[ "$v" = 0 ]
check "loss on both lines, recovered: no book ends stale ($v)" $?
[ -s "$T/down/books.txt" ] && ! cmp -s "$T/clean/books.txt" <(grep '^chan1 ' "$T/down/books.txt")
check "server down: chan1's books differ from the lossless run (the loss is real, the comparison can fail)" $?
[ -s "$T/c2ref.books" ] && cmp -s "$T/c2ref.books" <(books down chan2)
r=$?
check "server down: chan2's books are those of its lossless session ($(wc -l <"$T/c2ref.books") levels)" $r
v=$(f down chan2 "'%d %d %d' % (s['messages'], s['gaps'], r['requests'])")
[ "$v" = "$MSGS 0 0" ]
check "server down: chan2 got every message with no gap and no request ($v)" $?

# 4. Live, two kernel sockets (kernel_udp, lines a and b) in a network
# namespace, tcpreplay sending both lines from another: the hold buffer
# keeps a packet that line A's socket delivers ahead of a hole until line
# B's socket is read (no false gap, no request); holes on both lines are
# re-requested from the server beside fh. fh's default hold (1 ms).
regress_live_up "rc$$"
rc=$?
if [ $rc = 77 ]; then
	skip=$((skip + 1))
	echo "skip live kernel_udp A/B recovery (no network namespaces here)"
elif [ $rc != 0 ]; then
	check "network namespaces for the live runs" 1
else
	ip netns exec "$REGRESS_NS_B" "$B/fh-sim" "${SIM1[@]}" --serve-rereq 127.0.0.1:0 --serve-seconds 60 \
		>"$T/srv-live.out" 2>"$T/srv-live.err" &
	SRV_PIDS+=($!)
	PORT_live=
	for _ in $(seq 100); do
		PORT_live=$(sed -n 's/^rereq 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv-live.out" 2>/dev/null)
		[ -n "$PORT_live" ] && break
		sleep 0.05
	done
	LIVE=(--src 10.202.0.1:40000 --group 233.54.12.111:26477 --group-b 233.54.12.112:26478)
	for run in lloss lboth; do
		mkdir -p "$T/$run"
		imp=(--drop-pct 1 --impair-lines AB --impair-seed 9)
		[ $run = lboth ] && imp+=(--gap 3001-3400:AB --gap 6001-6001:AB --gap 8001-8100:AB)
		"$B/fh-sim" "${SIM1[@]}" "${LIVE[@]}" "${imp[@]}" --pcap "$T/$run/capture.pcap" >/dev/null
		cat >"$T/$run/fh.yaml" <<YAML
version: 1
sources:
  - name: chan1
    protocol: itch50
    transport: kernel_udp
    interface: $REGRESS_IF
    lines:
      a: {group: 233.54.12.111, port: 26477}
      b: {group: 233.54.12.112, port: 26478}
    recovery:
      rerequest: {host: 127.0.0.1, port: ${PORT_live:-1}, timeout_ms: 50ms, retries: 3}
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-rec-$$-$run, path: /dev/shm, slots: 64Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$run/dead.dlq}
YAML
		regress_run_live "$T/$run/fh.yaml" "$T/$run" 1000
		rc=$?
		check "$run: live kernel_udp A/B, fh received the session and exited 0 (exit $rc)" $rc
		[ $rc = 0 ] || tail -5 "$T/$run/fh.err"
	done
	v=$(f lloss chan1 "'%d %d %d' % (s['messages'], s['gaps'], r['requests'])")
	[ "$v" = "$MSGS 0 0" ]
	check "live, 1 % on each line's socket: every message, no gap, not one request (messages gaps requests: $v)" $?
	[ -s "$T/clean/books.txt" ] && cmp -s "$T/clean/books.txt" "$T/lloss/books.txt"
	check "live, 1 % on each line's socket: books identical to the lossless run" $?
	v=$(f lboth chan1 "'%d %d %d %s' % (s['messages'], r['failed_msgs'], s['stale_books'], s['gap_ranges'] or 'none')")
	rq=$(f lboth chan1 "r['requests']")
	[ "$v" = "$MSGS 0 0 none" ] && [ "${rq:-0}" -gt 0 ]
	check "live, loss on both lines: recovered with $rq requests (messages failed stale_books gap_ranges: $v)" $?
	[ -s "$T/clean/books.txt" ] && cmp -s "$T/clean/books.txt" "$T/lboth/books.txt"
	check "live, loss on both lines: books identical to the lossless run" $?
	regress_live_down
fi

echo "e2e_fh_recovery: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
