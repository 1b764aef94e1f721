#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_telemetry_dashboard.sh: the dashboard served by the telemetry endpoint loads in headless
# Chromium (no network but ours) and draws non-empty charts: every panel reports plotted points
# in the DOM and has a canvas; a screenshot is a real PNG with more than a few colours.
# Target: `fh-stat --demo` unless FH_TELEMETRY_URL points at a running fh (integrator's replay).
# fh-test-timeout: 150
set -u
cd "$(dirname "$0")/.."
B=${FH_BUILD:-build}
name=e2e_telemetry_dashboard
P=0 F=0
ok() { echo "ok   $1"; P=$((P + 1)); }
bad() { echo "FAIL $1"; F=$((F + 1)); }
finish() { echo "$name: $P passed, $F failed, 0 skipped"; [ "$F" -eq 0 ] && exit 0 || exit 1; }

chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "SKIP: chromium not installed (tools/deps.txt)"; exit 77; }
[ -n "${FH_TELEMETRY_URL:-}" ] || [ -x "$B/fh-stat" ] || { echo "SKIP: $B/fh-stat not built"; exit 77; }

tmp=$(mktemp -d /tmp/fh-e2e-dash-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "${FH_TELEMETRY_URL:-}" ]; then
	url=${FH_TELEMETRY_URL%/}
else
	# A fast tick so that the page's accelerated (virtual) clock sees several intervals.
	"$B/fh-stat" --demo --listen 127.0.0.1:0 --port-file "$tmp/port" --seconds 100 --tick-ms 100 \
		2>"$tmp/demo.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] || { cat "$tmp/demo.log"; bad "demo server started"; finish; }
	url="http://127.0.0.1:$(cat "$tmp/port")"
	sleep 0.5
fi

run_chrome() { # run_chrome OUTPUT-OPTION... : bounded in time, private profile, no outside network
	timeout -k 5 60 "$chrome" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --no-first-run --no-default-browser-check \
		--user-data-dir="$(mktemp -d "$tmp/profile-XXXXXX")" --window-size=1400,1500 \
		--virtual-time-budget=8000 "$@" "$url/" 2>>"$tmp/chrome.log"
}

run_chrome --dump-dom >"$tmp/dom.html"
if grep -q 'id="conn" class="ok">live<' "$tmp/dom.html"; then
	ok "page loaded and fetched /status (status: live)"
else
	grep -o 'id="conn"[^<]*<' "$tmp/dom.html"; tail -5 "$tmp/chrome.log"; bad "page live"
fi
for p in p-throughput p-lat-p99 p-lat-sel p-hdr p-rates p-fresh p-kafka p-mem p-table; do
	n=$(grep -o "id=\"$p\"[^>]*data-points=\"[0-9]*\"" "$tmp/dom.html" | grep -o 'data-points="[0-9]*"' | grep -o '[0-9]*')
	if [ "${n:-0}" -gt 0 ]; then ok "panel $p: $n points"; else bad "panel $p has points (got '${n:-none}')"; fi
done
nc=$(grep -o '<canvas' "$tmp/dom.html" | wc -l)
[ "$nc" -ge 8 ] && ok "$nc charts drawn (canvas)" || bad "charts drawn ($nc canvas)"
grep -q '<td>stage_latency' "$tmp/dom.html" && ok "latency table filled" || bad "latency table"

run_chrome --screenshot="$tmp/shot.png" >/dev/null
if [ -s "$tmp/shot.png" ] && [ "$(head -c 8 "$tmp/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
	sz=$(stat -c %s "$tmp/shot.png")
	# A blank page compresses to a few KB; charts with text and lines do not.
	[ "$sz" -gt 60000 ] && ok "screenshot $sz bytes" || bad "screenshot has content ($sz bytes)"
else
	tail -5 "$tmp/chrome.log"; bad "screenshot written"
fi
[ -n "${FH_DASH_SHOT:-}" ] && cp "$tmp/shot.png" "$FH_DASH_SHOT"
finish
