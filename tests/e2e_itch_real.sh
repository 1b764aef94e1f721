#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_itch_real.sh: fh-itch on the real Nasdaq data: exact counts, every OMI pcap, the VLAN capture's gap.
set -u
B=${FH_BUILD:-build}
D=${FH_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}/itch
ITCH=$B/fh-itch
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
[ -x "$ITCH" ] || { echo "SKIP: $ITCH not built"; exit 77; }
[ -f "$D/12302019_SNIPPET.NASDAQ_ITCH50" ] || { echo "SKIP: no real data in $D"; exit 77; }
tmp=$(mktemp -d /tmp/fh-e2e-itch-real.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

want='A 367
C 1
D 167
E 28
F 193
I 4
P 4
Q 4
S 1
U 225
X 6'
got=$("$ITCH" counts "$D/12302019_SNIPPET.NASDAQ_ITCH50" 2>"$tmp/err")
if [ "$got" = "$want" ] && [ ! -s "$tmp/err" ]; then ok "snippet counts exact, no rejection"
else bad "snippet counts: $(echo $got) / $(cat "$tmp/err")"; fi

"$ITCH" stats "$D/12302019_SNIPPET.NASDAQ_ITCH50" >"$tmp/st"
grep -qx 'rejects 0' "$tmp/st" && grep -qx 'messages 1000' "$tmp/st" && ok "snippet stats: 1000 messages, 0 rejects" \
	|| bad "snippet stats: $(tr '\n' ' ' <"$tmp/st")"

n=$("$ITCH" dump "$D/12302019_SNIPPET.NASDAQ_ITCH50" | grep -c ' name=')
[ "$n" = 1000 ] && ok "snippet dump: 1000 lines" || bad "snippet dump: $n lines"
# a known message printed with every field (seq 5: order replace)
line=$("$ITCH" dump "$D/12302019_SNIPPET.NASDAQ_ITCH50" | sed -n 5p)
[ "$line" = "seq=5 type=U name=order_replace locate=4436 tracking=0 ts=09:30:00.000091476 orig_ref=5588594 new_ref=5676634 shares=1000 price=186.5100" ] \
	&& ok "snippet dump line 5" || bad "snippet dump line 5: $line"

# Every OMI pcap decodes with zero rejections; its type is the one its name says.
declare -A type_of=(
	[AddOrderNoMPID]=A [AddOrderWithMPID]=F [CrossTrade]=Q [LULDAuctionCollar]=J
	[MarketParticipantPosition]=L [NetOrderImbalanceIndicator]=I [NonCrossTrade]=P
	[OrderCancel]=X [OrderDelete]=D [OrderExecuted]=E [OrderExecutedWithPrice]=C
	[OrderReplace]=U [RegSHORestriction]=Y [StockTradingAction]=H [SystemEvent]=S
	[AddOrderNoMpidAttributionMessage]=A [MarketParticipantPositionMessage]=L
	[NetOrderImbalanceIndicatorMessage]=I [OrderDeleteMessage]=D [OrderExecutedMessage]=E
	[OrderReplaceMessage]=U [StockTradingActionMessage]=H)
nfiles=0
for f in "$D"/omi/*.pcap; do
	nfiles=$((nfiles + 1))
	name=$(basename "$f" .pcap)
	name=${name##*__}
	got=$("$ITCH" counts "$f" 2>"$tmp/err")
	if [ "$name" = Multiple.Packets ]; then
		[ "$got" = "$(printf 'A 36\nD 1\nF 2')" ] && [ ! -s "$tmp/err" ] && ok "$name: A 36 D 1 F 2" \
			|| bad "$name: $(echo $got) $(cat "$tmp/err")"
		continue
	fi
	t=${type_of[$name]:-?}
	if [ -s "$tmp/err" ] || [ "$(echo "$got" | cut -d' ' -f1 | tr -d '\n')" != "$t" ]; then
		bad "$name: want only $t, got '$(echo $got)' $(cat "$tmp/err")"
	else
		ok "$name: $(echo $got)"
	fi
	# dump prints the fields of its type
	"$ITCH" dump "$f" | grep -q " type=$t " || bad "$name: dump"
done
[ "$nfiles" -ge 23 ] && ok "$nfiles OMI pcaps" || bad "only $nfiles OMI pcaps"

# The VLAN-tagged wire capture: its sequence jump is the one gap.
g=$("$ITCH" gaps "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap")
[ "$g" = "000010059B 14764497 19009116" ] && ok "VLAN capture gap: $g" || bad "VLAN capture gaps: '$g'"
# and only on its group and port
g=$("$ITCH" gaps --group 233.54.12.111 --port 26477 "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap")
[ "$g" = "000010059B 14764497 19009116" ] && ok "VLAN capture gap with group filter" || bad "group filter: '$g'"
n=$("$ITCH" counts --port 1 "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap" | wc -l)
[ "$n" = 0 ] && ok "other port filtered out" || bad "port filter: $n lines"
# read from a pipe
got=$(cat "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap" | "$ITCH" counts - | tr '\n' ' ')
[ "$got" = "A 36 D 1 F 2 " ] && ok "pcap from stdin" || bad "stdin: $got"

# A day file from a pipe (streamed), gzipped as Nasdaq publishes it, and cut short.
got=$(cat "$D/12302019_SNIPPET.NASDAQ_ITCH50" | "$ITCH" counts - 2>&1)
[ "$got" = "$want" ] && ok "day file from stdin" || bad "day file from stdin: $(echo $got)"
if command -v gzip >/dev/null; then
	gzip -c "$D/12302019_SNIPPET.NASDAQ_ITCH50" >"$tmp/snippet.gz"
	got=$("$ITCH" counts "$tmp/snippet.gz" 2>&1)
	[ "$got" = "$want" ] && ok "gzipped day file" || bad "gzipped day file: $(echo $got)"
	gzip -c "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap" >"$tmp/m.pcap.gz"
	"$ITCH" counts "$tmp/m.pcap.gz" >/dev/null 2>"$tmp/err" && bad "gzipped pcap accepted" \
		|| { grep -q zcat "$tmp/err" && ok "gzipped pcap: refused with a hint"; } || bad "gzipped pcap: $(cat "$tmp/err")"
fi
head -c 10001 "$D/12302019_SNIPPET.NASDAQ_ITCH50" | "$ITCH" stats - >"$tmp/st" 2>/dev/null
grep -qx 'messages 288' "$tmp/st" && grep -qx 'reject_overrun 1' "$tmp/st" && ok "cut day file: 288 messages, 1 overrun" \
	|| bad "cut day file: $(tr '\n' ' ' <"$tmp/st")"
if command -v editcap >/dev/null; then
	editcap -F pcapng "$D/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap" "$tmp/m.pcapng" 2>/dev/null
	"$ITCH" counts "$tmp/m.pcapng" >/dev/null 2>"$tmp/err" && bad "pcapng accepted as something" \
		|| { grep -q editcap "$tmp/err" && ok "pcapng: refused with a hint"; } || bad "pcapng: $(cat "$tmp/err")"
fi

echo "e2e_itch_real: $P passed, $F failed, 0 skipped"
[ "$F" -eq 0 ]
