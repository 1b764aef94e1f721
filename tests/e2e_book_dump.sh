#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_book_dump.sh: `fh-book dump` on the real ITCH snippet (and a simulated day file and pcap)
# checked line for line against an independent Python book built from the raw bytes.
# fh-test-timeout: 240
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
DATA=${FH_DATA:-$(cd .. && pwd)/shared/data}
BOOK=$B/fh-book
SNIP=$DATA/itch/12302019_SNIPPET.NASDAQ_ITCH50
tmp=$(mktemp -d /tmp/fh-e2e-book.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
P=0 F=0 S=0
pass() { P=$((P + 1)); echo "ok   $1"; }
fail() { F=$((F + 1)); echo "FAIL $1"; }
skip() { S=$((S + 1)); echo "skip $1"; }

if [ ! -x "$BOOK" ]; then
	echo "skip: $BOOK not built"
	echo "e2e_book_dump: 0 passed, 0 failed, 1 skipped"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "skip: python3 missing (the independent reference)"
	echo "e2e_book_dump: 0 passed, 0 failed, 1 skipped"
	exit 77
fi

# The independent reference: a Nasdaq day file -> the dump format, with dicts.
cat >"$tmp/ref.py" <<'EOF'
import struct, sys
path, at, sym_only, depth = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
data = open(path, 'rb').read()
orders = {}                      # ref -> [locate, side, price, qty]
books = {}                       # (locate, side) -> {price: [qty, orders]}
names, dir_named = {}, set()
orphans = 0
def lvl(loc, side, px, dq, do):
    b = books.setdefault((loc, side), {})
    q = b.get(px, [0, 0]); q[0] += dq; q[1] += do
    if q[1] == 0: b.pop(px, None)
    else: b[px] = q
def take(ref, qty):
    o = orders[ref]
    if qty >= o[3]:
        lvl(o[0], o[1], o[2], -o[3], -1); del orders[ref]
    else:
        o[3] -= qty; lvl(o[0], o[1], o[2], -qty, 0)
off, seq = 0, 0
while off + 2 <= len(data):
    n = struct.unpack_from('>H', data, off)[0]; m = data[off + 2: off + 2 + n]; off += 2 + n
    if len(m) != n or n == 0: break
    seq += 1
    if at and seq > at: break
    t = chr(m[0]); loc = struct.unpack_from('>H', m, 1)[0]
    if t == 'R':
        names[loc] = m[11:19].decode().rstrip(' ').rstrip('\0'); dir_named.add(loc)
    elif t in 'AF':
        ref, side, qty = struct.unpack_from('>QcI', m, 11); px = struct.unpack_from('>I', m, 32)[0]
        if loc not in dir_named and loc not in names: names[loc] = m[24:32].decode().rstrip(' ')
        if ref in orders or qty == 0 or side not in (b'B', b'S'): continue
        orders[ref] = [loc, side, px, qty]; lvl(loc, side, px, qty, 1)
    elif t in 'EC':
        ref, qty = struct.unpack_from('>QI', m, 11)
        if qty == 0: continue
        if ref not in orders: orphans += 1; continue
        take(ref, qty)
    elif t == 'X':
        ref, qty = struct.unpack_from('>QI', m, 11)
        if qty == 0: continue
        if ref not in orders: orphans += 1; continue
        take(ref, qty)
    elif t == 'D':
        ref = struct.unpack_from('>Q', m, 11)[0]
        if ref not in orders: orphans += 1; continue
        take(ref, orders[ref][3])
    elif t == 'U':
        oref, nref, qty, px = struct.unpack_from('>QQII', m, 11)
        if oref not in orders: orphans += 1; continue
        o = orders[oref]; take(oref, o[3])
        if qty == 0 or nref in orders: continue
        orders[nref] = [o[0], o[1], px, qty]; lvl(o[0], o[1], px, qty, 1)
def name(loc): return names.get(loc, '#%d' % loc)
locs = sorted({k[0] for k, v in books.items() if v}, key=lambda l: (name(l).encode(), l))
out = []
for l in locs:
    if sym_only != '-' and name(l) != sym_only: continue
    for side, rev in ((b'B', True), (b'S', False)):
        lv = sorted(books.get((l, side), {}).items(), reverse=rev)
        for i, (px, (q, c)) in enumerate(lv[:depth] if depth else lv):
            out.append('%s %s %d %d.%04d %d %d' % (name(l), side.decode(), i + 1, px // 10000, px % 10000, q, c))
sys.stdout.write(''.join(x + '\n' for x in out))
sys.stderr.write('orphans %d\n' % orphans)
EOF

# 1. the real snippet, full depth
if [ -f "$SNIP" ]; then
	"$BOOK" dump "$SNIP" >"$tmp/got" 2>"$tmp/err"
	rc=$?
	python3 "$tmp/ref.py" "$SNIP" 0 - 0 >"$tmp/want" 2>"$tmp/want.err"
	if [ $rc -eq 0 ] && [ -s "$tmp/want" ] && cmp -s "$tmp/got" "$tmp/want"; then
		pass "snippet: $(wc -l <"$tmp/got") levels identical to the reference"
	else
		fail "snippet dump differs (rc $rc)"
		diff "$tmp/got" "$tmp/want" | head -20
	fi
	want_orph=$(sed -n 's/^orphans //p' "$tmp/want.err")
	got_orph=$(sed -n 's/^fh-book: orphans \([0-9]*\).*/\1/p' "$tmp/err")
	if [ -n "$got_orph" ] && [ "$got_orph" = "$want_orph" ] && [ "$got_orph" -gt 0 ]; then
		pass "snippet: orphan count $got_orph on stderr matches the reference"
	else
		fail "snippet orphans: fh-book '$got_orph', reference '$want_orph'"
		cat "$tmp/err"
	fi
	# format and order: symbol byte order, B before S, levels 1.. in sequence
	if LC_ALL=C awk 'NF != 6 || $2 !~ /^[BS]$/ || $4 !~ /^[0-9]+\.[0-9][0-9][0-9][0-9]$/ { bad = 1 }
		{ k = $1 SUBSEP $2; if (prev != "" && ($1 < psym || ($1 == psym && $2 < pside))) bad = 1;
		  if (k != pk && $3 != 1) bad = 1; if (k == pk && $3 != plev + 1) bad = 1;
		  psym = $1; pside = $2; plev = $3; pk = k; prev = $0 }
		END { exit bad }' "$tmp/got"; then
		pass "snippet: every line is '<symbol> <B|S> <level> <price.4> <shares> <orders>', sorted"
	else
		fail "snippet: format or order"
	fi
	# 2. one book at a sequence number, and --depth
	sym=$(awk '{ c[$1]++ } END { for (s in c) if (c[s] > best) { best = c[s]; bs = s }; print bs }' "$tmp/got")
	ok=1
	for at in 1 137 500 999; do
		"$BOOK" dump "$SNIP" --at $at --symbol "$sym" >"$tmp/g" 2>/dev/null
		python3 "$tmp/ref.py" "$SNIP" $at "$sym" 0 >"$tmp/w" 2>/dev/null
		cmp -s "$tmp/g" "$tmp/w" || { ok=0; echo "  --at $at --symbol $sym differs"; }
	done
	[ $ok = 1 ] && pass "snippet: --at SEQ --symbol $sym matches at 4 sequence numbers" ||
		fail "snippet: --at"
	"$BOOK" dump "$SNIP" --depth 1 >"$tmp/g" 2>/dev/null
	python3 "$tmp/ref.py" "$SNIP" 0 - 1 >"$tmp/w" 2>/dev/null
	cmp -s "$tmp/g" "$tmp/w" && pass "snippet: --depth 1" || fail "snippet: --depth 1 differs"
else
	skip "real snippet not found at $SNIP"
fi

# 3. a simulated day: day file and pcap of the same session give the same books
SIM=$B/fh-sim
if [ -x "$SIM" ] && "$SIM" --help 2>&1 | grep -q -- '--pcap\|pcap'; then
	if "$SIM" --messages 300000 --symbols 300 --seed 5 --itch "$tmp/day.itch" >/dev/null 2>&1 &&
		"$SIM" --messages 300000 --symbols 300 --seed 5 --pcap "$tmp/day.pcap" >/dev/null 2>&1; then
		"$BOOK" dump "$tmp/day.itch" >"$tmp/gd" 2>"$tmp/ed"
		"$BOOK" dump "$tmp/day.pcap" >"$tmp/gp" 2>"$tmp/ep"
		python3 "$tmp/ref.py" "$tmp/day.itch" 0 - 0 >"$tmp/wd" 2>/dev/null
		if [ -s "$tmp/gd" ] && cmp -s "$tmp/gd" "$tmp/wd"; then
			pass "simulated day file: $(wc -l <"$tmp/gd") levels identical to the reference"
		else
			fail "simulated day file dump differs from the reference"
		fi
		if cmp -s "$tmp/gd" "$tmp/gp"; then
			pass "simulated pcap gives the same books as the day file"
		else
			fail "pcap and day file books differ"
		fi
		grep -q 'gaps 0;' "$tmp/ep" && ! grep -q 'source stale' "$tmp/ep" &&
			pass "no gap: books not stale" || fail "books stale without a gap"
		# a sequence gap on the wire: the whole source is reported stale
		if "$SIM" --messages 300000 --symbols 300 --seed 5 --pcap "$tmp/gap.pcap" \
			--gap 20000-20040 >/dev/null 2>&1; then
			"$BOOK" dump "$tmp/gap.pcap" >/dev/null 2>"$tmp/eg"
			if grep -q 'source stale' "$tmp/eg" && ! grep -q 'gaps 0;' "$tmp/eg"; then
				pass "a pcap with a sequence gap leaves the books stale (stderr)"
			else
				fail "gap not reported as stale"
				cat "$tmp/eg"
			fi
		else
			skip "fh-sim --gap"
		fi
	else
		skip "fh-sim did not write a day file / pcap with these options"
	fi
else
	skip "fh-sim not built"
fi

# 4. a real wire capture (802.1Q VLAN, MoldUDP64, a sequence gap): pcap -> day file by a few
# lines of Python, then the reference on that; fh-book reads the pcap itself
WIRE=$DATA/itch/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap
if [ -f "$WIRE" ]; then
	python3 - "$WIRE" "$tmp/wire.itch" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(); out = bytearray()
le = d[:4] == b'\xd4\xc3\xb2\xa1' or d[:4] == b'\x4d\x3c\xb2\xa1'
e = '<' if le else '>'
off = 24
while off + 16 <= len(d):
    incl = struct.unpack_from(e + 'I', d, off + 8)[0]; f = d[off + 16: off + 16 + incl]; off += 16 + incl
    p, et = 12, struct.unpack_from('>H', f, 12)[0]
    while et == 0x8100: p += 4; et = struct.unpack_from('>H', f, p)[0]
    ip = p + 2; ihl = (f[ip] & 15) * 4
    u = ip + ihl + 8; n = struct.unpack_from('>H', f, u + 18)[0]; q = u + 20
    for _ in range(n if n != 0xffff else 0):
        ml = struct.unpack_from('>H', f, q)[0]; out += f[q:q + 2 + ml]; q += 2 + ml
open(sys.argv[2], 'wb').write(out)
PYEOF
	"$BOOK" dump "$WIRE" >"$tmp/gw" 2>"$tmp/ew"
	python3 "$tmp/ref.py" "$tmp/wire.itch" 0 - 0 >"$tmp/ww" 2>"$tmp/ww.err"
	if [ -s "$tmp/gw" ] && cmp -s "$tmp/gw" "$tmp/ww"; then
		pass "real VLAN pcap with a gap: $(wc -l <"$tmp/gw") levels identical to the reference"
	else
		fail "real VLAN pcap dump differs from the reference"
		diff "$tmp/gw" "$tmp/ww" | head
	fi
	wo=$(sed -n 's/^orphans //p' "$tmp/ww.err")
	go=$(sed -n 's/^fh-book: orphans \([0-9]*\).*/\1/p' "$tmp/ew")
	if [ "$go" = "$wo" ] && grep -q 'source stale' "$tmp/ew"; then
		pass "real VLAN pcap: orphans $go as the reference, books stale after its gap"
	else
		fail "real VLAN pcap: orphans '$go' vs '$wo', or not stale"
		cat "$tmp/ew"
	fi
else
	skip "real wire capture not found"
fi

# 5. errors are reported, not crashed on
if "$BOOK" dump /nonexistent/file >/dev/null 2>"$tmp/e"; then
	fail "a missing file exits 0"
else
	grep -q 'fh-book:' "$tmp/e" && pass "a missing file is an error with a message" ||
		fail "no message for a missing file"
fi
"$BOOK" dump "$SNIP" --max-orders 0 >/dev/null 2>"$tmp/e"
[ $? -ne 0 ] && grep -q 'invalid config' "$tmp/e" && pass "an invalid size is refused with a reason" ||
	fail "invalid size not refused"

echo "e2e_book_dump: $P passed, $F failed, $S skipped"
[ $F -eq 0 ]
