#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_telemetry_prometheus.sh: a serving process's /metrics passes `promtool check metrics`; a real
# prometheus (127.0.0.1, free port, temp storage) scrapes it, loads our alert rules, and answers
# queries for our series and for every expression of the Grafana dashboard.
# The target is `fh-stat --demo` (really measured synthetic stages) unless FH_TELEMETRY_URL points
# at a running fh (the integrator's replay test sets it, e.g. http://127.0.0.1:9187).
# fh-test-timeout: 150
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
name=e2e_telemetry_prometheus
P=0 F=0
ok() { echo "ok   $1"; P=$((P + 1)); }
bad() { echo "FAIL $1"; F=$((F + 1)); }
finish() { echo "$name: $P passed, $F failed, 0 skipped"; [ "$F" -eq 0 ] && exit 0 || exit 1; }

for t in promtool prometheus curl jq; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed (tools/deps.txt)"; exit 77; }
done
[ -n "${FH_TELEMETRY_URL:-}" ] || [ -x "$B/fh-stat" ] || { echo "SKIP: $B/fh-stat not built"; exit 77; }

tmp=$(mktemp -d /tmp/fh-e2e-prom-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

if [ -n "${FH_TELEMETRY_URL:-}" ]; then
	url=${FH_TELEMETRY_URL%/}
else
	"$B/fh-stat" --demo --listen 127.0.0.1:0 --port-file "$tmp/port" --seconds 120 2>"$tmp/demo.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] || { cat "$tmp/demo.log"; bad "demo server started"; finish; }
	url="http://127.0.0.1:$(cat "$tmp/port")"
	sleep 2.2 # two ticks: latency windows filled
fi
target=${url#http://}

# 1. promtool lints the exposition.
curl -sf --max-time 5 "$url/metrics" >"$tmp/metrics.txt"
if [ -s "$tmp/metrics.txt" ] && promtool check metrics <"$tmp/metrics.txt" >"$tmp/lint.txt" 2>&1; then
	ok "promtool check metrics on $url/metrics ($(wc -l <"$tmp/metrics.txt") lines)"
else
	cat "$tmp/lint.txt"; bad "promtool check metrics"
fi
grep -q '^# TYPE fh_stage_latency_seconds histogram$' "$tmp/metrics.txt" &&
	grep -q '^fh_stage_latency_seconds_bucket{.*le="+Inf"} [1-9]' "$tmp/metrics.txt" &&
	ok "latency exported as a Prometheus histogram in seconds, with counts" || bad "latency histogram present"
grep -q 'fh_stage_latency_window_seconds{.*quantile="0.99"} [0-9]' "$tmp/metrics.txt" &&
	ok "last-interval quantiles exported as a summary" || bad "latency summary present"

# 2. A real Prometheus scrapes it.
cat >"$tmp/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/perf/prometheus/fh_alerts.yml
scrape_configs:
  - job_name: fh
    static_configs:
      - targets: ["$target"]
CFG
started=0
for _ in 1 2 3; do
	pport=$(free_port) || break
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
		--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prom.log" 2>&1 &
	ppid=$!
	for _ in $(seq 100); do
		curl -sf --max-time 1 "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && { started=1; break; }
		kill -0 "$ppid" 2>/dev/null || break
		sleep 0.2
	done
	if [ "$started" = 1 ]; then pids+=("$ppid"); break; fi
	kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
done
[ "$started" = 1 ] || { cat "$tmp/prom.log"; bad "prometheus started"; finish; }
ok "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') ready on 127.0.0.1:$pport"
api="http://127.0.0.1:$pport/api/v1"

query() { curl -sf --max-time 5 -G "$api/query" --data-urlencode "query=$1"; }
# Wait (bounded) until scrapes have produced rate()-able data.
got=0
for _ in $(seq 60); do
	n=$(query 'sum(rate(fh_messages_total[5s]))' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	if [ -n "$n" ] && awk "BEGIN{exit !($n > 0)}"; then got=1; break; fi
	sleep 0.5
done
[ "$got" = 1 ] && ok "query rate(fh_messages_total) = $n msg/s" || bad "prometheus returned our series"

up=$(query 'up{job="fh"}' | jq -r '.data.result[0].value[1] // empty')
[ "$up" = 1 ] && ok "target up" || bad "target up (got '$up')"
h=$(query 'fh_stage_latency_seconds_count' | jq -r '.data.result | length')
[ "${h:-0}" -ge 1 ] && ok "fh_stage_latency_seconds_count: $h series" || bad "latency series in prometheus"
p99=$(query 'histogram_quantile(0.99, sum by (le) (rate(fh_stage_latency_seconds_bucket[10s])))' | jq -r '.data.result[0].value[1] // empty')
if [ -n "$p99" ] && awk "BEGIN{exit !($p99 > 0 && $p99 < 1)}"; then
	ok "histogram_quantile(0.99) over our buckets = ${p99}s"
else
	bad "histogram_quantile over our buckets (got '$p99')"
fi

# 3. Our alert rules load into the real server and evaluate.
rules=$(curl -sf --max-time 5 "$api/rules")
nr=$(jq '[.data.groups[].rules[]] | length' <<<"$rules")
nh=$(jq '[.data.groups[].rules[] | select(.health == "ok")] | length' <<<"$rules")
nrf=$(grep -c '^ *- alert:' perf/prometheus/fh_alerts.yml)
[ "$nr" = "$nrf" ] && ok "prometheus loaded all $nr alert rules" || bad "rules loaded ($nr of $nrf)"
for _ in $(seq 20); do
	nh=$(curl -sf --max-time 5 "$api/rules" | jq '[.data.groups[].rules[] | select(.health == "ok")] | length')
	[ "$nh" = "$nr" ] && break
	sleep 0.5
done
[ "$nh" = "$nr" ] && ok "all rules evaluated healthy" || bad "rules healthy ($nh of $nr)"

# 4. Every Grafana panel expression is valid PromQL that the server evaluates.
nexpr=0 nerr=0
while IFS= read -r e; do
	q=${e//\$__rate_interval/10s}
	q=${q//\$instance/.*}
	q=${q//\$source/.*}
	st=$(query "$q" | jq -r '.status // "error"' 2>/dev/null)
	nexpr=$((nexpr + 1))
	[ "$st" = success ] || { echo "  grafana expr failed: $q"; nerr=$((nerr + 1)); }
done < <(jq -r '.panels[].targets[]?.expr' perf/grafana/fh.json)
[ "$nexpr" -gt 10 ] && [ "$nerr" = 0 ] && ok "all $nexpr Grafana expressions evaluate" || bad "Grafana expressions ($nerr of $nexpr failed)"

# 5. Memory stayed flat while being scraped every second (fh_memstat_watch: growth since the
#    first second; the demo exports it, so does fh).
growth=$(curl -sf --max-time 5 "$url/metrics" | sed -n 's/^fh_memory_growth_bytes \([0-9.e+]*\)$/\1/p')
if [ -n "$growth" ] && awk "BEGIN{exit !($growth < 1048576)}"; then
	ok "resident growth after the first second: $growth bytes"
elif [ -z "$growth" ] && [ -n "${FH_TELEMETRY_URL:-}" ]; then
	echo "note: the target exports no fh_memory_growth_bytes (fh_memstat_watch_register); not checked"
else
	bad "memory flat (fh_memory_growth_bytes '$growth')"
fi
finish
