#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_replay: a simulated multi-channel capture replayed through the real
# fh binary (DPDK net_pcap, --no-huge) gives books identical to fh-book
# decoding each channel offline, and fh exits at the end of the capture with
# every packet accounted for: received = decoded + dropped, by reason.
# fh-test-timeout: 300
set -u
B=${FH_BUILD:-build}
T=$(mktemp -d /tmp/fh-e2e-replay.XXXXXX)
trap 'rm -rf "$T" /dev/shm/fh-e2e-replay-$$*' EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
pass=0 fail=0
check() { # check NAME CONDITION-EXIT-CODE
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi
}

# Two channels on two groups; channel 2 loses sequences 5001-5010 and has
# some corrupted packets. Then both merged into one capture, in time order.
"$B/fh-sim" --seed 11 --messages 150000 --symbols 300 --session CHANNEL001 \
	--group 233.54.12.111:26477 --pcap "$T/c1.pcap" >/dev/null || exit 1
"$B/fh-sim" --seed 12 --messages 150000 --symbols 300 --session CHANNEL002 \
	--group 233.54.12.112:26478 --gap 5001-5010 --corrupt-pct 0.2 --pcap "$T/c2.pcap" >/dev/null || exit 1
# The same bytes without impairments for the offline book of channel 2:
# the books must equal what fh-book builds from the impaired capture itself.
mergecap -F pcap -w "$T/multi.pcap" "$T/c1.pcap" "$T/c2.pcap" || exit 1
frames_multi=$(tshark -r "$T/multi.pcap" 2>/dev/null | wc -l)

port=$((20000 + RANDOM % 20000))
cat >"$T/fh.yaml" <<YAML
version: 1
sources:
  - name: chan1
    protocol: itch50
    transport: pcap
    group: 233.54.12.111
    port: 26477
    pcap: {file: $T/multi.pcap, speed: max}
    rx_core: 1
  - name: chan2
    protocol: itch50
    transport: pcap
    group: 233.54.12.112
    port: 26478
    pcap: {file: $T/multi.pcap, speed: max}
    rx_core: 1
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 256}
books: {depth: 10, max_orders: 1Mi, max_instruments: 1Ki, max_levels: 256Ki, crossed_policy: abort}
publish:
  shm: {name: fh-e2e-replay-$$, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {listen: 127.0.0.1:$port}
dead_letter: {path: $T/dead.dlq}
YAML
timeout 120 "$B/fh" --config "$T/fh.yaml" --exit-at-end --quiet --books-out "$T/books.txt" \
	--summary "$T/summary.json" >"$T/fh.out" 2>"$T/fh.err"
rc=$?
check "fh exits 0 at the end of the capture (exit $rc)" $rc
[ $rc = 0 ] || { tail -20 "$T/fh.err"; }

"$B/fh-book" dump "$T/c1.pcap" >"$T/off1.txt" 2>/dev/null
"$B/fh-book" dump "$T/c2.pcap" >"$T/off2.txt" 2>/dev/null
grep '^chan1 ' "$T/books.txt" | cut -d' ' -f2- >"$T/fh1.txt"
grep '^chan2 ' "$T/books.txt" | cut -d' ' -f2- >"$T/fh2.txt"
# (the status is taken before the message's command substitution runs)
[ -s "$T/off1.txt" ] && cmp -s "$T/fh1.txt" "$T/off1.txt"
rc=$?
check "chan1 books equal fh-book offline ($(wc -l <"$T/off1.txt") levels)" $rc
[ -s "$T/off2.txt" ] && cmp -s "$T/fh2.txt" "$T/off2.txt"
rc=$?
check "chan2 books (with gap and corruption) equal fh-book offline ($(wc -l <"$T/off2.txt") levels)" $rc

# Accounting, from fh's own summary (python3 parses the JSON).
py() { python3 -c "import json,sys; s=json.load(open('$T/summary.json')); $1"; }
py "c=[x for x in s['sources']]; sys.exit(0 if all(x['accounted'] for x in c) else 1)"
check "every frame accounted for (frames = udp + drops + rejects; udp = MoldUDP64 packets + rejects)" $?
py "sys.exit(0 if all(x['frames']==x['expected_frames']==$frames_multi for x in s['sources']) else 1)"
check "each source read the whole capture ($frames_multi frames) and stopped there" $?
py "a,b=s['sources']; sys.exit(0 if a['not_ours']==b['udp']+b['frame_rejects'] and b['not_ours']==a['udp']+a['frame_rejects'] else 1)"
check "frames for the other group counted as not ours" $?
py "a,b=s['sources']; sys.exit(0 if a['gaps']==0 and b['gaps']>=1 and b['gap_msgs']>=10 else 1)"
check "the gap on chan2 is detected, none on chan1" $?
py "a,b=s['sources']; sys.exit(0 if a['mold_rejects']==0 and b['mold_rejects']>0 else 1)"
check "corrupted packets on chan2 rejected and counted" $?
py "sys.exit(0 if s['dead_letters']>0 and s['ring_events']==s['published'] else 1)"
check "rejects dead-lettered; every event staged was published" $?
"$B/fh-dlq" --no-hex "$T/dead.dlq" 2>/dev/null | grep -q 'source=1 session=CHANNEL002'
check "dead letters name the source and session" $?
grep -q '"event":"stopping","reason":"end_of_capture"' "$T/fh.err"
check "fh says it stopped at the end of the capture" $?

echo "e2e_fh_replay: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
