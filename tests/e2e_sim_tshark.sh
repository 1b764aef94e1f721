#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_sim_tshark: tshark's MoldUDP64 dissector agrees with fh-sim on every packet's session,
# sequence, count and message lengths; checksums valid; A/B lines identical; gaps exact.
set -u
B=${FH_BUILD:-build}
SIM=$B/fh-sim
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() { echo "e2e_sim_tshark: $pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ]; exit $?; }
if ! command -v tshark >/dev/null; then
	echo "skip: tshark not installed"; skip=1; finish
fi
[ -x "$SIM" ] || { echo "no $SIM"; ko build; finish; }
T=$(mktemp -d /tmp/fh-e2e-sim.XXXXXX)
trap 'rm -rf "$T"' EXIT
N=30000
"$SIM" --seed 17 --messages $N --symbols 300 --session E2ETEST001 \
	--group 239.1.2.3:30001 --group-b 239.1.2.4:30002 --gap 5000-5099 --gap 9000-9000:B \
	--heartbeat-ms 10000 --itch "$T/d.itch" --pcap "$T/d.pcap" 2>"$T/err" || { cat "$T/err"; ko "fh-sim runs"; finish; }
ok "fh-sim writes a day file and an A/B pcap"

tshark -r "$T/d.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
	-d udp.port==30001,moldudp64 -d udp.port==30002,moldudp64 -T fields -E separator=/t \
	-e udp.dstport -e moldudp64.session -e moldudp64.sequence -e moldudp64.count \
	-e moldudp64.msglen -e ip.checksum.status -e udp.checksum.status -e eth.dst \
	>"$T/ts.txt" 2>"$T/ts.err"
[ -s "$T/ts.txt" ] && ok "tshark reads the pcap" || { cat "$T/ts.err"; ko "tshark reads the pcap"; finish; }

bad=$(awk -F'\t' '$6 != 1 || $7 != 1' "$T/ts.txt" | wc -l)
[ "$bad" = 0 ] && ok "IPv4 and UDP checksums valid in every frame" || ko "checksums ($bad bad frames)"

bad=$(awk -F'\t' '$2 != "E2ETEST001"' "$T/ts.txt" | wc -l)
[ "$bad" = 0 ] && ok "every packet carries the session" || ko "session ($bad packets)"

bad=$(awk -F'\t' '($1 == 30001 && $8 != "01:00:5e:01:02:03") || ($1 == 30002 && $8 != "01:00:5e:01:02:04")' "$T/ts.txt" | wc -l)
[ "$bad" = 0 ] && ok "destination MACs map the groups" || ko "MACs ($bad)"

# Per line: sequences contiguous outside the requested gaps, heartbeats name the next sequence,
# the message count equals the number of lengths tshark found.
for line in A:30001:5000:5099 B:30002:9000:9000; do
	IFS=: read -r name port g0 g1 <<<"$line"
	res=$(awk -F'\t' -v port="$port" -v g0="$g0" -v g1="$g1" -v n="$N" '
		$1 != port { next }
		{ seq = $3 + 0; cnt = $4 + 0 }
		cnt == 65535 { ends++; if (seq != n + 1) err = err " end_seq=" seq; next }
		cnt == 0 { hb++; if (seq != next_seq && !(seq == g0 && next_seq == g0)) { if (!(seq >= g0 && seq <= g1 + 1)) err = err " hb=" seq "/" next_seq }; next }
		{
			if (next_seq == 0) next_seq = 1
			if (seq != next_seq) {
				if (next_seq == g0 && seq == g1 + 1) gaps++
				else err = err " seq=" seq "/" next_seq
			}
			k = split($5, L, ",")
			if (k != cnt) err = err " count=" cnt "/" k
			msgs += cnt; next_seq = seq + cnt
		}
		END { printf "%d %d %d %d%s\n", msgs, gaps, ends, hb, err }' "$T/ts.txt")
	read -r msgs gaps ends hb rest <<<"$res"
	want=$((N - (g1 - g0 + 1)))
	if [ "$msgs" = "$want" ] && [ "$gaps" = 1 ] && [ "$ends" = 1 ] && [ -z "$rest" ]; then
		ok "line $name: $msgs messages, exactly the gap $g0-$g1 missing, end of session, $hb heartbeats"
	else
		ko "line $name: $res (want $want messages, one gap, one end)"
	fi
done

# Message lengths: tshark's per-message lengths on line A equal the day file's, in order.
od -An -v -tu1 "$T/d.itch" | awk '
	{ for (i = 1; i <= NF; i++) b[nb++] = $i }
	END { p = 0; seq = 1; while (p + 1 < nb) { l = b[p] * 256 + b[p + 1]; print seq, l; seq++; p += 2 + l } }' >"$T/day.len"
awk -F'\t' '$1 == 30001 && $4 > 0 && $4 < 65535 { k = split($5, L, ","); for (i = 1; i <= k; i++) print $3 + i - 1, L[i] }' \
	"$T/ts.txt" >"$T/a.len"
awk 'NR == FNR { want[$1] = $2; next } { n++; if (want[$1] != $2) bad++ } END { print n + 0, bad + 0 }' \
	"$T/day.len" "$T/a.len" >"$T/cmp"
read -r n badl <"$T/cmp"
[ "$n" = $((N - 100)) ] && [ "$badl" = 0 ] && ok "message lengths agree with the day file ($n messages)" ||
	ko "message lengths: $n compared, $badl differ"

# Line B repeats line A's packets: same sequence, count and lengths wherever both carry them.
# (B alone carries A's gap 5000-5099, A alone B's 9000.)
awk -F'\t' '$4 > 0 && $4 < 65535 { key = $3 "|" $4 "|" $5; if ($1 == 30001) a[key] = 1; else b[key] = 1 }
	END {
		for (k in b) { split(k, f, "|"); if (f[1] >= 5000 && f[1] <= 5099) continue; nb++; if (k in a) same++ }
		for (k in a) { split(k, f, "|"); if (f[1] == 9000) continue; na++ }
		print nb + 0, same + 0, na + 0
	}' "$T/ts.txt" >"$T/ab"
read -r nb same na <"$T/ab"
[ "$nb" -gt 0 ] && [ "$nb" = "$same" ] && [ "$na" = "$nb" ] && ok "line B repeats line A's packets ($same identical outside the gaps)" ||
	ko "line B vs A: $same of $nb B packets in A, $na A packets"

# Corruption: tshark flags the overrunning block lengths we injected.
"$SIM" --seed 17 --messages 20000 --symbols 300 --corrupt-pct 10 --bundle-us 0 --heartbeat-ms 0 --pcap "$T/c.pcap" --stats 2>"$T/c.err"
want=$(awk '/pcap lineA/ { print $10 + $12 }' "$T/c.err")
got=$(tshark -r "$T/c.pcap" -d udp.port==26477,moldudp64 -Y 'moldudp64.msglen.invalid || _ws.malformed || _ws.expert.severity >= "warning"' -T fields -e frame.number 2>/dev/null | wc -l)
[ "${want:-0}" -gt 0 ] && [ "$got" = "$want" ] && ok "tshark flags the $want corrupted packets ($got flagged)" ||
	ko "corruption: want $want flagged, tshark flagged $got"
finish
