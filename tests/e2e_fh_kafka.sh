#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_kafka.sh: the real fh replays a simulated ITCH session into a 3-broker Kafka mock
# (build/fh-kmock, a cluster that outlives fh) and its shm ring; kcat, an independent Kafka
# client, reads every topic back: per topic, exactly the events of that family fh published on
# its ring (each once, none missing, in ring order per key), counts that add up to fh's
# kafka_produced, keys that are the instruments' symbols from the session's stock directory,
# JSON values that parse, binary values that decode with the subscriber library, and a family
# set `off` that gets nothing.
# fh-test-timeout: 150
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh fh-sim fh-sub fh-kmock; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
W=$(mktemp -d /tmp/fh-e2e-fhkafka.XXXXXX)
NAME=fh-e2e-fhkafka-$$
km= fh= rd=
cleanup() {
	exec 3>&- 2>/dev/null
	for p in $fh $rd $km; do kill -9 "$p" 2>/dev/null; done
	rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req" "/dev/shm/$NAME-embedded" "/dev/shm/$NAME-embedded.req"
	[ -n "${FH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
js() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"; }

# 40k messages, 30 symbols: ~120k events, a few MiB per topic (the mock keeps ~5 MiB a partition).
"$B/fh-sim" --seed 5 --messages 40k --symbols 30 --bundle-us 0 --pcap "$W/s.pcap" --itch "$W/s.itch" \
	>/dev/null 2>&1 || { bad "fh-sim"; exit 1; }
# The session's stock directory straight from the ITCH day file (R: locate at 1, stock at 11).
python3 - "$W/s.itch" >"$W/session.syms" <<'PY'
import sys
d, i = open(sys.argv[1], "rb").read(), 0
while i + 2 <= len(d):
    n = int.from_bytes(d[i:i + 2], "big")
    m = d[i + 2:i + 2 + n]
    if m[:1] == b"R":
        print(int.from_bytes(m[1:3], "big"), m[11:19].decode().strip())
    i += 2 + n
PY

mkfifo "$W/ctl"
"$B/fh-kmock" --brokers 3 --partitions 3 --prefix fhk <"$W/ctl" >"$W/kmock.out" 2>"$W/kmock.err" &
km=$!
exec 3>"$W/ctl"
for _ in $(seq 1 100); do grep -q '^bootstrap ' "$W/kmock.out" && break; sleep 0.1; done
BS=$(awk '$1 == "bootstrap" { print $2 }' "$W/kmock.out")
[ -n "$BS" ] || { bad "fh-kmock printed no bootstrap: $(cat "$W/kmock.err")"; exit 1; }
echo "fh-kmock: 3 brokers at $BS"

declare -A ENC=([book]=binary [trades]=json [bars]=off [alerts]=json [status]=json [orders]=binary [reference]=json)
cat >"$W/fh.yaml" <<YAML
version: 1
sources:
  - {name: chan1, protocol: itch50, transport: pcap, group: 233.54.12.111, port: 26477,
     pcap: {file: $W/s.pcap, speed: max}, rx_core: 1}
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 64}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  heartbeat_ms: 100ms
  shm: {name: $NAME, path: /dev/shm, slots: 256Ki, snapshot_interval_ms: 200ms}
  kafka:
    brokers: "$BS"
    topic_prefix: fhk
    topics: {book: ${ENC[book]}, trades: ${ENC[trades]}, bars: ${ENC[bars]}, alerts: ${ENC[alerts]},
             status: ${ENC[status]}, orders: ${ENC[orders]}, reference: ${ENC[reference]}}
    linger_ms: 5ms
    flush_timeout_ms: 30s
telemetry:
  http: {enabled: false}
dead_letter: {path: $W/dead.dlq}
YAML
timeout 90 "$B/fh" --config "$W/fh.yaml" --exit-at-end --quiet --summary "$W/sum.json" \
	--digest "$W/fh.digest" >"$W/fh.out" 2>"$W/fh.err" &
fh=$!
# The ring holds the whole session: a reader started once the ring exists misses nothing.
for _ in $(seq 1 300); do
	m=$(od -An -t x8 -N 8 "/dev/shm/$NAME" 2>/dev/null | tr -d ' ')
	[ "$m" = 31474e5248534846 ] && break
	sleep 0.05
done
"$B/fh-sub" -t 80 "$NAME" --start oldest --verify -q --raw "$W/ring.bin" --summary "$W/ring.sum" 2>"$W/ring.err" &
rd=$!
wait $fh
rc=$?
fh=
wait $rd
rrc=$?
rd=
[ $rc = 0 ] && ok "fh exited 0 at the end of the capture" || { bad "fh exit $rc"; tail -5 "$W/fh.err"; }
written=$(js "$W/sum.json" "s['shm_written']")
[ $rrc = 0 ] && [ "$(val first_pos "$W/ring.sum")" = 0 ] && [ "$(val events "$W/ring.sum")" = "$written" ] &&
	ok "shm reader recorded all $written ring positions in order" ||
	bad "shm reader: exit $rrc, $(tr '\n' ' ' <"$W/ring.sum" | cut -c1-200) (fh wrote $written)"
prod=$(js "$W/sum.json" "s['kafka_produced']")
js "$W/sum.json" "0 if s['kafka_failed'] == 0 and s['kafka_dropped'] == 0 and s['kafka_undelivered'] == 0 and s['kafka_delivered'] == s['kafka_produced'] > 0 else 1" |
	grep -qx 0 && ok "fh: $prod produced = delivered (acks=all), none failed, dropped or undelivered" ||
	bad "fh's Kafka counters: $(js "$W/sum.json" "{k: v for k, v in s.items() if k.startswith('kafka')}")"

# Every topic back with kcat, once: "partition offset key length headers", a newline, the value.
split() { # FAM: values concatenated into FAM.val; prints "messages N headers_bad N"
	python3 - "$W/$1.kc" "$W/$1.val" <<'PY'
import sys
data, out, i, n, hbad = open(sys.argv[1], "rb").read(), open(sys.argv[2], "wb"), 0, 0, 0
while i < len(data):
    nl = data.index(b"\n", i)
    f = data[i:nl].decode().split(" ", 4)
    out.write(data[nl + 1:nl + 1 + int(f[3])])
    i = nl + 1 + int(f[3])
    n += 1
    hbad += "fh-schema-version=1" not in f[4]
print("messages", n, "headers_bad", hbad)
PY
}
total=0
for fam in book trades bars alerts status orders reference; do
	timeout 60 kcat -C -b "$BS" -t "fhk.$fam" -o beginning -e -q -f '%p %o %k %S %h\n%s' >"$W/$fam.kc" 2>"$W/$fam.kerr" ||
		bad "kcat fhk.$fam: $(head -3 "$W/$fam.kerr")"
	read -r _ n _ hbad < <(split $fam)
	ring=$(val "family.$fam" "$W/ring.sum")
	total=$((total + n))
	if [ "${ENC[$fam]}" = off ]; then
		skipped=$(js "$W/sum.json" "s.get('kafka_families', {}).get('$fam', {}).get('skipped', '$ring')")
		[ "$n" = 0 ] && [ "$ring" -gt 0 ] && [ "$skipped" = "$ring" ] &&
			ok "fhk.$fam (off): no message, while fh published $ring $fam events on the ring (skipped $skipped)" ||
			bad "fhk.$fam (off): $n messages (ring $ring, fh skipped $skipped)"
		continue
	fi
	want=$(js "$W/sum.json" "s.get('kafka_families', {}).get('$fam', {}).get('produced', '')")
	if [ -n "$want" ]; then
		[ "$n" = "$want" ] && ok "fhk.$fam: kcat read $n = fh's produced.$fam" || bad "fhk.$fam: kcat $n, fh produced $want"
	fi
	[ "$n" = "$ring" ] && ok "fhk.$fam (${ENC[$fam]}): kcat read $n = $fam events on fh's ring, every one with header fh-schema-version=1" ||
		bad "fhk.$fam: kcat read $n, ring has $ring"
	[ "$hbad" = 0 ] || bad "fhk.$fam: $hbad messages without the fh-schema-version header"
	if [ "${ENC[$fam]}" = binary ]; then
		"$B/fh-sub" --decode-file "$W/$fam.val" -q 2>"$W/$fam.dec"
		grep -qx "decoded $n bad 0" "$W/$fam.dec" && ok "fhk.$fam: $n binary values decode with fh_sub_decode()" ||
			bad "fhk.$fam: $(cat "$W/$fam.dec")"
	fi
done
[ "$total" = "$prod" ] && ok "sum over topics $total = fh's kafka_produced" || bad "topics $total, fh produced $prod"
[ -z "$(js "$W/sum.json" "s.get('kafka_families', '')")" ] &&
	echo "note: fh's summary has no per-family Kafka counts (kafka_families): topics compared with the ring"

# Content: each topic holds exactly its family's ring events (multisets equal), keyed by the
# symbol of the instrument (the session's stock directory: the ring's instrument events, checked
# against the R messages of fh-sim's ITCH day file), in ring order per key.
cat >"$W/check.py" <<'PY'
import collections, json, struct, sys
W, encs = sys.argv[1], dict(a.split("=") for a in sys.argv[3:])
FAM = {1: "orders", 2: "orders", 3: "orders", 4: "orders", 5: "orders", 6: "trades", 7: "trades",
       8: "book", 9: "book", 10: "reference", 11: "status", 12: "status", 13: "reference",
       14: "status", 15: "bars", 16: "bars", 17: "bars", 18: "alerts", 19: "book", 20: "status",
       21: "trades"}
HDR = struct.Struct("<BBHIQQQ")
raw = open(W + "/ring.bin", "rb").read()
ring = [raw[i:i + 64] for i in range(0, len(raw), 64)]
syms = {}
for ev in ring:
    if ev[0] == 10:
        t, v, src, instr = HDR.unpack_from(ev)[:4]
        syms[(src, instr)] = ev[32:48].rstrip(b"\0").decode()
nsym = int(sys.argv[2])
# keys: the symbol; "<source>" for events of no instrument; "<source>:<instrument>" only for an
# instrument the stock directory never named (ITCH locate 0: system events)
allowed = set(syms.values()) | {str(HDR.unpack_from(ev)[2]) for ev in ring
                                 if HDR.unpack_from(ev)[3] == 0xFFFFFFFF}
unnamed_keys = {"%d:%d" % (s, i) for s, i in
                {HDR.unpack_from(ev)[2:4] for ev in ring} if i != 0xFFFFFFFF and (s, i) not in syms}
print("stock directory: %d symbols on the ring (the session has %d)" % (len(set(syms.values())), nsym))
session = {int(l.split()[0]): l.split()[1] for l in open(W + "/session.syms")}
ring_dir = {instr: sym for (src, instr), sym in syms.items()}
print("stock directory on the ring = the session's ITCH R messages (%d locates): %s"
      % (len(session), ring_dir == session))
bad = len(set(syms.values())) != nsym or ring_dir != session
def ident(ev):  # what both encodings carry: type, source, instrument, seq, both times
    t, v, src, instr, seq, ets, rts = HDR.unpack_from(ev)
    return (t, src, None if instr == 0xFFFFFFFF else instr, seq, ets, rts)
def key_of(src, instr):
    return str(src) if instr is None else syms.get((src, instr), "%d:%d" % (src, instr))
for fam, enc in encs.items():
    if enc == "off":
        continue
    data = open("%s/%s.kc" % (W, fam), "rb").read()
    recs, i = [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        p, o, k, ln = data[i:nl].decode().split(" ", 4)[:4]
        v = data[nl + 1:nl + 1 + int(ln)]
        i = nl + 1 + int(ln)
        if enc == "json":
            j = json.loads(v)
            idt = (j["type_id"], j["source"], j["instrument"], j["seq"], j["exch_ts_ns"], j["recv_ts_ns"])
            if j["instrument"] is not None and j.get("symbol", key_of(j["source"], j["instrument"])) != k:
                bad += 1
                print("%s: key %s but JSON symbol %s" % (fam, k, j.get("symbol")))
        else:
            idt = v if len(v) == 64 else None
        recs.append((int(p), int(o), k, idt))
    # identity: the whole 64-byte event (binary), what the JSON carries of its header (json)
    mine = [(ev if enc == "binary" else ident(ev)) for ev in ring if FAM.get(ev[0], "status") == fam]
    want, got = collections.Counter(mine), collections.Counter(r[3] for r in recs)
    missing, extra = sum((want - got).values()), sum((got - want).values())
    hdr = lambda idt: idt if enc == "json" else ident(idt)
    wrongkey = sum(1 for r in recs if r[3] is None or r[2] != key_of(hdr(r[3])[1], hdr(r[3])[2]))
    unnamed = sum(1 for r in recs if r[3] is not None and hdr(r[3])[2] is not None and
                  (hdr(r[3])[1], hdr(r[3])[2]) not in syms)
    parts = collections.defaultdict(set)
    for r in recs:
        parts[r[2]].add(r[0])
    split = sum(1 for k in parts if len(parts[k]) > 1)
    order = 0
    bykey_k = collections.defaultdict(list)
    for r in sorted(recs, key=lambda r: (r[0], r[1])):
        bykey_k[r[2]].append(r[3])
    bykey_r = collections.defaultdict(list)
    for idt in mine:
        bykey_r[key_of(hdr(idt)[1], hdr(idt)[2])].append(idt)
    order = sum(1 for k in bykey_r if bykey_r[k] != bykey_k.get(k))
    keys = sorted(parts)
    notsym = [k for k in keys if k not in allowed and k not in unnamed_keys]
    print("%s (%s): %d messages = %d ring events: missing %d, extra or duplicated %d; keys %d, "
          "not the instrument's symbol %d, not a symbol %d (of unnamed instruments: %d messages); "
          "keys in several partitions %d, out of ring order %d"
          % (fam, enc, len(recs), len(mine), missing, extra, len(keys), wrongkey, len(notsym),
             unnamed, split, order))
    bad += missing + extra + wrongkey + len(notsym) + split + order
sys.exit(1 if bad else 0)
PY
args=()
for fam in "${!ENC[@]}"; do args+=("$fam=${ENC[$fam]}"); done
if python3 "$W/check.py" "$W" 30 "${args[@]}" >"$W/check.out" 2>&1; then
	while read -r line; do ok "kafka $line"; done <"$W/check.out"
else
	bad "kafka content against the ring:"
	cat "$W/check.out"
fi

# ---- fh's embedded mock (no brokers configured): kcat reads it while fh still runs ----
# The capture ends with a copy of its last packet 12 s later (a duplicate: no event), so fh
# has published everything and still runs while kcat reads; no heartbeat (1 min) and no
# periodic snapshot (books. and shm.snapshot_interval_ms 0) is produced meanwhile.
NAME2=$NAME-embedded
"$B/fh-sim" --seed 6 --messages 10k --symbols 20 --bundle-us 0 --pps 20000 --pcap "$W/e.pcap" >/dev/null 2>&1
python3 - "$W/e.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
i, last = 24, None
while i < len(data):
    last = i
    i += 16 + struct.unpack_from("<I", data, i + 8)[0]
sec, frac, incl, orig = struct.unpack_from("<IIII", data, last)
data += struct.pack("<IIII", sec + 12, frac, incl, orig) + data[last + 16:last + 16 + incl]
open(sys.argv[1], "wb").write(data)
PY
sed -e "s|$W/s.pcap, speed: max|$W/e.pcap, speed: recorded|" -e "s|name: $NAME,|name: $NAME2,|" \
	-e 's|heartbeat_ms: 100ms|heartbeat_ms: 1m|' -e 's|snapshot_interval_ms: 200ms|snapshot_interval_ms: 0|' \
	-e 's|max_levels: 64Ki}|max_levels: 64Ki, snapshot_interval_ms: 0}|' \
	-e '/brokers:/d' -e 's|topic_prefix: fhk|topic_prefix: fhm|' -e 's|bars: off|bars: binary|' \
	"$W/fh.yaml" >"$W/fhm.yaml"
timeout 90 "$B/fh" --config "$W/fhm.yaml" --exit-at-end --quiet --summary "$W/summ.json" >"$W/fhm.out" 2>"$W/fhm.err" &
fh=$!
for _ in $(seq 1 200); do grep -q '"event":"kafka"' "$W/fhm.err" && break; sleep 0.05; done
EB=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{") and json.loads(l).get("event") == "kafka": print(json.loads(l)["bootstrap"])' "$W/fhm.err")
[ -n "$EB" ] && grep -q '"event":"kafka".*"mock":true' "$W/fhm.err" &&
	ok "fh started its embedded mock cluster and logged its bootstrap $EB" ||
	bad "no embedded mock bootstrap in fh's log: $(grep kafka "$W/fhm.err")"
last= same=0
for _ in $(seq 1 100); do # published: the ring head has not moved for 1 s
	h=$(od -An -t u8 -j 192 -N 8 "/dev/shm/$NAME2" 2>/dev/null | tr -d ' ')
	if [ -n "$h" ] && [ "$h" != 0 ] && [ "$h" = "$last" ]; then same=$((same + 1)); else same=0; fi
	last=$h
	[ $same -ge 10 ] && break
	sleep 0.1
done
declare -A EN
for fam in book trades bars alerts status orders reference; do
	EN[$fam]=$(timeout 20 kcat -C -b "$EB" -t "fhm.$fam" -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '')
done
timeout 20 kcat -C -b "$EB" -t fhm.trades -o beginning -e -q -f '%s\n' 2>/dev/null |
	python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["type"]))' >"$W/m.json.n"
kill -0 $fh 2>/dev/null && ok "fh still running (its capture ends 12 s later) when kcat finished" ||
	bad "fh had stopped before kcat finished: counts below may be short"
wait $fh
rc=$?
fh=
rm -f "/dev/shm/$NAME2" "/dev/shm/$NAME2.req"
[ $rc = 0 ] && ok "fh exited 0 at the end of its capture" || bad "fh exit $rc"
ebad=
for fam in book trades bars alerts status orders reference; do
	want=$(js "$W/summ.json" "s['kafka_families']['$fam']['produced']")
	# status: fh publishes a last heartbeat while closing, after kcat read the topic
	[ "${EN[$fam]}" = "$want" ] || { [ $fam = status ] && [ $((want - EN[$fam])) = 1 ]; } ||
		ebad="$ebad $fam:kcat=${EN[$fam]},produced=$want"
done
[ -z "$ebad" ] && ok "embedded mock: kcat per topic = fh's produced per family ($(for f in book trades bars orders reference; do printf '%s %s ' $f "${EN[$f]}"; done))" ||
	bad "embedded mock counts:$ebad"
[ "$(cat "$W/m.json.n")" = "${EN[trades]}" ] && [ "${EN[trades]}" -gt 0 ] &&
	ok "embedded mock: all ${EN[trades]} JSON trades parse" || bad "embedded JSON trades: $(cat "$W/m.json.n") of ${EN[trades]}"
echo quit >&3
exec 3>&-
wait $km && ok "fh-kmock stopped cleanly on quit" || bad "fh-kmock exit status"
km=
echo "e2e_fh_kafka: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
