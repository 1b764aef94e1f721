#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_kafka_topics.sh: a published session consumed back with kcat from the in-process 3-broker mock:
# per-topic counts equal what the publisher says it produced, keys are the instrument symbols,
# JSON values parse (and name the same symbol), binary values decode with the subscriber library.
# fh-test-timeout: 150
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh-pubtest fh-sub; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
W=$(mktemp -d /tmp/fh-e2e-kafka.XXXXXX)
drv=
cleanup() {
	touch "$W/release"
	[ -n "$drv" ] && { sleep 0.5; kill -9 "$drv" 2>/dev/null; }
	rm -rf "$W"
}
trap cleanup EXIT
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# JSON for trades, alerts, status and reference; binary (default) for book, bars, orders.
"$B/fh-pubtest" --kafka --prefix fhe2e --rings 2 --events 15000 --instruments 40 \
	--json trades,alerts,status,reference --stats "$W/stats" --dlq "$W/dlq" \
	--hold-until "$W/release" --hold-max-ms 120000 >"$W/driver.log" 2>&1 &
drv=$!
for _ in $(seq 1 600); do [ -f "$W/stats" ] && break; sleep 0.1; done
[ -f "$W/stats" ] || { bad "driver produced no stats"; cat "$W/driver.log"; exit 1; }
BS=$(val bootstrap "$W/stats")
echo "bootstrap $BS"
[ "$(val kafka_lag "$W/stats")" = 0 ] && [ "$(val undelivered "$W/stats")" = 0 ] &&
	ok "publisher: every accepted event delivered (acks=all)" || bad "lag $(val kafka_lag "$W/stats")"

# The reference topic names every instrument: the allowed keys. "0" is the publisher's own
# source (heartbeats carry no instrument).
kcat -C -b "$BS" -t fhe2e.reference -o beginning -e -q -f '%s\n' 2>/dev/null >"$W/ref.json"
python3 -c '
import json, sys
syms = set(json.loads(l)["instr_symbol"] for l in open(sys.argv[1]) if l.strip())
open(sys.argv[2], "w").write("\n".join(sorted(syms | {"0"})) + "\n")
' "$W/ref.json" "$W/keys.allowed" || bad "reference topic is not JSON"

total=0
for fam in book trades bars alerts status orders reference; do
	t=fhe2e.$fam
	want=$(val "produced.$fam" "$W/stats")
	failed=$(val "failed.$fam" "$W/stats")
	total=$((total + want))
	kcat -C -b "$BS" -t "$t" -o beginning -e -q -f '%k\n' 2>/dev/null >"$W/$fam.keys"
	got=$(wc -l <"$W/$fam.keys")
	[ "$got" = "$want" ] && [ "$failed" = 0 ] && ok "$t: kcat read $got = produced $want" ||
		bad "$t: kcat read $got, produced $want, failed $failed"
	badkeys=$(sort -u "$W/$fam.keys" | comm -23 - "$W/keys.allowed" | head -3)
	[ -z "$badkeys" ] && ok "$t: every key is an instrument symbol" || bad "$t: keys not symbols: $badkeys"
	hdr=$(kcat -C -b "$BS" -t "$t" -o beginning -e -q -c 1 -f '%h\n' 2>/dev/null)
	case $hdr in *fh-schema-version=1*) ok "$t: header $hdr" ;; *) bad "$t: header '$hdr'" ;; esac
	case $fam in
	trades | alerts | status | reference)
		kcat -C -b "$BS" -t "$t" -o beginning -e -q -f '%k\t%s\n' 2>/dev/null >"$W/$fam.kv"
		if python3 -c '
import json, sys
ref = {}
for l in open(sys.argv[2]):
    if l.strip():
        o = json.loads(l)
        ref[(o["source"], o["instrument"])] = o["instr_symbol"]
n = 0
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("\t", 1)
    o = json.loads(v)
    if o["instrument"] is not None:
        if o.get("symbol") != k or ref.get((o["source"], o["instrument"])) != k:
            sys.exit("key %s, symbol %s, instrument %s" % (k, o.get("symbol"), o["instrument"]))
    n += 1
print(n)
' "$W/$fam.kv" "$W/ref.json" >"$W/$fam.n"; then
			ok "$t: $(cat "$W/$fam.n") JSON values parse; key = symbol of the instrument (reference topic)"
		else
			bad "$t: JSON check failed"
		fi
		;;
	*)
		kcat -C -b "$BS" -t "$t" -o beginning -e -q -f '%s' 2>/dev/null >"$W/$fam.bin"
		if "$B/fh-sub" --decode-file "$W/$fam.bin" -q 2>"$W/$fam.dec" &&
			grep -q "^decoded $want bad 0" "$W/$fam.dec"; then
			ok "$t: $want binary values decode with fh_sub_decode()"
		else
			bad "$t: $(cat "$W/$fam.dec")"
		fi
		;;
	esac
done
acc=$(val kafka_accepted "$W/stats")
[ "$total" = "$acc" ] && ok "sum over topics $total = events handed to Kafka" || bad "topics $total, accepted $acc"
touch "$W/release"
wait $drv && ok "driver closed cleanly" || bad "driver exit code"
drv=
echo "e2e_kafka_topics: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
