#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_telemetry_rules.sh: the alert rules pass `promtool check rules` and their unit tests
# (`promtool test rules`), every alert has a severity and a runbook_url whose anchor exists in
# docs/OPERATIONS.md, and the Grafana dashboard is well-formed JSON using only our metric names.
set -u
cd "$(dirname "$0")/.."
name=e2e_telemetry_rules
P=0 F=0
ok() { echo "ok   $1"; P=$((P + 1)); }
bad() { echo "FAIL $1"; F=$((F + 1)); }
for t in promtool jq; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed (tools/deps.txt)"; exit 77; }
done
rules=perf/prometheus/fh_alerts.yml

out=$(promtool check rules "$rules" 2>&1) && ok "promtool check rules: $(grep -o '[0-9]* rules found' <<<"$out")" ||
	{ echo "$out"; bad "promtool check rules"; }
out=$(cd perf/prometheus && promtool test rules fh_alerts_test.yml 2>&1) && ok "promtool test rules (alert unit tests)" ||
	{ echo "$out"; bad "promtool test rules"; }

# Each alert: a severity of critical|warning and a runbook_url into OPERATIONS.md that resolves.
alerts=$(grep -c '^ *- alert:' "$rules")
sev=$(grep -cE '^ *labels: \{ severity: (critical|warning) \}' "$rules")
[ "$alerts" -gt 0 ] && [ "$sev" = "$alerts" ] && ok "$alerts alerts, each with severity" || bad "severity on every alert ($sev of $alerts)"
grep -q 'severity: critical' "$rules" && grep -q 'severity: warning' "$rules" && ok "critical and warning levels" || bad "both levels"
urls=$(grep -c 'runbook_url: "docs/OPERATIONS.md#' "$rules")
[ "$urls" = "$alerts" ] && ok "every alert links a runbook section" || bad "runbook_url on every alert ($urls of $alerts)"
missing=0
for a in $(grep -o 'OPERATIONS.md#[a-z0-9-]*' "$rules" | sort -u | cut -d'#' -f2); do
	grep -q "<a id=\"$a\"></a>" docs/OPERATIONS.md || { echo "  no anchor $a in docs/OPERATIONS.md"; missing=$((missing + 1)); }
done
[ "$missing" = 0 ] && ok "every runbook anchor exists in docs/OPERATIONS.md" || bad "runbook anchors ($missing missing)"
absent=0
for need in FhFeedSilent FhGapRateHigh FhDeadLetterRateHigh FhLatencyP99AboveBudget FhKafkaLagHigh FhRingReadersLapped; do
	grep -q "alert: $need\$" "$rules" || { echo "  alert $need not defined"; absent=$((absent + 1)); }
done
[ "$absent" = 0 ] && ok "feed silent, gap rate, dead-letter rate, p99 budget, Kafka lag, lapped readers alerts defined" ||
	bad "required alerts ($absent missing)"

# Grafana: valid JSON, panels with Prometheus targets, only fh_ metrics (plus up/time()).
g=perf/grafana/fh.json
if jq -e '.title and (.panels | length > 5) and .uid' "$g" >/dev/null; then
	ok "Grafana dashboard: $(jq '.panels | length' "$g") panels"
else
	bad "Grafana dashboard JSON"
fi
foreign=$(jq -r '.panels[].targets[]?.expr' "$g" | grep -oE '[a-z_:]+\{' | tr -d '{' | sort -u | grep -v '^fh_' || true)
[ -z "$foreign" ] && ok "Grafana queries only fh_ series" || bad "Grafana queries other series: $foreign"
echo "$name: $P passed, $F failed, 0 skipped"
[ "$F" -eq 0 ]
