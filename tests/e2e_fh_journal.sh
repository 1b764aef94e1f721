#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_journal: fh's capture journal written during a replay is a standard
# nanosecond pcap that holds every frame fh received, byte for byte, with its
# receive time: tshark reads it and dissects MoldUDP64 and ITCH in it; fh
# replaying the journal as a pcap source builds the same books and digest;
# tcpreplay sending the journal live (two network namespaces, DPDK
# net_af_packet) into a second fh builds the same books. The kernel-socket
# backend's journal (datagrams in synthetic frames) is read by tshark and
# replayed by fh to the same books too.
# fh-test-timeout: 240
set -u
B=$(cd "${FH_BUILD:-build}" && pwd) || exit 1
FH_DATA=${FH_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
. "$(dirname "$0")/regress/lib.sh"
command -v tshark >/dev/null || { echo "skip: tshark missing"; exit 77; }
command -v mergecap >/dev/null || { echo "skip: mergecap missing"; exit 77; }
T=$(mktemp -d /tmp/fh-e2e-journal.XXXXXX)
trap 'regress_live_down; rm -rf "$T" /dev/shm/fh-e2e-jrnl-$$-*' EXIT
trap 'exit 130' INT TERM
pass=0 fail=0 skip=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

MSGS=60000
"$B/fh-sim" --seed 51 --messages $MSGS --symbols 150 --session JOURNAL001 --heartbeat-ms 0 --bundle-us 0 \
	--src 10.202.0.1:40000 --group 233.54.12.111:26477 --pcap "$T/orig.pcap" >/dev/null || exit 1
frames_orig=$(tshark -r "$T/orig.pcap" 2>/dev/null | wc -l)

cfg() { # cfg NAME TRANSPORT-LINES [JOURNAL-YAML]
	cat >"$T/$1.yaml" <<YAML
version: 1
instance: jrnl$1
sources:
  - name: chan1
    protocol: itch50
$2
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 128}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-jrnl-$$-$1, path: /dev/shm, slots: 64Ki}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $T/$1.dlq}
${3:-}
YAML
}
pcapsrc() { printf '    transport: pcap\n    group: 233.54.12.111\n    port: 26477\n    pcap: {file: %s, speed: max}\n' "$1"; }
run_pcap() { # run_pcap NAME
	mkdir -p "$T/$1"
	timeout 120 "$B/fh" --config "$T/$1.yaml" --exit-at-end --quiet --digest "$T/$1/fh.digest" \
		--summary "$T/$1/summary.json" --books-out "$T/$1/books.txt" >"$T/$1/fh.out" 2>"$T/$1/fh.err"
}
js() { python3 -c "import json,sys; s=json.load(open('$T/$1/summary.json')); $2"; }

# 1. A replay with the journal on (1 MiB files, the smallest: the session spans two).
mkdir -p "$T/jdir"
cfg orig "$(pcapsrc "$T/orig.pcap")" "journal: {enabled: true, dir: $T/jdir, rotate_bytes: 1MiB, rotate_s: 1h}"
t0=$(date +%s)
run_pcap orig
rc=$?
t1=$(($(date +%s) + 1))
check "replay with the journal on: fh exits 0 (exit $rc)" $rc
[ $rc = 0 ] || tail -5 "$T/orig/fh.err"
frames_fh=$(js orig "print(s['sources'][0]['frames'])" 2>/dev/null)
[ "$frames_fh" = "$frames_orig" ]
check "fh received every frame of the capture ($frames_fh of $frames_orig)" $?

files=$(ls "$T/jdir"/jrnlorig-*.pcap 2>/dev/null)
nfiles=$(echo "$files" | grep -c . || true)
jp=$(js orig "j=s['journal']; print(j['packets'], j['bytes'], j['files'], j['dropped'])" 2>/dev/null)
read -r jpk jby jfi jdr <<<"${jp:-x x x x}"
[ "$jpk" = "$frames_fh" ] && [ "$jdr" = 0 ]
check "summary: journal.packets == frames received ($jpk == $frames_fh), none dropped ($jdr)" $?
[ "$nfiles" -ge 2 ] && [ "$jfi" = "$nfiles" ]
check "journal rotated at 1 MiB: $nfiles files jrnlorig-NNNNNN.pcap on disk, summary says $jfi" $?
sz=0
for f in $files; do sz=$((sz + $(stat -c %s "$f"))); done
[ "$jby" = "$sz" ]
check "summary: journal.bytes ($jby) == the files' $sz bytes (pcap headers included)" $?

# tshark reads every file: nanosecond pcap, Ethernet, the frames in order.
ok=0 ntshark=0
for f in $files; do
	ci=$(capinfos -t -E "$f" 2>/dev/null)
	grep -q 'File type:.*nanosecond pcap' <<<"$ci" && grep -q 'File encapsulation: *Ethernet' <<<"$ci" || ok=1
	n=$(tshark -r "$f" 2>/dev/null | wc -l)
	ntshark=$((ntshark + n))
done
[ $ok = 0 ] && [ "$ntshark" = "$frames_fh" ]
check "tshark reads the journal: nanosecond pcap, Ethernet, $ntshark packets == $frames_fh frames received" $?

mergecap -a -F nsecpcap -w "$T/journal.pcap" $files 2>/dev/null
check "mergecap concatenates the journal files" $?
dis() { # dis PCAP -> "packets messages first last itch_msgs"
	tshark -n -r "$1" -d udp.port==26477,moldudp64 -d moldudp64.payload,nasdaq_itch -T fields \
		-E separator=' ' -e moldudp64.sequence -e moldudp64.count -e nasdaq-itch.message_type 2>/dev/null |
		awk '{ n++ } $2 > 0 && $2 < 65535 { m += $2; if (!f) f = $1; l = $1 + $2 - 1 }
		     NF > 2 { i += split($3, a, ",") } END { print n, m, f, l, i + 0 }'
}
read -r dp dm df dl di <<<"$(dis "$T/journal.pcap")"
[ "$dp" = "$frames_fh" ] && [ "$dm" = $MSGS ] && [ "$df" = 1 ] && [ "$dl" = $MSGS ] && [ "$di" = $MSGS ]
check "tshark dissects the journal: $dp MoldUDP64 packets, sequences $df..$dl ($dm messages), $di ITCH messages" $?

# Byte for byte the frames fh received (the capture's, in order), each with a
# receive time taken during the run (not the capture's 2019 time stamps).
python3 - "$T/orig.pcap" "$T/journal.pcap" "$t0" "$t1" <<'PY'
import struct, sys
def recs(p):
    d = open(p, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    div = 1 if magic == 0xa1b23c4d else 1000
    off, out = 24, []
    while off + 16 <= len(d):
        s, f, cl, ol = struct.unpack("<IIII", d[off:off + 16])
        out.append((s * 1000000000 + f * div, d[off + 16:off + 16 + cl], ol))
        off += 16 + cl
    return magic, out
_, a = recs(sys.argv[1])
magic, b = recs(sys.argv[2])
t0, t1 = int(sys.argv[3]) * 10**9, int(sys.argv[4]) * 10**9
same = len(a) == len(b) and all(x[1] == y[1] and y[2] == len(y[1]) for x, y in zip(a, b))
ts = [r[0] for r in b]
inrun = all(t0 <= t <= t1 for t in ts)
mono = all(ts[i] <= ts[i + 1] for i in range(len(ts) - 1))
print("frames %d/%d identical=%s receive-times-in-run=%s non-decreasing=%s" % (len(b), len(a), same, inrun, mono))
sys.exit(0 if same and inrun and mono else 1)
PY
check "journal frames identical to the frames received, in order, stamped with receive times of the run" $?

# 2. fh replays its own journal: same books, same digest.
cfg replay "$(pcapsrc "$T/journal.pcap")"
run_pcap replay
rc=$?
check "fh replays the journal as a pcap source (exit $rc)" $rc
[ -s "$T/orig/books.txt" ] && cmp -s "$T/orig/books.txt" "$T/replay/books.txt"
r=$?
check "journal replay: books identical to the original run ($(wc -l <"$T/orig/books.txt") levels)" $r
[ -s "$T/orig/fh.digest" ] && cmp -s "$T/orig/fh.digest" "$T/replay/fh.digest"
r=$?
check "journal replay: digest identical (events per family, $(grep -c '^book ' "$T/orig/fh.digest") book checksums)" $r

# 3. tcpreplay of the journal into a second fh, live (netns + veth).
regress_live_up "jr$$"
rc=$?
if [ $rc = 77 ]; then
	skip=$((skip + 1))
	echo "skip tcpreplay of the journal into a live fh (no network namespaces here)"
elif [ $rc != 0 ]; then
	check "network namespaces for the live run" 1
else
	cfg live "$(printf '    transport: multicast\n    interface: %s\n    group: 233.54.12.111\n    port: 26477\n' "$REGRESS_IF")"
	mkdir -p "$T/live"
	cp "$T/journal.pcap" "$T/live/capture.pcap" || check "the merged journal to send" 1
	regress_run_live "$T/live.yaml" "$T/live" 1000
	rc=$?
	check "tcpreplay of the journal into a second fh: it ran and exited 0 on SIGTERM (exit $rc)" $rc
	[ $rc = 0 ] || tail -5 "$T/live/fh.err"
	m=$(js live "print(s['sources'][0]['messages'], s['sources'][0]['gaps'])" 2>/dev/null)
	[ "$m" = "$MSGS 0" ]
	check "live fh fed from the journal: $MSGS messages, no gap ($m)" $?
	[ -s "$T/orig/books.txt" ] && cmp -s "$T/orig/books.txt" "$T/live/books.txt"
	check "live fh fed from the journal: books identical to the original run" $?
	[ -s "$T/orig/fh.digest" ] && cmp -s <(grep '^book ' "$T/orig/fh.digest") <(grep '^book ' "$T/live/fh.digest")
	check "live fh fed from the journal: every book checksum identical" $?

	# 4. The kernel-socket backend journals datagrams inside synthetic
	# Ethernet/IPv4/UDP frames: the same session sent live to fh on
	# kernel_udp with the journal on.
	mkdir -p "$T/kudp" "$T/kjdir"
	cfg kudp "$(printf '    transport: kernel_udp
    interface: %s
    group: 233.54.12.111
    port: 26477
' "$REGRESS_IF")" \
		"journal: {enabled: true, dir: $T/kjdir}"
	cp "$T/orig.pcap" "$T/kudp/capture.pcap"
	regress_run_live "$T/kudp.yaml" "$T/kudp" 1000
	rc=$?
	check "kernel_udp with the journal on: fh received the session, exit $rc" $rc
	kfiles=$(ls "$T/kjdir"/jrnlkudp-*.pcap 2>/dev/null)
	kj=$(js kudp "print(s['journal']['packets'], s['sources'][0]['frames'], s['sources'][0]['messages'])" 2>/dev/null)
	read -r kjp kfr kms <<<"${kj:-x y z}"
	[ "$kjp" = "$kfr" ] && [ "$kms" = $MSGS ]
	check "kernel_udp: journal.packets == datagrams received ($kjp == $kfr), $kms messages" $?
	# tshark: valid IPv4 header checksums, UDP to the group, and the UDP
	# payloads are the capture's MoldUDP64 datagrams, in order.
	good=$(for f in $kfiles; do tshark -n -r "$f" -o ip.check_checksum:TRUE -Y 'ip.checksum.status == 1 && udp && ip.dst == 233.54.12.111 && udp.dstport == 26477' 2>/dev/null; done | wc -l)
	tshark -n -r "$T/orig.pcap" -T fields -e udp.payload 2>/dev/null >"$T/kudp/sent.txt"
	for f in $kfiles; do tshark -n -r "$f" -T fields -e udp.payload 2>/dev/null; done >"$T/kudp/journaled.txt"
	[ -n "$kfiles" ] && [ "$good" = "$kjp" ] && [ -s "$T/kudp/sent.txt" ] && cmp -s "$T/kudp/sent.txt" "$T/kudp/journaled.txt"
	check "kernel_udp: tshark reads the synthetic frames (IPv4 checksums valid, to 233.54.12.111:26477), payloads identical to the datagrams sent, in order" $?
	mergecap -a -F nsecpcap -w "$T/kjournal.pcap" $kfiles 2>/dev/null
	cfg kreplay "$(pcapsrc "$T/kjournal.pcap")"
	run_pcap kreplay
	rc=$?
	[ $rc = 0 ] && [ -s "$T/orig/books.txt" ] && cmp -s "$T/orig/books.txt" "$T/kreplay/books.txt"
	check "kernel_udp: fh replaying that journal builds books identical to the original run (exit $rc)" $?
	regress_live_down
fi

echo "e2e_fh_journal: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
