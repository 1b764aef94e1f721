#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_sim_cli: fh-sim's command line: help, bad options, same seed same bytes, truth file, stats.
set -u
B=${FH_BUILD:-build}
SIM=$B/fh-sim
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() { echo "e2e_sim_cli: $pass passed, $fail failed, 0 skipped"; [ $fail -eq 0 ]; exit $?; }
[ -x "$SIM" ] || { ko "no $SIM"; finish; }
T=$(mktemp -d /tmp/fh-e2e-simcli.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$SIM" --help >"$T/help" 2>&1 && grep -q -- '--messages' "$T/help" && grep -q -- '--gap' "$T/help" &&
	ok "--help documents the options" || ko "--help"
"$SIM" --seed 1 --messages 5000 --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "unknown option: exit 2" || ko "unknown option"
"$SIM" --seed 1 --messages 5000 --drop-pct 101 --pcap "$T/x" >/dev/null 2>&1; [ $? -eq 2 ] && ok "out-of-range value: exit 2" || ko "range"
"$SIM" --seed 1 --messages 10 --itch "$T/x" >/dev/null 2>&1; [ $? -eq 1 ] && ok "too few messages: exit 1 with a reason" || ko "too few"
"$SIM" --anomalies 3 --itch "$T/x" >/dev/null 2>&1; [ $? -eq 2 ] && ok "--anomalies needs --truth" || ko "anomalies without truth"

for k in 1 2; do
	"$SIM" --seed 99 --messages 40000 --symbols 500 --itch "$T/a$k.itch" --pcap "$T/a$k.pcap" \
		--group-b 233.54.12.112 --reorder-pct 3 --drop-pct 1 --corrupt-pct 1 || ko "run $k"
done
cmp -s "$T/a1.itch" "$T/a2.itch" && cmp -s "$T/a1.pcap" "$T/a2.pcap" && ok "same seed, same bytes (day file and pcap)" ||
	ko "determinism"
"$SIM" --seed 100 --messages 40000 --symbols 500 --itch "$T/b.itch"
cmp -s "$T/a1.itch" "$T/b.itch" && ko "another seed gives another session" || ok "another seed gives another session"

# day file: length-prefixed messages, exactly N of them, first S/O, last S/C
n=$(od -An -v -tu1 "$T/a1.itch" | awk '{ for (i = 1; i <= NF; i++) b[nb++] = $i }
	END { p = 0; while (p + 1 < nb) { l = b[p] * 256 + b[p + 1]; if (c == 0) f = sprintf("%c%c", b[p + 2], b[p + 13]); last = sprintf("%c%c", b[p + 2], b[p + 13]); c++; p += 2 + l } print c, f, last, p == nb }')
[ "$n" = "40000 SO SC 1" ] && ok "day file: 40000 messages from S/O to S/C, no trailing bytes" || ko "day file: $n"

"$SIM" --seed 5 --messages 300000 --symbols 300 --anomalies 6 --truth "$T/truth" --stats 2>"$T/stats" || ko "anomaly run"
lines=$(awk 'NF == 5 && $4 <= $5 && $2 > 0 { n++ } END { print n + 0 }' "$T/truth")
kinds=$(awk '{ print $1 }' "$T/truth" | sort -u | tr '\n' ' ')
[ "$lines" = 6 ] && [ "$kinds" = "circuit_breaker price_gap price_spike spike_surge spread_widening volume_surge " ] &&
	ok "truth file: 6 lines, one per kind" || ko "truth: $lines lines, kinds '$kinds'"
grep -q '^peak_live_orders [0-9]' "$T/stats" && grep -q '^type A ' "$T/stats" && grep -q 'M msg/s' "$T/stats" &&
	ok "--stats prints counts, peak live orders, speed" || ko "--stats"
finish
