#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_kafka_outage.sh: all 3 mock brokers go down for 3 s mid-stream (rd_kafka_mock_broker_set_down)
# and come back; the shm ring keeps flowing (a reader gets every event meanwhile), the bounded
# Kafka queue spills to disk and catches up, and every event reaches Kafka exactly once.
# fh-test-timeout: 180
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh-pubtest fh-sub; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
W=$(mktemp -d /tmp/fh-e2e-outage.XXXXXX)
NAME=fh-e2e-outage-$$
drv= rdr=
cleanup() {
	touch "$W/release"
	[ -n "$rdr" ] && kill -9 "$rdr" 2>/dev/null
	[ -n "$drv" ] && { sleep 0.5; kill -9 "$drv" 2>/dev/null; }
	rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# 2 rings x 70000 events at 15000/s each (~4.7 s). Brokers down at event 15000 for 3 s.
# librdkafka's own queue is limited to 5000 messages and ours to 4096, so the outage
# overflows both and the spill file must carry the rest.
"$B/fh-pubtest" --kafka --shm "$NAME" --capacity 65536 --prefix fhout --rings 2 --events 70000 \
	--rate 15000 --instruments 24 --start-delay-ms 500 --ready "$W/ready" \
	--outage-at 15000 --outage-ms 3000 --policy spill --spill "$W/spill" --kqueue 4096 \
	--kprop queue.buffering.max.messages=5000 --stats "$W/stats" --dlq "$W/dlq" \
	--hold-until "$W/release" --hold-max-ms 150000 >"$W/driver.log" 2>"$W/driver.err" &
drv=$!
for _ in $(seq 1 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
"$B/fh-sub" "$NAME" --start oldest --verify -q --timeout-ms 20000 --summary "$W/sub.sum" 2>"$W/sub.err" &
rdr=$!
for _ in $(seq 1 1200); do [ -f "$W/stats" ] && break; sleep 0.1; done
[ -f "$W/stats" ] || { bad "driver produced no stats"; tail "$W/driver.err"; exit 1; }
BS=$(val bootstrap "$W/stats")
down=$(grep -o 'brokers down at event [0-9]*' "$W/driver.err" | grep -o '[0-9]*$')
up_line=$(grep 'brokers up at event' "$W/driver.err")
up=$(sed -E 's/.*brokers up at event ([0-9]+).*/\1/' <<<"$up_line")
lag=$(sed -E 's/.*kafka lag ([0-9]+).*/\1/' <<<"$up_line")
echo "driver: $up_line"
if [ -n "$down" ] && [ -n "$up" ] && [ "$up" -gt $((down + 20000)) ] && [ "$lag" -gt 0 ]; then
	ok "during the outage the shm ring took $((up - down)) events while Kafka lagged by $lag"
else
	bad "outage: down at '$down', up at '$up', lag '$lag'"
fi
sp=$(val spilled "$W/stats"); spr=$(val spill_read "$W/stats")
[ "$sp" -gt 0 ] && [ "$sp" = "$spr" ] && ok "spilled $sp events to disk and caught up ($spr read back)" ||
	bad "spilled $sp read back $spr"
for k in kafka_dropped spill_dropped kafka_lag undelivered produce_errors; do
	[ "$(val $k "$W/stats")" = 0 ] && ok "$k = 0" || bad "$k = $(val $k "$W/stats")"
done

# Every topic, binary values: decode all and check each (source, seq) exactly once.
: >"$W/all.txt"
for fam in book trades bars alerts status orders reference; do
	[ "$(val "failed.$fam" "$W/stats")" = 0 ] || bad "failed.$fam = $(val "failed.$fam" "$W/stats")"
	kcat -C -b "$BS" -t "fhout.$fam" -o beginning -e -q -f '%s' 2>/dev/null >"$W/$fam.bin"
	"$B/fh-sub" --decode-file "$W/$fam.bin" >>"$W/all.txt" 2>"$W/$fam.dec"
	n=$(grep -o '^decoded [0-9]*' "$W/$fam.dec" | grep -o '[0-9]*$')
	want=$(val "produced.$fam" "$W/stats")
	[ "$n" = "$want" ] && ok "fhout.$fam: $n messages = produced" || bad "fhout.$fam: read $n, produced $want"
done
if python3 -c '
import re, sys
seen = {}
dups = 0
for line in open(sys.argv[1]):
    m = re.search(r" src=(\d+) .*? seq=(\d+)", line)
    key = (int(m.group(1)), int(m.group(2)))
    if key in seen:
        dups += 1
    seen[key] = 1
stats = dict(l.split()[:2] for l in open(sys.argv[2]) if len(l.split()) >= 2)
missing = 0
for src in (1, 2):
    n = int(stats["generated.%d" % src])
    missing += sum(1 for s in range(1, n + 1) if (src, s) not in seen)
hb = sorted(s for (src, s) in seen if src == 0)
hb_gaps = (hb[-1] - len(hb)) if hb else 0
print("unique", len(seen), "duplicates", dups, "missing", missing, "heartbeat gaps", hb_gaps)
sys.exit(1 if dups or missing or hb_gaps else 0)
' "$W/all.txt" "$W/stats" >"$W/once.txt"; then
	ok "exactly once in Kafka: $(cat "$W/once.txt")"
else
	bad "exactly once: $(cat "$W/once.txt")"
fi
touch "$W/release"
wait $drv && ok "driver closed cleanly" || bad "driver exit code"
drv=
wait $rdr; rrc=$?
rdr=
ev=$(val events "$W/sub.sum"); lost=$(val lost "$W/sub.sum"); total=$(val shm_written "$W/stats.final")
[ $rrc = 0 ] && [ "$lost" = 0 ] && [ "$ev" = "$total" ] &&
	ok "shm reader: all $ev events in order through the outage" ||
	bad "shm reader: exit $rrc events $ev lost $lost of $total"
echo "e2e_kafka_outage: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
