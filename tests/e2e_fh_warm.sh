#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_warm: warm restart. fh receives a paced live MoldUDP64 session
# (tcpreplay -> veth -> DPDK net_af_packet, two network namespaces) with its
# journal on; it is SIGKILLed in the middle of the session and restarted
# while the session goes on, with journal.warm_restart and fh-sim's
# re-request server (same seed and session) up. The restarted fh replays its
# own journal, re-requests only what the journal lacks (the time it was
# down, and what the kill cut off), and ends with books identical to an
# uninterrupted run, no gap, never stale.
# fh-test-timeout: 180
set -u
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
. "$(dirname "$0")/regress/lib.sh"
T=$(mktemp -d /tmp/fh-e2e-warm.XXXXXX)
SRV= TRP= FH1=
cleanup() {
	local p
	# every child first (regress_live_down kills a running fh), then reap them
	for p in $FH1 $TRP $SRV; do kill -9 "$p" 2>/dev/null; done
	regress_live_down
	wait 2>/dev/null
	rm -rf "$T" /dev/shm/fh-e2e-warm-$$ /dev/shm/fh-e2e-warm-$$.req /dev/shm/fh-e2e-warm-$$-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

regress_live_up "wm$$"
rc=$?
[ $rc = 0 ] || exit $rc

MSGS=30000 PPS=120
SIM=(--seed 81 --messages $MSGS --symbols 120 --session WARMSESS01 --heartbeat-ms 0 --bundle-us 0)
"$B/fh-sim" "${SIM[@]}" --src 10.202.0.1:40000 --group 233.54.12.111:26477 --pcap "$T/capture.pcap" \
	>/dev/null || exit 1
frames=$(python3 -c "
import struct; d=open('$T/capture.pcap','rb').read(); o=24; n=0
while o + 16 <= len(d): o += 16 + struct.unpack('<I', d[o+8:o+12])[0]; n += 1
print(n)")

# The re-request server, beside fh in its namespace (127.0.0.1 there).
ip netns exec "$REGRESS_NS_B" "$B/fh-sim" "${SIM[@]}" --serve-rereq 127.0.0.1:0 --serve-seconds 90 \
	>"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
PORT=
for _ in $(seq 100); do
	PORT=$(sed -n 's/^rereq 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv.out" 2>/dev/null)
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ]
check "fh-sim --serve-rereq in fh's namespace (port ${PORT:-none})" $?

mkdir -p "$T/journal" "$T/run1" "$T/run2" "$T/ref"
cfg() { # cfg OUT SHM SOURCE-LINES [EXTRA]
	cat >"$1" <<YAML
version: 1
instance: warm$$
sources:
  - name: chan1
    protocol: itch50
    group: 233.54.12.111
    port: 26477
$3
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: $2, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/dead.dlq}
${4:-}
YAML
}
cfg "$T/fh.yaml" "fh-e2e-warm-$$" "    transport: multicast
    interface: $REGRESS_IF
    recovery:
      rerequest: {host: 127.0.0.1, port: ${PORT:-1}, timeout_ms: 50ms, retries: 5}" \
	"journal: {enabled: true, dir: $T/journal, warm_restart: true}"
cfg "$T/ref/fh.yaml" "fh-e2e-warm-$$-ref" "    transport: pcap
    pcap: {file: $T/capture.pcap, speed: max}"

started() { # started ERRFILE PID: waits for fh's "started" line
	for _ in $(seq 300); do
		grep -q '"event":"started"' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# Run 1: fh receives the first part of the session, then SIGKILL.
ip netns exec "$REGRESS_NS_B" "$B/fh" --config "$T/fh.yaml" --quiet >"$T/run1/fh.out" 2>"$T/run1/fh.err" &
FH1=$!
started "$T/run1/fh.err" $FH1
check "run 1: fh started, journal on" $?
ip netns exec "$REGRESS_NS_A" tcpreplay -q -i "$REGRESS_SEND_IF" --pps $PPS "$T/capture.pcap" \
	>"$T/tcpreplay.out" 2>&1 &
TRP=$!
sleep 1.5
kill -KILL $FH1 2>/dev/null
wait $FH1 2>/dev/null
rc=$?
FH1=
[ $rc = 137 ]
check "run 1: fh SIGKILLed in the middle of the session (status $rc)" $?

# What the killed fh left in its journal: sequences it holds.
read -r jpk jmsgs jlast <<<"$(python3 - "$T"/journal/*.pcap <<'PY'
import struct, sys
pk = msgs = last = 0
for p in sys.argv[1:]:
    try:
        d = open(p, "rb").read()
    except OSError:
        continue
    off = 24
    while off + 16 <= len(d):
        cl = struct.unpack("<I", d[off + 8:off + 12])[0]
        if cl == 0 or off + 16 + cl > len(d):
            break  # the preallocated zeros past the last flushed record
        f = d[off + 16:off + 16 + cl]
        off += 16 + cl
        pk += 1
        u = 14 + (f[14] & 15) * 4
        seq, cnt = struct.unpack(">QH", f[u + 18:u + 28])
        if 0 < cnt < 0xFFFF:
            msgs += cnt
            last = max(last, seq + cnt - 1)
print(pk, msgs, last)
PY
)"
[ "${jpk:-0}" -gt 0 ] && [ "${jlast:-0}" -lt $MSGS ]
check "run 1: the killed fh's journal holds $jpk frames, $jmsgs messages up to sequence $jlast (of $MSGS)" $?

# Run 2: restarted while the session goes on; stopped once it ended.
sleep 0.5
ip netns exec "$REGRESS_NS_B" "$B/fh" --config "$T/fh.yaml" --quiet --digest "$T/run2/fh.digest" \
	--summary "$T/run2/summary.json" --books-out "$T/run2/books.txt" >"$T/run2/fh.out" 2>"$T/run2/fh.err" &
REGRESS_FHPID=$!
started "$T/run2/fh.err" $REGRESS_FHPID && kill -0 $TRP 2>/dev/null
check "run 2: fh restarted with warm_restart while the session goes on" $?
wait $TRP
TRP=
sleep 1.5
kill -TERM $REGRESS_FHPID 2>/dev/null
wait $REGRESS_FHPID
rc=$?
REGRESS_FHPID=
check "run 2: fh exits 0 on SIGTERM after the session (exit $rc)" $rc
[ $rc = 0 ] || tail -5 "$T/run2/fh.err"
timeout 20 "$B/fh-sub" --start oldest --type feed_status -n 1000000 -t 2 "fh-e2e-warm-$$" \
	>"$T/run2/status.txt" 2>"$T/run2/sub.err"
subrc=$?

# The uninterrupted reference: the whole capture replayed.
regress_run_pcap "$T/ref/fh.yaml" "$T/ref"
rc=$?
check "reference: uninterrupted replay of the session (exit $rc)" $rc

[ -s "$T/ref/books.txt" ] && cmp -s "$T/ref/books.txt" "$T/run2/books.txt"
r=$?
check "warm restart: books identical to the uninterrupted run ($(wc -l <"$T/ref/books.txt") levels)" $r
[ -s "$T/ref/fh.digest" ] && cmp -s <(grep '^book ' "$T/ref/fh.digest") <(grep '^book ' "$T/run2/fh.digest")
r=$?
check "warm restart: every book checksum identical ($(grep -c '^book ' "$T/ref/fh.digest") books)" $r
f() { python3 -c "
import json
s=json.load(open('$T/run2/summary.json'))['sources'][0]
r=s.get('recovery', {})
print($1)" 2>/dev/null; }
v=$(f "'%d %d %d %d %s' % (s['first_seq'], s['last_seq'], s['gaps'], s['gap_msgs'], s['gap_ranges'] or 'none')")
[ "$v" = "1 $MSGS 0 0 none" ]
check "warm restart: sequences 1 (from the journal) to $MSGS with no gap (first last gaps gap_msgs ranges: $v)" $?
read -r req rec fl <<<"$(f "'%d %d %d' % (r['requests'], r['recovered_msgs'], r['failed_msgs'])")"
[ "${req:-0}" -gt 0 ] && [ "${rec:-0}" -gt 0 ] && [ "${fl:-1}" = 0 ]
check "warm restart: what the journal lacked was re-requested ($req requests, $rec messages recovered, ${fl:-?} failed)" $?
[ -n "${rec:-}" ] && [ "$rec" -le $((MSGS - jmsgs)) ]
check "warm restart: nothing the journal held was asked for ($rec recovered <= $MSGS - $jmsgs journaled)" $?
st3=$(awk '/^[0-9]+ feed_status / && / kind=3 /' "$T/run2/status.txt" | wc -l)
[ $subrc = 0 ] && [ "$st3" = 0 ]
check "warm restart: the books were never published stale ($st3 STALE statuses)" $?

# The killed run's file ended in the preallocation's zeros: run 2 cut it after its last
# whole record, so every file reads clean (capinfos fails on a cut-short file).
trimmed=$(grep -c '"event":"journal_trimmed"' "$T/run2/fh.err")
bad_files=0
for f in "$T"/journal/*.pcap; do capinfos -c "$f" >/dev/null 2>&1 || bad_files=$((bad_files + 1)); done
[ "$trimmed" -ge 1 ] && [ "$bad_files" = 0 ]
r=$?; check "run 2 trimmed the killed run's journal after its last whole record ($trimmed file); capinfos reads every file clean ($bad_files cut short)" $r

# The journal now holds the whole day: run 1's frames, then run 2's live
# frames and the re-request answers (synthetic frames from the server's
# address). tshark reads every file; together they cover 1..MSGS.
cov=$(for f in "$T"/journal/*.pcap; do
	tshark -n -r "$f" -d udp.port==26477,moldudp64 -d udp.port==$PORT,moldudp64 \
		-T fields -E separator=' ' -e udp.srcport -e moldudp64.sequence -e moldudp64.count 2>/dev/null
done | awk -v p="$PORT" -v n=$MSGS '$3 > 0 && $3 < 65535 { for (i = 0; i < $3; i++) if ($1 == p) { a[$2 + i] = 1; ans++ } else feed[$2 + i] = 1 }
	END { for (s = 1; s <= n; s++) { if (!(s in a) && !(s in feed)) miss++; if ((s in a) && (s in feed)) both++ }
	      print miss + 0, ans + 0, both + 0 }')
read -r miss ans both <<<"$cov"
[ "$miss" = 0 ] && [ "${ans:-0}" = "$rec" ] && [ "$both" = 0 ]
check "the journal (both runs, read by tshark) covers every sequence 1..$MSGS; the re-request answers in it hold the $rec messages recovered ($ans), none the feed also brought ($both)" $?

# Run 3: restarted once more after the session, the server gone: the books
# come from the journal alone, without a single request.
kill $SRV 2>/dev/null
wait $SRV 2>/dev/null
SRV=
mkdir -p "$T/run3"
ip netns exec "$REGRESS_NS_B" "$B/fh" --config "$T/fh.yaml" --quiet --digest "$T/run3/fh.digest" \
	--summary "$T/run3/summary.json" --books-out "$T/run3/books.txt" >"$T/run3/fh.out" 2>"$T/run3/fh.err" &
REGRESS_FHPID=$!
started "$T/run3/fh.err" $REGRESS_FHPID
sleep 1
kill -TERM $REGRESS_FHPID 2>/dev/null
wait $REGRESS_FHPID
rc=$?
REGRESS_FHPID=
check "run 3: warm restart after the session, server down: exit $rc" $rc
[ -s "$T/ref/books.txt" ] && cmp -s "$T/ref/books.txt" "$T/run3/books.txt"
check "run 3: books from the journal alone identical to the uninterrupted run" $?
v=$(python3 -c "
import json
s=json.load(open('$T/run3/summary.json'))['sources'][0]
print(s['first_seq'], s['last_seq'], s['gaps'], s['recovery']['requests'])" 2>/dev/null)
[ "$v" = "1 $MSGS 0 0" ]
check "run 3: sequences 1..$MSGS replayed, no gap, no request (first last gaps requests: $v)" $?

echo "e2e_fh_warm: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
