# SPDX-License-Identifier: MIT
# sim-2ch-clean: two simulated channels (two sessions, two groups), nothing lost, merged in time order.
set -e
"$B/fh-sim" --seed 11 --messages 20000 --symbols 100 --session CHANNEL001 --heartbeat-ms 0 \
	--group 233.54.12.111:26477 --pcap "$W/c1.pcap" >/dev/null
"$B/fh-sim" --seed 12 --messages 20000 --symbols 100 --session CHANNEL002 --heartbeat-ms 0 \
	--group 233.54.12.112:26478 --pcap "$W/c2.pcap" >/dev/null
mergecap -F pcap -w "$W/capture.pcap" "$W/c1.pcap" "$W/c2.pcap"
