#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e_fh_config: the fh binary refuses bad configs before anything starts:
# each bad file gives exit 2 and a message naming file:line:column, the key
# and what was expected; no EAL, no shared-memory ring, no HTTP listener.
# (test_config checks the loader's full table; this checks the binary.)
set -u
B=${FH_BUILD:-build}
T=$(mktemp -d /tmp/fh-e2e-config.XXXXXX)
SHM=fh-e2e-config-$$
trap 'rm -rf "$T" /dev/shm/$SHM*' EXIT
trap 'exit 130' INT TERM # a timeout's SIGTERM still runs the EXIT clean-up
pass=0 fail=0
: >"$T/cap.pcap"
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$T/cap.pcap"
PORT=$((20000 + RANDOM % 20000))
good_src="sources:
  - {name: a, protocol: itch50, transport: pcap, pcap: {file: $T/cap.pcap}, rx_core: 1}"
tail_cfg="cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true, no_pci: true, no_shconf: true, memory_mb: 64}
publish: {shm: {name: $SHM, path: /dev/shm, slots: 1Ki}, kafka: {enabled: false}}
telemetry: {http: {listen: 127.0.0.1:$PORT}}"

# case NAME EXPECTED-SUBSTRING YAML
case_() {
	local name=$1 want=$2 yaml=$3 f="$T/$1.yaml"
	printf '%s\n' "$yaml" >"$f"
	timeout 20 "$B/fh" --config "$f" >"$T/$name.out" 2>"$T/$name.err"
	local rc=$? msg
	msg=$(head -n 1 "$T/$name.err")
	local ok=1
	if [ $rc = 2 ] && [[ $msg == *"$f:"[0-9]*:[0-9]*": "* ]] && [[ $msg == *"$want"* ]] &&
		! grep -q '^EAL:' "$T/$name.err" && [ ! -e /dev/shm/$SHM ] &&
		! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
		ok=0
	fi
	if [ $ok = 0 ]; then pass=$((pass + 1)); echo "ok   $name: $msg"
	else fail=$((fail + 1)); echo "FAIL $name (exit $rc, want '$want'): $msg"; fi
}

case_ unknown_top "unknown key"              "$good_src
$tail_cfg
sourcez: []"
case_ missing_sources "sources"              "$tail_cfg"
case_ empty_sources "sources"                "sources: []
$tail_cfg"
case_ bad_protocol "protocol"                "sources:
  - {name: a, protocol: itch41, transport: pcap, pcap: {file: $T/cap.pcap}, rx_core: 1}
$tail_cfg"
case_ bad_transport "transport"              "sources:
  - {name: a, protocol: itch50, transport: carrier_pigeon, rx_core: 1}
$tail_cfg"
case_ port_type "port"                       "sources:
  - {name: a, protocol: itch50, transport: kernel_udp, group: 233.54.12.111, port: http, rx_core: 1}
$tail_cfg"
case_ port_range "port"                      "sources:
  - {name: a, protocol: itch50, transport: kernel_udp, group: 233.54.12.111, port: 70000, rx_core: 1}
$tail_cfg"
case_ group_not_mcast "group"                "sources:
  - {name: a, protocol: itch50, transport: kernel_udp, group: 10.1.2.3, port: 26477, rx_core: 1}
$tail_cfg"
case_ pcap_missing "file"                    "sources:
  - {name: a, protocol: itch50, transport: pcap, pcap: {file: $T/nope.pcap}, rx_core: 1}
$tail_cfg"
case_ dup_source "name"                      "$good_src
  - {name: a, protocol: itch50, transport: pcap, pcap: {file: $T/cap.pcap}, rx_core: 1}
$tail_cfg"
case_ rx_core_unknown "rx_core"              "sources:
  - {name: a, protocol: itch50, transport: pcap, pcap: {file: $T/cap.pcap}, rx_core: 7}
$tail_cfg"
case_ cores_overlap "core"                   "$good_src
cores: {rx: [1], publisher: 1, control: any}
eal: {no_huge: true}
publish: {shm: {name: $SHM}, kafka: {enabled: false}}
telemetry: {http: {listen: 127.0.0.1:$PORT}}"
case_ depth_type "depth"                     "$good_src
$tail_cfg
books: {depth: deep}"
case_ depth_range "depth"                    "$good_src
$tail_cfg
books: {depth: 0}"
case_ impossible_memory "memory"             "$good_src
$tail_cfg
books: {max_orders: 900Gi}"
case_ crossed_policy "crossed_policy"        "$good_src
$tail_cfg
books: {crossed_policy: ignore}"
case_ shm_slots "slots"                      "$good_src
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true}
publish: {shm: {name: $SHM, slots: 1000}, kafka: {enabled: false}}
telemetry: {http: {listen: 127.0.0.1:$PORT}}"
case_ shm_world_writable "mode"              "$good_src
cores: {rx: [1], publisher: 0, control: any}
eal: {no_huge: true}
publish: {shm: {name: $SHM, mode: \"0666\"}, kafka: {enabled: false}}
telemetry: {http: {listen: 127.0.0.1:$PORT}}"
case_ bad_duration "interval"                "$good_src
$tail_cfg
books: {snapshot_interval_ms: soon}"
case_ window_slide "slide"                   "$good_src
$tail_cfg
engine: {windows: [{name: w, kind: sliding, size: 1m, slide: 5m}]}"
case_ rule_unknown_window "window"           "$good_src
$tail_cfg
engine: {windows: [{name: w, kind: tumbling, size: 1s}], rules: [{name: r, kind: volume_surge, params: {window: nope}}]}"
case_ rule_kind "kind"                       "$good_src
$tail_cfg
engine: {rules: [{name: r, kind: moon_phase}]}"
case_ listen "listen"                        "$good_src
cores: {rx: [1], publisher: 0, control: any}
publish: {shm: {name: $SHM}, kafka: {enabled: false}}
telemetry: {http: {listen: nowhere}}"
case_ not_a_mapping "sources"                "sources: 42
$tail_cfg"
case_ yaml_syntax "expected"                 "sources: [ {name: a
$tail_cfg"

# And a good one starts (and stops at once on an empty capture's end).
printf '%s\n%s\n' "$good_src" "$tail_cfg" >"$T/good.yaml"
"$B/fh" --check-config "$T/good.yaml" >"$T/check.out" 2>&1
if [ $? = 0 ]; then pass=$((pass + 1)); echo "ok   --check-config accepts a good file"; else fail=$((fail + 1)); echo "FAIL --check-config on a good file"; cat "$T/check.out"; fi
"$B/fh" --check-config "$T/unknown_top.yaml" >/dev/null 2>&1
if [ $? != 0 ]; then pass=$((pass + 1)); echo "ok   --check-config refuses a bad file"; else fail=$((fail + 1)); echo "FAIL --check-config on a bad file"; fi

echo "e2e_fh_config: $pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
