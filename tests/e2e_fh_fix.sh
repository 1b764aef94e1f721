#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_fix: the fh appliance logs on to a real FIX engine (a QuickFIX
# acceptor, tests/fix_peer.cpp) on 127.0.0.1, subscribes, and builds L2 books
# equal to the peer's: plain, with dropped messages (resent as PossDup) and
# with skipped sequence numbers (gap-filled), and a peer that goes silent
# (TestRequest, disconnect, reconnect, fresh snapshots). fh's books come from
# --books-out at SIGTERM, after which it logs out.
# fh-test-timeout: 200
set -u
B=${FH_BUILD:-build}
[ -x "$B/tests/fix_peer" ] || { echo "skip: $B/tests/fix_peer missing"; exit 77; }
T=$(mktemp -d /tmp/fh-e2e-fhfix.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T" /dev/shm/fh-e2e-fhfix-$$*; }
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap "" EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# fh's --books-out ("src SYM B level price qty orders") in the peer's format
# ("BOOK SYM B <px 1e-8>x<qty> ... S <px>x<qty> ...").
to_peer_fmt() {
	python3 - "$1" <<'PY'
import sys, collections
books = collections.OrderedDict()
for line in open(sys.argv[1]):
    src, sym, side, lvl, px, qty, orders = line.split()
    i, _, f = px.partition('.')
    units = int(i) * 10**8 + int((f + '00000000')[:8]) * (1 if not i.startswith('-') else -1)
    books.setdefault(sym, {'B': [], 'S': []})[side].append('%dx%s' % (units, qty))
for sym in sorted(books):
    print('BOOK %s B%s S%s' % (sym, ''.join(' ' + x for x in books[sym]['B']),
                                 ''.join(' ' + x for x in books[sym]['S'])))
PY
}

run() {
	local name=$1 popts=$2 port
	port=$(free_port)
	# shellcheck disable=SC2086
	"$B/tests/fix_peer" --port "$port" --symbols AAA,BBB,CCC --dump "$T/$name.peer" \
		--linger-s 60 $popts 2>"$T/$name.peerlog" &
	local peer=$!
	pids+=("$peer")
	cat >"$T/$name.yaml" <<YAML
version: 1
sources:
  - name: fixmd
    protocol: fix
    transport: tcp
    fix:
      host: 127.0.0.1
      port: $port
      sender_comp_id: FH
      target_comp_id: PEER
      heartbeat_s: 1s
      subscriptions: [AAA, BBB, CCC]
      seq_store: $T/$name.seq
    rx_core: 1
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 64}
books: {depth: 10, max_orders: 64Ki, max_instruments: 1Ki, max_levels: 64Ki}
publish:
  shm: {name: fh-e2e-fhfix-$$-$name, path: /dev/shm, slots: 64Ki}
  kafka: {enabled: false}
telemetry: {http: {enabled: false}}
dead_letter: {path: $T/$name.dlq}
YAML
	sleep 0.3
	"$B/fh" --config "$T/$name.yaml" --quiet --books-out "$T/$name.books" --summary "$T/$name.json" \
		>"$T/$name.out" 2>"$T/$name.err" &
	local fh=$!
	pids+=("$fh")
	for _ in $(seq 300); do [ -s "$T/$name.peer" ] && break; sleep 0.1; done
	# recovery (a gap noticed at the next heartbeat, resend, snapshot) takes a moment
	sleep 4
	kill -TERM "$fh"
	wait "$fh"
	local rc=$?
	kill "$peer" 2>/dev/null
	check "$name: fh logs out and exits 0 (exit $rc)" $rc
	to_peer_fmt "$T/$name.books" >"$T/$name.ours"
	[ -s "$T/$name.peer" ] && diff "$T/$name.peer" "$T/$name.ours" >"$T/$name.diff"
	rc=$?
	check "$name: fh's books equal the FIX peer's ($(wc -l <"$T/$name.peer" 2>/dev/null) books)" $rc
	[ $rc = 0 ] || head -5 "$T/$name.diff"
}

field() { python3 -c "import json; s=json.load(open('$T/$1.json'))['sources'][0]; print(s['$2'])"; }

run basic "--updates 300 --interval-ms 3"
check "basic: one logon" "$([ "$(field basic logons)" = 1 ] && echo 0 || echo 1)"
run drop "--updates 300 --interval-ms 3 --drop-every 40"
check "drop: resend requested, PossDup received" "$([ "$(field drop resend_requests_out)" -ge 1 ] && [ "$(field drop poss_dup_in)" -ge 1 ] && echo 0 || echo 1)"
run skip "--updates 320 --interval-ms 3 --skip-every 50"
check "skip: gap filled" "$([ "$(field skip gap_fills_in)" -ge 1 ] && echo 0 || echo 1)"
run silent "--updates 300 --interval-ms 3 --silent-after 100 --silent-ms 4000"
check "silent: TestRequest sent, then disconnect and a new logon" "$([ "$(field silent test_requests_out)" -ge 1 ] && [ "$(field silent disconnects)" -ge 1 ] && [ "$(field silent logons)" -ge 2 ] && echo 0 || echo 1)"
grep -q '"event":"fix_session"' "$T/basic.err"
check "session events are logged as JSON lines" $?

echo "e2e_fh_fix: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
