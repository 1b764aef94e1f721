#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_itch_roundtrip.sh: one seeded session written as a Nasdaq day file and as a MoldUDP64 pcap (A/B lines,
# line A impaired) decodes to the same event stream, byte for byte, for all 23 message types; what the
# impairments broke is counted and lands in the dead-letter file.
set -u
B=${FH_BUILD:-build}
ITCH=$B/fh-itch
SIM=$B/fh-sim
DLQ=$B/fh-dlq
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
for x in "$ITCH" "$SIM"; do [ -x "$x" ] || { echo "SKIP: $x not built"; exit 77; }; done
tmp=$(mktemp -d /tmp/fh-e2e-itch-rt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

opts=(--seed 20191230 --messages 40000 --symbols 400)
"$SIM" "${opts[@]}" --itch "$tmp/s.itch" 2>/dev/null || { bad "fh-sim day file"; exit 1; }
"$SIM" "${opts[@]}" --pcap "$tmp/s.pcap" --group-b 233.54.12.112 --gap 3000-3500 \
	--corrupt-pct 2 --reorder-pct 2 --drop-pct 1 --max-payload 1472 2>/dev/null || { bad "fh-sim pcap"; exit 1; }
# the same seed writes the same bytes
"$SIM" "${opts[@]}" --itch "$tmp/s2.itch" 2>/dev/null
cmp -s "$tmp/s.itch" "$tmp/s2.itch" && ok "same seed, same day file" || bad "fh-sim is not deterministic"

types=$("$ITCH" counts "$tmp/s.itch" | cut -d' ' -f1 | tr -d '\n')
[ "$types" = "ABCDEFHIJKLNOPQRSUVWXYh" ] && ok "all 23 message types in the session" || bad "types present: $types"

# Events with their 64 bytes; recv_ts (bytes 24..31: hex 48..63 of raw=) differs by design.
strip() { grep -v '^#' | sed -E 's/(raw=.{48}).{16}/\1................/'; }
"$ITCH" dump --events --hex "$tmp/s.itch" | strip >"$tmp/day.ev"
"$ITCH" dump --events --hex --dlq "$tmp/s.dlq" "$tmp/s.pcap" 2>"$tmp/pcap.err" | strip >"$tmp/pcap.ev"
n=$(wc -l <"$tmp/day.ev")
if [ "$n" -gt 40000 ] && cmp -s "$tmp/day.ev" "$tmp/pcap.ev"; then
	ok "day file and pcap: the same $n events, byte for byte"
else
	bad "event streams differ ($n vs $(wc -l <"$tmp/pcap.ev") events)"
	diff "$tmp/day.ev" "$tmp/pcap.ev" | head -4
fi
# the same through a pipe (streamed in 1 MiB chunks: records straddle reads) and gzipped
cat "$tmp/s.itch" | "$ITCH" dump --events --hex - | strip >"$tmp/pipe.ev"
cmp -s "$tmp/day.ev" "$tmp/pipe.ev" && ok "day file from a pipe: same events" || bad "day file from a pipe differs"
if command -v gzip >/dev/null; then
	gzip -c "$tmp/s.itch" >"$tmp/s.itch.gz"
	"$ITCH" dump --events --hex "$tmp/s.itch.gz" | strip >"$tmp/gz.ev"
	cmp -s "$tmp/day.ev" "$tmp/gz.ev" && ok "gzipped day file: same events" || bad "gzipped day file differs"
fi
cat "$tmp/s.pcap" | "$ITCH" dump --events --hex - 2>/dev/null | strip >"$tmp/pcappipe.ev"
cmp -s "$tmp/day.ev" "$tmp/pcappipe.ev" && ok "pcap from a pipe: same events" || bad "pcap from a pipe differs"
# every type made it through both paths
missing=0
for t in S R H Y L V W K J h A F E C X D U P Q B I N O; do
	grep -q "seq=[0-9]* type=$t " <("$ITCH" dump "$tmp/s.pcap" 2>/dev/null) ||
		{ bad "type $t missing from the pcap dump"; missing=1; }
done
[ $missing = 0 ] && ok "23 types dumped from the pcap"
"$ITCH" dump "$tmp/s.itch" >"$tmp/day.msg"
"$ITCH" dump "$tmp/s.pcap" 2>/dev/null | grep -v '^#' >"$tmp/pcap.msg"
cmp -s "$tmp/day.msg" "$tmp/pcap.msg" && ok "field dumps equal" || bad "field dumps differ"

# The impairments on line A were counted, and the B line covered every loss: no gap.
"$ITCH" stats "$tmp/s.pcap" >"$tmp/st" 2>/dev/null
val() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/st"; }
[ "$(val gaps)" = 0 ] && ok "no gap (line B filled line A's losses)" || bad "gaps: $(val gaps)"
[ "$(val messages)" = 40000 ] && ok "40000 messages delivered once" || bad "messages: $(val messages)"
[ "${val_dup:=$(val dup_msgs)}" -gt 30000 ] && ok "$val_dup duplicate messages dropped" || bad "dup_msgs: $val_dup"
rej=$(val rejects)
[ "${rej:-0}" -gt 0 ] && ok "$rej rejected packets counted" || bad "no rejection counted"

# Every rejection has a dead-letter record with its reason.
if [ -x "$DLQ" ]; then
	"$DLQ" --no-hex "$tmp/s.dlq" >"$tmp/dlq.txt" 2>/dev/null
	nrec=$(wc -l <"$tmp/dlq.txt")
	[ "$nrec" = "$rej" ] && ok "$nrec dead-letter records" || bad "dead letters: $nrec, rejects: $rej"
	for r in overrun seq_regression; do
		want=$(val "reject_$r")
		got=$(grep -c "reason=$r " "$tmp/dlq.txt")
		[ "$got" = "${want:-0}" ] && ok "dead letters $r: $got" || bad "dead letters $r: $got vs ${want:-0}"
	done
	grep -q "session=FHSIM00001 seq=[1-9]" "$tmp/dlq.txt" && ok "dead letters name session and sequence" \
		|| bad "dead letters lack session/sequence"
fi

echo "e2e_itch_roundtrip: $P passed, $F failed, 0 skipped"
[ "$F" -eq 0 ]
