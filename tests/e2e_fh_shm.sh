#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_shm.sh: the real fh replays a paced simulated ITCH session into its shm ring. Readers:
# fh-sub --verify and an independent reader (python3, written from docs/PUBLISH.md's layout and
# protocol, not the subscriber library) get every event exactly once and in order, and books equal
# fh's --books-out; a SIGKILLed reader disturbs neither fh nor them; a late reader (--snapshot) gets
# snapshots, then consistent updates and equal books; on a small ring a slow reader is lapped and
# read + lost = what fh wrote over its life.
# fh-test-timeout: 150
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
for t in fh fh-sim fh-sub; do
	[ -x "$B/$t" ] || { echo "SKIP: $B/$t not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -d /dev/shm ] || { echo "SKIP: no /dev/shm"; exit 77; }
W=$(mktemp -d /tmp/fh-e2e-fhshm.XXXXXX)
NAME=fh-e2e-fhshm-$$
SMALL=fh-e2e-fhshm-small-$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req" "/dev/shm/$SMALL" "/dev/shm/$SMALL.req"
	[ -n "${FH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
P=0 F=0
ok() { P=$((P + 1)); echo "ok   $*"; }
bad() { F=$((F + 1)); echo "FAIL $*"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
js() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"; }
# the ring's published head (header offset 192, docs/PUBLISH.md)
head_of() { od -An -t u8 -j 192 -N 8 "/dev/shm/$1" 2>/dev/null | tr -d ' '; }
wait_head() { # NAME MIN: until the writer has published MIN positions (bounded: 20 s)
	for _ in $(seq 1 400); do
		h=$(head_of "$1")
		[ -n "$h" ] && [ "$h" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_ring() { # NAME: until the writer has stored the magic (last, at creation) and made the request file
	for _ in $(seq 1 300); do
		m=$(od -An -t x8 -N 8 "/dev/shm/$1" 2>/dev/null | tr -d ' ')
		[ "$m" = 31474e5248534846 ] && [ -e "/dev/shm/$1.req" ] && return 0
		sleep 0.05
	done
	return 1
}

# 200k ITCH messages on 50 symbols, packets filled and paced at 2000/s: ~2.3 s of replay.
"$B/fh-sim" --seed 3 --messages 200k --symbols 50 --bundle-us 0 --pps 2000 --pcap "$W/s.pcap" \
	>/dev/null 2>&1 || { bad "fh-sim"; exit 1; }
DEPTH=10
config() { # NAME SLOTS
	cat <<YAML
version: 1
sources:
  - name: chan1
    protocol: itch50
    transport: pcap
    group: 233.54.12.111
    port: 26477
    pcap: {file: $W/s.pcap, speed: recorded}
    rx_core: 1
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 64}
books: {depth: $DEPTH, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  heartbeat_ms: 100ms
  shm: {name: $1, path: /dev/shm, slots: $2, snapshot_interval_ms: 200ms}
  kafka: {enabled: false}
telemetry:
  http: {enabled: false}
dead_letter: {path: $W/dead-$1.dlq}
YAML
}

# The independent reader: the documented layout and reader protocol, in python.
cat >"$W/reader.py" <<'PY'
import mmap, os, struct, sys, time
name, depth, out_books, out_sum, out_syms = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
f = open("/dev/shm/" + name, "rb")
mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
magic, layout, schema, cap, slot_size, hdr_size = struct.unpack_from("<QIIQII", mm, 0)
assert magic == 0x31474E5248534846 and layout == 1 and slot_size == 128 and hdr_size == 4096, "header"
# books.depth from the header (offset 72): the depth the L2 updates describe
assert struct.unpack_from("<I", mm, 72)[0] == depth, "header book_depth %d" % struct.unpack_from("<I", mm, 72)[0]
mask = cap - 1
U64 = struct.Struct("<Q")
HDR = struct.Struct("<BBHIQ")
L2 = struct.Struct("<qQIHBBB")
SNAP = struct.Struct("<QQIHHHB")
FAM = {1: "orders", 2: "orders", 3: "orders", 4: "orders", 5: "orders", 6: "trades", 7: "trades",
       8: "book", 9: "book", 10: "reference", 11: "status", 12: "status", 13: "reference",
       14: "status", 15: "bars", 16: "bars", 17: "bars", 18: "alerts", 19: "book", 20: "status",
       21: "trades"}
books, pending, syms, fams = {}, {}, {}, {}
last_seq, hb_next = {}, 0
pend_ref = None
n = order_err = laps = lost = hb = snap_chk = snap_bad = book_err = flagged = 0
def checksum(b, d):
    h = 0xCBF29CE484222325
    for s, side in ((0, b"B"), (1, b"S")):
        for l, (px, q, o) in enumerate(b[s][:d]):
            for c in side + struct.pack("<HqQI", l + 1, px, q, o):
                h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h
def apply(b, side, action, px, q, o):
    global book_err
    if action == 4:
        if side != ord("S"): b[0].clear()
        if side != ord("B"): b[1].clear()
        return
    s = 1 if side == ord("S") else 0
    lv = b[s]
    i = 0
    while i < len(lv) and lv[i][0] != px and (lv[i][0] > px if s == 0 else lv[i][0] < px):
        i += 1
    found = i < len(lv) and lv[i][0] == px
    if action == 3:
        if found: del lv[i]
        else: book_err += 1
        return
    if found: lv[i] = (px, q, o)
    elif i < depth:
        lv.insert(i, (px, q, o))
        del lv[depth:]
pos, idle, t_end = 0, 0, time.time() + 60
while time.time() < t_end:
    off = 4096 + 128 * (pos & mask)
    want = 2 * pos + 2
    s1 = U64.unpack_from(mm, off)[0]
    if s1 < want:
        head = U64.unpack_from(mm, 192)[0]
        if struct.unpack_from("<I", mm, 136)[0] == 2 and pos >= head:
            break  # writer closed and everything read
        idle += 1
        if idle > 64: time.sleep(0.0002)
        continue
    if s1 > want:  # lapped: skip to half a ring behind the newest
        head = U64.unpack_from(mm, 192)[0]
        target = max(head, (s1 - 1) // 2 + 1) - cap // 2
        laps += 1; lost += target - pos; pos = target; last_seq.clear(); hb_next = 0
        continue
    ev = mm[off + 64:off + 128]
    if U64.unpack_from(mm, off)[0] != s1:
        continue  # overwritten while copying: retry, which reports the lap
    idle = 0
    pos += 1; n += 1
    t, ver, src, instr, seq = HDR.unpack_from(ev, 0)
    if t == 20:
        hb += 1
        if hb_next and seq != hb_next: order_err += 1
        hb_next = seq + 1
        continue
    if src in last_seq and seq < last_seq[src]: order_err += 1
    last_seq[src] = max(seq, last_seq.get(src, 0))
    key = (src, instr)
    # an instrument event right before its book's BOOK_SNAPSHOT belongs to the snapshot
    # (fh re-sends reference data with requested snapshots): not counted in its family
    if pend_ref is not None:
        if not (t == 19 and pend_ref == key):
            fams["reference"] = fams.get("reference", 0) + 1
        pend_ref = None
    if t == 8:
        px, q, o, level, side, action, flags = L2.unpack_from(ev, 32)
        b = books.setdefault(key, ([], []))
        if pending.pop(key, False) and flags & 1:
            b[0].clear(); b[1].clear()  # a full snapshot follows its BOOK_SNAPSHOT
        apply(b, side, action, px, q, o)
        if not flags & 1: fams["book"] = fams.get("book", 0) + 1
        continue
    if t == 19:
        cks, upd, orders, d, nb, na, fl = SNAP.unpack_from(ev, 32)
        if key in books and cks and d:
            snap_chk += 1
            if checksum(books[key], d) != cks: snap_bad += 1
        pending[key] = True
        flagged += fl != 0
        continue
    if t == 10:
        syms[key] = ev[32:48].rstrip(b"\0").decode()
        pend_ref = key
        continue
    fams[FAM.get(t, "status")] = fams.get(FAM.get(t, "status"), 0) + 1
if pend_ref is not None:
    fams["reference"] = fams.get("reference", 0) + 1
with open(out_books, "w") as o:
    for (src, instr), b in books.items():
        for s, side in ((0, "B"), (1, "S")):
            for l, (px, q, n_o) in enumerate(b[s]):
                o.write("%d %s %s %d %d.%04d %d %d\n" % (src, syms.get((src, instr), instr), side,
                        l + 1, px // 100000000, (px % 100000000) // 10000, q, n_o))
with open(out_sum, "w") as o:
    o.write("events %d\nlast_pos %d\nlost %d\nlaps %d\norder_errors %d\nheartbeats %d\n"
            "snap_checked %d\nsnap_mismatch %d\nbook_errors %d\nflagged_snapshots %d\nfinished %d\n"
            % (n, pos, lost, laps, order_err, hb, snap_chk, snap_bad, book_err, flagged, time.time() < t_end))
    for k, v in sorted(fams.items()):
        o.write("fam.%s %d\n" % (k, v))
with open(out_syms, "w") as o:
    for (src, instr), sym in syms.items():
        o.write("%d %d %s\n" % (src, instr, sym))
PY

# ---- run 1: a ring holding the whole session; fh-sub, python, a killed reader, a late reader ----
config "$NAME" 1Mi >"$W/fh.yaml"
timeout 90 "$B/fh" --config "$W/fh.yaml" --exit-at-end --quiet --summary "$W/sum.json" \
	--books-out "$W/fh.books" --digest "$W/fh.digest" >"$W/fh.out" 2>"$W/fh.err" &
fh=$!
pids+=($fh)
wait_ring "$NAME" || { bad "fh never created /dev/shm/$NAME"; tail "$W/fh.err"; exit 1; }
mode=$(stat -c %a "/dev/shm/$NAME"); rmode=$(stat -c %a "/dev/shm/$NAME.req")
[ "$mode" = 640 ] && [ "$rmode" = 660 ] && ok "ring mode $mode, request area $rmode (never world-writable)" ||
	bad "ring mode $mode, request area $rmode"
"$B/fh-sub" -t 80 "$NAME" --start oldest --verify -q --books-sym "$W/a.books" \
	--summary "$W/a.sum" 2>"$W/a.err" &
ra=$!
timeout 80 python3 "$W/reader.py" "$NAME" $DEPTH "$W/p.books" "$W/p.sum" "$W/p.syms" 2>"$W/p.err" &
rp=$!
"$B/fh-sub" -t 80 "$NAME" --start oldest -q --summary "$W/k.sum" 2>/dev/null &
rk=$!
pids+=($ra $rp $rk)
sleep 0.3
maps=$(grep "$NAME" /proc/$ra/maps 2>/dev/null)
[ -n "$maps" ] && ! grep -v "$NAME.req" <<<"$maps" | grep -qv ' r--s ' && ok "fh-sub maps the ring read-only" ||
	bad "fh-sub mapping: $maps"
wait_head "$NAME" 100000 || bad "fh published fewer than 100000 events in 20 s"
killed_at=$(head_of "$NAME")
kill -0 $rk 2>/dev/null && kill -9 $rk && ok "a third reader (pid $rk) SIGKILLed mid-replay at ring head $killed_at" ||
	bad "the reader to kill was not running"
{ wait $rk; } 2>/dev/null
wait_head "$NAME" 200000 || bad "fh published fewer than 200000 events in 20 s"
late_at=$(head_of "$NAME")
"$B/fh-sub" -t 80 "$NAME" --start next --snapshot --verify -q --books-sym "$W/l.books" \
	--summary "$W/l.sum" 2>"$W/l.err" &
rl=$!
pids+=($rl)
wait $fh
fhrc=$?
[ $fhrc = 0 ] && ok "fh exited 0 at the end of the capture" || { bad "fh exit $fhrc"; tail "$W/fh.err"; }
wait $ra; rca=$?
wait $rp; rcp=$?
wait $rl; rcl=$?
written=$(js "$W/sum.json" "s['shm_written']")
published=$(js "$W/sum.json" "s['published']")
echo "fh: published $published events, $written ring positions; reader killed at head $killed_at, late reader at $late_at"
js "$W/sum.json" "0 if all(x['accounted'] for x in s['sources']) and s['ring_events'] == s['published'] and s['dead_letters'] == 0 else 1" |
	grep -qx 0 && ! grep -q '"level":"error"' "$W/fh.err" && ok "fh's summary: every frame accounted, every staged event published, no dead letter, no error logged (reader SIGKILLed at position $killed_at)" ||
	bad "fh's summary after the SIGKILL: $(cat "$W/sum.json")"

js "$W/sum.json" "0 if s['shm_readers']['n'] >= 2 and s['shm_readers']['lapped_total'] == 0 and s['shm_readers']['lost_total'] == 0 else 1" |
	grep -qx 0 && ok "fh saw its readers: $(js "$W/sum.json" "s['shm_readers']")" ||
	bad "fh's shm_readers: $(js "$W/sum.json" "s.get('shm_readers')")"
ev=$(val events "$W/a.sum"); lost=$(val lost "$W/a.sum"); fp=$(val first_pos "$W/a.sum")
oe=$(val order_errors "$W/a.sum"); pe=$(val pos_errors "$W/a.sum"); sm=$(val snap_mismatch "$W/a.sum")
sc=$(val snap_checked "$W/a.sum")
[ $rca = 0 ] && [ "$fp" = 0 ] && [ "$ev" = "$written" ] && [ "$lost" = 0 ] && [ "$oe" = 0 ] && [ "$pe" = 0 ] &&
	ok "fh-sub: all $ev positions from 0 exactly once, in order (per source seq, heartbeats +1)" ||
	bad "fh-sub: exit $rca first_pos $fp events $ev lost $lost order $oe pos $pe (fh wrote $written)"
[ "$sc" -gt 0 ] && [ "$sm" = 0 ] && ok "fh-sub: its books hashed like fh's at $sc book_snapshot events" ||
	bad "fh-sub: snap_checked $sc mismatches $sm"
ev=$(val events "$W/p.sum"); lp=$(val last_pos "$W/p.sum"); lost=$(val lost "$W/p.sum")
oe=$(val order_errors "$W/p.sum"); hb=$(val heartbeats "$W/p.sum")
[ $rcp = 0 ] && [ "$ev" = "$written" ] && [ "$lp" = "$written" ] && [ "$lost" = 0 ] && [ "$oe" = 0 ] &&
	[ "$(val finished "$W/p.sum")" = 1 ] &&
	ok "independent reader: positions 0..$((lp - 1)) exactly once, in order" ||
	bad "independent reader: $(tr '\n' ' ' <"$W/p.sum") $(tail -3 "$W/p.err")"
[ $((published + hb)) = "$written" ] && ok "ring positions $written = $published published + $hb heartbeats" ||
	bad "positions $written, published $published, heartbeats $hb"
sc=$(val snap_checked "$W/p.sum"); sm=$(val snap_mismatch "$W/p.sum"); be=$(val book_errors "$W/p.sum")
[ "$sc" -gt 0 ] && [ "$sm" = 0 ] && [ "$be" = 0 ] &&
	ok "independent reader: books hashed like fh's at $sc book_snapshot events" ||
	bad "independent reader: snap_checked $sc mismatches $sm book_errors $be"
# Families: what the RX cores handed over (fh --digest), snapshots and heartbeats aside. The
# book family of the digest also counts the book_snapshot events a book emits when it halts or
# crosses; the reader cannot tell those from the periodic ones, so book is bounded by them.
fam_ok=1
flagged=$(val flagged_snapshots "$W/p.sum")
while read -r _ fam cnt; do
	got=$(val "fam.$fam" "$W/p.sum")
	if [ "$fam" = book ]; then
		[ "$cnt" -ge "${got:-0}" ] && [ $((cnt - ${got:-0})) -le "$flagged" ] && continue
	else
		[ "${got:-0}" = "$cnt" ] && continue
	fi
	fam_ok=0
	echo "  family $fam: reader $got, fh digest $cnt (flagged book snapshots $flagged)"
done < <(grep '^events ' "$W/fh.digest")
[ $fam_ok = 1 ] && ok "independent reader: events per family = fh's digest ($(grep '^events ' "$W/fh.digest" | awk '{printf "%s %s ", $2, $3}'); book: l2 + bbo $(val fam.book "$W/p.sum") + halt/cross snapshots)" ||
	bad "events per family differ from fh's digest"

# Books: fh's --books-out (source name first, every level) against the readers' top $DEPTH.
awk -v d=$DEPTH '$4 <= d { $1 = ($1 == "chan1") ? 0 : $1; print }' "$W/fh.books" | sort >"$W/fh.top"
# A late joiner learns no symbol (instrument events come at the start of the day): its
# instrument ids are named with the symbols the independent reader learnt.
awk 'NR == FNR { s[$1 " " $2] = $3; next } { k = $1 " " $2; if (k in s) $2 = s[k]; print }' \
	"$W/p.syms" "$W/l.books" >"$W/l.named"
mv "$W/l.named" "$W/l.books"
for r in a p l; do sort "$W/$r.books" >"$W/$r.sorted"; done
[ -s "$W/fh.top" ] && cmp -s "$W/fh.top" "$W/a.sorted" && ok "fh-sub books = fh --books-out ($(wc -l <"$W/fh.top") levels, top $DEPTH)" ||
	bad "fh-sub books differ: $(diff "$W/fh.top" "$W/a.sorted" | head -4)"
cmp -s "$W/fh.top" "$W/p.sorted" && ok "independent reader books = fh --books-out" ||
	bad "independent reader books differ: $(diff "$W/fh.top" "$W/p.sorted" | head -4)"

fp=$(val first_pos "$W/l.sum"); ev=$(val events "$W/l.sum"); sn=$(val snapshots "$W/l.sum")
lost=$(val lost "$W/l.sum"); oe=$(val order_errors "$W/l.sum"); pe=$(val pos_errors "$W/l.sum")
sm=$(val snap_mismatch "$W/l.sum"); nbooks=$(awk '{print $2}' "$W/fh.top" | sort -u | wc -l)
if [ $rcl = 0 ] && [ "$fp" -gt 0 ] && [ "$fp" -lt "$written" ] && [ $((fp + ev)) = "$written" ] && [ "$lost" = 0 ] &&
	[ "$oe" = 0 ] && [ "$pe" = 0 ] && [ "$sm" = 0 ] && [ "$sn" -ge "$nbooks" ] &&
	cmp -s "$W/fh.top" "$W/l.sorted"; then
	ok "late reader from position $fp: $sn book snapshots, then $ev consistent events; books = fh --books-out"
else
	bad "late reader: exit $rcl first_pos $fp events $ev snapshots $sn (books $nbooks) lost $lost order $oe pos $pe mismatch $sm; $(diff "$W/fh.top" "$W/l.sorted" | head -4)"
fi
rm -f "/dev/shm/$NAME" "/dev/shm/$NAME.req"

# ---- run 2: a 4096-slot ring and a reader spending 20 us per event ----
config "$SMALL" 4096 >"$W/fh2.yaml"
timeout 90 "$B/fh" --config "$W/fh2.yaml" --exit-at-end --quiet --summary "$W/sum2.json" \
	>"$W/fh2.out" 2>"$W/fh2.err" &
fh=$!
pids+=($fh)
wait_ring "$SMALL" || { bad "fh never created /dev/shm/$SMALL"; exit 1; }
"$B/fh-sub" -t 80 "$SMALL" --start oldest -q --slow-ns 20000 --summary "$W/s.sum" 2>"$W/s.err" &
rs=$!
pids+=($rs)
wait $fh
fhrc=$?
wait $rs
written=$(js "$W/sum2.json" "s['shm_written']")
ev=$(val events "$W/s.sum"); lost=$(val lost "$W/s.sum"); laps=$(val laps "$W/s.sum"); fp=$(val first_pos "$W/s.sum")
oe=$(val order_errors "$W/s.sum"); pe=$(val pos_errors "$W/s.sum")
if [ $fhrc = 0 ] && [ "${laps:-0}" -ge 1 ] && [ "$lost" -gt 0 ] && [ $((fp + ev + lost)) = "$written" ] &&
	[ "$oe" = 0 ] && [ "$pe" = 0 ]; then
	ok "slow reader lapped $laps times: from position $fp, $ev read + $lost reported lost = $written fh wrote"
else
	bad "slow reader: fh exit $fhrc, first_pos $fp events $ev lost $lost laps $laps order $oe pos $pe (fh wrote $written)"
fi
# fh's own view of that reader (its slot in the request area), taken when fh stopped: the reader
# went on reading what was left, so fh's counts are at most the reader's final ones
read -r rn rlapnow rlaps rlost < <(js "$W/sum2.json" "'%d %d %d %d' % tuple(s['shm_readers'][k] for k in ('n', 'lapped_now', 'lapped_total', 'lost_total'))")
[ "$rn" = 1 ] && [ "$rlapnow" = 1 ] && [ "$rlaps" -ge 1 ] && [ "$rlaps" -le "$laps" ] && [ "$rlost" -gt 0 ] && [ "$rlost" -le "$lost" ] &&
	ok "fh saw the slow reader lapped: $rlaps laps, $rlost positions lost at fh's stop (reader's own final: $laps, $lost)" ||
	bad "fh's shm_readers: n $rn lapped_now $rlapnow laps $rlaps lost $rlost (reader: $laps laps, $lost lost)"
echo "e2e_fh_shm: $P passed, $F failed, 0 skipped"
[ $F = 0 ]
