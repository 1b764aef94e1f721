# SPDX-License-Identifier: MIT
# sim-2ch-gaps-corrupt: channel 1 loses 0.5 % of its packets at random and has
# some reordered; channel 2 loses two exact sequence ranges and has corrupted
# datagrams (overrunning block lengths, truncations): gaps reported, rejects counted.
set -e
"$B/fh-sim" --seed 21 --messages 20000 --symbols 100 --session CHANNEL001 --heartbeat-ms 0 \
	--group 233.54.12.111:26477 --drop-pct 0.5 --reorder-pct 0.5 --impair-seed 3 \
	--pcap "$W/c1.pcap" >/dev/null
"$B/fh-sim" --seed 22 --messages 20000 --symbols 100 --session CHANNEL002 --heartbeat-ms 0 \
	--group 233.54.12.112:26478 --gap 5001-5010 --gap 12000-12003 --corrupt-pct 0.5 \
	--pcap "$W/c2.pcap" >/dev/null
mergecap -F pcap -w "$W/capture.pcap" "$W/c1.pcap" "$W/c2.pcap"
