#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_itch_tshark.sh: Wireshark's MoldUDP64 dissector and fh-itch agree on every packet of simulated pcaps:
# session, sequence, message count and every message length (A/B lines, heartbeats, gaps, corrupt and
# reordered packets, MTU-filled bundles, end of session).
set -u
B=${FH_BUILD:-build}
ITCH=$B/fh-itch
SIM=$B/fh-sim
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
for x in "$ITCH" "$SIM"; do [ -x "$x" ] || { echo "SKIP: $x not built"; exit 77; }; done
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
tmp=$(mktemp -d /tmp/fh-e2e-itch-tshark.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# compare NAME SIM-OPTIONS...: one pcap, every packet.
compare() {
	local name=$1
	shift
	if ! "$SIM" --seed 31 --messages 15000 --symbols 250 --heartbeat-ms 30000 --pcap "$tmp/$name.pcap" "$@" \
		2>"$tmp/$name.simerr"; then
		bad "$name: fh-sim failed: $(cat "$tmp/$name.simerr")"
		return
	fi
	# frame session sequence count lengths ("-" when none); ports of both lines decode as MoldUDP64
	tshark -n -r "$tmp/$name.pcap" -d udp.port==26477,moldudp64 -d udp.port==26478,moldudp64 \
		-T fields -E separator=' ' -e frame.number -e moldudp64.session -e moldudp64.sequence \
		-e moldudp64.count -e moldudp64.msglen 2>/dev/null |
		awk '{ print $1, $2, $3, $4, (NF > 4 ? $5 : "-") }' >"$tmp/$name.tshark"
	"$ITCH" packets "$tmp/$name.pcap" 2>/dev/null | sed 's/ rejected$//' >"$tmp/$name.ours"
	local nt no
	nt=$(wc -l <"$tmp/$name.tshark")
	no=$(wc -l <"$tmp/$name.ours")
	if [ "$nt" -lt 100 ]; then
		bad "$name: tshark saw only $nt packets"
	elif cmp -s "$tmp/$name.tshark" "$tmp/$name.ours"; then
		ok "$name: $no packets agree (session, sequence, count, every message length)"
	else
		bad "$name: tshark and fh-itch differ ($nt vs $no lines)"
		diff "$tmp/$name.tshark" "$tmp/$name.ours" | head -5
	fi
}

compare clean
compare ab_gaps --group-b 233.54.12.112 --gap 500-620:AB --gap 2000-2100
compare impaired --group-b 233.54.12.112 --corrupt-pct 3 --reorder-pct 3 --drop-pct 1
compare mtu_filled --max-payload 1472 --bundle-us 0 --session TEST123456 --first-seq 1000000

# The impaired capture: what tshark calls a packet with an overrunning block, we reject whole.
"$ITCH" stats "$tmp/impaired.pcap" >"$tmp/impaired.stats" 2>/dev/null
ov=$(awk '$1 == "reject_overrun" { print $2 }' "$tmp/impaired.stats")
[ "${ov:-0}" -gt 0 ] && ok "impaired: $ov overrun packets rejected" || bad "impaired: no overrun counted"
# Sequences agree message by message too: first message sequence per packet + count = next.
g=$("$ITCH" gaps "$tmp/ab_gaps.pcap")
[ "$g" = "FHSIM00001 500 620" ] && ok "ab_gaps: only the gap lost on both lines is reported" || bad "ab_gaps gaps: '$g'"
g=$("$ITCH" gaps "$tmp/mtu_filled.pcap")
[ -z "$g" ] && ok "mtu_filled: no gap" || bad "mtu_filled gaps: '$g'"

echo "e2e_itch_tshark: $P passed, $F failed, 0 skipped"
[ "$F" -eq 0 ]
