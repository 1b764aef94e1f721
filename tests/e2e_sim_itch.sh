#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_sim_itch: the project's decoder tool (fh-itch) reads fh-sim's day files and pcaps:
# per-type counts equal fh-sim's own, injected gaps are reported exactly.
set -u
B=${FH_BUILD:-build}
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() { echo "e2e_sim_itch: $pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ] || exit 1; [ $pass -gt 0 ] || exit 77; exit 0; }
[ -x "$B/fh-sim" ] || { ko "no $B/fh-sim"; finish; }
[ -x "$B/fh-itch" ] || { echo "skip: no $B/fh-itch"; skip=1; finish; }
T=$(mktemp -d /tmp/fh-e2e-simitch.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$B/fh-sim" --seed 4 --messages 200k --symbols 1000 --itch "$T/d.itch" --stats 2>"$T/st" || ko "fh-sim"
awk '/^type / { print $2, $3 }' "$T/st" >"$T/want"
"$B/fh-itch" counts "$T/d.itch" >"$T/got" 2>"$T/err"
[ "$(wc -l <"$T/want")" = 23 ] && cmp -s "$T/want" "$T/got" && ok "fh-itch counts = fh-sim counts for all 23 types (day file)" ||
	{ diff "$T/want" "$T/got" | head; ko "counts (day file)"; }

"$B/fh-sim" --seed 4 --messages 200k --symbols 1000 --pcap "$T/g.pcap" --gap 1000-1999 --gap 150000-150004 \
	--heartbeat-ms 10000 || ko "fh-sim pcap"
"$B/fh-itch" gaps "$T/g.pcap" >"$T/gaps" 2>"$T/err"
printf 'FHSIM00001 1000 1999\nFHSIM00001 150000 150004\n' >"$T/want_gaps"
cmp -s "$T/want_gaps" "$T/gaps" && ok "fh-itch gaps reports exactly the injected gaps" ||
	{ cat "$T/gaps" "$T/err" | head; ko "gaps"; }
"$B/fh-itch" counts "$T/g.pcap" >"$T/pc" 2>/dev/null
total=$(awk '{ s += $2 } END { print s + 0 }' "$T/pc")
[ "$total" = $((200000 - 1005)) ] && ok "fh-itch counts every delivered pcap message ($total)" || ko "pcap total $total"
finish
