#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_ab: MoldUDP64 A/B line arbitration through the real fh, live between
# two network namespaces (tcpreplay -> veth -> DPDK net_af_packet, lines a and
# b on two groups). One simulated session sent on both lines:
#  - lossless: no gap, every message delivered once, the B copies counted as
#    duplicates;
#  - line A losing 1 % of its packets at random and line B a different 1 %:
#    books and digest identical to the lossless run, no gap reported;
#  - a range lost on both lines (plus the random 1 % on each): exactly the
#    packets missing on both lines are reported as gaps, the source is
#    published stale (FEED_STATUS STALE) and never fresh again (no
#    re-request server in this test).
# (pcap sources do not take `lines` in the config, so the test runs live.)
# fh-test-timeout: 240
set -u
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
. "$(dirname "$0")/regress/lib.sh"
T=$(mktemp -d /tmp/fh-e2e-ab.XXXXXX)
trap 'regress_live_down; rm -rf "$T" /dev/shm/fh-e2e-ab-$$-*' EXIT
trap 'exit 130' INT TERM
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

regress_live_up "ab$$"
rc=$?
[ $rc = 0 ] || exit $rc

SIM=(--seed 41 --messages 20000 --symbols 100 --session ABTEST0001 --heartbeat-ms 0 --bundle-us 0
	--src 10.202.0.1:40000 --group 233.54.12.111:26477 --group-b 233.54.12.112:26478)
mkdir -p "$T/clean" "$T/loss" "$T/both"
"$B/fh-sim" "${SIM[@]}" --pcap "$T/clean/capture.pcap" >/dev/null || exit 1
"$B/fh-sim" "${SIM[@]}" --drop-pct 1 --impair-lines AB --impair-seed 9 \
	--pcap "$T/loss/capture.pcap" >/dev/null || exit 1
"$B/fh-sim" "${SIM[@]}" --drop-pct 1 --impair-lines AB --impair-seed 9 --gap 8001-8100:AB \
	--gap 15001-15001:AB --pcap "$T/both/capture.pcap" >/dev/null || exit 1

# What each capture holds, per line: packets lost, and the message ranges
# missing on both lines (what arbitration cannot fill), merged as fh merges them.
lines() { # lines PCAP -> "lostA lostB both_ranges"
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, seen = 24, {0: {}, 1: {}}
while off + 16 <= len(d):
    cl = struct.unpack("<I", d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + cl]
    off += 16 + cl
    ip = 14
    u = ip + (f[ip] & 15) * 4
    m = u + 8
    seq, cnt = struct.unpack(">QH", f[m + 10:m + 20])
    if cnt in (0, 0xFFFF):
        continue
    seen[0 if f[ip + 19] == 111 else 1][seq] = cnt
union = dict(seen[0]); union.update(seen[1])
both, expect = [], 1
for s in sorted(union):
    if s > expect:
        both.append((expect, s - 1))
    expect = s + union[s]
print(len(union) - len(seen[0]), len(union) - len(seen[1]),
      ",".join("[%d,%d]" % r for r in both) or "none")
PY
}
read -r la lb both_clean <<<"$(lines "$T/clean/capture.pcap")"
read -r la lb both_loss <<<"$(lines "$T/loss/capture.pcap")"
[ "$la" -gt 0 ] && [ "$lb" -gt 0 ] && [ "$both_loss" = none ] && [ "$both_clean" = none ]
check "set-up: line A lost $la packets, line B $lb others, none lost on both" $?
read -r _ _ both_exp <<<"$(lines "$T/both/capture.pcap")"
[ "$both_exp" != none ]
check "set-up: ranges lost on both lines: $both_exp" $?

cfg() { # cfg NAME
	cat >"$T/$1/fh.yaml" <<YAML
version: 1
sources:
  - name: ab
    protocol: itch50
    transport: multicast
    interface: $REGRESS_IF
    lines:
      a: {group: 233.54.12.111, port: 26477}
      b: {group: 233.54.12.112, port: 26478}
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-ab-$$-$1, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$1/dead.dlq}
YAML
}
field() { python3 -c "import json; s=json.load(open('$T/$1/summary.json'))['sources'][0]; v=s['$2']; print(','.join('[%d,%d]' % tuple(r) for r in v) if isinstance(v, list) else v)"; }

for run in clean loss both; do
	cfg $run
	regress_run_live "$T/$run/fh.yaml" "$T/$run" 1000
	rc=$?
	check "$run: fh received the session and exited 0 on SIGTERM (exit $rc)" $rc
	[ $rc = 0 ] || tail -5 "$T/$run/fh.err"
done

[ "$(field clean gaps)" = 0 ] && [ "$(field clean messages)" = 20000 ] && [ "$(field clean dup_msgs)" = 20000 ]
r=$?; check "lossless: no gap, 20000 messages delivered once, each B copy a duplicate ($(field clean dup_msgs))" $r

[ "$(field loss gaps)" = 0 ] && [ "$(field loss gap_msgs)" = 0 ]
r=$?; check "1 % loss on each line: no gap reported ($(field loss gaps) gaps)" $r
[ "$(field loss messages)" = 20000 ] && [ "$(field loss dup_msgs)" -lt 20000 ]
r=$?; check "1 % loss on each line: every message delivered once ($(field loss messages)), fewer duplicates ($(field loss dup_msgs))" $r
[ -s "$T/clean/books.txt" ] && cmp -s "$T/clean/books.txt" "$T/loss/books.txt"
r=$?; check "1 % loss on each line: books identical to the lossless run ($(wc -l <"$T/clean/books.txt") levels)" $r
[ -s "$T/clean/fh.digest" ] && cmp -s "$T/clean/fh.digest" "$T/loss/fh.digest"
r=$?; check "1 % loss on each line: digest identical (events per family, $(grep -c '^book ' "$T/clean/fh.digest") book checksums)" $r

got=$(field both gap_ranges)
[ "$got" = "$both_exp" ]
check "loss on both lines: exactly the ranges lost on both reported ($got)" $?
n_exp=$(python3 -c "print(sum(b - a + 1 for a, b in [$both_exp]))")
[ "$(field both gap_msgs)" = "$n_exp" ] && [ "$(field both messages)" = $((20000 - n_exp)) ]
r=$?; check "loss on both lines: $n_exp messages missing, the other $((20000 - n_exp)) delivered ($(field both messages))" $r
# What fh published: the gaps, the source stale and never fresh again.
timeout 30 "$B/fh-sub" --start oldest --type feed_status -n 1000000 -t 5 "fh-e2e-ab-$$-both" \
	>"$T/both/status.txt" 2>/dev/null
st_ranges=$(awk '/kind=1 /{sub("first=","",$9); sub("last=","",$10); printf "%s[%s,%s]", (n++ ? "," : ""), $9, $10}' "$T/both/status.txt")
[ "$st_ranges" = "$both_exp" ]
check "loss on both lines: FEED_STATUS GAP published for each range ($st_ranges)" $?
grep -q 'instr=4294967295 .*kind=3 ' "$T/both/status.txt" && ! grep -q 'kind=4 ' "$T/both/status.txt"
check "loss on both lines: the source's books published STALE, never FRESH after" $?
! cmp -s "$T/clean/books.txt" "$T/both/books.txt"
check "loss on both lines: the books differ from the lossless run (the loss is real)" $?

echo "e2e_fh_ab: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
