# SPDX-License-Identifier: MIT
# tests/regress/lib.sh: shared by the regression runner, its bless script and
# e2e_fh_ab.sh: building a case's capture, running fh on it (a replayed pcap,
# or live through two network namespaces for A/B kernel_udp lines) and
# turning fh's --digest and --summary into one comparable digest.
# Source it; it defines functions only. Callers set B (absolute build dir),
# FH_DATA (absolute shared data dir).

# The comparable digest: fh --digest (events per family, every book's
# checksum), then per source the sequencing and rejection counters of
# --summary that must not change silently.
regress_digest() { # regress_digest FH_DIGEST SUMMARY_JSON
	cat "$1" || return 1
	python3 - "$2" <<'PY' || return 1
import json, sys
s = json.load(open(sys.argv[1]))
for src in s["sources"]:
    for k in ("messages", "gaps", "gap_msgs", "mold_rejects", "frame_rejects",
              "decode_rejects", "orphans", "live_orders", "accounted"):
        v = src[k]
        if isinstance(v, bool):
            v = "true" if v else "false"
        print("source %s %s %s" % (src["name"], k, v))
    print("source %s gap_ranges %s" % (src["name"],
          ",".join("%d-%d" % (a, b) for a, b in src["gap_ranges"]) or "none"))
PY
}

# The config from a case's template: @W@ the work dir, @CAPTURE@ its
# capture, @SHM@ a shm ring name unique to this run, @IFACE@ the receiving
# interface (live cases).
regress_config() { # regress_config TEMPLATE OUT W SHM [IFACE]
	sed -e "s|@W@|$3|g" -e "s|@CAPTURE@|$3/capture.pcap|g" -e "s|@SHM@|$4|g" \
		-e "s|@IFACE@|${5:-}|g" "$1" >"$2"
}

# Replays: fh --exit-at-end on a pcap source config. Returns fh's status.
regress_run_pcap() { # regress_run_pcap CONFIG W
	timeout 120 "$B/fh" --config "$1" --exit-at-end --quiet --digest "$2/fh.digest" \
		--summary "$2/summary.json" --books-out "$2/books.txt" >"$2/fh.out" 2>"$2/fh.err"
}

# Live A/B: two namespaces joined by a veth pair; fh (lines a and b) in one, tcpreplay sending the capture (both lines' packets in
# capture order, evenly paced) from the other; fh is stopped with SIGTERM
# once everything was sent. Needs root, ip, tcpreplay; returns 77 without.
# The cases use transport multicast (DPDK net_af_packet): both lines arrive
# through one queue in wire order. With kernel_udp (one socket per line,
# polled in turn) fh's MoldUDP64 sequencing declares a gap as soon as a
# later sequence is processed, so an RX thread that is descheduled and then
# reads line A's backlog before line B's turns a loss on one line into a
# gap: seen here 2-8 times per run at 1000 pps on a loaded 2-CPU box (and
# still 1 in 3 runs under SCHED_FIFO). Arbitration across two queues needs
# a hold window for one-line gaps in fh_mold.
REGRESS_NS_A= REGRESS_NS_B= REGRESS_FHPID=
regress_live_down() {
	[ -n "$REGRESS_FHPID" ] && kill -9 "$REGRESS_FHPID" 2>/dev/null
	[ -n "$REGRESS_NS_A" ] && ip netns del "$REGRESS_NS_A" 2>/dev/null
	[ -n "$REGRESS_NS_B" ] && ip netns del "$REGRESS_NS_B" 2>/dev/null
	REGRESS_NS_A= REGRESS_NS_B= REGRESS_FHPID=
}
regress_live_up() { # regress_live_up TAG -> sets REGRESS_IF (fh's interface)
	[ "$(id -u)" = 0 ] || { echo "skip: live A/B needs root (network namespaces)"; return 77; }
	command -v tcpreplay >/dev/null || { echo "skip: tcpreplay missing"; return 77; }
	command -v ip >/dev/null || { echo "skip: ip (iproute2) missing"; return 77; }
	local t=$1
	REGRESS_NS_A=fhrA$t REGRESS_NS_B=fhrB$t
	ip netns add "$REGRESS_NS_A" && ip netns add "$REGRESS_NS_B" ||
		{ echo "skip: cannot create network namespaces"; regress_live_down; return 77; }
	# A namespace that cannot be entered (e.g. in a chroot whose root is not
	# a mount point) is the same as none.
	ip netns exec "$REGRESS_NS_A" true 2>/dev/null ||
		{ echo "skip: cannot enter network namespaces here"; regress_live_down; return 77; }
	ip link add rA$t netns "$REGRESS_NS_A" type veth peer name rB$t netns "$REGRESS_NS_B" ||
		{ regress_live_down; return 1; }
	ip -n "$REGRESS_NS_A" addr add 10.202.0.1/24 dev rA$t
	ip -n "$REGRESS_NS_B" addr add 10.202.0.2/24 dev rB$t
	local n
	for n in "$REGRESS_NS_A" "$REGRESS_NS_B"; do ip -n "$n" link set lo up; done
	ip -n "$REGRESS_NS_A" link set rA$t up
	ip -n "$REGRESS_NS_B" link set rB$t up
	ip -n "$REGRESS_NS_A" route add 224.0.0.0/4 dev rA$t
	ip -n "$REGRESS_NS_B" route add 224.0.0.0/4 dev rB$t
	REGRESS_IF=rB$t REGRESS_SEND_IF=rA$t
	return 0
}
regress_run_live() { # regress_run_live CONFIG W PPS
	ip netns exec "$REGRESS_NS_B" "$B/fh" --config "$1" --quiet --digest "$2/fh.digest" \
		--summary "$2/summary.json" --books-out "$2/books.txt" >"$2/fh.out" 2>"$2/fh.err" &
	REGRESS_FHPID=$!
	local i
	for i in $(seq 200); do
		grep -q '"event":"started"' "$2/fh.err" 2>/dev/null && break
		kill -0 "$REGRESS_FHPID" 2>/dev/null || break
		sleep 0.05
	done
	ip netns exec "$REGRESS_NS_A" tcpreplay -q -i "$REGRESS_SEND_IF" --pps "$3" "$2/capture.pcap" \
		>"$2/tcpreplay.out" 2>&1
	sleep 1
	kill -TERM "$REGRESS_FHPID" 2>/dev/null
	wait "$REGRESS_FHPID"
	local rc=$?
	REGRESS_FHPID=
	return $rc
}

# Runs one case directory into work dir W: builds the capture (the case's
# capture.sh; 77 = its data is missing), runs fh, writes W/actual.digest.
# Returns 0, 77 (skipped, reason on stdout) or 1 (reason on stdout).
regress_case() { # regress_case CASE_DIR W
	local c=$1 w=$2 rc name shm
	name=$(basename "$c")
	shm=fhr-$$-$RANDOM
	mkdir -p "$w"
	B="$B" W="$w" FH_DATA="$FH_DATA" bash "$c/capture.sh" >"$w/capture.out" 2>&1
	rc=$?
	if [ $rc = 77 ]; then
		echo "skip: $(tail -1 "$w/capture.out")"
		return 77
	fi
	[ $rc = 0 ] || { echo "capture.sh failed ($rc):"; tail -5 "$w/capture.out"; return 1; }
	if [ -f "$c/live" ]; then
		regress_live_up "$$" || { rc=$?; return $rc; }
		regress_config "$c/fh.yaml" "$w/fh.yaml" "$w" "$shm" "$REGRESS_IF"
		regress_run_live "$w/fh.yaml" "$w" "$(cat "$c/live")"
		rc=$?
		regress_live_down
	else
		regress_config "$c/fh.yaml" "$w/fh.yaml" "$w" "$shm"
		regress_run_pcap "$w/fh.yaml" "$w"
		rc=$?
	fi
	rm -f "/dev/shm/$shm"*
	[ $rc = 0 ] || { echo "fh exited $rc:"; tail -5 "$w/fh.err"; return 1; }
	regress_digest "$w/fh.digest" "$w/summary.json" >"$w/actual.digest" ||
		{ echo "no digest"; return 1; }
	return 0
}
