#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_live: live multicast between two network namespaces joined by a veth
# pair. tcpreplay sends a simulated MoldUDP64 session (paced) from one side;
# fh receives it on the other through DPDK net_af_packet and through the
# kernel-socket backend (recvmmsg + IP_ADD_MEMBERSHIP). With nothing dropped
# every message arrives and no gap is reported; when the sender drops
# sequence ranges, fh reports exactly those ranges.
# fh-test-timeout: 240
set -u
B=$(cd "${FH_BUILD:-build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "skip: needs root for network namespaces"; exit 77; }
command -v tcpreplay >/dev/null || { echo "skip: tcpreplay missing"; exit 77; }
T=$(mktemp -d /tmp/fh-e2e-live.XXXXXX)
NA=fhA$$ NB=fhB$$
cleanup() {
	[ -n "${FHPID:-}" ] && kill -9 "$FHPID" 2>/dev/null
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$T" /dev/shm/fh-e2e-live-$$*
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap "ip netns del $NA; ip netns del $NB" EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

ip netns add "$NA" && ip netns add "$NB" || { echo "skip: cannot create network namespaces"; exit 77; }
# a namespace that cannot be entered (a chroot whose root is no mount point) is the same as none
ip netns exec "$NA" true 2>/dev/null || { echo "skip: cannot enter network namespaces here"; exit 77; }
ip link add vA$$ netns "$NA" type veth peer name vB$$ netns "$NB" || exit 1
ip -n "$NA" addr add 10.201.0.1/24 dev vA$$
ip -n "$NB" addr add 10.201.0.2/24 dev vB$$
for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
ip -n "$NA" link set vA$$ up
ip -n "$NB" link set vB$$ up
ip -n "$NA" route add 224.0.0.0/4 dev vA$$
ip -n "$NB" route add 224.0.0.0/4 dev vB$$

MSGS=30000
"$B/fh-sim" --seed 21 --messages $MSGS --symbols 200 --session LIVE000001 --src 10.201.0.1:40000 \
	--group 233.54.12.111:26477 --bundle-us 0 --heartbeat-ms 0 --pcap "$T/clean.pcap" >/dev/null || exit 1
"$B/fh-sim" --seed 21 --messages $MSGS --symbols 200 --session LIVE000001 --src 10.201.0.1:40000 \
	--group 233.54.12.111:26477 --bundle-us 0 --heartbeat-ms 0 --gap 1001-1200 --gap 20001-20050 \
	--pcap "$T/gaps.pcap" >/dev/null || exit 1
"$B/fh-itch" gaps "$T/gaps.pcap" >"$T/gaps.expected" 2>/dev/null

# run_fh TRANSPORT INTERFACE PCAP NAME: fh in namespace B, tcpreplay from A.
run_fh() {
	local tr=$1 ifc=$2 pcap=$3 name=$4
	cat >"$T/$name.yaml" <<YAML
version: 1
sources:
  - name: live
    protocol: itch50
    transport: $tr
    group: 233.54.12.111
    port: 26477
    interface: $ifc
    rx_core: 1
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 256Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-live-$$-$name, path: /dev/shm, slots: 64Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$name.dlq}
YAML
	ip netns exec "$NB" "$B/fh" --config "$T/$name.yaml" --quiet --summary "$T/$name.json" \
		>"$T/$name.out" 2>"$T/$name.err" &
	FHPID=$!
	# wait until fh is receiving (it logs "started")
	for _ in $(seq 100); do grep -q '"event":"started"' "$T/$name.err" && break; sleep 0.1; done
	ip netns exec "$NA" tcpreplay -q -i vA$$ --pps 1000 "$pcap" >"$T/$name.tcpreplay" 2>&1
	sleep 1.5
	kill -TERM "$FHPID"
	wait "$FHPID"
	local rc=$?
	FHPID=
	check "$name: fh drains and exits 0 on SIGTERM (exit $rc)" $rc
	[ $rc = 0 ] || tail -5 "$T/$name.err"
}

field() { python3 -c "import json; s=json.load(open('$T/$1.json'))['sources'][0]; print(s['$2'])"; }

run_fh multicast vB$$ "$T/clean.pcap" afpacket
check "afpacket: every message arrives ($(field afpacket messages)/$MSGS)" "$([ "$(field afpacket messages)" = $MSGS ] && echo 0 || echo 1)"
check "afpacket: no gap reported" "$([ "$(field afpacket gaps)" = 0 ] && echo 0 || echo 1)"
check "afpacket: every frame accounted for" "$([ "$(field afpacket accounted)" = True ] && echo 0 || echo 1)"

run_fh kernel_udp vB$$ "$T/clean.pcap" kudp
check "kernel socket: every message arrives ($(field kudp messages)/$MSGS)" "$([ "$(field kudp messages)" = $MSGS ] && echo 0 || echo 1)"
check "kernel socket: no gap reported" "$([ "$(field kudp gaps)" = 0 ] && echo 0 || echo 1)"

# Dropped ranges: fh's gaps equal what fh-itch reads from the capture offline.
exp_ranges=$(awk '{printf "%s[%s,%s]", (NR > 1 ? "," : ""), $2, $3}' "$T/gaps.expected")
exp_msgs=$(awk '{n += $3 - $2 + 1} END {print n}' "$T/gaps.expected")
for mode in multicast:afgaps kernel_udp:kgaps; do
	tr=${mode%%:*} name=${mode##*:}
	run_fh "$tr" vB$$ "$T/gaps.pcap" "$name"
	got=$(python3 -c "import json; s=json.load(open('$T/$name.json'))['sources'][0]; print(','.join('[%d,%d]' % (a, b) for a, b in s['gap_ranges']))")
	check "$name: the gap ranges sent, exactly ($got = $exp_ranges)" "$([ "$got" = "$exp_ranges" ] && echo 0 || echo 1)"
	check "$name: $exp_msgs missing messages as sent ($(field "$name" gap_msgs))" "$([ "$(field "$name" gap_msgs)" = "$exp_msgs" ] && echo 0 || echo 1)"
	check "$name: the rest arrives ($(field "$name" messages)/$((MSGS - exp_msgs)))" "$([ "$(field "$name" messages)" = $((MSGS - exp_msgs)) ] && echo 0 || echo 1)"
done
echo "expected gaps:"; cat "$T/gaps.expected"

echo "e2e_fh_live: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
