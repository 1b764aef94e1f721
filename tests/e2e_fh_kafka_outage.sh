#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_kafka_outage.sh: the real fh replays a paced simulated ITCH session into a 3-broker Kafka
# mock (build/fh-kmock) and its shm ring; mid-replay the test takes every broker down for 3 s
# (rd_kafka_mock_broker_set_down) and brings them back. Meanwhile the shm ring keeps flowing (a
# reader started inside the outage window receives live events, the ring head advances) and fh's
# Kafka lag grows (its metrics); afterwards kcat reads every topic back: each holds exactly the
# events of its family that fh wrote on its ring, each once (no loss, no duplicate), in ring order
# per key, and fh reports nothing failed, dropped or undelivered.
# fh-test-timeout: 180
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh fh-sim fh-sub fh-kmock; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
for c in kcat python3 curl; do
	command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
W=$(mktemp -d /tmp/fh-e2e-fhoutage.XXXXXX)
NAME=fh-e2e-fhoutage-$$
km= fh= rd= ro=
cleanup() {
	exec 3>&- 2>/dev/null
	for p in $fh $rd $ro $km; do kill -9 "$p" 2>/dev/null; done
	rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req"
	[ -n "${FH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
js() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"; }
head_of() { od -An -t u8 -j 192 -N 8 "/dev/shm/$NAME" 2>/dev/null | tr -d ' '; }
lag() { curl -sf --max-time 3 "http://127.0.0.1:$PORT/metrics" | awk '$1 == "fh_kafka_lag_messages" { print $2 }'; }
kmock_said() { # LINE: wait (10 s at most) for fh-kmock's answer
	for _ in $(seq 1 100); do grep -qx "$1" "$W/kmock.out" && return 0; sleep 0.1; done
	return 1
}

# 60k messages on 30 symbols, filled packets paced at 250/s: ~5.5 s of replay, ~170k events.
"$B/fh-sim" --seed 9 --messages 60k --symbols 30 --bundle-us 0 --pps 250 --pcap "$W/s.pcap" \
	>/dev/null 2>&1 || { bad "fh-sim"; exit 1; }
mkfifo "$W/ctl"
"$B/fh-kmock" --brokers 3 --partitions 3 --prefix fho <"$W/ctl" >"$W/kmock.out" 2>"$W/kmock.err" &
km=$!
exec 3>"$W/ctl"
for _ in $(seq 1 100); do grep -q '^bootstrap ' "$W/kmock.out" && break; sleep 0.1; done
BS=$(awk '$1 == "bootstrap" { print $2 }' "$W/kmock.out")
[ -n "$BS" ] || { bad "fh-kmock printed no bootstrap: $(cat "$W/kmock.err")"; exit 1; }

# Our queue to the Kafka thread is 4096 events and librdkafka's 5000 messages: a 3 s outage
# overflows both, so the spill file carries the rest.
PORT=$((20000 + RANDOM % 20000))
cat >"$W/fh.yaml" <<YAML
version: 1
sources:
  - {name: chan1, protocol: itch50, transport: pcap, group: 233.54.12.111, port: 26477,
     pcap: {file: $W/s.pcap, speed: recorded}, rx_core: 1}
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 64}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  heartbeat_ms: 100ms
  shm: {name: $NAME, path: /dev/shm, slots: 1Mi, snapshot_interval_ms: 500ms}
  kafka:
    brokers: "$BS"
    topic_prefix: fho
    linger_ms: 5ms
    flush_timeout_ms: 60s
    queue: {capacity: 4096, policy: spill, spill_dir: $W}
    properties: {queue.buffering.max.messages: "5000"}
telemetry:
  http: {listen: 127.0.0.1:$PORT}
dead_letter: {path: $W/dead.dlq}
YAML
timeout 120 "$B/fh" --config "$W/fh.yaml" --exit-at-end --quiet --summary "$W/sum.json" \
	>"$W/fh.out" 2>"$W/fh.err" &
fh=$!
for _ in $(seq 1 300); do
	m=$(od -An -t x8 -N 8 "/dev/shm/$NAME" 2>/dev/null | tr -d ' ')
	[ "$m" = 31474e5248534846 ] && break
	sleep 0.05
done
"$B/fh-sub" -t 100 "$NAME" --start oldest --verify -q --raw "$W/ring.bin" --summary "$W/ring.sum" 2>"$W/ring.err" &
rd=$!

# The outage: from ~30000 ring positions on, all brokers down for 3 s.
for _ in $(seq 1 400); do h=$(head_of); [ -n "$h" ] && [ "$h" -ge 30000 ] && break; sleep 0.05; done
echo "down all" >&3
kmock_said "ok down all" || bad "fh-kmock did not take the brokers down: $(cat "$W/kmock.out")"
h_down=$(head_of)
lag_down=$(lag)
"$B/fh-sub" -t 2 "$NAME" --start next -q --summary "$W/during.sum" 2>/dev/null &
ro=$!
sleep 3
h_up=$(head_of)
lag_up=$(lag)
echo "up all" >&3
kmock_said "ok up all" || bad "fh-kmock did not bring the brokers back: $(cat "$W/kmock.out")"
wait $ro
ro=
echo "outage: ring head $h_down -> $h_up, fh_kafka_lag_messages $lag_down -> $lag_up"
dev=$(val events "$W/during.sum"); dlost=$(val lost "$W/during.sum")
[ "$h_up" -gt "$h_down" ] && [ "${dev:-0}" -gt 0 ] && [ "$dlost" = 0 ] &&
	ok "shm ring flowed during the outage: $((h_up - h_down)) positions written, a reader started in it got $dev live events, none lost" ||
	bad "shm during the outage: head $h_down -> $h_up, reader events '$dev' lost '$dlost'"
python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) else 1)" "${lag_down:-0}" "${lag_up:-0}" &&
	ok "fh's Kafka lag grew while the brokers were down ($lag_down -> $lag_up)" ||
	bad "Kafka lag during the outage: '$lag_down' -> '$lag_up'"

wait $fh
rc=$?
fh=
wait $rd
rrc=$?
rd=
[ $rc = 0 ] && ok "fh exited 0 at the end of the capture" || { bad "fh exit $rc"; tail -5 "$W/fh.err"; }
written=$(js "$W/sum.json" "s['shm_written']")
[ $rrc = 0 ] && [ "$(val first_pos "$W/ring.sum")" = 0 ] && [ "$(val events "$W/ring.sum")" = "$written" ] &&
	[ "$(val lost "$W/ring.sum")" = 0 ] &&
	ok "shm reader: all $written ring positions once, in order, through the outage" ||
	bad "shm reader: exit $rrc, $(tr '\n' ' ' <"$W/ring.sum" | cut -c1-200) (fh wrote $written)"
prod=$(js "$W/sum.json" "s['kafka_produced']")
js "$W/sum.json" "0 if s['kafka_failed'] == 0 and s['kafka_dropped'] == 0 and s['kafka_undelivered'] == 0 and s['kafka_delivered'] == s['kafka_produced'] > 0 and s['dead_letters'] == 0 else 1" |
	grep -qx 0 && ok "fh: $prod produced = delivered, none failed, dropped, undelivered or dead-lettered" ||
	bad "fh's Kafka counters: $(js "$W/sum.json" "{k: v for k, v in s.items() if k.startswith('kafka') or k == 'dead_letters'}")"
sp=$(js "$W/sum.json" "s.get('spilled', '')"); spr=$(js "$W/sum.json" "s.get('spill_read', '')")
spd=$(js "$W/sum.json" "s.get('spill_dropped', '')")
if [ -n "$sp" ]; then
	[ "$sp" -gt 0 ] && [ "$sp" = "$spr" ] && [ "$spd" = 0 ] &&
		ok "the outage overflowed the queues: $sp events spilled to disk, all $spr read back" ||
		bad "spilled $sp, read back $spr, spill dropped $spd"
fi

# Every topic with kcat; each must hold exactly its family's ring events, each once.
total=0
for fam in book trades bars alerts status orders reference; do
	timeout 60 kcat -C -b "$BS" -t "fho.$fam" -o beginning -e -q -f '%p %o %k %S\n%s' >"$W/$fam.kc" 2>"$W/$fam.kerr" ||
		bad "kcat fho.$fam: $(head -3 "$W/$fam.kerr")"
done
cat >"$W/check.py" <<'PY'
import collections, json, struct, sys
W = sys.argv[1]
FAM = {1: "orders", 2: "orders", 3: "orders", 4: "orders", 5: "orders", 6: "trades", 7: "trades",
       8: "book", 9: "book", 10: "reference", 11: "status", 12: "status", 13: "reference",
       14: "status", 15: "bars", 16: "bars", 17: "bars", 18: "alerts", 19: "book", 20: "status",
       21: "trades"}
HDR = struct.Struct("<BBHIQQQ")
raw = open(W + "/ring.bin", "rb").read()
ring = [raw[i:i + 64] for i in range(0, len(raw), 64)]
summ = json.load(open(W + "/sum.json"))
syms = {}
for ev in ring:
    if ev[0] == 10:
        src, instr = HDR.unpack_from(ev)[2:4]
        syms[(src, instr)] = ev[32:48].rstrip(b"\0").decode()
def key_of(ev):
    src, instr = HDR.unpack_from(ev)[2:4]
    return str(src) if instr == 0xFFFFFFFF else syms.get((src, instr), "%d:%d" % (src, instr))
bad = total = 0
for fam in ("book", "trades", "bars", "alerts", "status", "orders", "reference"):
    data = open("%s/%s.kc" % (W, fam), "rb").read()
    recs, i = [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        p, o, k, ln = data[i:nl].decode().split(" ", 4)[:4]
        recs.append((int(p), int(o), k, data[nl + 1:nl + 1 + int(ln)]))
        i = nl + 1 + int(ln)
    total += len(recs)
    mine = [ev for ev in ring if FAM.get(ev[0], "status") == fam]
    want, got = collections.Counter(mine), collections.Counter(r[3] for r in recs)
    missing, extra = sum((want - got).values()), sum((got - want).values())
    # a duplicate (same topic, key, seq and payload twice) would show as extra: the multiset of
    # 64-byte events must equal the ring's own
    wrongkey = sum(1 for r in recs if len(r[3]) != 64 or r[2] != key_of(r[3]))
    bykey_k, bykey_r = collections.defaultdict(list), collections.defaultdict(list)
    for r in sorted(recs, key=lambda r: (r[0], r[1])):
        bykey_k[r[2]].append(r[3])
    for ev in mine:
        bykey_r[key_of(ev)].append(ev)
    order = sum(1 for k in bykey_r if bykey_r[k] != bykey_k.get(k))
    prod = summ.get("kafka_families", {}).get(fam, {}).get("produced", len(recs))
    print("fho.%s: %d messages, fh produced %d, ring %d: missing %d, duplicated or unknown %d, "
          "wrong keys %d, keys out of ring order %d" % (fam, len(recs), prod, len(mine), missing,
          extra, wrongkey, order))
    bad += missing + extra + wrongkey + order + (prod != len(recs))
print("total %d messages, fh kafka_produced %d" % (total, summ["kafka_produced"]))
bad += total != summ["kafka_produced"]
sys.exit(1 if bad else 0)
PY
if python3 "$W/check.py" "$W" >"$W/check.out" 2>&1; then
	while read -r line; do ok "exactly once after the outage: $line"; done <"$W/check.out"
else
	bad "Kafka after the outage against the ring:"
	cat "$W/check.out"
fi
echo quit >&3
exec 3>&-
wait $km && ok "fh-kmock stopped cleanly on quit" || bad "fh-kmock exit status"
km=
echo "e2e_fh_kafka_outage: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
