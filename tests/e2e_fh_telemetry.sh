#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_telemetry: telemetry of the real fh during a replay. fh loops a
# simulated capture as fast as it can (millions of messages) while
# promtool checks /metrics, a real Prometheus scrapes it and answers queries
# (e2e_telemetry_prometheus.sh), the dashboard loads in headless Chromium
# with non-empty charts (e2e_telemetry_dashboard.sh), and jemalloc's
# resident memory stays flat after the first second.
# fh-test-timeout: 420
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
T=$(mktemp -d /tmp/fh-e2e-fhtel.XXXXXX)
FHPID=
cleanup() { [ -n "$FHPID" ] && kill -9 "$FHPID" 2>/dev/null; rm -rf "$T" /dev/shm/fh-e2e-fhtel-$$*; }
trap cleanup EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }

"$B/fh-sim" --seed 31 --messages 1000000 --symbols 2000 --bundle-us 0 --heartbeat-ms 0 \
	--pcap "$T/c.pcap" >/dev/null || exit 1
for _ in $(seq 50); do
	PORT=$((20000 + RANDOM % 30000))
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
cat >"$T/fh.yaml" <<YAML
version: 1
sources:
  - {name: tel, protocol: itch50, transport: pcap, pcap: {file: $T/c.pcap, speed: max, loop: true}, rx_core: 1}
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 256}
books: {depth: 10, max_orders: 1Mi, max_instruments: 4Ki, max_levels: 256Ki}
publish:
  shm: {name: fh-e2e-fhtel-$$, path: /dev/shm, slots: 256Ki}
  kafka: {enabled: false}
telemetry:
  http: {listen: 127.0.0.1:$PORT}
dead_letter: {path: $T/dead.dlq}
YAML
"$B/fh" --config "$T/fh.yaml" --quiet --summary "$T/summary.json" >"$T/fh.out" 2>"$T/fh.err" &
FHPID=$!
for _ in $(seq 100); do grep -q '"event":"started"' "$T/fh.err" && break; sleep 0.1; done
sleep 2
url=http://127.0.0.1:$PORT

curl -sf --max-time 5 "$url/metrics" >"$T/m1.txt"
promtool check metrics <"$T/m1.txt" >"$T/promtool.txt" 2>&1
rc=$?
check "promtool check metrics passes on fh's /metrics" $rc
[ $rc = 0 ] || head -5 "$T/promtool.txt"
grep -q '^fh_stage_latency_seconds_bucket{stage="rx_to_ring",source="tel"' "$T/m1.txt"
check "per-stage latency histograms exported" $?

FH_TELEMETRY_URL=$url timeout 200 bash tests/e2e_telemetry_prometheus.sh >"$T/prom.log" 2>&1
rc=$?
check "a real Prometheus scrapes fh and answers queries ($(tail -n 1 "$T/prom.log"))" $rc
[ $rc = 0 ] || grep -i fail "$T/prom.log" | head -5
FH_TELEMETRY_URL=$url timeout 150 bash tests/e2e_telemetry_dashboard.sh >"$T/dash.log" 2>&1
rc=$?
check "the dashboard shows non-empty charts in headless Chromium ($(tail -n 1 "$T/dash.log"))" $rc
[ $rc = 0 ] || grep -i fail "$T/dash.log" | head -5

curl -sf --max-time 5 "$url/metrics" >"$T/m2.txt"
msgs=$(sed -n 's/^fh_messages_total{source="tel",core="1"} \([0-9.e+]*\)$/\1/p' "$T/m2.txt")
growth=$(sed -n 's/^fh_memory_growth_bytes \([0-9.e+-]*\)$/\1/p' "$T/m2.txt")
awk "BEGIN{exit !(${msgs:-0} >= 3000000)}"
check "several million messages replayed (${msgs:-none})" $?
[ -n "$growth" ] && awk "BEGIN{exit !($growth < 1048576)}"
check "resident memory flat after the first second (growth ${growth:-none} bytes)" $?

kill -TERM "$FHPID"
wait "$FHPID"
rc=$?
FHPID=
check "fh stops cleanly on SIGTERM (exit $rc)" $rc

echo "e2e_fh_telemetry: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
