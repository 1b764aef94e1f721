#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_sim_servers: fh-sim --serve-rereq / --serve-snapshot from the shell, with python3 clients:
# a MoldUDP64 re-request answered byte-identical to the day file; a SoupBinTCP GLIMPSE snapshot whose
# resting orders (with their MPID attribution) equal an independent python replay of messages 1..S-1,
# 'G' = S; login rejected;
# outages (--rereq-down, --snapshot-down); a session starting at --first-seq 1001.
set -u
B=${FH_BUILD:-build}
SIM=$B/fh-sim
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() { echo "e2e_sim_servers: $pass passed, $fail failed, 0 skipped"; [ $fail -eq 0 ]; exit $?; }
[ -x "$SIM" ] || { ko "no $SIM"; finish; }
command -v python3 >/dev/null || { echo "e2e_sim_servers: 0 passed, 0 failed, 1 skipped"; exit 77; }
T=$(mktemp -d /tmp/fh-e2e-simsrv.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

SESSION=(--seed 8 --messages 40000 --symbols 60)

# start NAME ARGS...: runs fh-sim serving in the background; sets PORT_rereq / PORT_snapshot from its stdout.
start() {
	local name=$1
	shift
	: >"$T/$name.out"
	"$SIM" "$@" --serve-seconds 120 >"$T/$name.out" 2>"$T/$name.err" &
	local pid=$!
	PIDS+=("$pid")
	eval "PID_$name=$pid"
	local want=0
	for a in "$@"; do case $a in --serve-rereq | --serve-snapshot) want=$((want + 1)) ;; esac; done
	for _ in $(seq 1 200); do
		[ "$(wc -l <"$T/$name.out")" -ge "$want" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	PORT_rereq=$(awk '$1 == "rereq" { sub(/.*:/, "", $2); print $2 }' "$T/$name.out")
	PORT_snapshot=$(awk '$1 == "snapshot" { sub(/.*:/, "", $2); print $2 }' "$T/$name.out")
}

# stop NAME: SIGTERM, wait; its counters are in $T/NAME.err.
stop() {
	local pid
	eval "pid=\$PID_$1"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cat >"$T/clients.py" <<'EOF'
import socket, struct, sys

def rereq(port, session, seq, count, timeout=2.0):
    """MoldUDP64 re-request; returns {seq: message bytes} of every answer packet received."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(session.ljust(10).encode() + struct.pack('>QH', seq, count), ('127.0.0.1', port))
    got = {}
    try:
        while len(got) < count:
            pkt, _ = s.recvfrom(65536)
            if pkt[:10] != session.ljust(10).encode():
                raise SystemExit('answer for another session')
            q, n = struct.unpack('>QH', pkt[10:20])
            off = 20
            for k in range(n):
                (l,) = struct.unpack('>H', pkt[off:off + 2])
                got[q + k] = pkt[off + 2:off + 2 + l]
                off += 2 + l
            if off != len(pkt):
                raise SystemExit('trailing bytes in an answer')
    except socket.timeout:
        pass
    return got

def day_file(path):
    data = open(path, 'rb').read()
    msgs, off = [], 0
    while off < len(data):
        (l,) = struct.unpack('>H', data[off:off + 2])
        msgs.append(data[off + 2:off + 2 + l])
        off += 2 + l
    return msgs

def frame(t, p=b''):
    return struct.pack('>H', len(p) + 1) + t + p

def soup(port, user='', password='', session='', seq=1, timeout=5.0):
    """SoupBinTCP login and read until End of Snapshot / End of Session / close.
    Returns (login answer type, reject code or session, [sequenced messages], heartbeats, 'Z' seen)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    s.sendall(frame(b'L', user.ljust(6).encode() + password.ljust(10).encode() +
                    session.rjust(10).encode() + str(seq).rjust(20).encode()))
    buf, msgs, hb, login, info, end = b'', [], 0, None, None, False
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2:
            (l,) = struct.unpack('>H', buf[:2])
            if len(buf) < 2 + l:
                break
            t, p, buf = buf[2:3], buf[3:2 + l], buf[2 + l:]
            if t == b'A':
                login, info = 'A', (p[:10].decode().strip(), int(p[10:30]))
            elif t == b'J':
                login, info = 'J', p.decode()
            elif t == b'S':
                msgs.append(p)
            elif t == b'H':
                hb += 1
            elif t == b'Z':
                end = True
        if end or login == 'J':
            break
    if login == 'A':
        try:
            s.sendall(frame(b'O'))
        except OSError:
            pass
    s.close()
    return login, info, msgs, hb, end

def resting(msgs):
    """Independent order-table replay: ref -> (locate, side, shares, price, MPID or None)."""
    live = {}
    for m in msgs:
        t = m[:1]
        if t in (b'A', b'F'):
            loc, = struct.unpack('>H', m[1:3]); ref, = struct.unpack('>Q', m[11:19])
            sh, = struct.unpack('>I', m[20:24]); px, = struct.unpack('>I', m[32:36])
            live[ref] = [loc, m[19:20], sh, px, m[36:40] if t == b'F' else None]
        elif t in (b'E', b'C', b'X'):
            ref, = struct.unpack('>Q', m[11:19]); n, = struct.unpack('>I', m[19:23])
            o = live[ref]; o[2] -= n
            if o[2] <= 0:
                del live[ref]
        elif t == b'D':
            ref, = struct.unpack('>Q', m[11:19]); del live[ref]
        elif t == b'U':
            ref, new = struct.unpack('>QQ', m[11:27]); sh, px = struct.unpack('>II', m[27:35])
            o = live.pop(ref); live[new] = [o[0], o[1], sh, px, o[4]]
    return {k: tuple(v) for k, v in live.items()}

cmd = sys.argv[1]
if cmd == 'rereq':
    port, session, seq, count, itch, first = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
    got = rereq(int(port), session, seq, count)
    day = day_file(itch) if itch != '-' else None
    last = min(seq + count, first + len(day)) if day is not None else seq
    same = day is not None and len(got) == last - seq and all(got.get(q) == day[q - first] for q in range(seq, last))
    print(len(got), 'identical' if same else 'different')
elif cmd == 'snapshot':
    port, S, itch, first = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    login, info, msgs, hb, end = soup(port)
    g = [m for m in msgs if m[:1] == b'G']
    adds = {}
    for m in msgs:
        if m[:1] in (b'A', b'F'):
            loc, = struct.unpack('>H', m[1:3]); ref, = struct.unpack('>Q', m[11:19])
            sh, = struct.unpack('>I', m[20:24]); px, = struct.unpack('>I', m[32:36])
            adds[ref] = (loc, m[19:20], sh, px, m[36:40] if m[:1] == b'F' else None)
    ref = resting(day_file(itch)[:S - first])
    stocks = sum(1 for m in msgs if m[:1] == b'R')
    print(login, len(msgs), len(adds), stocks, int(g[0][1:]) if len(g) == 1 else -1,
          'orders-equal' if adds == ref else 'orders-differ', 'Z' if end else 'noZ',
          'G-last' if msgs and msgs[-1][:1] == b'G' else 'G-not-last')
elif cmd == 'login':
    port, user, password, session = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    login, info, msgs, hb, end = soup(port, user, password, session)
    print(login, info if login == 'J' else len(msgs))
EOF

# 1. Both servers over one session, the day file of the same session as the reference.
"$SIM" "${SESSION[@]}" --itch "$T/day.itch" || ko "day file"
start one "${SESSION[@]}" --serve-rereq 127.0.0.1:0 --serve-snapshot 127.0.0.1:0 --snapshot-seq 20000
[ -n "$PORT_rereq" ] && [ -n "$PORT_snapshot" ] && ok "ports read from stdout (rereq $PORT_rereq, snapshot $PORT_snapshot)" ||
	ko "ports: $(cat "$T/one.out" "$T/one.err")"
r=$(python3 "$T/clients.py" rereq "$PORT_rereq" FHSIM00001 100 500 "$T/day.itch" 1)
[ "$r" = "500 identical" ] && ok "re-request 100+500: 500 messages, byte-identical to the day file" || ko "re-request: $r"
r=$(python3 "$T/clients.py" rereq "$PORT_rereq" FHSIM00001 39990 50 "$T/day.itch" 1)
[ "$r" = "11 identical" ] && ok "re-request past the end: clipped to the 11 messages left" || ko "clipped re-request: $r"
r=$(python3 "$T/clients.py" rereq "$PORT_rereq" OTHERSESS1 100 5 - 1)
[ "${r%% *}" = 0 ] && ok "re-request for another session: no answer" || ko "other session: $r"
r=$(python3 "$T/clients.py" snapshot "$PORT_snapshot" 20000 "$T/day.itch" 1)
set -- $r
[ "$1" = A ] && [ "$5" = 20000 ] && [ "$6" = orders-equal ] && [ "$7" = Z ] && [ "$8" = G-last ] && [ "$3" -gt 100 ] &&
	[ "$4" = 60 ] && ok "snapshot at 20000: login accepted, $2 messages, $3 resting orders equal a python replay of 1..19999, 60 stocks, G=20000 last, then Z" ||
	ko "snapshot: $r"
r2=$(python3 "$T/clients.py" snapshot "$PORT_snapshot" 20000 "$T/day.itch" 1)
[ "$r2" = "$r" ] && ok "a second client gets the same snapshot" || ko "second snapshot: $r2"
stop one
grep -q "^rereq requests 2 answered_msgs 511 " "$T/one.err" && grep -q " bad 1 " "$T/one.err" &&
	ok "re-request counters at exit: 2 answered (511 messages), 1 bad" || ko "rereq counters: $(grep rereq "$T/one.err")"
grep -q "^snapshot connections 2 refused 0 logins 2 .* sent 2 .* logouts 2 " "$T/one.err" &&
	ok "snapshot counters at exit: 2 connections, 2 sent, 2 logouts" || ko "snapshot counters: $(grep '^snapshot conn' "$T/one.err")"

# 2. The end of the session (default --snapshot-seq) and credentials.
start two "${SESSION[@]}" --serve-snapshot 127.0.0.1:0 --snapshot-user fhuser --snapshot-password pw123
r=$(python3 "$T/clients.py" login "$PORT_snapshot" fhuser wrong "")
[ "$r" = "J A" ] && ok "wrong password: Login Rejected 'A'" || ko "wrong password: $r"
r=$(python3 "$T/clients.py" login "$PORT_snapshot" fhuser pw123 NOSUCHSESS)
[ "$r" = "J S" ] && ok "unknown session: Login Rejected 'S'" || ko "unknown session: $r"
r=$(python3 "$T/clients.py" login "$PORT_snapshot" FHUSER pw123 FHSNAP0001)
[ "${r%% *}" = A ] && ok "right credentials (user name case-insensitive), named session: accepted" || ko "login: $r"
stop two

# 3. Outages.
start three "${SESSION[@]}" --serve-rereq 127.0.0.1:0 --rereq-down --serve-snapshot 127.0.0.1:0 --snapshot-down
r=$(python3 "$T/clients.py" rereq "$PORT_rereq" FHSIM00001 100 10 "$T/day.itch" 1)
[ "${r%% *}" = 0 ] && ok "--rereq-down: the request is swallowed" || ko "rereq down: $r"
r=$(python3 "$T/clients.py" login "$PORT_snapshot" "" "" "")
[ "$r" = "None 0" ] && ok "--snapshot-down: connection closed without a login answer" || ko "snapshot down: $r"
stop three
grep -q " ignored 1 " "$T/three.err" && grep -q "^snapshot connections 0 refused 1 " "$T/three.err" &&
	ok "outage counters: 1 request ignored, 1 connection refused" || ko "outage counters: $(cat "$T/three.err")"

# 4. A session numbered from 1001: re-request and snapshot use the same numbering.
: >"$T/four.out"
"$SIM" "${SESSION[@]}" --first-seq 1001 --session SESS000002 --serve-rereq 127.0.0.1:0 --serve-snapshot 127.0.0.1:0 \
	--snapshot-seq 11001 --serve-seconds 30 >"$T/four.out" 2>"$T/four.err" &
PID_four=$!
PIDS+=("$PID_four")
for _ in $(seq 1 200); do [ "$(wc -l <"$T/four.out")" -ge 2 ] && break; sleep 0.05; done
PORT_rereq=$(awk '$1 == "rereq" { sub(/.*:/, "", $2); print $2 }' "$T/four.out")
PORT_snapshot=$(awk '$1 == "snapshot" { sub(/.*:/, "", $2); print $2 }' "$T/four.out")
r=$(python3 "$T/clients.py" rereq "$PORT_rereq" SESS000002 1001 200 "$T/day.itch" 1001)
[ "$r" = "200 identical" ] && ok "--first-seq 1001: re-request 1001+200 is the session's first 200 messages" || ko "first-seq rereq: $r"
r=$(python3 "$T/clients.py" snapshot "$PORT_snapshot" 11001 "$T/day.itch" 1001)
set -- $r
[ "$5" = 11001 ] && [ "$6" = orders-equal ] && ok "--first-seq 1001: snapshot G=11001, orders equal a replay of the first 10000" ||
	ko "first-seq snapshot: $r"
stop four

# 5. Bad options.
"$SIM" "${SESSION[@]}" --serve-snapshot 127.0.0.1 >/dev/null 2>&1
[ $? -eq 2 ] && ok "--serve-snapshot without a port: exit 2" || ko "bad listen address"
"$SIM" "${SESSION[@]}" --serve-snapshot 127.0.0.1:0 --snapshot-seq 99999 --serve-seconds 1 >/dev/null 2>"$T/bad.err"
[ $? -eq 1 ] && grep -q "outside the session" "$T/bad.err" && ok "--snapshot-seq past the session: exit 1 with a reason" ||
	ko "snapshot seq outside: $(cat "$T/bad.err")"
finish
