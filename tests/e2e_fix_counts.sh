#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fix_counts.sh: fh-fix counts on the real JSE capture and the Binance examples,
# and the dead-letter file it writes (read back with fh-dlq).
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
D=${FH_DATA:-$(cd .. && pwd)/shared/data}
P=0 F=0 S=0
tmp=$(mktemp -d /tmp/fh-e2e-fix.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

check() { # name expected actual
	if [ "$2" == "$3" ]; then
		P=$((P + 1))
	else
		F=$((F + 1))
		echo "FAIL $1"
		echo "  expected: $(echo "$2" | tr '\n' ';')"
		echo "  actual:   $(echo "$3" | tr '\n' ';')"
	fi
}

if [ ! -x "$B/fh-fix" ] || [ ! -f "$D/fix/jse_ftse_fixt11_600_from_first_X.fix" ]; then
	echo "SKIP: $B/fh-fix or data missing"
	echo "e2e_fix_counts: 0 passed, 0 failed, 1 skipped"
	exit 77
fi

# JSE: 218 X, 382 heartbeats, no rejection (REJECT lines absent).
out=$("$B/fh-fix" counts "$D/fix/jse_ftse_fixt11_600_from_first_X.fix" --dlq "$tmp/jse.dlq")
check "jse counts" "0 382
X 218" "$(grep -v '^INEXACT\|^RPTSEQ_GAP' <<<"$out")"
check "jse no reject" "0" "$(grep -c '^REJECT' <<<"$out")"
# 11 index values printed with float noise (e.g. 55.229999999999): kept, not rounded
check "jse inexact stats" "INEXACT stat_value 11" "$(grep '^INEXACT' <<<"$out")"
check "jse dlq" "11 stat_inexact_value" \
	"$("$B/fh-dlq" --no-hex "$tmp/jse.dlq" 2>/dev/null | grep -o 'reason=[a-z_]*' | sort | uniq -c | sed 's/reason=//' | awk '{print $1, $2}')"

# Binance examples: the valid ones decode; V (x4), W and Y are rejected for BodyLength.
out=$("$B/fh-fix" counts "$D/fix/binance_fix_api_examples.txt" --dlq "$tmp/bn.dlq")
check "binance counts" "5 2
A 4
B 1
X 1
x 1
y 1
REJECT bad_body_length 6" "$out"
dl=$("$B/fh-dlq" --no-hex "$tmp/bn.dlq" 2>/dev/null)
check "binance dlq records" "6" "$(grep -c 'reason=bad_body_length' <<<"$dl")"
check "binance dlq types" "V V V V Y W" \
	"$("$B/fh-dlq" "$tmp/bn.dlq" 2>/dev/null | grep -o '0133353d[0-9a-f][0-9a-f]' | cut -c9-10 | xxd -r -p | sed 's/./& /g; s/ $//')"

# The same lines as a raw SOH stream (no line breaks needed): same verdicts.
grep -v '^#' "$D/fix/binance_fix_api_examples.txt" | tr -d '\n' | tr '|' '\001' >"$tmp/bn.raw"
out=$("$B/fh-fix" counts "$tmp/bn.raw")
check "binance stream counts" "5 2
A 4
B 1
X 1
x 1
y 1
REJECT bad_body_length 6" "$out"

# A checksum error is named as such.
grep -v '^#' "$D/fix/binance_fix_api_examples.txt" | grep '35=X' | sed 's/10=042|/10=043|/' >"$tmp/cs.txt"
check "bad checksum" "REJECT bad_checksum 1" "$("$B/fh-fix" counts "$tmp/cs.txt")"

echo "e2e_fix_counts: $P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
